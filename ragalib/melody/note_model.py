"""A raga model for real singing, learned from the catalogue's description alone.

Taught in notebook 11_real_singing. For every raga of the active catalogue
(:func:`ragalib.ragas.use_catalogue`) the synthetic singer sings improvisations from its
grammar (:func:`ragalib.synth.improviser.improvise_score`, :func:`ragalib.synth.singer.contour`;
no audio is rendered, so a raga's statistics take a fraction of a second), and the model keeps,
relative to Sa:

* which steps the held notes rest on, and for how long (:func:`ragalib.melody.notes.held_profile`);
* how one held note moves to the next (:func:`ragalib.melody.notes.note_transitions`): the
  road up and the road down, which is what separates ragas with the same notes (Bhimpalasi
  climbs ``,n S g m`` where Kafi climbs ``S R g m``).

A melody is scored under every raga at every candidate Sa; the best pair names the raga and,
when the Sa was not given, the Sa. Two choices make a model learned from a synthetic singer
hold on real ones, both made on the real dev tracks (ragas outside the catalogue's ten):

* the templates are *tempered* (raised to a power below one, then mixed with a floor): the
  synthetic improviser dwells on the vadi more than singers do, and what a raga leaves out
  matters more than exactly how much it dwells where;
* only held notes count: a glide's transit frames are not notes sung.

Because it needs no recording, a raga a user writes into a catalogue is recognised at once.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import RagalibError
from ..util.files import atomic_write
from .notes import held_notes, held_profile, note_transitions

VERSION = 1
"""Part of the cache key: bump it when what the model learns changes."""
TAKES_PER_RAGA = 6
"""Synthetic improvisations sung per raga (alternately by the male and the female singer)."""
TAKE_SECONDS = 90.0
PROFILE_POWER = 0.3
"""The held-note profile template is raised to this power before it is normalised."""
PROFILE_FLOOR = 0.002
"""Share of the profile template spread evenly over the 12 steps: nothing is impossible."""
MOVE_POWER = 0.5
MOVE_FLOOR = 0.4
MOVE_WEIGHT = 0.5
"""Weight of the mean log probability of a melody's moves beside its profile's."""
TEMPERATURE = 0.11
"""Scores are divided by this before the softmax that gives probabilities: the temperature
with the least log loss on the dev tracks' 45-s excerpts at their given Sa."""
SA_CUE_WEIGHT = 0.5
"""Weight of the raga-independent Sa cue when the Sa is estimated (see :meth:`NoteModel.scores`)."""
REFERENCE_HZ = 440.0 * 2.0 ** (-9 / 12)
"""C4: the cents of a melody are counted from here before its own tuning is found."""
SEED = 1000


def _template(counts, power, floor):
    """Log of a tempered, floored distribution over the last axis."""
    p = counts + 1e-9
    p = p / p.sum(axis=-1, keepdims=True)
    p = p ** power
    p = p / p.sum(axis=-1, keepdims=True)
    return np.log((1.0 - floor) * p + floor / p.shape[-1])


@dataclass(frozen=True)
class NoteModel:
    """Held-note statistics of each raga. Build one with :func:`fit` (or
    :func:`ensure_note_model`, cached).

    Behind notebook 11_real_singing (not called there by name).
    """

    labels: tuple
    profiles: np.ndarray     # (ragas, 12) seconds held on each step, summed over the takes
    moves: np.ndarray        # (ragas, 12, 12) counts of moves between held notes
    key: str = ""

    def __post_init__(self):
        object.__setattr__(self, "_log_profiles",
                           _template(self.profiles, PROFILE_POWER, PROFILE_FLOOR))
        object.__setattr__(self, "_log_moves", _template(self.moves, MOVE_POWER, MOVE_FLOOR))
        shares = self.profiles / np.maximum(self.profiles.sum(axis=1, keepdims=True), 1e-12)
        object.__setattr__(self, "_log_any_raga", np.log(shares.mean(axis=0) + PROFILE_FLOOR / 12))

    def raga_scores(self, notes, *, rotation=0):
        """The score of :class:`ragalib.melody.notes.HeldNotes` (steps above a Sa
        ``rotation`` semitones below the one they were cut at) under every raga: the mean
        log probability of its held seconds under the raga's profile plus
        :data:`MOVE_WEIGHT` times that of its moves; -inf for every raga when nothing is held.
        """
        profile = held_profile(notes, rotation=rotation)
        if profile.sum() <= 0:
            return np.full(len(self.labels), -np.inf)
        scores = self._log_profiles @ (profile / profile.sum())
        moves = note_transitions(notes, rotation=rotation)
        if moves.sum() > 0:
            scores = scores + MOVE_WEIGHT * (self._log_moves * moves).sum(axis=(1, 2)) / moves.sum()
        return scores

    def scores(self, hz, hop_s, *, sa_hz=None):
        """Scores of a melody in Hz under every raga at every candidate Sa.

        With ``sa_hz`` the one candidate is that Sa. Without, the twelve semitones at the
        melody's own tuning (the circular mean of its cents modulo 100: Sa to a fraction of
        a semitone, not to the A440 grid), each scored with :data:`SA_CUE_WEIGHT` times the
        log probability of its held notes under the ragas' pooled profile (a raga-independent
        cue: whatever the raga, Sa and Pa are held most).

        Returns
        -------
        scores : np.ndarray, shape (candidates, ragas)
        sa_hz : np.ndarray, shape (candidates,)
            Each candidate in the octave at or below the melody's median pitch.
        """
        hz = np.asarray(hz, dtype=float)
        voiced = np.isfinite(hz) & (hz > 0)
        if not voiced.any():
            raise RagalibError("the melody has no voiced frame")
        with np.errstate(divide="ignore", invalid="ignore"):
            if sa_hz is not None:
                notes = held_notes(1200.0 * np.log2(hz / float(sa_hz)), hop_s)
                return self.raga_scores(notes)[None, :], np.array([float(sa_hz)])
            cents = 1200.0 * np.log2(hz / REFERENCE_HZ)
        turn = np.exp(2j * np.pi * cents[voiced] / 100.0).mean()
        offset = 100.0 * np.angle(turn) / (2 * np.pi)
        notes = held_notes(cents - offset, hop_s)
        out = np.empty((12, len(self.labels)))
        for k in range(12):
            out[k] = self.raga_scores(notes, rotation=k)
            profile = held_profile(notes, rotation=k)
            if profile.sum() > 0:
                out[k] += SA_CUE_WEIGHT * self._log_any_raga @ (profile / profile.sum())
        candidates = REFERENCE_HZ * 2.0 ** ((offset + 100.0 * np.arange(12)) / 1200.0)
        median = np.median(hz[voiced])
        candidates = candidates * 2.0 ** np.floor(np.log2(median / candidates))
        return out, candidates

    def judge(self, hz, hop_s, *, sa_hz=None):
        """The raga probabilities of a melody and the Sa they were judged at.

        Without ``sa_hz``, the Sa is the candidate of the best (raga, Sa) pair, and each
        raga is scored at its own best Sa (the joint estimate of tonic and raga).

        Returns
        -------
        probabilities : dict
            Raga id -> probability, in label order (a softmax of the scores at
            :data:`TEMPERATURE`).
        sa_hz : float
        """
        scores, candidates = self.scores(hz, hop_s, sa_hz=sa_hz)
        best = scores.max(axis=0)
        if not np.isfinite(best).any():
            raise RagalibError("the melody holds no note long enough to judge")
        row = int(np.unravel_index(np.argmax(scores), scores.shape)[0])
        p = np.exp((best - best.max()) / TEMPERATURE)
        return dict(zip(self.labels, map(float, p / p.sum()))), float(candidates[row])

    def to_dict(self):
        return {"version": VERSION, "key": self.key, "labels": list(self.labels),
                "profiles": self.profiles.round(4).tolist(),
                "moves": self.moves.round(4).tolist()}

    @classmethod
    def from_dict(cls, data):
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')}, expected {VERSION}")
        labels = tuple(str(x) for x in data["labels"])
        profiles = np.asarray(data["profiles"], dtype=float)
        moves = np.asarray(data["moves"], dtype=float)
        if profiles.shape != (len(labels), 12) or moves.shape != (len(labels), 12, 12):
            raise ValueError("arrays do not match the labels")
        if not (np.isfinite(profiles).all() and np.isfinite(moves).all()
                and profiles.min() >= 0 and moves.min() >= 0):
            raise ValueError("statistics must be finite and non-negative")
        return cls(labels, profiles, moves, str(data.get("key", "")))

    def save(self, path):
        """Write the model as JSON, atomically."""
        text = json.dumps(self.to_dict())
        return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`; a damaged file is a one-line error."""
        path = Path(path)
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise RagalibError(f"{path}: no note model there") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise RagalibError(f"{path}: not a readable note model ({exc})") from None


def sung_contour(raga_id, seconds, seed, singer):
    """A synthetic sung improvisation's contour in cents above Sa, every 10 ms.

    Behind notebook 11_real_singing (not called there by name).
    """
    from ..synth.improviser import improvise_score
    from ..synth.singer import SINGERS, contour

    score = improvise_score(raga_id, seconds, sung=True, seed=seed)
    sung, _ = contour(score, singer=SINGERS[singer], seed=seed)
    frames = np.arange(0.0, sung.times[-1], HOP_S)
    index = np.clip(np.round(frames * sung.sr / sung.hop).astype(int), 0, len(sung.hz) - 1)
    return 1200.0 * np.log2(sung.hz[index] / score.tonic_hz)


HOP_S = 0.01
"""The frame spacing of the synthetic contours the model learns from."""


def fit(labels=None, *, takes=TAKES_PER_RAGA, seconds=TAKE_SECONDS, key=""):
    """Learn each raga's held-note statistics from synthetic sung improvisations.

    Behind notebook 11_real_singing (not called there by name; it uses
    :func:`ensure_note_model`).

    Parameters
    ----------
    labels : sequence of str, optional
        Raga ids; default every raga of the active catalogue.
    """
    from ..ragas import raga_ids

    labels = tuple(raga_ids() if labels is None else labels)
    profiles, moves = np.zeros((len(labels), 12)), np.zeros((len(labels), 12, 12))
    for r, raga in enumerate(labels):
        for k in range(takes):
            notes = held_notes(sung_contour(raga, seconds, SEED + k, ("male", "female")[k % 2]),
                               HOP_S)
            profiles[r] += held_profile(notes)
            moves[r] += note_transitions(notes)
    return NoteModel(labels, profiles, moves, key)


def note_model_path():
    """``data/models/note_model.json`` (under the active catalogue's folder).

    Behind notebook 11_real_singing (not called there by name).
    """
    from ..paths import models_dir

    return models_dir() / "note_model.json"


def ensure_note_model(path=None):
    """The note model of the active catalogue, learned once and kept as JSON.

    Taught in notebook 11_real_singing. Relearned when the catalogue, this module's
    :data:`VERSION` or its settings change (about 2 s for sixteen ragas).
    """
    from ..paths import content_key
    from ..ragas import catalogue_key

    key = content_key("note model", VERSION, catalogue_key(), TAKES_PER_RAGA, TAKE_SECONDS,
                      SEED)
    path = Path(path or note_model_path())
    if path.exists():
        try:
            model = NoteModel.load(path)
            if model.key == key:
                return model
        except RagalibError:
            pass
    model = fit(key=key)
    try:
        model.save(path)
    except RagalibError:
        pass                    # a read-only data folder: still answers, unsaved
    return model
