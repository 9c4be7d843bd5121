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

from ..constants import SR
from ..ragas import DEFAULT_TONIC, SEMITONES, load_catalogue, music21, tonic_hz
from .salience import (BINS_PER_SEMITONE, DRONE_PERCENTILE, FMIN, OCTAVES, bin_hz,
                       folded_histogram, loud_frames, predominant, saliences)

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

    Behind notebook 07_song_detection (not called there by name),
    whose pipeline variants switch the tonic step to
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
        named = isinstance(value, str) and value.strip()[:1].isalpha()
        return cls("given", hz, value.strip() if named else f"{hz:.1f} Hz")

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
    energy = np.bincount(octaves[near], weights=levels[near], minlength=OCTAVES + 1)
    octave = int(np.argmax(energy)) if energy.sum() > 0 else 2
    return bin_hz(sa_bin + octave * bins_per_octave)


def note_name(hz):
    """The nearest equal-tempered note, such as ``"C#4"`` (flats written ``b``).

    Behind notebook 07_song_detection (not called there by name).
    music21 spells it, as it spells the catalogue's
    notes (C#, Eb, F#, G#, Bb); ``librosa.hz_to_note`` would write every black key as a sharp.
    """
    pitch = music21("pitch")
    # Not librosa.hz_to_midi: it computes 12 * (log2(hz) - log2(440)) + 69, which differs in
    # the last bits and so rounds some exact quarter-tones the other way (14.1529 Hz: 9.5 here,
    # 9.499999999999993 there), which would rename those notes.
    note = pitch.Pitch(midi=float(np.round(69 + 12 * np.log2(hz / 440.0))))
    return note.nameWithOctave.replace("-", "b")


def sa_bin(hz):
    """The folded histogram bin (``BINS_PER_SEMITONE`` per semitone, from C) of a frequency.

    Behind notebook 07_song_detection (not called there by name).
    """
    return int(round(12 * BINS_PER_SEMITONE * np.log2(hz / FMIN))) % (12 * BINS_PER_SEMITONE)


def semitones_to(from_hz, to=DEFAULT_TONIC):
    """The shift, in whole semitones within -6..+5, that moves Sa at ``from_hz`` onto ``to``.

    Taught in notebook 07_song_detection. Octaves do not matter for a raga, so the smallest
    shift is taken: the interval in MIDI steps (``librosa.hz_to_midi``), rounded to the
    semitone the harmonium knows.
    """
    import librosa

    steps = librosa.hz_to_midi(tonic_hz(to)) - librosa.hz_to_midi(float(from_hz))
    return int((np.round(steps) + 6) % 12 - 6)
