"""The note model learned from a user's own labelled recordings, as far as they show it helps.

Taught in notebook 11_real_singing. The note model reads each raga from the catalogue's grammar
(:mod:`ragalib.melody.note_model`). Recordings of a raga can draw its profile towards how it is
really sung (:meth:`ragalib.melody.note_model.NoteModel.adapted`), weighted by how much real
material there is against the grammar's ``prior_s`` seconds. Whether they should, and how
strongly, is not assumed: :func:`choose_prior` leaves each recording out in turn and keeps the
strength that names the left-out recordings better without harming any of them, else the
grammar alone. On the dev material (nine recordings of six ragas) every strength lowered the
accuracy on some recording left out, because a raga drawn towards real singing also draws the
excerpts of ragas that have no recordings; :func:`choose_prior` then keeps the grammar.
"""

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import RagalibError, say

PRIORS_S = (2000.0, 600.0)
"""The strengths :func:`choose_prior` tries besides the grammar alone: the grammar counts as
this many seconds of held notes against the recordings' own."""
EXCERPT_S = 45.0
"""Recordings are judged in excerpts of this length, as ``report folder --excerpt`` does."""


@dataclass(frozen=True)
class RecordingNotes:
    """What the note model learns and is judged on from one recording: its ``raga``, the
    ``sa_hz`` its notes are read above (``sa_given`` when the user gave it), the seconds
    ``held`` on each of the 12 steps, and its excerpts as a
    :class:`ragalib.melody.pitch_track.PitchTrack` each with its ``(held, moves)`` counts.

    Behind notebook 11_real_singing (not called there by name).
    """

    source: str
    raga: str
    sa_hz: float
    sa_given: bool
    held: np.ndarray
    excerpts: tuple
    counts: tuple


def recording_notes(path, raga, sa_hz=None, *, model, excerpt=EXCERPT_S):
    """Read a recording or pitch track (:func:`ragalib.melody.pitch_track.read_melody`) into a
    :class:`RecordingNotes`; without ``sa_hz``, its Sa is the one ``model`` finds with the raga.

    Behind notebook 11_real_singing (not called there by name).
    """
    from .notes import held_notes, held_profile, note_moves
    from .pitch_track import read_melody

    track = read_melody(path)
    given = sa_hz is not None
    if not given:
        try:
            _, sa_hz = model.judge(track.hz, track.hop_s)
        except RagalibError as exc:
            raise RagalibError(f"{path}: {exc}") from None

    def counts(part):
        with np.errstate(divide="ignore", invalid="ignore"):
            notes = held_notes(1200.0 * np.log2(part.hz / sa_hz), part.hop_s)
        return held_profile(notes), note_moves(notes)

    parts = tuple(track.excerpts(excerpt))
    return RecordingNotes(str(path), raga, float(sa_hz), given, counts(track)[0], parts,
                          tuple(counts(part) for part in parts))


def held_by_raga(recordings):
    """Raga -> the seconds held on each step, summed over its ``recordings``.

    Behind notebook 11_real_singing (not called there by name).
    """
    held = {}
    for rec in recordings:
        held[rec.raga] = held.get(rec.raga, np.zeros(12)) + rec.held
    return held


def choose_prior(model, recordings):
    """The strength to learn ``recordings`` with: None (the grammar alone) or one of
    :data:`PRIORS_S`. Each recording in turn is left out, the model learns from the others at
    each strength, and the excerpts of the one left out are judged at its Sa. A strength is
    kept only if it does no harm: no recording left out has fewer of its excerpts named right
    with it, and it names more of them right in all than the grammar alone (the most, among
    several). With fewer than three recordings or two ragas, None.

    Behind notebook 11_real_singing (named there, not called). On a few recordings an
    accuracy that rises by an excerpt or two is noise, while learning one raga's real singing
    draws other ragas' excerpts towards it: what helps on some recordings and hurts on one is
    not learned.
    """
    if len(recordings) < 3 or len({rec.raga for rec in recordings}) < 2:
        return None
    gains = {prior: [] for prior in PRIORS_S}
    for i, left in enumerate(recordings):
        if left.raga not in model.labels:
            continue
        truth = model.labels.index(left.raga)
        held = held_by_raga(recordings[:i] + recordings[i + 1:])
        grammar = _right(model, left, truth)
        for prior, gain in gains.items():
            gain.append(_right(model.adapted(held, prior), left, truth) - grammar)
    helpful = {prior: sum(gain) for prior, gain in gains.items()
               if gain and min(gain) >= 0 and sum(gain) > 0}
    return max(helpful, key=helpful.get) if helpful else None


def _right(model, recording, truth):
    """How many excerpts of ``recording`` ``model`` names as raga number ``truth``, at its Sa."""
    return sum(named(model, counts) == truth for counts in recording.counts)


def named(model, counts):
    """The index of the raga ``model`` names from ``(held, moves)`` counts at their Sa, or
    None when nothing is held (no raga named: wrong, as detection would fail).

    Behind notebook 11_real_singing (not called there by name).
    """
    scores = model.count_scores(*counts)
    return int(np.argmax(scores)) if np.isfinite(scores).any() else None


def learn(model, recordings):
    """``(model, prior)``: ``model`` adapted to ``recordings`` at the strength
    :func:`choose_prior` picks, or ``model`` itself and None.

    Behind notebook 11_real_singing (not called there by name).
    """
    prior = choose_prior(model, recordings)
    return (model, None) if prior is None else (model.adapted(held_by_raga(recordings), prior),
                                                prior)


class OwnRecordings(NamedTuple):
    """What :func:`own_recordings_model` gives: the ``model`` to judge with, the ``prior``
    chosen (None: the grammar alone), and how many ``recordings`` of how many ``ragas`` it
    read.

    Behind notebook 11_real_singing (not called there by name).
    """

    model: object
    prior: float | None
    recordings: int
    ragas: int


def own_recordings_model(model, folder=None, *, exclude=(), report=say):
    """:class:`OwnRecordings`: ``model`` learned (:func:`learn`) from your own recordings and
    pitch tracks in ``folder`` (default ``data/recordings/``, whose rendered takes,
    :func:`ragalib.corpus.takes.is_rendered_take`, are left out: the grammar already stands for
    them), leaving out the files whose SHA-1 is in ``exclude`` (those about to be judged).

    Behind notebook 11_real_singing (not called there by name). What each recording holds is
    kept in ``data/note_counts/`` (numbers only, renewed when the file changes), so that a
    folder of recordings is read once; the learned model is kept for the process.
    """
    from ..corpus.dataset import folder_rows
    from ..corpus.takes import is_rendered_take
    from ..paths import recordings_dir
    from ..util.files import file_digest

    folder = Path(recordings_dir() if folder is None else folder)
    if not folder.is_dir():
        return OwnRecordings(model, None, 0, 0)
    try:
        rows = folder_rows(folder, report=lambda line: None)
    except RagalibError as exc:      # no recording in any raga folder, or a bad tonics.csv
        if "tonics.csv" in str(exc):
            report(f"{exc}; your recordings are not learned from")
        return OwnRecordings(model, None, 0, 0)
    rows = [row for row in rows if row["raga"] in model.labels
            and not is_rendered_take(row["path"])
            and not (exclude and file_digest(row["path"]) in exclude)]
    stamp = (model.key, *((str(row["path"]), row["tonic_hz"], *_file_stamp(row["path"]))
                          for row in rows))
    with _LOCK:
        found = _LEARNED.get(stamp)
        if found is None:
            found = _learned(model, stamp[1:], report)
            _LEARNED.clear()
            _LEARNED[stamp] = found
    return found


_LEARNED = {}
"""The last :func:`own_recordings_model`, by the model's key and the recordings' paths, Sa,
sizes and times: kept for the process."""
_LOCK = threading.Lock()


def _file_stamp(path):
    stat = Path(path).stat()
    return stat.st_size, stat.st_mtime_ns


def _learned(model, stamp, report):
    """:func:`own_recordings_model` for the recordings ``stamp`` names."""
    recordings = []
    for path, sa_hz, *_ in stamp:
        try:
            recordings.append(cached_recording_notes(path, Path(path).parent.name, sa_hz,
                                                     model=model))
        except RagalibError as exc:
            report(f"{exc}; not learned from")
    learned, prior = learn(model, recordings)
    return OwnRecordings(learned, prior, len(recordings), len({r.raga for r in recordings}))


COUNTS_VERSION = 1
"""Part of the key of every entry in ``data/note_counts/``: raise it when what a recording's
counts are made of changes (how its melody is read, :func:`recording_notes`)."""


def cached_recording_notes(path, raga, sa_hz=None, *, model):
    """:func:`recording_notes` (its counts only: ``excerpts`` is empty), kept in
    ``data/note_counts/`` under a key of the file's bytes, its Sa, :data:`COUNTS_VERSION`, the
    rate audio is read at and the model (its key holds
    :data:`ragalib.melody.note_model.VERSION`); an entry that cannot be read is computed again.

    Behind notebook 11_real_singing (not called there by name).
    """
    import zipfile

    from ..constants import SR
    from ..paths import content_key, work_dir
    from ..util.files import atomic_write, file_digest

    key = content_key("note counts", COUNTS_VERSION, file_digest(path), raga, sa_hz, EXCERPT_S,
                      SR, model.key)
    entry = work_dir() / "note_counts" / f"{key}.npz"
    try:
        with np.load(entry, allow_pickle=False) as saved:
            return RecordingNotes(str(path), raga, float(saved["sa_hz"]), sa_hz is not None,
                                  saved["held"], (), tuple(zip(saved["excerpt_held"],
                                                               saved["excerpt_moves"])))
    except (OSError, KeyError, ValueError, EOFError, TypeError, AttributeError,
            zipfile.BadZipFile):
        pass
    rec = recording_notes(path, raga, sa_hz, model=model)

    def write(tmp):
        with open(tmp, "wb") as handle:
            np.savez(handle, sa_hz=rec.sa_hz, held=rec.held,
                     excerpt_held=np.array([held for held, _ in rec.counts]),
                     excerpt_moves=np.array([moves for _, moves in rec.counts]))

    atomic_write(entry, write)
    return RecordingNotes(rec.source, raga, rec.sa_hz, rec.sa_given, rec.held, (), rec.counts)
