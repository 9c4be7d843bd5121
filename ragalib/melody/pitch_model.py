"""Each raga's note statistics, learned from the training takes: the classical pitch model.

The module is named for what it holds; the object it makes is the chapters' *pitch model*
(:class:`PitchModel`, saved as ``pitch_model.json``). Beside it, :mod:`ragalib.melody.pitch` measures
the pitch of a note and :mod:`ragalib.melody.tonic` finds a song's Sa.

Taught in notebooks 07_song_detection (it finds Sa) and 09_robust_features (it is the
baseline without deep learning). For every raga it keeps two things, both relative to Sa:

* a fine pitch-class distribution (60 bins per octave) of the melody's predominant pitch:
  which notes the raga dwells on, and how its ornaments spread them;
* note-to-note transition probabilities (12 x 12): how it moves, up by one road and down by
  another, which is what tells rotated twins such as Darbari and Bhairavi apart.

A song is scored under every raga at every one of the 12 possible Sa's (the average log
likelihood of its frames plus that of its note transitions). The best pair names the raga
and, with it, the tonic: the joint estimation of tonic and raga that the Carnatic and Hindustani
recognition literature uses. Choices (10-frame notes,
transitions weighted as much as the distribution) were made on the *dev* songs, never on
the test songs.
"""

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from ..constants import SR
from ..errors import RagalibError
from ..paths import content_key, pitch_model_path
from ..util.files import atomic_write
from .salience import BINS_PER_SEMITONE, folded_histogram, predominant
from .tonic import sa_bin

VERSION = 2
"""Part of the cache key: bump it when what the model learns changes."""
BINS = 12 * BINS_PER_SEMITONE
MIN_NOTE_FRAMES = 10
"""A note is a run of at least this many frames (0.23 s at hop 512, 22050 Hz) on one step."""
TRANSITION_WEIGHT = 1.0
FLOOR = 1e-3
"""Probability given to a pitch bin a raga never visited in training."""
SMOOTHING_BINS = 1.0
"""The learned pitch profiles are smoothed by a circular Gaussian of this many bins (20 cents)
standard deviation, so that where one performer (or one synthesiser) placed a note does not
become the raga's; chosen on the dev songs."""
PRIOR_COUNT = 0.1
"""Added to every transition count, so an unseen move is unlikely, not impossible."""


def note_sequence(bins, sa, *, min_frames=MIN_NOTE_FRAMES):
    """The melody as steps above Sa (0-11), one entry per held note, repeats merged.

    Behind notebooks 07_song_detection and 09_robust_features (not called there by name).

    ``bins`` are predominant-pitch bins (see :func:`ragalib.melody.salience.predominant`); ``sa`` is
    Sa's folded bin. Runs shorter than ``min_frames`` (slides, ornaments) are dropped.
    """
    steps = np.round(((np.asarray(bins) - sa) % BINS) / BINS_PER_SEMITONE).astype(int) % 12
    if not len(steps):
        return steps
    edges = np.flatnonzero(np.diff(steps)) + 1
    starts = np.concatenate([[0], edges])
    lengths = np.diff(np.concatenate([starts, [len(steps)]]))
    held = steps[starts][lengths >= min_frames]
    if not len(held):
        return held
    return held[np.concatenate([[True], held[1:] != held[:-1]])]


def transition_counts(sequence):
    """12 x 12 counts of moves from one held note to the next.

    Behind notebooks 07_song_detection and 09_robust_features (not called there by name).
    """
    counts = np.zeros((12, 12))
    np.add.at(counts, (sequence[:-1], sequence[1:]), 1.0)
    return counts


def tuning_offset(hist):
    """Which of the ``BINS_PER_SEMITONE`` fine positions the song's notes sit on (0 for a
    song tuned to A440), from its folded histogram.

    Behind notebook 07_song_detection (not called there by name).
    ``librosa.pitch_tuning`` answers the same question
    from a list of frequencies; the song is already a folded histogram here, so its mass is
    weighed in a triangular window around each position instead of going back to the frames.
    """
    window = 1.0 + BINS_PER_SEMITONE // 2 - np.abs(np.arange(BINS_PER_SEMITONE)
                                                     - BINS_PER_SEMITONE // 2)
    scores = [sum(w * np.roll(hist, -(o + i - BINS_PER_SEMITONE // 2))[::BINS_PER_SEMITONE].sum()
                  for i, w in enumerate(window)) for o in range(BINS_PER_SEMITONE)]
    return int(np.argmax(scores))


@dataclass(frozen=True)
class PitchModel:
    """Learned note statistics of each raga. Build one with :func:`fit`.

    Behind notebooks 07_song_detection and 09_robust_features (not called there by name).
    """

    labels: tuple
    profiles: np.ndarray      # (ragas, BINS), each sums to 1, bin 0 = Sa
    transitions: np.ndarray   # (ragas, 12, 12) log probabilities, rows = from
    key: str = ""

    def scores(self, bins, levels, *, drone=None, drone_weight=None):
        """Log-likelihood of a melody under every raga at every Sa.

        With ``drone`` (:func:`ragalib.melody.tonic.drone_profile` of the song), each Sa's
        :func:`ragalib.melody.tonic.drone_evidence` is added, ``drone_weight`` times (default
        :data:`ragalib.melody.tonic.DRONE_WEIGHT`), to every raga's score there.

        Returns
        -------
        scores : np.ndarray, shape (12, n_ragas)
            Row ``c`` puts Sa on the ``c``-th semitone above C (at the song's own tuning).
        sa_bins : np.ndarray, shape (12,)
            The folded bin of each row's Sa.
        """
        hist = folded_histogram(bins, levels)
        offset = tuning_offset(hist)
        sa_bins = offset + BINS_PER_SEMITONE * np.arange(12)
        log_profiles = np.log(self.profiles + FLOOR)
        out = np.empty((12, len(self.labels)))
        for row, sa in enumerate(sa_bins):
            out[row] = log_profiles @ np.roll(hist, -sa)
            seq = note_sequence(bins, sa)
            if len(seq) > 1:
                moves = self.transitions[:, seq[:-1], seq[1:]].sum(axis=1) / (len(seq) - 1)
                out[row] += TRANSITION_WEIGHT * moves
        if drone is not None:
            from .tonic import DRONE_WEIGHT, drone_evidence

            weight = DRONE_WEIGHT if drone_weight is None else drone_weight
            out += weight * drone_evidence(drone, sa_bins)[:, None]
        return out, sa_bins

    def joint_estimate(self, bins, levels, *, drone=None, drone_weight=None):
        """The best (Sa, raga) pair: ``(sa_bin, raga, score)``; ``drone`` as in
        :meth:`scores`."""
        scores, sa_bins = self.scores(bins, levels, drone=drone, drone_weight=drone_weight)
        row, col = np.unravel_index(np.argmax(scores), scores.shape)
        return int(sa_bins[row]), self.labels[col], float(scores[row, col])

    def classify(self, y, *, sr, tonic_hz=None, sal=None):
        """Raga probabilities of a signal: the PCD baseline.

        With ``tonic_hz`` the ragas are scored at that Sa only; without, each raga at its
        best Sa. The probabilities are a softmax of the per-frame log likelihoods: they rank
        the ragas, they are not calibrated. ``sal``, the signal's
        :func:`ragalib.melody.salience.salience` if already computed, stands in for ``y``.

        Returns
        -------
        dict
            Raga id -> probability, in label order.
        """
        bins, levels = predominant(y, sr=sr, sal=sal)
        scores, sa_bins = self.scores(bins, levels)
        if tonic_hz is None:
            best = scores.max(axis=0)
        else:
            folded = sa_bin(tonic_hz)
            distance = np.abs((sa_bins - folded + BINS // 2) % BINS - BINS // 2)
            best = scores[int(np.argmin(distance))]
        p = np.exp(10.0 * (best - best.max()))
        return dict(zip(self.labels, map(float, p / p.sum())))

    def to_dict(self):
        return {"version": VERSION, "key": self.key, "labels": list(self.labels),
                "profiles": self.profiles.round(8).tolist(),
                "transitions": self.transitions.round(6).tolist()}

    @classmethod
    def from_dict(cls, data):
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')}, expected {VERSION}")
        labels = tuple(str(x) for x in data["labels"])
        profiles = np.asarray(data["profiles"], dtype=float)
        transitions = np.asarray(data["transitions"], dtype=float)
        if isinstance(data["labels"], str) or len(set(labels)) != len(labels):
            raise ValueError("labels must be a list of distinct ragas")
        if profiles.shape != (len(labels), BINS) or transitions.shape != (len(labels), 12, 12):
            raise ValueError("arrays do not match the labels")
        if not np.isfinite(profiles).all() or (profiles < 0).any():
            raise ValueError("profiles must be finite and not negative")
        if np.isnan(transitions).any() or (transitions > 1e-9).any():
            raise ValueError("transitions must be log probabilities (numbers up to 0)")
        return cls(labels, profiles, transitions, str(data.get("key", "")))

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
            raise RagalibError(f"{path}: no pitch model there") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise RagalibError(f"{path}: not a readable pitch model ({exc})") from None


def fit(takes, *, sr=SR, key=""):
    """Learn each raga's note statistics from recordings with a known Sa.

    Behind notebooks 07_song_detection and 09_robust_features (not called there by name).

    Parameters
    ----------
    takes : iterable of (raga_id, signal, tonic_hz)
        Mono signals at ``sr``. Every raga needs at least one.

    Returns
    -------
    PitchModel
    """
    from ..util.parallel import map_in_workers

    takes = list(takes)
    profiles, counts = {}, {}
    for (raga, _, _), (profile, moves) in zip(takes, map_in_workers(
            partial(_take_statistics, sr=sr), takes,
            desc=f"learning note statistics from {len(takes)} takes")):
        profiles.setdefault(raga, []).append(profile)
        counts[raga] = counts.get(raga, 0) + moves
    if not profiles:
        raise RagalibError("no recordings to learn note statistics from")
    labels = tuple(sorted(profiles))
    return from_statistics(labels, [profiles[r] for r in labels], [counts[r] for r in labels],
                           key=key)


def from_statistics(labels, profiles, counts, *, key="", smoothing=None):
    """A :class:`PitchModel` from per-take statistics: for each raga in ``labels``, a list of
    its takes' pitch profiles and its summed transition counts. The mean profile is smoothed
    (``smoothing`` bins, default :data:`SMOOTHING_BINS`).

    Behind notebooks 07_song_detection and 09_robust_features (not called there by name).
    """
    from scipy.ndimage import gaussian_filter1d

    sigma = SMOOTHING_BINS if smoothing is None else smoothing
    mean = np.array([np.mean(p, axis=0) for p in profiles])
    if sigma > 0:
        mean = gaussian_filter1d(mean, sigma, axis=1, mode="wrap")
    moves = np.array(counts) + PRIOR_COUNT
    return PitchModel(labels=tuple(labels), profiles=mean / mean.sum(axis=1, keepdims=True),
                      transitions=np.log(moves / moves.sum(axis=2, keepdims=True)), key=key)


def _take_statistics(take, *, sr):
    """One take's pitch-class profile and note transition counts, both relative to its Sa;
    a worker's share of :func:`fit`."""
    _, y, tonic_hz = take
    bins, levels = predominant(y, sr=sr)
    sa = sa_bin(tonic_hz)
    return np.roll(folded_histogram(bins, levels), -sa), transition_counts(note_sequence(bins, sa))


def ensure_pitch_model(root=None, *, path=None, data=None):
    """The pitch model learned from the *training* takes of the recordings, cached.

    Taught in notebook 07_song_detection. The takes and their split come from the CNN's own
    dataset (:meth:`ragalib.corpus.dataset.Dataset.take_roles`; ``data``, or the MFCC dataset of
    ``root``), so both skip the same unusable recordings and no test take is ever learned
    from; refits when the training takes change (their bytes are hashed).
    """
    from ..audio import load
    from ..corpus import dataset
    from ..ragas import DEFAULT_TONIC, tonic_hz

    root = Path(root or dataset.recordings_dir())
    if data is None:
        data = dataset.build(root=root, synthesise=root == dataset.recordings_dir())
    train = sorted(name for name, role in data.take_roles().items() if role == "train")
    key = content_key("pitch model", VERSION, *((name, root / name) for name in train))
    path = Path(path or pitch_model_path())
    if path.exists():
        try:
            model = PitchModel.load(path)
            if model.key == key:
                return model
        except RagalibError:
            pass
    takes = ((name.split("/")[0], load(root / name), tonic_hz(DEFAULT_TONIC)) for name in train)
    model = fit(takes, key=key)
    model.save(path)
    return model
