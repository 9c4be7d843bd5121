"""Which detector is best: every feature kind's CNN, plain and trained with augmentation, and
the pitch-class baseline, side by side.

Taught in notebook 09_robust_features; ``python -m ragalib report models`` prints the table.
Every candidate is scored (by :mod:`ragalib.evaluation.scoring`) on the held-out takes (harmonium and
sung; the published evaluation) and on songs (other instruments, other keys, tabla, drone) under each pipeline variant. The default
detector is chosen on the *dev* songs and then reported on the *test* songs, so the figure we
quote was never used to pick the model.
"""

from dataclasses import dataclass, replace

from ..errors import RagalibError

PCD = "pitch classes, no CNN"
"""The baseline's name in the tables: :meth:`ragalib.melody.pitch_model.PitchModel.classify`."""
WITH_PITCH = " + pitch classes"
"""Suffix of a hybrid candidate: a CNN whose song verdict is multiplied with the pitch
model's (:func:`ragalib.detection.pipeline.combine`)."""
AUGMENT_COPIES = 1
"""Augmented copies of each training take for the augmented candidate (:mod:`ragalib.corpus.augment`):
one, which doubles the training segments. Two copies took half as long again to build and
gave the same song accuracy on the dev songs with the pitch model."""
AUGMENTED = ", augmented"
"""Suffix of a candidate trained with :data:`AUGMENT_COPIES` augmented copies of each take."""


@dataclass(frozen=True)
class Candidate:
    """A detector candidate as data: its CNN's feature kind, the augmented copies of each take
    it was trained with, and whether the pitch model judges songs with it. Its :attr:`name`
    in the tables (``"melody, augmented + pitch classes"``) is formatted here, and read back
    by :meth:`named`, and nowhere else.

    Behind notebook 09_robust_features (not called there by name).
    """

    kind: str
    copies: int = 0
    with_pitch: bool = False

    @property
    def name(self):
        return (self.kind + (AUGMENTED if self.copies else "")
                + (WITH_PITCH if self.with_pitch else ""))

    @property
    def cnn(self):
        """The same candidate's CNN alone."""
        return replace(self, with_pitch=False)

    @property
    def hybrid(self):
        """The same CNN with the pitch model."""
        return replace(self, with_pitch=True)

    @classmethod
    def named(cls, name):
        """The candidate a table calls ``name``."""
        with_pitch = name.endswith(WITH_PITCH)
        plain = name.removesuffix(WITH_PITCH)
        augmented = plain.endswith(AUGMENTED)
        return cls(plain.removesuffix(AUGMENTED), AUGMENT_COPIES if augmented else 0,
                   with_pitch)

    @classmethod
    def of(cls, bundle, *, alone=False):
        """The candidate ``bundle`` is (its CNN alone if ``alone``)."""
        return cls(bundle.config.kind, bundle.settings.augment,
                   bundle.pitch_model is not None and not alone)


CANDIDATES = (Candidate("mfcc"), Candidate("chroma"), Candidate("melody"),
              Candidate("melody", AUGMENT_COPIES))
"""The CNN candidates, cheapest to build first:
the published MFCC model, the same network on chroma and on the melody's pitch-class roll,
and the melody network trained with augmentation. (Chroma+MFCC and the augmented MFCC and
chroma networks were dropped: in the full comparison they never beat the plain chroma or
melody networks on songs, and they cost most of its time.) ``report models`` compares them
all; notebook 09 leaves chroma out (:data:`IN_NOTEBOOK`)."""
IN_NOTEBOOK = tuple(c.name for c in CANDIDATES if c.kind != "chroma")
"""The candidates notebook 09 trains and compares, to stay within its five minutes on a fresh
machine: the published model, the default detector's network, and the same with
augmentation. Chroma is one line away there (its "Try this")."""
SONG_VARIANTS = ("default (auto tonic, separation)", "no transposition", "true tonic given")


def candidate_settings(kind, copies=0):
    """The training settings of one candidate: the published ones for the MFCC model (the
    bundle of chapter 05); for the others early stopping (:data:`ragalib.models.cnn.PATIENCE`):
    training ends once the validation loss has not improved for that many epochs, and the
    best epoch's weights are kept. 3 epochs in quick mode.

    Taught in notebook 09_robust_features.
    """
    from ..models.cnn import PATIENCE, TrainSettings
    from ..paths import quick_mode

    epochs = 3 if quick_mode() else 75
    if kind == "mfcc" and not copies:
        return TrainSettings(epochs=epochs)
    return TrainSettings(epochs=epochs, early_stopping=PATIENCE, augment=copies)


def ensure_candidate(name):
    """One candidate's trained bundle (see :data:`CANDIDATES`), trained if missing:
    ``data/models/<kind>/`` or ``data/models/<kind>-augmented/``.

    Taught in notebook 09_robust_features.
    """
    from ..features import FeatureConfig
    from ..models.bundle import ensure_bundle

    found = {c.name: c for c in CANDIDATES}
    if name not in found:
        raise RagalibError(f"unknown candidate {name!r}: choose one of {', '.join(found)}")
    candidate = found[name]
    return ensure_bundle(candidate_settings(candidate.kind, candidate.copies),
                         config=FeatureConfig(kind=candidate.kind))


def ensure_candidates(names=None):
    """The trained bundles of the candidates ``names`` (default: every one, in table order),
    each trained if missing.

    Taught in notebook 09_robust_features.

    Returns
    -------
    dict
        Candidate name (see :data:`CANDIDATES`) -> :class:`ragalib.models.bundle.Bundle`.
    """
    names = [c.name for c in CANDIDATES] if names is None else list(names)
    return {name: ensure_candidate(name) for name in names}


def best_candidate(table, pipeline=SONG_VARIANTS[0]):
    """The bundle-able candidate (a CNN, or a CNN with the pitch model) with the highest song
    accuracy under ``pipeline``.

    Taught in notebook 09_robust_features.

    Ties go first to the candidate that is cheaper to build: one trained without
    augmentation, which renders no copies and trains on a third of the segments (the default
    detector is built on a newcomer's first ``detect``); then to the candidate whose CNN alone
    is better, as its timeline is what a user sees: by song accuracy, then by segment
    accuracy; then to a CNN alone before a hybrid, then to the order of :data:`CANDIDATES`.

    Returns
    -------
    Candidate
    """
    rows = {row["model"]: row for row in table if row["pipeline"] == pipeline}
    options = [c for c in (*CANDIDATES, *(c.hybrid for c in CANDIDATES)) if c.name in rows]
    if not options:
        raise RagalibError("no CNN candidate in the table")

    def alone(candidate, measure):
        return rows.get(candidate.cnn.name, {}).get(measure, -1.0)

    return max(options, key=lambda c: (
        rows[c.name]["song accuracy"], -c.copies, alone(c, "song accuracy"),
        alone(c, "segment accuracy"), -options.index(c)))


def candidate_name(bundle, *, alone=False):
    """A bundle's name in the tables: its feature kind, :data:`AUGMENTED` if it was trained
    with augmentation, and :data:`WITH_PITCH` if it judges songs with the pitch model (unless
    ``alone``: the name of its CNN alone).

    Taught in notebook 09_robust_features.
    """
    return Candidate.of(bundle, alone=alone).name
