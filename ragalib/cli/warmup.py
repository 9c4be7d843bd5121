"""Compile librosa's numba kernels once, when the environment is set up: ``make setup`` runs
``python -m ragalib.cli.warmup``.

librosa compiles its numba kernels the first time each is called in a fresh environment
(about 20 seconds in all) and caches them beside its code. Calling every feature the series
uses once, on a second of noise, moves that wait from a learner's first cell, or a
newcomer's first ``detect``, into the set-up step, where waiting is expected.
"""

import time


def compile_kernels():
    """Run every feature extractor, the separation, the salience and the pitch shift once on
    a short signal, so that numba compiles (and caches) what they use. Returns the seconds
    it took."""
    import numpy as np

    from .. import audio, features
    from ..melody import salience

    start = time.perf_counter()
    y = np.random.default_rng(0).normal(scale=0.1, size=features.DEFAULT.segment_samples)
    y = y.astype(np.float32)
    for kind in features.KINDS:
        features.extract(y[None], config=features.FeatureConfig(kind=kind))
    audio.suppress_percussion(y)
    audio.pitch_shift(y, 1, sr=features.DEFAULT.sr)
    salience.salience(y, sr=features.DEFAULT.sr)
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"ragalib: compiled librosa's numba kernels in {compile_kernels():.0f} s")
