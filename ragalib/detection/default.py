"""The default detector: the recipe chosen on the dev songs, built on first use and got by
:func:`detector`, the one way the command line, the service and the chapters get a model.

Taught in notebooks 07_song_detection, 08_similarity, 09_robust_features and 10_serving (each
gets its detector with ``detection.detector(current=True)``); notebook 09 checks the recipe on
the dev songs (:mod:`ragalib.evaluation.candidates` compares every candidate).
"""

import shutil
from pathlib import Path

from ..errors import RagalibError, say
from ..evaluation.candidates import Candidate, ensure_candidate
from ..util.progress import quiet

DEFAULT_CANDIDATE = Candidate("melody", with_pitch=True).name
"""The default detector's recipe: the melody CNN with the pitch model. It is the choice of
:func:`ragalib.evaluation.candidates.best_candidate` on the dev songs (notebook 09 and ``report models`` check that it
still is), fixed here so that a fresh machine builds only this one candidate (in about 2.3
minutes, with the harmonium and sung takes it needs) instead of every candidate."""
SELECTION_RULE = 3
"""Part of the default bundle's selection key: bump it when the default's recipe changes."""


def promote(bundle, reason, *, pitch_model=None, out=None, selection_key=None):
    """Copy ``bundle`` to the default bundle folder, recording why it was chosen; with
    ``pitch_model``, the copy judges songs together with it.

    Behind notebook 09_robust_features (not called there by name).

    The copy is written in a folder of its own beside the target and swapped in by rename,
    like every bundle; concurrent promotions (two commands building the default at once)
    take turns for the swap.
    """
    import json

    from ..models.bundle import BUNDLE_JSON, PITCH_FILE
    from ..paths import default_bundle_dir

    import fcntl
    import os
    import tempfile

    out = Path(out or default_bundle_dir())
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.promote-"))
    try:
        tmp = work / out.name
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
        folder = os.open(out.parent, os.O_RDONLY)   # the lock: no file of its own is left
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)    # two promotions swap in turn, never at once
            old = out.with_name(f".{out.name}.old")
            if out.exists():
                shutil.rmtree(old, ignore_errors=True)
                out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            os.close(folder)                      # closing it releases the lock
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def ensure_default_bundle():
    """The default detector, :data:`DEFAULT_CANDIDATE`, built if missing or made from anything
    but today's recipe, CNN and pitch model: what ``detector(current=True)`` returns.

    Behind notebooks 07_song_detection and 09_robust_features (not called there by name).
    Trains (or reuses) that one candidate's CNN and the pitch model, and promotes them to
    ``data/models/default``; reuses the default bundle when it was promoted from exactly
    today's CNN and pitch model. On a fresh machine this takes about a minute and a half
    (takes, features, pitch model, about 25 epochs).
    :func:`ragalib.evaluation.scoring.dev_choice` checks the recipe on the dev songs.
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


def detector(folder=None, *, current=False):
    """The detector: the bundle in ``folder``, or else the default detector.

    Taught in notebooks 07_song_detection, 08_similarity, 09_robust_features and 10_serving.
    Taught by use: ``detect``, ``similar``, ``report``, ``bench`` and ``serve`` on the command
    line.

    Without ``folder``, the default bundle as it is on disk, built on first use with progress
    bars on stderr (about 2.5 minutes on a fresh machine, said first). With ``current``, also
    checked against today's recipe, CNN and pitch model and rebuilt if it was made from
    others (:func:`ensure_default_bundle`): what the chapters do, so that a data folder kept
    from an older version is renewed. The command line loads what is there, which is quicker.
    """
    from ..models.bundle import load_bundle
    from ..paths import default_bundle_dir

    if folder is not None:
        return load_bundle(folder)
    if current:
        return ensure_default_bundle()
    try:
        return load_bundle()
    except RagalibError:
        say(f"no default detector in {default_bundle_dir()} yet; building it once "
            f"({DEFAULT_CANDIDATE}, about 2.5 minutes on a fresh machine)")
        with quiet(False):              # minutes of work: bars even under --json or a report
            return ensure_default_bundle()


def _selection_key(bundle, pitch_model):
    """What the default bundle is made of: the rule, its CNN's bundle, the pitch model."""
    from ..models.bundle import BUNDLE_JSON
    from ..paths import content_key

    return content_key("default detector", SELECTION_RULE, DEFAULT_CANDIDATE,
                       pitch_model.key if pitch_model is not None else None,
                       Path(bundle.path) / BUNDLE_JSON)
