"""Melody extraction: four f0 trackers, one call (:func:`track`); how well each follows a
singer is measured in :mod:`ragalib.evaluation.tracking`.

Taught in notebook 07_song_detection. A raga detector that works on real music needs the
singer's pitch, frame by frame, through the tanpura, the harmonium and the tabla. Four ways:

* ``"peak"``: each frame's peak of a harmonic-sum salience over a constant-Q spectrum
  (:func:`ragalib.melody.salience.salience`), the detector's tracker until this measurement;
* ``"contour"``: the same salience with the drone removed, followed as a continuous path
  (:func:`ragalib.melody.salience.predominant`), the detector's tracker now; in both, loud frames count
  as voiced;
* ``"pyin"``: librosa's probabilistic YIN, a monophonic tracker with an HMM over voicing, on
  2048-sample frames every 512 samples (the salience's frame rate; every 256 took twice as
  long for the same accuracy on the sung dev songs);
* ``"swift"``: SwiftF0, a small pretrained network whose weights ship inside its wheel
  (onnxruntime, no download at run time).

Each returns times and f0 (NaN where it hears no melody);
:func:`ragalib.evaluation.tracking.scores` measures one against a reference with mir_eval's
melody metrics (raw pitch accuracy within 50 cents, voicing recall and false alarm).
"""

import functools

import numpy as np

from ..constants import MELODY_RANGE_HZ

TRACKERS = ("peak", "contour", "pyin", "swift")
FMIN, FMAX = MELODY_RANGE_HZ
"""The range every tracker searches (:data:`ragalib.constants.MELODY_RANGE_HZ`)."""


def track(y, sr, method="swift"):
    """The melody's f0 in ``y`` by one of :data:`TRACKERS`.

    Taught in notebook 07_song_detection.

    Returns
    -------
    times : np.ndarray, seconds
    hz : np.ndarray, NaN where unvoiced
    """
    y = np.asarray(y, dtype=np.float32)
    if method in ("peak", "contour"):
        from .salience import HOP_LENGTH, bin_hz, loud_frames, melody_hz, salience

        sal = salience(y, sr=sr, drone_removed=method == "contour")
        if method == "contour":
            hz = melody_hz(sal)
        else:
            hz = bin_hz(sal.argmax(axis=0))
            hz[~loud_frames(sal)] = np.nan
        return np.arange(len(hz)) * HOP_LENGTH / sr, hz
    if method == "pyin":
        import librosa

        from .salience import HOP_LENGTH as hop   # the salience trackers' frame rate
        f0, voiced, _ = librosa.pyin(y, fmin=FMIN, fmax=FMAX, sr=sr, frame_length=2048,
                                     hop_length=hop)
        return np.arange(len(f0)) * hop / sr, np.where(voiced, f0, np.nan)
    if method == "swift":
        result = _swift().detect(y, sr, fmin=FMIN, fmax=FMAX)
        return result.timestamps, np.where(result.confidence >= 0.5, result.pitch_hz, np.nan)
    raise ValueError(f"unknown tracker {method!r}: choose one of {', '.join(TRACKERS)}")


@functools.cache
def _swift():
    """One SwiftF0 session per process (loading the network takes a moment)."""
    from swift_f0 import SwiftF0

    return SwiftF0()
