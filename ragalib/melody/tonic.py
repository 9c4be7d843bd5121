"""Finding Sa: tonic estimation, and the transposition that brings a song to the model's C#.

Taught in notebook 07_song_detection. A song's Sa is whatever its singer chose; the model was
trained on a C# harmonium. The estimator listens for the melody's predominant pitch frame by
frame (harmonic summation over a constant-Q spectrum, 5 bins per semitone), folds it into a
pitch-class histogram, and scores every candidate Sa against every raga's expected note
emphasis (Sa, vadi, samvadi and resting notes stressed, absent swaras zero). The best
(Sa, raga) pair gives Sa.

This is the "estimate tonic and raga jointly" idea of the raga recognition literature, with templates
taken from the catalogue alone. Its typical miss is the one the literature reports: Pa or the
vadi taken for Sa.
"""

from dataclasses import dataclass

import numpy as np

from ..constants import C2_HZ, SR, octaves_below_nyquist
from ..errors import RagalibError
from ..ragas import DEFAULT_TONIC, SEMITONES, load_catalogue, tonic_hz

BINS_PER_SEMITONE = 5
_OCTAVES = 6
_FMIN = C2_HZ
_HARMONICS = ((1, 1.0), (2, 0.8), (3, 0.6), (4, 0.5), (5, 0.4))
_WEIGHTS = {"sa": 2.0, "vadi": 1.0, "samvadi": 0.5, "nyas": 0.5}


@dataclass(frozen=True)
class TonicEstimate:
    """Sa as found in a song: frequency, note name, and the raga whose emphasis fitted best.

    Behind notebook 07_song_detection (not called there by name).
    """

    hz: float
    note: str
    score: float
    raga: str


@dataclass(frozen=True)
class Tonic:
    """How detection finds a song's Sa: a small value, parsed once where text comes in.

    Taught in notebook 07_song_detection, whose pipeline variants switch the tonic step to
    each of these. Build one with :meth:`auto` (estimated with the pitch model learned from
    the training takes), :meth:`catalogue` (estimated from the catalogue's note emphasis
    alone), :meth:`given` (a note name or Hz), :meth:`none` (no transposition), or
    :meth:`parse` for text from the command line or a notebook. ``true`` (the song's own
    Sa, from its manifest) exists for evaluation only.
    """

    how: str
    hz: float | None = None
    note: str | None = None

    @classmethod
    def auto(cls):
        return cls("auto")

    @classmethod
    def catalogue(cls):
        return cls("catalogue")

    @classmethod
    def none(cls):
        return cls("none")

    @classmethod
    def true(cls):
        return cls("true")

    @classmethod
    def given(cls, value):
        """Sa given as a note name (``"D4"``, ``"Bb3"``) or a frequency in Hz."""
        hz = tonic_hz(value)
        return cls("given", hz, str(value) if isinstance(value, str) else f"{hz:.1f} Hz")

    @classmethod
    def parse(cls, value):
        """A :class:`Tonic` from what a caller wrote: a Tonic, None, "auto", "catalogue",
        "none", "true", a note name or a frequency in Hz (a bad note is a one-line error)."""
        if isinstance(value, cls):
            return value
        if value is None:
            return cls.none()
        if isinstance(value, str) and value.lower() in ("auto", "catalogue", "none", "true"):
            return cls(value.lower())
        return cls.given(value)


HOP_LENGTH = 512
"""Samples between salience frames (23 ms at 22050 Hz)."""


def salience(y, *, sr, hop_length=HOP_LENGTH, drone_removed=False):
    """Pitch salience (harmonic sum over a CQT), shape (bins, frames), bin 0 at C2.

    Taught in notebook 07_song_detection. ``y`` may be a stack of signals, shape (k, n); the
    result is then (k, bins, frames). With ``drone_removed``, each CQT bin first loses its
    :data:`DRONE_PERCENTILE`-th percentile over time: what sounds all the time (a tanpura's
    strings and their partials) no longer lends its energy to the melody's candidates, which
    would otherwise take the drone's Sa whenever the voice sings Sa' or Pa above it.
    """
    return _harmonic_sum(_floored(_cqt(y, sr, hop_length)) if drone_removed else
                         _cqt(y, sr, hop_length))


def saliences(y, *, sr, hop_length=HOP_LENGTH):
    """``(salience, salience with the drone removed)`` of ``y`` from one CQT: the first for
    :func:`drone_profile`, the second for :func:`predominant`.

    Taught in notebook 07_song_detection.
    """
    spectrum = _cqt(y, sr, hop_length)
    return _harmonic_sum(spectrum), _harmonic_sum(_floored(spectrum))


def _cqt(y, sr, hop_length):
    import librosa

    bins_per_octave = 12 * BINS_PER_SEMITONE
    octaves = octaves_below_nyquist(sr, _OCTAVES)
    return np.abs(librosa.cqt(np.asarray(y, dtype=np.float32), sr=sr, hop_length=hop_length,
                              fmin=_FMIN, n_bins=octaves * bins_per_octave,
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

    Taught in notebook 07_song_detection. 0 for a sound with no loud frame.
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
    """Each raga's expected note emphasis over the 12 steps above Sa, unit length.

    Behind notebook 07_song_detection (not called there by name).
    """
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


DRONE_PERCENTILE = 25
"""A pitch belongs to the drone when it stays salient in this share of frames or more (the
salience's 25th percentile over time: present in three frames out of four)."""
DRONE_PRESENT = (1.3, 2.0)
"""The drone's vote counts not at all below the first figure of steady energy on its best Sa
(:func:`drone_evidence`) and fully above the second: on the dev songs every song with a
tanpura scored 2.0 or more, and every song without one whose best was not its Sa 1.25 or less.
"""
DRONE_WEIGHT = 4.0
"""How much the drone's evidence counts beside the melody's, in the joint (Sa, raga) score
(see :func:`drone_evidence`). On the dev songs every weight from 0.5 to 8 found Sa in all 60
(without the drone, 59); 4 lets a sure drone decide Sa unless the melody strongly disagrees,
since a real recital's tanpura is tuned to its Sa and its melody is not always so plain."""


def drone_profile(sal, *, percentile=DRONE_PERCENTILE):
    """What keeps sounding: each pitch bin's salience, as a share of its frame's loudest,
    at the ``percentile``-th percentile over the loud frames, folded into 60 bins per octave.

    Taught in notebook 07_song_detection. The melody moves from note to note; a tanpura sounds
    Sa and Pa in every frame, under the voice. Salamon, Gulati and Serra (2012) find the tonic
    among the peaks of a multi-pitch histogram of salience over a whole recital; here the
    drone is what stays salient in three frames out of four, which a moving melody does not.

    Returns
    -------
    np.ndarray, shape (12 * BINS_PER_SEMITONE,)
        Per folded bin, that percentile summed over the octaves (all zeros for silence):
        not normalised, since how much stays tells a drone from a melody's held notes
        (:data:`DRONE_PRESENT`).
    """
    sal = np.asarray(sal, dtype=np.float64)
    loudest = sal.max(axis=0)
    keep = loud_frames(sal)
    if not keep.any():
        return np.zeros(12 * BINS_PER_SEMITONE)
    floor = np.percentile(sal[:, keep] / loudest[keep], percentile, axis=1)
    width = 12 * BINS_PER_SEMITONE
    return np.bincount(np.arange(len(floor)) % width, weights=floor, minlength=width)


def drone_evidence(hist, sa_bins):
    """The drone's vote for each candidate Sa: the log of the :func:`drone_profile` on Sa plus
    half the log of it on Pa (or Ma, the other usual first string), relative to the best candidate.
    A drone sounds both at once; a held melody note has no fifth beside it. The vote is scaled
    by how surely there is a drone at all: from 0 to 1 as the steady energy on the best Sa
    rises through :data:`DRONE_PRESENT`.

    Behind notebook 07_song_detection (not called there by name).

    Returns
    -------
    np.ndarray, shape (len(sa_bins),), at most 0 (all 0 where there is no drone)
    """
    b = BINS_PER_SEMITONE
    offsets = np.arange(-(b // 2), b // 2 + 1)
    width = len(hist)

    def energy(at):
        return (hist[(np.asarray(at)[:, None] + offsets[None, :]) % width] * _WINDOW).sum(axis=1)

    sa_bins = np.asarray(sa_bins)
    fifth = np.maximum(energy(sa_bins + 7 * b), energy(sa_bins + 5 * b))
    on_sa = energy(sa_bins)
    vote = np.log(on_sa + 1e-4) + 0.5 * np.log(fifth + 1e-4)
    lo, hi = DRONE_PRESENT
    presence = np.clip((energy(np.arange(width)).max() - lo) / (hi - lo), 0.0, 1.0)
    return presence * (vote - vote.max())


def estimate_tonic(y, *, sr=SR, model=None, sal=None, drone=None):
    """Estimate a song's Sa.

    Taught in notebook 07_song_detection.

    Parameters
    ----------
    model : ragalib.melody.pitch_model.PitchModel, optional
        Note statistics learned from the training takes; scoring with them is much more
        accurate. Without one, the catalogue's note emphasis is used.
    sal, drone : np.ndarray, optional
        The salience of ``y`` with the drone removed and its :func:`drone_profile`, if
        already computed (both or neither).

    Returns
    -------
    TonicEstimate
        ``hz`` is placed in the octave where Sa itself carries the most melody energy.
    """
    if sal is None:
        plain, sal = saliences(y, sr=sr)
        drone = drone_profile(plain)
    bins, levels = predominant(y, sr=sr, sal=sal)
    if model is not None:
        best, raga, score = model.joint_estimate(bins, levels, drone=drone)
    else:
        hist = folded_histogram(bins, levels)
        vote = (np.zeros(len(hist)) if drone is None else
                DRONE_WEIGHT * drone_evidence(drone, np.arange(len(hist))))
        score, best, raga = max((float(_profile(hist, c) @ t) + vote[c], c, r)
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
    """The nearest equal-tempered note, such as ``"C#4"`` (flats written ``b``).

    Taught in notebook 07_song_detection. music21 spells it, as it spells the catalogue's
    notes (C#, Eb, F#, G#, Bb); ``librosa.hz_to_note`` would write every black key as a sharp.
    """
    from music21 import pitch

    note = pitch.Pitch(midi=float(np.round(69 + 12 * np.log2(hz / 440.0))))
    return note.nameWithOctave.replace("-", "b")


def sa_bin(hz):
    """The folded histogram bin (``BINS_PER_SEMITONE`` per semitone, from C) of a frequency.

    Behind notebook 07_song_detection (not called there by name).
    """
    return int(round(12 * BINS_PER_SEMITONE * np.log2(hz / _FMIN))) % (12 * BINS_PER_SEMITONE)


def semitones_to(from_hz, to=DEFAULT_TONIC):
    """The shift, in whole semitones within -6..+5, that moves Sa at ``from_hz`` onto ``to``.

    Taught in notebook 07_song_detection. Octaves do not matter for a raga, so the smallest
    shift is taken: the interval in MIDI steps (``librosa.hz_to_midi``), rounded to the
    semitone the harmonium knows.
    """
    import librosa

    steps = librosa.hz_to_midi(tonic_hz(to)) - librosa.hz_to_midi(float(from_hz))
    return int((np.round(steps) + 6) % 12 - 6)
