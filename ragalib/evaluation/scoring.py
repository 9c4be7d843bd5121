"""How well the detector and its candidates do: on songs with known ragas and tonics, on
held-out takes, pipeline step by pipeline step.

Taught in notebooks 07_song_detection (the pipeline with each step switched off, in turn) and
09_robust_features (every candidate model, the dev songs' choice, the test songs' verdict).
:mod:`ragalib.detection.pipeline` is the pipeline itself; :mod:`ragalib.evaluation.candidates` builds the candidates.
"""

import numpy as np

from ..detection.pipeline import combine, decide
from ..errors import RagalibError
from ..melody.tonic import Tonic
from .candidates import PCD, SONG_VARIANTS, Candidate, best_candidate

VARIANTS = {"default (auto tonic, separation)": dict(tonic=Tonic.auto(), separation=True),
            "no transposition": dict(tonic=Tonic.none(), separation=True),
            "no separation": dict(tonic=Tonic.auto(), separation=False),
            "catalogue tonic (nothing learned)": dict(tonic=Tonic.catalogue(), separation=True),
            "true tonic given": dict(tonic=Tonic.true(), separation=True)}
"""Pipeline variants that switch one step off (or give it the right answer)."""


def song_scores(found, rows):
    """Song-level and segment-level accuracy of detections against a manifest's ragas (with
    the number of segments judged), and the share of estimated tonics with the right pitch
    class (None when none was estimated).

    Behind notebook 07_song_detection (not called there by name).
    """
    from ..melody.tonic import semitones_to

    segments = [s["raga"] == row["raga"] for f, row in zip(found, rows) for s in f.segments]
    tonics = [semitones_to(f.tonic_hz, row["tonic_note"]) == 0
              for f, row in zip(found, rows) if f.tonic_hz is not None]
    return {"song accuracy": float(np.mean([f.raga == row["raga"] for f, row in zip(found, rows)])),
            "segment accuracy": float(np.mean(segments)) if segments else float("nan"),
            "segments judged": len(segments),
            "tonic pitch class right": float(np.mean(tonics)) if tonics else None}


def evaluate_songs(rows, bundle, variants=VARIANTS, *, pitch_model=None):
    """Score the pipeline on songs with known ragas and tonics (a manifest's rows).

    Taught in notebook 07_song_detection; ``python -m ragalib report detect`` prints it.

    Returns
    -------
    table : list of dict
        Per variant: song-level and segment-level accuracy, and the share of songs whose
        estimated tonic has the right pitch class (for variants that estimate it).
    results : dict
        Variant name -> list of :class:`Detection`, in ``rows`` order.
    """
    from ..detection.evidence import gather_songs, pitch_model_for

    tonic_model = pitch_model_for(pitch_model, bundle.pitch_model,
                                  tonics=[v["tonic"] for v in variants.values()])
    results = {name: [] for name in variants}
    for row, evidence in zip(rows, gather_songs(rows, variants, [bundle.config],
                                                sr=bundle.config.sr, tonic_model=tonic_model,
                                                pitch_model=bundle.pitch_model)):
        for name in variants:
            results[name].append(decide(evidence[name], bundle, name=str(row["path"])))
    table = []
    for name, variant in variants.items():
        scores = song_scores(results[name], rows)
        if Tonic.parse(variant["tonic"]).how not in ("auto", "catalogue"):
            scores["tonic pitch class right"] = None
        table.append({"pipeline": name, **scores})
    return table, results


def judge_scores(rows, bundle, *, pitch_model=None):
    """Every judge (:data:`ragalib.detection.pipeline.JUDGES`) on the same songs, each song
    analysed once: how often each names the raga and, for the note model, finds the Sa within
    50 cents. The bundle needs a pitch model for the ``both`` and ``pitch`` judges.

    Behind notebook 11_real_singing (not called there by name); ``python -m ragalib report
    judges`` prints it.

    Returns
    -------
    list of dict
        One per judge: ``judge``, ``right``, ``songs``, ``ece`` (the expected calibration
        error of its confidence, :func:`ragalib.util.stats.reliability`), and for the note
        model (which finds its own Sa and may say that no raga fits) ``sa_within_50_cents``
        and ``none_fits``, the songs it answered "none of these" (counted wrong in
        ``right``).
    """
    from ..detection.evidence import gather_songs, pitch_model_for
    from ..detection.pipeline import DEFAULT_JUDGE, JUDGES, note_model_for
    from ..melody.pitch import pitch_class_cents
    from ..util.stats import reliability

    judges = [j for j in JUDGES if bundle.pitch_model is not None or j in ("cnn", "notes")]
    variants = {"default": {"tonic": "auto", "separation": True}}
    said = {j: ([], []) for j in judges}          # (confidence, right) of every answer
    sa_right = none_fits = 0
    for row, evidence in zip(rows, gather_songs(
            rows, variants, [bundle.config], sr=bundle.config.sr,
            tonic_model=pitch_model_for(pitch_model, bundle.pitch_model),
            pitch_model=bundle.pitch_model,
            note_model=note_model_for("notes", labels=bundle.labels))):
        ev = evidence["default"]
        for judge in judges:
            found = decide(ev, bundle, name=str(row["path"]), judge=judge)
            said[judge][0].append(found.confidence)
            said[judge][1].append(found.raga == row["raga"])
            none_fits += judge == "notes" and found.raga is None
        sa_right += abs(pitch_class_cents(ev.notes_sa_hz, float(row["tonic_hz"]))) <= 50
    return [{"judge": j + (" (default)" if j == DEFAULT_JUDGE else ""), "right": sum(said[j][1]),
             "songs": len(rows), "ece": reliability(*said[j])[0] if rows else None,
             "sa_within_50_cents": sa_right if j == "notes" else None,
             "none_fits": none_fits if j == "notes" else None}
            for j in judges]


def confidences(rows, found):
    """Every stated confidence beside whether it was right, for the reliability diagrams:
    ``{"segments": (confidence, right), "songs": (confidence, right)}``, lists over every
    segment of every song and over the songs' verdicts (detections ``found`` in ``rows``
    order).

    Taught in notebook 07_song_detection.
    """
    segments = [(s["confidence"], s["raga"] == row["raga"])
                for row, f in zip(rows, found, strict=True) for s in f.segments]
    songs = [(f.confidence, f.raga == row["raga"]) for row, f in zip(rows, found, strict=True)]
    return {what: tuple(map(list, zip(*pairs))) if pairs else ([], [])
            for what, pairs in (("segments", segments), ("songs", songs))}


def hardest_songs(rows, found, *, top=5):
    """The songs closest to going wrong: any the detector got wrong first, then those whose
    segments least often name the true raga, then those with the least confident verdict.
    Where every verdict is right, a confusion matrix is all diagonal; this table shows where
    the margin is thin.

    Taught in notebook 07_song_detection.

    Returns
    -------
    list of dict
        Up to ``top`` rows: ``song``, ``kind`` (the instrument), ``raga``, ``verdict``,
        ``confidence``, ``segments right`` (as "k/n") and ``segments said instead`` (the
        raga the wrong segments name most often, with their count; empty if none is wrong).
    """
    from collections import Counter

    table = []
    for row, f in zip(rows, found, strict=True):
        right = sum(s["raga"] == row["raga"] for s in f.segments)
        instead = Counter(s["raga"] for s in f.segments if s["raga"] != row["raga"])
        share = right / len(f.segments) if f.segments else 1.0   # no segment: no margin shown
        table.append(((f.raga == row["raga"], share, f.confidence), {
            "song": row["file"], "kind": row.get("instrument", ""), "raga": row["raga"],
            "verdict": f.raga, "confidence": round(f.confidence, 3),
            "segments right": f"{right}/{len(f.segments)}",
            "segments said instead": ", ".join(f"{raga} ({n})"
                                               for raga, n in instead.most_common(1))}))
    return [entry for _, entry in sorted(table, key=lambda t: t[0])[:top]]


def song_groups(rows):
    """Song indices by kind, for the tonic with and without a drone: ``{label: [i, ...]}``
    (sung and played songs, with a drone and without; empty groups left out).

    Taught in notebook 07_song_detection.
    """
    groups = {}
    for i, row in enumerate(rows):
        sung = "sung" if row.get("instrument") == "singer" else "played"
        groups.setdefault(f"{sung}, {'with' if row['drone'] else 'no'} drone", []).append(i)
    return dict(sorted(groups.items()))


def group_scores(found, rows, indices):
    """``((right raga, n), (right Sa, n))`` of the detections ``found`` over some songs.

    Taught in notebook 07_song_detection.
    """
    from ..melody.tonic import semitones_to

    raga = sum(found[i].raga == rows[i]["raga"] for i in indices)
    sa = sum(found[i].tonic_hz is not None and
             semitones_to(found[i].tonic_hz, rows[i]["tonic_hz"]) == 0 for i in indices)
    return (raga, len(indices)), (sa, len(indices))


def song_confusion(rows, found, labels):
    """Confusion matrix of songs: rows the true raga, columns the detected one, in ``labels``
    order; ``found`` holds detections or raga ids. Taught in notebooks 07 and 09.

    Taught in notebooks 07_song_detection and 09_robust_features.
    """
    from sklearn.metrics import confusion_matrix

    return confusion_matrix([r["raga"] for r in rows], [getattr(f, "raga", f) for f in found],
                            labels=labels)
def take_scores(bundles, pitch_model):
    """Segment and whole-take accuracy on the held-out takes (harmonium and sung), per candidate.

    Taught in notebook 09_robust_features.
    """
    from ..audio import load
    from ..corpus import dataset
    from ..detection.evidence import PreparedSong
    from ..models import cnn
    from ..ragas import DEFAULT_TONIC, tonic_hz

    if not bundles:
        raise RagalibError("take_scores needs at least one candidate bundle")
    rows, held_out = [], {}
    for candidate, bundle in bundles.items():
        data = dataset.build(bundle.config)
        x, y = data.part("test")
        rows.append({"model": candidate, "segments": cnn.evaluate(bundle.model, x, y,
                                                               data.labels)["accuracy"],
                     "takes": cnn.evaluate_takes(bundle.model, data)})
        held_out[candidate] = sorted(t for t, role in data.take_roles().items() if role == "test")
    first, *others = bundles
    for candidate in others:
        if held_out[candidate] != held_out[first]:
            raise RagalibError(f"{candidate}: its held-out takes are not {first}'s, so their "
                               "scores cannot be compared")
    sr, root = bundles[first].config.sr, dataset.recordings_dir()
    whole, parts = [], []
    for take in held_out[first]:
        raga, sa = take.split("/")[0], tonic_hz(DEFAULT_TONIC)
        song = PreparedSong(load(root / take, sr=sr), sr=sr, name=take)
        answer = song.pitch(pitch_model, sa)
        whole.append(max(answer, key=answer.get) == raga)
        parts += [a == raga for a in song.pitch_by_segment(pitch_model, sa, bundles[first].config)]
    rows.append({"model": PCD, "segments": float(np.mean(parts)), "takes": float(np.mean(whole))})
    return rows


def candidate_song_scores(bundles, pitch_model, rows, variants=SONG_VARIANTS):
    """Song and segment accuracy on songs, per candidate and pipeline variant.

    Taught in notebook 09_robust_features.

    Each song is analysed once for all variants and all candidates
    (:func:`ragalib.detection.evidence.gather_songs`, in worker processes), so the candidates hear
    exactly the same audio and judge the same segments; pitch-class kinds rotate their
    features to C#, the others hear the song pitch-shifted.

    Returns
    -------
    table : list of dict
        ``model``, ``pipeline``, ``song accuracy``, ``segment accuracy``; every CNN also
        appears as a hybrid (``<candidate> + pitch classes``), whose segments are the CNN's.
    found : dict
        ``(model, pipeline)`` -> list of detected ragas, in ``rows`` order.
    """
    from ..detection.evidence import gather_songs

    config = next(iter(bundles.values())).config
    for candidate, bundle in bundles.items():
        if list(pitch_model.labels) != list(bundle.labels):
            raise RagalibError(f"the pitch model knows {', '.join(pitch_model.labels)}, but the "
                               f"{candidate} model {', '.join(bundle.labels)}: retrain one of them")
    hybrid = {c: Candidate.named(c).hybrid.name for c in bundles}
    names = (*bundles, *hybrid.values(), PCD)
    answers = {(c, v): [] for c in names for v in variants}
    segment_hits = {(c, v): [] for c in names for v in variants}
    evidence = gather_songs(rows, {v: VARIANTS[v] for v in variants},
                            [b.config for b in bundles.values()], sr=config.sr,
                            tonic_model=pitch_model, pitch_model=pitch_model,
                            pitch_segments=True)
    for row, found in zip(rows, evidence):
        for variant, ev in found.items():
            answers[PCD, variant].append(max(ev.pitch, key=ev.pitch.get))
            segment_hits[PCD, variant] += [p == row["raga"] for p in ev.pitch_segments]
            for candidate, bundle in bundles.items():
                result = decide(ev, bundle, name=str(row["path"]))
                answers[candidate, variant].append(result.raga)
                hits = [s["raga"] == row["raga"] for s in result.segments]
                segment_hits[candidate, variant] += hits
                segment_hits[hybrid[candidate], variant] += hits
                both = combine([result.probabilities[r] for r in bundle.labels],
                                      ev.pitch, bundle.labels)
                answers[hybrid[candidate], variant].append(
                    bundle.labels[int(np.argmax(both))])
    table = [{"model": c, "pipeline": v,
              "song accuracy": float(np.mean([a == r["raga"]
                                              for a, r in zip(answers[c, v], rows)])),
              "segment accuracy": float(np.mean(segment_hits[c, v]))}
             for v in variants for c in names]
    return table, answers


def candidate_summary(takes, table, variants=SONG_VARIANTS):
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

    Behind notebook 09_robust_features (not called there by name).
    """
    from collections import Counter

    from ..ragas import get_raga

    pairs = Counter((row["raga"], said) for row, said in zip(rows, answers)
                    if said != row["raga"])
    return [(a, b, n, [s for s in get_raga(a).swaras if s in get_raga(b).swaras])
            for (a, b), n in pairs.most_common(top)]


def dev_choice(bundles, pitch_model):
    """The candidate the dev songs choose among ``bundles``, each alone and with the pitch
    model (:func:`ragalib.evaluation.candidates.best_candidate`, default pipeline), and the table it was chosen from.

    Taught in notebook 09_robust_features: the test songs never take part in the choice.

    Returns
    -------
    name : str
        A table name, such as ``"melody + pitch classes"``.
    table : list of dict
        :func:`candidate_song_scores` on the dev songs.
    """
    from ..corpus import songs

    dev = songs.ensure_songs(kind="dev")
    table, _ = candidate_song_scores(bundles, pitch_model, dev, variants=SONG_VARIANTS[:1])
    return best_candidate(table).name, table
