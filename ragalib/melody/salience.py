"""Pitch salience and the predominant melody: which pitches sound, frame by frame, and the line
a voice traces through them.

Taught in notebook 07_song_detection. A constant-Q spectrum (5 bins per semitone, bin 0 at C2)
has its harmonics summed into each bin's salience; a Viterbi path through it follows the
melody (:func:`contour`), which :mod:`ragalib.melody.tonic` folds into a pitch-class histogram
to find Sa, and the melody-roll features and the pitch trackers read in turn.
"""

import numpy as np

from ..constants import C2_HZ, octaves_below_nyquist
from ..errors import RagalibError

BINS_PER_SEMITONE = 5
OCTAVES = 6
"""Octaves the constant-Q spectrum spans from C2 (fewer when the rate cannot hold them)."""
FMIN = C2_HZ
"""The frequency of bin 0: C2."""
_HARMONICS = ((1, 1.0), (2, 0.8), (3, 0.6), (4, 0.5), (5, 0.4))
HOP_LENGTH = 512
"""Samples between salience frames (23 ms at 22050 Hz)."""


def bin_hz(bins):
    """The frequency in Hz of salience bins (bin 0 at :data:`FMIN`, ``BINS_PER_SEMITONE`` per
    semitone).

    Behind notebook 07_song_detection (not called there by name).
    """
    return FMIN * 2.0 ** (np.asarray(bins) / (12.0 * BINS_PER_SEMITONE))


def salience(y, *, sr, hop_length=HOP_LENGTH, drone_removed=False):
    """Pitch salience (harmonic sum over a CQT), shape (bins, frames), bin 0 at C2.

    Behind notebook 07_song_detection (not called there by name).
    ``y`` may be a stack of signals, shape (k, n); the
    result is then (k, bins, frames). With ``drone_removed``, each CQT bin first loses its
    :data:`DRONE_PERCENTILE`-th percentile over time: what sounds all the time (a tanpura's
    strings and their partials) no longer lends its energy to the melody's candidates, which
    would otherwise take the drone's Sa whenever the voice sings Sa' or Pa above it.
    """
    return _harmonic_sum(_floored(_cqt(y, sr, hop_length)) if drone_removed else
                         _cqt(y, sr, hop_length))


def saliences(y, *, sr, hop_length=HOP_LENGTH):
    """``(salience, salience with the drone removed)`` of ``y`` from one CQT: the first for
    :func:`ragalib.melody.tonic.drone_profile`, the second for :func:`predominant`.

    Taught in notebook 07_song_detection.
    """
    spectrum = _cqt(y, sr, hop_length)
    return _harmonic_sum(spectrum), _harmonic_sum(_floored(spectrum))


def _cqt(y, sr, hop_length):
    import librosa

    bins_per_octave = 12 * BINS_PER_SEMITONE
    octaves = octaves_below_nyquist(sr, OCTAVES)
    return np.abs(librosa.cqt(np.asarray(y, dtype=np.float32), sr=sr, hop_length=hop_length,
                              fmin=FMIN, n_bins=octaves * bins_per_octave,
                              bins_per_octave=bins_per_octave))


def _floored(spectrum):
    """Each bin less its :data:`DRONE_PERCENTILE`-th percentile over time, never below 0."""
    floor = np.percentile(spectrum, DRONE_PERCENTILE, axis=-1, keepdims=True)
    return np.maximum(spectrum - floor, 0.0)


def _harmonic_sum(spectrum):
    bins_per_octave = 12 * BINS_PER_SEMITONE
    out = np.zeros_like(spectrum)
    n = spectrum.shape[-2]
    for harmonic, weight in _HARMONICS:
        offset = int(round(bins_per_octave * np.log2(harmonic)))
        out[..., :n - offset, :] += weight * spectrum[..., offset:, :]
    return out


CONTOUR_REACH = BINS_PER_SEMITONE
"""Bins the melody may move between two frames at no cost (a semitone in 23 ms)."""
CONTOUR_JUMP = 1.0
"""The cost of a leap further than that, in units of a frame's loudest salience: a leap to
another pitch pays off only if that pitch stays the louder for a while. Chosen on the sung dev
songs (``python -m ragalib report melody``)."""


def contour(sal, *, reach=CONTOUR_REACH, jump=CONTOUR_JUMP):
    """The melody's bin in every frame: the path through the salience (each frame scaled to
    its loudest) with the highest total, moving at most ``reach`` bins per frame for free and
    paying ``jump`` for a leap (a Viterbi search).

    Taught in notebook 07_song_detection. A frame's loudest peak alone jumps to the drone or
    the harmonium whenever they are momentarily louder than the voice; a voice moves
    continuously, so the path stays with it.

    Hand-written rather than ``librosa.sequence.viterbi``, a different model (probabilities
    through a dense transition matrix whose rows sum to one, where this adds scaled salience
    and charges a fixed price for any leap) that is also slower: with a 360 x 360 matrix from
    ``librosa.sequence.transition_local`` it takes 6.8 ms per second of audio against 2.0 ms
    here (3.5 times as long; 20 s of ``improvise("yaman", 20.0, seed=0)``, drone removed,
    median of 5 runs after a warm-up, on 2 cores).

    Returns
    -------
    np.ndarray of int, shape (frames,)
    """
    from numpy.lib.stride_tricks import sliding_window_view

    sal = np.asarray(sal, dtype=np.float64)
    n_bins, n_frames = sal.shape
    if n_frames == 0:
        return np.zeros(0, dtype=int)
    scaled = sal / np.maximum(sal.max(axis=0, keepdims=True), 1e-12)
    rows = np.arange(n_bins)
    back = np.zeros((n_frames, n_bins), dtype=np.int32)
    total = scaled[:, 0].copy()
    for t in range(1, n_frames):
        window = sliding_window_view(np.pad(total, reach, constant_values=-np.inf),
                                     2 * reach + 1)
        step = window.argmax(axis=1)
        near = window[rows, step]
        best = int(total.argmax())
        leap = total[best] - jump > near
        back[t] = np.where(leap, best, rows + step - reach)
        total = scaled[:, t] + np.where(leap, total[best] - jump, near)
    path = np.empty(n_frames, dtype=int)
    path[-1] = int(total.argmax())
    for t in range(n_frames - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def loud_frames(sal, *, floor=0.1):
    """Frames whose loudest salience is above ``floor`` times the loudest frame's (none of a
    silent signal): the frames that have a melody to read.

    Behind notebook 07_song_detection (not called there by name).
    """
    level = np.asarray(sal).max(axis=0)
    return level > floor * level.max() if level.max() > 0 else np.zeros(len(level), bool)


MIN_PITCHEDNESS = 4.0
"""Below this :func:`pitchedness` a sound has no melody to read. White noise measures about
2.3 at any level; the dev songs 55-275 as they are and, with white noise 6 dB louder than the
music mixed in, 6.7-10.5 (26 and more after percussion suppression, as ``detect`` does):
4 keeps every noisy song and turns noise away."""


def pitchedness(sal, drone_removed):
    """How clearly a sound has a pitch: over the frames :func:`loud_frames` keeps of the
    ``drone_removed`` salience, the median of each frame's highest ``sal`` over its median
    across bins (a harmonic sound's peak stands far out; noise's spectrum is flat).

    Behind notebook 07_song_detection (not called there by name). 0 for a sound with no loud frame.
    """
    keep = loud_frames(drone_removed)
    if not keep.any():
        return 0.0
    sal = np.asarray(sal)[:, keep]
    return float(np.median(sal.max(axis=0) / np.maximum(np.median(sal, axis=0), 1e-12)))


def predominant(y, *, sr, floor=0.1, sal=None):
    """The melody's pitch frame by frame, where it is loud enough: the :func:`contour` through
    the salience with the drone removed.

    Behind notebook 07_song_detection (not called there by name).

    Frames whose loudest salience is below ``floor`` times the loudest frame's are left out;
    ``sal`` is ``salience(y, sr, drone_removed=True)`` if already computed.

    Returns
    -------
    bins : np.ndarray of int
        The melody's bin (``BINS_PER_SEMITONE`` per semitone, bin 0 at C2) in each kept frame.
    levels : np.ndarray
        The salience there in each kept frame.
    """
    sal = salience(y, sr=sr, drone_removed=True) if sal is None else sal
    keep = loud_frames(sal, floor=floor)
    path = contour(sal)
    return path[keep], sal[path, np.arange(sal.shape[1])][keep]


def melody_hz(sal, *, floor=0.1):
    """The melody in Hz frame by frame (NaN where it is not loud enough), and the seconds
    between frames: :func:`predominant`'s path as a pitch track, for the note model.

    Behind notebooks 07_song_detection and 11_real_singing (not called there by name).
    ``sal`` is a drone-removed :func:`salience` at :data:`HOP_LENGTH`.
    """
    hz = bin_hz(contour(sal))
    hz[~loud_frames(sal, floor=floor)] = np.nan
    return hz


def folded_histogram(bins, levels):
    """Energy per pitch bin with octaves folded (``12 * BINS_PER_SEMITONE`` bins from C),
    summing to 1.

    Behind notebook 07_song_detection (not called there by name).
    """
    width = 12 * BINS_PER_SEMITONE
    hist = np.bincount(np.asarray(bins) % width, weights=levels, minlength=width)
    if hist.sum() <= 0:
        raise RagalibError("no pitched sound to estimate the tonic from")
    return hist / hist.sum()


def pitch_class_histogram(y, *, sr, floor=0.1, sal=None):
    """Energy of the predominant pitch per frame, folded into 60 bins per octave (from C).

    Taught in notebook 07_song_detection.

    Returns
    -------
    np.ndarray, shape (12 * BINS_PER_SEMITONE,), sums to 1
    """
    return folded_histogram(*predominant(y, sr=sr, floor=floor, sal=sal))


DRONE_PERCENTILE = 25
"""A pitch belongs to the drone when it stays salient in this share of frames or more (the
salience's 25th percentile over time: present in three frames out of four)."""
