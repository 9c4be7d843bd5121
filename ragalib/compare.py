"""Which detector is best: every feature kind's CNN, plain and trained with augmentation, and
the pitch-class baseline, side by side.

Taught in notebook 09_robust_features; ``python -m ragalib report models`` prints the table.
Every candidate is scored on the held-out harmonium takes (the published evaluation) and on
songs (other instruments, other keys, tabla, drone) under each pipeline variant. The default
detector is chosen on the *dev* songs and then reported on the *test* songs, so the figure we
quote was never used to pick the model.
"""

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

from .errors import RagalibError

KINDS = ("mfcc", "chroma", "chroma+mfcc", "melody")
"""Feature kinds trained as candidates; ``mfcc`` is the published model."""
STANDARDISED = ("chroma+mfcc",)
"""Kinds whose values live on different scales (chroma 0-1, MFCCs in the hundreds): their
candidates standardise each input column first (``TrainSettings.normalize``). The others
train with exactly the published settings."""
PCD = "pitch classes, no CNN"
"""The baseline's name in the tables: :meth:`ragalib.pitch_model.PitchModel.classify`."""
WITH_PITCH = " + pitch classes"
"""Suffix of a hybrid candidate: a CNN whose song verdict is multiplied with the pitch
model's (:func:`ragalib.detect.combine`)."""
AUGMENT_COPIES = 2
"""Augmented copies of each training take for the augmented candidates (:mod:`ragalib.augment`)."""
AUGMENTED = ", augmented"
"""Suffix of a candidate trained with :data:`AUGMENT_COPIES` augmented copies of each take."""
SONG_VARIANTS = ("default (auto tonic, separation)", "no transposition", "true tonic given")
SELECTION_RULE = 2
"""Part of the default bundle's selection key: bump it when :func:`best_candidate` changes."""


def candidates():
    """The CNN candidates in table order: ``[(name, kind, augmented copies), ...]``, every kind
    with the published settings first, then every kind trained with augmentation."""
    return [(kind + (AUGMENTED if copies else ""), kind, copies)
            for copies in (0, AUGMENT_COPIES) for kind in KINDS]


def ensure_candidates(settings=None, *, progress=True):
    """A trained bundle per candidate, trained if missing: ``data/models/<kind>/`` and
    ``data/models/<kind>-augmented/``.

    ``settings`` (default: the published ones, 3 epochs in quick mode) apply to every
    candidate; kinds in :data:`STANDARDISED` also standardise their inputs, and the augmented
    candidates add :data:`AUGMENT_COPIES` copies of each training take.

    Returns
    -------
    dict
        Candidate name (see :func:`candidates`) -> :class:`ragalib.model.Bundle`.
    """
    from . import model
    from .features import FeatureConfig
    from .paths import quick_mode

    settings = settings or model.TrainSettings(epochs=3 if quick_mode() else 75)
    return {name: model.ensure_bundle(replace(settings, augment=copies,
                                              normalize=settings.normalize
                                              or kind in STANDARDISED),
                                      config=FeatureConfig(kind=kind), progress=progress)
            for name, kind, copies in candidates()}


def _pcd_segments(pitch_model, y, sr, tonic_hz, config):
    """The baseline's probabilities for the whole signal, and its answer for each segment
    loud enough to judge (the same segments the CNNs judge)."""
    from .detect import loud_segments

    whole = pitch_model.classify(y, sr, tonic_hz=tonic_hz)
    segments, loud = loud_segments(y, config)
    parts = [pitch_model.classify(part, sr, tonic_hz=tonic_hz) for part in segments[loud]]
    return whole, [max(p, key=p.get) for p in parts]


def take_scores(bundles, pitch_model, *, progress=True):
    """Segment and whole-take accuracy on the held-out harmonium takes, per candidate."""
    from . import dataset, model
    from .audio import load
    from .ragas import DEFAULT_TONIC, tonic_hz

    rows = []
    for candidate, bundle in bundles.items():
        data = dataset.build(bundle.config, progress=progress)
        x, y = data.part("test")
        rows.append({"model": candidate, "segments": model.evaluate(bundle.model, x, y,
                                                               data.labels)["accuracy"],
                     "takes": model.evaluate_takes(bundle.model, data)})
    config, root = data.config, dataset.recordings_dir()
    whole, parts = [], []
    for take in sorted(t for t, role in data.take_roles().items() if role == "test"):
        raga = take.split("/")[0]
        answer, segment_answers = _pcd_segments(pitch_model, load(root / take, sr=config.sr),
                                                config.sr, tonic_hz(DEFAULT_TONIC), config)
        whole.append(max(answer, key=answer.get) == raga)
        parts += [a == raga for a in segment_answers]
    rows.append({"model": PCD, "segments": float(np.mean(parts)), "takes": float(np.mean(whole))})
    return rows


def song_scores(bundles, pitch_model, rows, variants=SONG_VARIANTS, *, progress=True):
    """Song and segment accuracy on songs, per candidate and pipeline variant.

    Each song is prepared once per variant (separation, tonic) and then judged by every
    candidate, so the candidates hear exactly the same audio; pitch-class kinds transpose
    their features, the others share one pitch-shifted copy of the audio.

    Returns
    -------
    table : list of dict
        ``model``, ``pipeline``, ``song accuracy``, ``segment accuracy``; every CNN also
        appears as a hybrid (``<candidate> + pitch classes``), whose segments are the CNN's.
    found : dict
        ``(model, pipeline)`` -> list of detected ragas, in ``rows`` order.
    """
    from tqdm.auto import tqdm

    from . import detect
    from .audio import pitch_shift
    from .features import TRANSPOSABLE

    config = next(iter(bundles.values())).config
    for candidate, bundle in bundles.items():
        if list(pitch_model.labels) != list(bundle.labels):
            raise RagalibError(f"the pitch model knows {', '.join(pitch_model.labels)}, but the "
                               f"{candidate} model {', '.join(bundle.labels)}: retrain one of them")
    table, found = [], {}
    for name in variants:
        answers = {c: [] for c in (*bundles, *(c + WITH_PITCH for c in bundles), PCD)}
        segment_hits = {c: [] for c in answers}
        prepared = detect.prepare_songs(rows, detect.VARIANTS[name], config.sr,
                                        pitch_model=pitch_model, progress=False,
                                        shift_audio=False)
        for (y, info), row in tqdm(zip(prepared, rows), total=len(rows), desc=name,
                                   disable=not progress):
            # The baseline scores the song at its own Sa (the estimate, or the true one), and
            # finds Sa itself when the pipeline gives none.
            pcd, parts = _pcd_segments(pitch_model, y, config.sr, info["tonic_hz"], config)
            answers[PCD].append(max(pcd, key=pcd.get))
            segment_hits[PCD] += [p == row["raga"] for p in parts]
            shifted = None
            if info["shift"] and any(b.config.kind not in TRANSPOSABLE for b in bundles.values()):
                shifted = pitch_shift(y, config.sr, info["shift"])   # once for all MFCC kinds
            for candidate, bundle in bundles.items():
                result = detect.judge(y, bundle, name=str(row["path"]), shifted=shifted, **info)
                answers[candidate].append(result.raga)
                segment_hits[candidate] += [s["raga"] == row["raga"] for s in result.segments]
                both = detect.combine([result.probabilities[r] for r in bundle.labels], pcd,
                                      bundle.labels)
                answers[candidate + WITH_PITCH].append(bundle.labels[int(np.argmax(both))])
                segment_hits[candidate + WITH_PITCH] = segment_hits[candidate]
        for candidate, said in answers.items():
            found[candidate, name] = said
            table.append({"model": candidate, "pipeline": name,
                          "song accuracy": float(np.mean([a == r["raga"]
                                                          for a, r in zip(said, rows)])),
                          "segment accuracy": float(np.mean(segment_hits[candidate]))})
    return table, found


def summary(takes, table, variants=SONG_VARIANTS):
    """One row per model: take accuracy (None where not measured), then song and segment
    accuracy per pipeline.

    Taught in notebook 09_robust_features; ``report models`` prints the same table.
    """
    on_takes = {t["model"]: t for t in takes}
    rows = []
    for model in dict.fromkeys(r["model"] for r in table):
        take = on_takes.get(model, {})
        row = {"model": model, "take segments": take.get("segments"),
               "whole takes": take.get("takes")}
        for variant in variants:
            found = next(r for r in table if r["model"] == model and r["pipeline"] == variant)
            row[f"songs: {variant}"] = found["song accuracy"]
            row[f"segments: {variant}"] = found["segment accuracy"]
        rows.append(row)
    return rows


def most_confused(rows, answers, *, top=3):
    """The most frequent (true, detected) raga pairs among wrong answers, with the swaras the
    two ragas share: ``[(true, detected, count, shared swaras), ...]``.

    Taught in notebook 09_robust_features.
    """
    from collections import Counter

    from .ragas import get_raga

    pairs = Counter((row["raga"], said) for row, said in zip(rows, answers)
                    if said != row["raga"])
    return [(a, b, n, [s for s in get_raga(a).swaras if s in get_raga(b).swaras])
            for (a, b), n in pairs.most_common(top)]


def best_candidate(table, pipeline=SONG_VARIANTS[0]):
    """The bundle-able candidate (a CNN, or a CNN with the pitch model) with the highest song
    accuracy under ``pipeline``.

    Ties go to the candidate whose CNN alone is best, as its timeline is what a user sees:
    by song accuracy, then by segment accuracy (the timeline itself); then to a CNN alone
    before a hybrid, then to the order of :func:`candidates` (plain before augmented, then
    :data:`KINDS` order).

    Returns
    -------
    (candidate, with_pitch) : (str, bool)
    """
    rows = {row["model"]: row for row in table if row["pipeline"] == pipeline}
    options = [(name, hybrid) for hybrid in (False, True) for name, _, _ in candidates()
               if name + (WITH_PITCH if hybrid else "") in rows]
    if not options:
        raise RagalibError("no CNN candidate in the table")

    def alone(name, measure):
        return rows.get(name, {}).get(measure, -1.0)

    return max(options, key=lambda o: (rows[o[0] + (WITH_PITCH if o[1] else "")]["song accuracy"],
                                       alone(o[0], "song accuracy"),
                                       alone(o[0], "segment accuracy"), -options.index(o)))


def candidate_name(bundle, *, alone=False):
    """A bundle's name in the tables: its feature kind, :data:`AUGMENTED` if it was trained
    with augmentation, and :data:`WITH_PITCH` if it judges songs with the pitch model (unless
    ``alone``: the name of its CNN alone)."""
    return (bundle.config.kind + (AUGMENTED if bundle.settings.augment else "")
            + (WITH_PITCH if bundle.pitch_model is not None and not alone else ""))


def promote(bundle, reason, *, pitch_model=None, out=None, selection_key=None):
    """Copy ``bundle`` to the default bundle folder, recording why it was chosen; with
    ``pitch_model``, the copy judges songs together with it.

    The copy is written beside the target and swapped in by rename, like every bundle.
    """
    import json

    from .model import BUNDLE_JSON, PITCH_FILE, default_bundle

    out = Path(out or default_bundle())
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


def ensure_default_bundle(*, progress=True):
    """The default detector: the candidate with the best song accuracy on the dev songs.

    Taught in notebooks 07_song_detection and 09_robust_features. Candidates are each CNN
    (every kind, plain and augmented) alone and with the pitch model. Reuses the default
    bundle when it was chosen from exactly today's candidates, pitch model and dev songs;
    otherwise trains what is missing, scores the candidates on the dev songs (default
    pipeline) and promotes the winner.
    """
    from . import model
    from .pitch_model import ensure_pitch_model
    from .synth import songs

    bundles = ensure_candidates(progress=progress)
    learned = ensure_pitch_model(progress=progress)
    dev = songs.ensure_songs(kind="dev", progress=progress)
    key = _selection_key(bundles, learned, dev)
    try:
        current = model.load_bundle()
    except RagalibError:
        current = None
    if current is not None and current.info.get("selection_key") == key:
        return current
    table, _ = song_scores(bundles, learned, dev, variants=SONG_VARIANTS[:1], progress=progress)
    candidate, hybrid = best_candidate(table)
    name = candidate + (WITH_PITCH if hybrid else "")
    score = next(r["song accuracy"] for r in table if r["model"] == name)
    cnn = next(r for r in table if r["model"] == candidate)
    promote(bundles[candidate], f"best song accuracy on the {len(dev)} dev songs among "
                                f"{'; '.join(bundles)}, each alone and with the pitch model: "
                                f"{name} ({score:.3f}; its CNN alone: songs "
                                f"{cnn['song accuracy']:.3f}, segments "
                                f"{cnn['segment accuracy']:.3f}, which break ties)",
            pitch_model=learned if hybrid else None, selection_key=key)
    return model.load_bundle()


def _selection_key(bundles, pitch_model, dev_rows):
    """What a choice of the default depends on: every candidate, the pitch model, the dev
    songs."""
    import hashlib

    from .model import BUNDLE_JSON

    digest = hashlib.sha1(f"{SELECTION_RULE} {list(bundles)} {pitch_model.key}".encode())
    for candidate, bundle in bundles.items():
        digest.update(candidate.encode() + (Path(bundle.path) / BUNDLE_JSON).read_bytes())
    for row in dev_rows:
        digest.update(f"|{row['file']}|{row['raga']}|{row['tonic_note']}".encode())
    return digest.hexdigest()
