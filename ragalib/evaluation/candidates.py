"""Which detector is best: every feature kind's CNN, plain and trained with augmentation, and
the pitch-class baseline, side by side.

Taught in notebook 09_robust_features; ``python -m ragalib report models`` prints the table.
Every candidate is scored (by :mod:`ragalib.evaluation.scores`) on the held-out takes (harmonium and
sung; the published evaluation) and on songs (other instruments, other keys, tabla, drone) under each pipeline variant. The default
detector is chosen on the *dev* songs and then reported on the *test* songs, so the figure we
quote was never used to pick the model.
"""

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import RagalibError
from ..util.progress import quiet

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
DEFAULT_CANDIDATE = Candidate("melody", with_pitch=True).name
"""The default detector's recipe: the melody CNN with the pitch model. It is the choice of
:func:`best_candidate` on the dev songs (notebook 09 and ``report models`` check that it
still is), fixed here so that a fresh machine builds only this one candidate (in about 2.3
minutes, with the harmonium and sung takes it needs) instead of every candidate."""
SONG_VARIANTS = ("default (auto tonic, separation)", "no transposition", "true tonic given")
SELECTION_RULE = 3
"""Part of the default bundle's selection key: bump it when the default's recipe changes."""


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


def promote(bundle, reason, *, pitch_model=None, out=None, selection_key=None):
    """Copy ``bundle`` to the default bundle folder, recording why it was chosen; with
    ``pitch_model``, the copy judges songs together with it.

    Behind notebook 09_robust_features (not called there by name).

    The copy is written beside the target and swapped in by rename, like every bundle.
    """
    import json

    from ..models.bundle import BUNDLE_JSON, PITCH_FILE
    from ..paths import default_bundle_dir

    out = Path(out or default_bundle_dir())
    tmp = out.with_name(f".{out.name}.promote")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(bundle.path, tmp)
    (tmp / PITCH_FILE).unlink(missing_ok=True)
    if pitch_model is not None:
        pitch_model.save(tmp / PITCH_FILE)
    meta = json.loads((tmp / BUNDLE_JSON).read_text(encoding="utf-8"))
    meta.setdefault("info", {})["chosen_as_default"] = reason
    meta["info"]["pitch_model_key"] = pitch_model.key if pitch_model is not None else None
    if selection_key is not None:
        meta["info"]["selection_key"] = selection_key
    (tmp / BUNDLE_JSON).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    old = out.with_name(f".{out.name}.old")
    if out.exists():
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return out


def ensure_default_bundle():
    """The default detector, :data:`DEFAULT_CANDIDATE`, built if missing.

    Taught in notebooks 07_song_detection and 09_robust_features. Trains (or reuses) that one
    candidate's CNN and the pitch model, and promotes them to ``data/models/default``; reuses
    the default bundle when it was promoted from exactly today's CNN and pitch model. On a
    fresh machine this takes about a minute and a half (takes, features, pitch model, about
    25 epochs). :func:`dev_choice` checks the recipe on the dev songs.
    """
    from ..corpus import dataset
    from ..melody.pitch_model import ensure_pitch_model
    from ..models.bundle import load_bundle

    default = Candidate.named(DEFAULT_CANDIDATE)
    bundle = ensure_candidate(default.cnn.name)
    learned = (ensure_pitch_model(data=dataset.build(bundle.config)) if default.with_pitch
               else None)
    key = _selection_key(bundle, learned)
    try:
        current = load_bundle()
    except RagalibError:
        current = None
    if current is not None and current.info.get("selection_key") == key:
        return current
    promote(bundle, f"{DEFAULT_CANDIDATE}, the candidate with the best song accuracy on the "
                    f"dev songs (notebook 09; `python -m ragalib report models` measures it "
                    f"again)", pitch_model=learned, selection_key=key)
    return load_bundle()


def detector(folder=None):
    """The bundle in ``folder``; without one, the default detector, built on first use with
    progress bars on stderr (about 2.5 minutes on a fresh machine, said first).

    Behind notebook 09_robust_features (not called there by name).

    Taught by use: ``detect``, ``similar``, ``report`` and ``bench`` on the command line.
    """
    import sys

    from ..models.bundle import load_bundle
    from ..paths import default_bundle_dir

    if folder is not None:
        return load_bundle(folder)
    try:
        return load_bundle()
    except RagalibError:
        print(f"ragalib: no default detector in {default_bundle_dir()} yet; building it "
              f"once ({DEFAULT_CANDIDATE}, about 2.5 minutes on a fresh machine)",
              file=sys.stderr)
        with quiet(False):              # minutes of work: bars even under --json or a report
            return ensure_default_bundle()


def _selection_key(bundle, pitch_model):
    """What the default bundle is made of: the rule, its CNN's bundle, the pitch model."""
    from ..models.bundle import BUNDLE_JSON
    from ..paths import content_key

    return content_key("default detector", SELECTION_RULE, DEFAULT_CANDIDATE,
                       pitch_model.key if pitch_model is not None else None,
                       Path(bundle.path) / BUNDLE_JSON)
