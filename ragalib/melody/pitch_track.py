"""Pitch tracks as input: what research corpora publish where they cannot publish audio.

Taught in notebook 11_real_singing. A pitch track is the melody's fundamental frequency,
one value per frame, with nothing for the frames where nobody sings. Two forms are read:

* the common text form: a ``.csv`` or ``.tsv`` file of ``time, f0 in Hz`` rows
  (comma, tab or spaces; a header line is allowed; ``0``, empty or ``nan`` for silence), as
  written by Melodia, pYIN (``librosa.pyin``), CREPE or Essentia's extractors;
* a NumPy ``.npz`` with ``cents`` above Sa and ``sa_hz`` (how ``shared/real-dev`` is stored),
  or ``f0_hz``; both with ``hop_s``, the seconds between frames. ``sa_hz`` and ``raga``, if
  present, are the annotation. It is read with ``allow_pickle=False``: data, never code.

Every problem (no voiced frame, a negative or decreasing time, a word where a number belongs)
is one line naming the file and the reason.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import RagalibError

TRACK_SUFFIXES = {".csv", ".tsv", ".npz"}
"""File endings read as pitch tracks, not audio."""
NOT_TRACKS = ("tonics.csv", "index.csv", "manifest.csv")
"""Tables that sit beside recordings (their Sa's, a corpus's index, a songs folder's
manifest): never read as pitch tracks."""
MAX_GAP_S = 600.0
"""Longer than this between two rows is a broken file, not a pause (it would also ask for
a frame grid larger than memory)."""
MAX_HOP_S = 0.1
"""A track whose frames are further apart than this (100 ms) cannot show a melody's notes."""


@dataclass(frozen=True)
class PitchTrack:
    """A melody's pitch, every ``hop_s`` seconds, in Hz (NaN where nothing is sung).

    Behind notebook 11_real_singing (not called there by name).
    """

    hz: np.ndarray
    hop_s: float
    source: str = "<track>"
    sa_hz: float | None = None    # the annotated Sa, when the file carries one
    raga: str | None = None       # the annotated raga, when the file carries one

    @property
    def seconds(self):
        return len(self.hz) * self.hop_s

    @property
    def voiced_seconds(self):
        return float(np.isfinite(self.hz).sum() * self.hop_s)

    def cents_above(self, sa_hz):
        """The track in cents above ``sa_hz`` (NaN where nothing is sung)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1200.0 * np.log2(self.hz / float(sa_hz))

    def excerpt(self, start_s, seconds):
        """The part from ``start_s`` lasting ``seconds``."""
        a = int(round(start_s / self.hop_s))
        b = a + int(round(seconds / self.hop_s))
        return PitchTrack(self.hz[a:b], self.hop_s, f"{self.source}@{start_s:g}s", self.sa_hz,
                          self.raga)

    def excerpts(self, seconds):
        """Consecutive excerpts of ``seconds`` (the last, shorter, is dropped; a track
        shorter than one excerpt is one excerpt, whole)."""
        n = max(1, int(round(seconds / self.hop_s)))
        if len(self.hz) < n:
            return [self]
        return [self.excerpt(a * self.hop_s, seconds) for a in range(0, len(self.hz) - n + 1, n)]


def is_pitch_track(path):
    """True for a file read as a pitch track (:data:`TRACK_SUFFIXES`) rather than as audio.

    Behind notebook 11_real_singing (not called there by name).
    """
    return Path(path).suffix.lower() in TRACK_SUFFIXES


def pitch_tracks(folder):
    """The pitch tracks in ``folder`` (:data:`TRACK_SUFFIXES`; hidden files and the
    tables that sit beside recordings, :data:`NOT_TRACKS`, left out), sorted.

    Behind notebook 11_real_singing (not called there by name).
    """
    return sorted(p for p in Path(folder).iterdir()
                  if is_pitch_track(p) and p.is_file() and not p.name.startswith(".")
                  and p.name not in NOT_TRACKS)


def read_melody(path, *, sr=None):
    """A file's melody as a :class:`PitchTrack`: a pitch track as it is written
    (:func:`read_pitch_track`), or an audio file's melody as the salience tracker follows it
    (:func:`ragalib.melody.trackers.track`, ``"contour"``).

    Taught in notebook 11_real_singing.
    """
    if is_pitch_track(path):
        return read_pitch_track(path)
    from ..audio import load
    from ..constants import SR
    from .trackers import track

    sr = SR if sr is None else sr
    times, hz = track(load(path, sr=sr), sr, method="contour")
    return PitchTrack(hz, float(times[1] - times[0]), str(path))


def read_pitch_track(path):
    """Read a pitch track (see the module docstring).

    Taught in notebook 11_real_singing.

    Returns
    -------
    PitchTrack

    Raises
    ------
    RagalibError
        In one line naming the file: missing, unreadable, no voiced frame, a negative or
        decreasing time, a non-numeric or negative f0, frames too far apart.
    """
    path = Path(path)
    if not path.is_file():
        raise RagalibError(f"{path}: no such pitch track" if not path.exists() else
                           f"{path}: not a regular file")
    reader = _read_npz if path.suffix.lower() == ".npz" else _read_text
    try:
        hz, hop, sa_hz, raga = reader(path)
    except RagalibError:
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
        raise RagalibError(f"{path}: not a readable pitch track ({exc})") from None
    hz = np.asarray(hz, dtype=float)
    if hz.ndim != 1 or not len(hz):
        raise RagalibError(f"{path}: the pitch track is empty")
    if np.any(hz < 0):
        raise RagalibError(f"{path}: a negative f0 ({hz[hz < 0][0]:g} Hz); use 0 or nothing "
                           "for silence")
    hz = np.where(hz > 0, hz, np.nan)
    if not np.isfinite(hz).any():
        raise RagalibError(f"{path}: the pitch track has no voiced frame (every f0 is 0 or "
                           "empty)")
    if not 0 < hop <= MAX_HOP_S:
        raise RagalibError(f"{path}: frames {hop:g} s apart; a pitch track needs at most "
                           f"{MAX_HOP_S:g} s between frames")
    return PitchTrack(hz, float(hop), str(path), sa_hz, raga)


def write_pitch_track(path, hz, hop_s):
    """Write a melody in Hz (NaN or 0 where nothing is sung) as the common CSV,
    ``time,f0`` with 0 for silence, that :func:`read_pitch_track` reads; returns ``path``.

    Taught in notebook 11_real_singing.
    """
    hz = np.nan_to_num(np.asarray(hz, dtype=float), nan=0.0)
    rows = (f"{i * hop_s:.3f},{f:.2f}" for i, f in enumerate(hz))
    Path(path).write_text("time,f0\n" + "\n".join(rows) + "\n")
    return path


def _read_npz(path):
    with np.load(path, allow_pickle=False) as data:
        if "hop_s" not in data:
            raise RagalibError(f"{path}: the .npz has no hop_s (seconds between frames)")
        hop = float(data["hop_s"])
        sa_hz = float(data["sa_hz"]) if "sa_hz" in data else None
        raga = str(data["raga"]) if "raga" in data else None
        if "f0_hz" in data:
            hz = data["f0_hz"]
        elif "cents" in data:
            if sa_hz is None:
                raise RagalibError(f"{path}: cents without sa_hz, the Sa they are above")
            hz = sa_hz * 2.0 ** (np.asarray(data["cents"], dtype=float) / 1200.0)
        else:
            raise RagalibError(f"{path}: the .npz holds neither f0_hz nor cents")
    if sa_hz is not None and not (np.isfinite(sa_hz) and sa_hz > 0):
        raise RagalibError(f"{path}: sa_hz {sa_hz} is not a frequency")
    return np.nan_to_num(np.asarray(hz, dtype=float), nan=0.0), hop, sa_hz, raga


def _read_text(path):
    times, f0 = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.replace(",", " ").replace("\t", " ").split()
        if not fields or line.lstrip().startswith("#"):
            continue
        try:
            t = float(fields[0])
            hz = float(fields[1]) if len(fields) > 1 else 0.0
        except ValueError:
            if not times:           # a header line
                continue
            raise RagalibError(f"{path}: line {number}: {line.strip()[:40]!r} is not a time "
                               "and an f0 in Hz") from None
        if not np.isfinite(t) or t < 0:
            raise RagalibError(f"{path}: line {number}: the time {fields[0]} is negative or "
                               "not a number")
        times.append(t)
        f0.append(0.0 if np.isnan(hz) else hz)
    if len(times) < 2:
        raise RagalibError(f"{path}: fewer than two rows of time and f0")
    steps = np.diff(times)
    if np.any(steps <= 0):
        row = int(np.flatnonzero(steps <= 0)[0]) + 2
        raise RagalibError(f"{path}: the times do not increase (row {row} of the data)")
    hop = float(np.median(steps))
    if steps.max() > MAX_GAP_S:
        row = int(np.argmax(steps)) + 2
        raise RagalibError(f"{path}: the times jump by {steps.max():g} s at row {row} of the "
                           f"data; a pitch track has a row at least every {MAX_GAP_S:g} s")
    grid = np.round((np.asarray(times) - times[0]) / hop).astype(int)
    hz = np.zeros(grid[-1] + 1)
    hz[grid] = f0
    return hz, hop, None, None
