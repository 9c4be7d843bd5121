"""Finding Sa: tonic estimation, and the transposition that brings a song to the model's C#.

Taught in notebook 07_song_detection. A song's Sa is whatever its singer chose; the model was
trained on a C# harmonium. The estimator listens for the melody's predominant pitch frame by
frame (harmonic summation over a constant-Q spectrum, 5 bins per semitone), folds it into a
pitch-class histogram, and scores every candidate Sa against every raga's expected note
emphasis (Sa, vadi, samvadi and resting notes stressed, absent swaras zero). The best
(Sa, raga) pair gives Sa.

This is the "estimate tonic and raga jointly" idea of ../shared/DOMAIN.md, with templates
taken from the catalogue alone. Its typical miss is the one the literature reports: Pa or the
vadi taken for Sa.
"""

from dataclasses import dataclass

import numpy as np

from .errors import RagalibError
from .ragas import DEFAULT_TONIC, SEMITONES, load_catalogue, tonic_hz

BINS_PER_SEMITONE = 5
_OCTAVES = 6
_FMIN = 65.40639132514966          # C2
_HARMONICS = ((1, 1.0), (2, 0.8), (3, 0.6), (4, 0.5), (5, 0.4))
_WEIGHTS = {"sa": 2.0, "vadi": 1.0, "samvadi": 0.5, "nyas": 0.5}


@dataclass(frozen=True)
class TonicEstimate:
    """Sa as found in a song: frequency, note name, and the raga whose emphasis fitted best."""

    hz: float
    note: str
    score: float
    raga: str


HOP_LENGTH = 512
"""Samples between salience frames (23 ms at 22050 Hz)."""


def salience(y, sr, *, hop_length=HOP_LENGTH):
    """Pitch salience (harmonic sum over a CQT), shape (bins, frames), bin 0 at C2.

    Taught in notebook 07_song_detection. ``y`` may be a stack of signals, shape (k, n); the
    result is then (k, bins, frames).
    """
    import librosa

    bins_per_octave = 12 * BINS_PER_SEMITONE
    octaves = min(_OCTAVES, int(np.log2(0.45 * sr / _FMIN)))   # stay below Nyquist
    spectrum = np.abs(librosa.cqt(np.asarray(y, dtype=np.float32), sr=sr, hop_length=hop_length,
                                  fmin=_FMIN, n_bins=octaves * bins_per_octave,
                                  bins_per_octave=bins_per_octave))
    out = np.zeros_like(spectrum)
    n = spectrum.shape[-2]
    for harmonic, weight in _HARMONICS:
        offset = int(round(bins_per_octave * np.log2(harmonic)))
        out[..., :n - offset, :] += weight * spectrum[..., offset:, :]
    return out


def predominant(y, sr, *, floor=0.1, sal=None):
    """The melody's pitch frame by frame: the salience peak, where it is loud enough.

    Frames whose peak is below ``floor`` times the loudest are left out; ``sal`` is the
    :func:`salience` of ``y`` if already computed.

    Returns
    -------
    bins : np.ndarray of int
        The peak's bin (``BINS_PER_SEMITONE`` per semitone, bin 0 at C2) in each kept frame.
    levels : np.ndarray
        The peak's salience in each kept frame.
    """
    sal = salience(y, sr) if sal is None else sal
    peak, level = sal.argmax(axis=0), sal.max(axis=0)
    keep = level > floor * level.max() if level.max() > 0 else np.zeros(len(level), bool)
    return peak[keep], level[keep]


def folded_histogram(bins, levels):
    """Energy per pitch bin with octaves folded (``12 * BINS_PER_SEMITONE`` bins from C),
    summing to 1."""
    width = 12 * BINS_PER_SEMITONE
    hist = np.bincount(np.asarray(bins) % width, weights=levels, minlength=width)
    if hist.sum() <= 0:
        raise RagalibError("no pitched sound to estimate the tonic from")
    return hist / hist.sum()


def pitch_class_histogram(y, sr, *, floor=0.1, sal=None):
    """Energy of the predominant pitch per frame, folded into 60 bins per octave (from C).

    Taught in notebook 07_song_detection.

    Returns
    -------
    np.ndarray, shape (12 * BINS_PER_SEMITONE,), sums to 1
    """
    return folded_histogram(*predominant(y, sr, floor=floor, sal=sal))


_WINDOW = 1.0 + (BINS_PER_SEMITONE // 2) - np.abs(np.arange(-(BINS_PER_SEMITONE // 2),
                                                              BINS_PER_SEMITONE // 2 + 1))
"""Triangular weights over the bins of one step: a flat window would let every candidate
within it tie, and the estimate drift by up to 40 cents."""


def _profile(hist, candidate):
    """The 12-step energy profile relative to a candidate Sa bin (triangular windows)."""
    b = BINS_PER_SEMITONE
    idx = (candidate + b * np.arange(12)[:, None] + np.arange(-(b // 2), b // 2 + 1)[None, :])
    # Not normalised: a well-aligned candidate captures more energy at the window centres,
    # and that is what tells it from a neighbour 20-40 cents off with the same shape.
    return (hist[idx % len(hist)] * _WINDOW).sum(axis=1)


def raga_templates():
    """Each raga's expected note emphasis over the 12 steps above Sa, unit length."""
    templates = {}
    for raga in load_catalogue().values():
        t = np.zeros(12)
        t[[SEMITONES[s] for s in raga.swaras]] = 1.0
        t[[SEMITONES[s] for s in raga.nyas]] += _WEIGHTS["nyas"]
        t[SEMITONES[raga.vadi]] += _WEIGHTS["vadi"]
        t[SEMITONES[raga.samvadi]] += _WEIGHTS["samvadi"]
        t[0] += _WEIGHTS["sa"]
        templates[raga.id] = t / np.linalg.norm(t)
    return templates


def estimate_tonic(y, sr=22050, *, model=None, sal=None):
    """Estimate a song's Sa.

    Taught in notebook 07_song_detection.

    Parameters
    ----------
    model : ragalib.pitch_model.PitchModel, optional
        Note statistics learned from the training takes; scoring with them is much more
        accurate. Without one, the catalogue's note emphasis is used.
    sal : np.ndarray, optional
        The :func:`salience` of ``y``, if already computed.

    Returns
    -------
    TonicEstimate
        ``hz`` is placed in the octave where Sa itself carries the most melody energy.
    """
    bins, levels = predominant(y, sr, sal=sal)
    if model is not None:
        best, raga, score = model.joint_estimate(bins, levels)
    else:
        hist = folded_histogram(bins, levels)
        score, best, raga = max((float(_profile(hist, c) @ t), c, r)
                                for c in range(len(hist)) for r, t in raga_templates().items())
    hz = _place_octave(best, bins, levels)
    return TonicEstimate(hz=float(hz), note=note_name(hz), score=float(score), raga=raga)


def _place_octave(sa_bin, bins, levels):
    """Sa's frequency: the folded bin ``sa_bin`` in the octave where Sa is loudest."""
    bins_per_octave = 12 * BINS_PER_SEMITONE
    near = np.abs(((bins - sa_bin + bins_per_octave // 2) % bins_per_octave)
                  - bins_per_octave // 2) <= BINS_PER_SEMITONE // 2
    # Sa a little sharp of the lowest bins belongs to the lowest octave, not to octave -1.
    octaves = np.maximum((bins - sa_bin + BINS_PER_SEMITONE // 2) // bins_per_octave, 0)
    energy = np.bincount(octaves[near], weights=levels[near], minlength=_OCTAVES + 1)
    octave = int(np.argmax(energy)) if energy.sum() > 0 else 2
    return _FMIN * 2.0 ** ((sa_bin + octave * bins_per_octave) / bins_per_octave)


def note_name(hz):
    """The nearest equal-tempered note, such as ``"C#4"`` (music21, flats written ``b``)."""
    from music21 import pitch

    note = pitch.Pitch(midi=float(np.round(69 + 12 * np.log2(hz / 440.0))))
    return note.nameWithOctave.replace("-", "b")


def sa_bin(hz):
    """The folded histogram bin (``BINS_PER_SEMITONE`` per semitone, from C) of a frequency."""
    return int(round(12 * BINS_PER_SEMITONE * np.log2(hz / _FMIN))) % (12 * BINS_PER_SEMITONE)


def semitones_to(from_hz, to=DEFAULT_TONIC):
    """The shift, in whole semitones within -6..+5, that moves Sa at ``from_hz`` onto ``to``.

    Octaves do not matter for a raga, so the smallest shift is taken. The interval is worked
    out by music21 between the two pitches, rounded to the semitone the harmonium knows.
    """
    from music21 import interval, pitch

    source = pitch.Pitch()
    source.frequency = float(from_hz)
    target = pitch.Pitch()
    target.frequency = tonic_hz(to)
    steps = interval.Interval(source, target).semitones
    return int((np.round(steps) + 6) % 12 - 6)
