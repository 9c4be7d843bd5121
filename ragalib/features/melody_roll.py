"""The melody roll: the predominant melody's pitch class frame by frame, the features that
survive a change of instrument.

Behind notebook 09_robust_features (its "melody" feature kind; not called there by name).
"""

import numpy as np

from .config import CHROMA_BINS, DEFAULT
from .spectral import checked_signal


def melody_roll(y, *, config=DEFAULT):
    """The melody's pitch class frame by frame: a pitch-class roll, time-major.

    Behind notebook 09_robust_features (not called there by name: ``extract`` makes the
    "melody" kind with it). Each frame holds one value: the salience of the predominant pitch
    (harmonic sum over a constant-Q spectrum, see :func:`ragalib.melody.salience.salience`),
    relative to the loudest frame of its segment, placed in the pitch-class bin
    (:data:`CHROMA_BINS` per octave, bin 0 = C) of that pitch. The harmonics, which chroma
    keeps and which differ from one instrument to the next, are gone.

    Returns
    -------
    np.ndarray, shape (frames, CHROMA_BINS) or (k, frames, CHROMA_BINS), float32
    """
    from ..melody.salience import BINS_PER_SEMITONE, salience

    signals = checked_signal(y)
    stack = signals[None] if signals.ndim == 1 else signals
    sal = salience(stack, sr=config.sr, hop_length=config.hop_length)
    peak, level = sal.argmax(axis=-2), sal.max(axis=-2)            # (k, frames) each
    loudest = level.max(axis=-1, keepdims=True)
    level = np.divide(level, loudest, out=np.zeros_like(level), where=loudest > 0)
    bins = np.round(peak * (CHROMA_BINS // 12) / BINS_PER_SEMITONE).astype(int) % CHROMA_BINS
    out = np.zeros((*peak.shape, CHROMA_BINS), np.float32)
    np.put_along_axis(out, bins[..., None], level[..., None], axis=-1)
    return out[0] if signals.ndim == 1 else out
