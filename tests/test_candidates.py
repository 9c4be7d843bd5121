import json

import numpy as np
import pytest

from ragalib import RagalibError
from ragalib.detection import default
from ragalib.evaluation import candidates, scoring
from ragalib.features import DEFAULT
from ragalib.melody import pitch_model
from ragalib.models import cnn
from ragalib.models.bundle import BUNDLE_JSON, load_bundle, save_bundle
from tests.test_cnn import FAST, separable


def table(scores, pipeline=candidates.SONG_VARIANTS[0], segments=None):
    return [{"model": k, "pipeline": pipeline, "song accuracy": v,
             **({"segment accuracy": segments[k]} if k in (segments or {}) else {})}
            for k, v in scores.items()]


def best(scores):
    return candidates.best_candidate(scores).name


def test_the_best_candidate_wins_ties_go_to_the_simpler_and_the_baseline_is_never_it():
    w = candidates.WITH_PITCH
    assert best(table({"mfcc": 0.1, "chroma": 0.9, "chroma+mfcc": 0.8,
                       candidates.PCD: 1.0})) == "chroma"
    assert best(table({"melody": 0.7, "chroma": 0.7})) == "chroma"
    assert best(table({"melody": 0.9, "melody" + w: 0.9})) == "melody"
    assert best(table({"melody": 0.9, "chroma" + w: 0.95})) == "chroma" + w
    assert best(table({"chroma": 0.5, "melody": 0.9, "chroma" + w: 0.95,
                       "melody" + w: 0.95})) == "melody" + w
    assert best(table({"mfcc": 0.9, "chroma": 0.1}, "no transposition")
                + table({"mfcc": 0.1, "chroma": 0.2})) == "chroma"
    a = candidates.AUGMENTED
    assert best(table({"melody": 0.9, "melody" + a: 0.9})) == "melody"
    assert best(table({"melody": 0.9, "melody" + a: 0.95,
                       "melody" + a + w: 0.95})) == "melody" + a
    tied = {"melody": 0.87, "melody" + a: 0.92, "melody" + w: 0.97, "melody" + a + w: 0.97}
    assert best(table(tied, segments={"melody": 0.6, "melody" + a: 0.65})) \
        == "melody" + w                                # the cheaper to build wins a tie
    plain = {"chroma": 0.45, "melody": 0.87, "chroma" + w: 0.97, "melody" + w: 0.97}
    assert best(table(plain)) == "melody" + w          # then the better CNN
    assert best(table({**plain, "chroma": 0.87}, segments={"chroma": 0.7, "melody": 0.6})) \
        == "chroma" + w                                # then the better timeline
    with pytest.raises(RagalibError, match="no CNN candidate"):
        candidates.best_candidate(table({candidates.PCD: 1.0}))


def test_candidates_are_the_published_model_then_pitch_aware_ones_with_early_stopping():
    names = [c.name for c in candidates.CANDIDATES]
    assert names == ["mfcc", "chroma", "melody", "melody" + candidates.AUGMENTED]
    published = candidates.candidate_settings("mfcc")
    assert published == cnn.TrainSettings(epochs=published.epochs)   # chapter 05's bundle
    for candidate in candidates.CANDIDATES[1:]:
        settings = candidates.candidate_settings(candidate.kind, candidate.copies)
        assert settings.early_stopping == cnn.PATIENCE and settings.augment == candidate.copies
    chosen = candidates.Candidate.named(default.DEFAULT_CANDIDATE)
    assert chosen.cnn.name in names and chosen.with_pitch
    for candidate in (*candidates.CANDIDATES, *(c.hybrid for c in candidates.CANDIDATES)):
        assert candidates.Candidate.named(candidate.name) == candidate      # read back as written
    with pytest.raises(RagalibError, match="unknown candidate"):
        candidates.ensure_candidate("chroma+mfcc")


def test_promote_copies_the_bundle_and_records_why(tmp_path):
    ds = separable()
    net, history = cnn.train(ds, FAST)
    source = save_bundle(tmp_path / "chroma", net, labels=ds.labels, config=DEFAULT,
                               settings=FAST, info={"dataset_key": "k"})
    bundle = load_bundle(source)
    out = default.promote(bundle, "best on the dev songs", out=tmp_path / "default")
    promoted = load_bundle(out)
    assert promoted.info == {"dataset_key": "k", "chosen_as_default": "best on the dev songs",
                             "pitch_model_key": None}
    assert "chosen_as_default" not in json.loads((source / BUNDLE_JSON).read_text())["info"]
    assert promoted.pitch_model is None and candidates.candidate_name(promoted) == "mfcc"
    learned = pitch_model.PitchModel(labels=("bhupali", "yaman"),
                                     profiles=np.full((2, 60), 1 / 60),
                                     transitions=np.full((2, 12, 12), np.log(1 / 12)), key="pm")
    again = default.promote(bundle, "second time", out=out, pitch_model=learned)
    hybrid = load_bundle(again)                                 # replaced, no debris
    assert hybrid.info["chosen_as_default"] == "second time"
    assert hybrid.info["pitch_model_key"] == "pm"
    assert hybrid.pitch_model.labels == ("bhupali", "yaman")
    assert candidates.candidate_name(hybrid) == "mfcc" + candidates.WITH_PITCH
    assert candidates.candidate_name(hybrid, alone=True) == "mfcc"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chroma", "default"]
    assert load_bundle(default.promote(bundle, "alone", out=out)).pitch_model is None


def test_report_models_prints_every_candidate_and_the_choice(monkeypatch, capsys):
    from types import SimpleNamespace

    from ragalib.cli import main
    from ragalib.corpus import songs

    cnns = [c.name for c in candidates.CANDIDATES]
    names = [*cnns, *(c + candidates.WITH_PITCH for c in cnns), candidates.PCD]
    rows = [{"model": n, "pipeline": v, "song accuracy": 0.5, "segment accuracy": 0.25}
            for v in candidates.SONG_VARIANTS for n in names]
    takes = [{"model": n, "segments": 0.75, "takes": 1.0} for n in (*cnns, candidates.PCD)]
    dev = [{**r, "song accuracy": 0.875} for r in rows if r["pipeline"] == candidates.SONG_VARIANTS[0]]
    chosen = SimpleNamespace(path="data/models/default", info={"chosen_as_default": "because"},
                             pitch_model="pm")
    monkeypatch.setattr(default, "detector", lambda folder=None, current=False: chosen)
    monkeypatch.setattr(candidates, "candidate_name", lambda bundle: "melody" + candidates.WITH_PITCH)
    monkeypatch.setattr(candidates, "ensure_candidates", lambda **kw: {})
    monkeypatch.setattr(scoring, "take_scores", lambda *a, **kw: takes)
    monkeypatch.setattr(scoring, "candidate_song_scores", lambda *a, **kw: (rows, {}))
    monkeypatch.setattr(scoring, "dev_choice", lambda *a, **kw: ("chroma", dev))
    monkeypatch.setattr(songs, "ensure_songs", lambda **kw: [{}] * 60)
    assert main.main(["report", "models"]) == 0
    out = capsys.readouterr().out
    assert "60 test songs" in out and "because" in out
    table = [line for line in out.splitlines() if line.split() and line.split()[0] in
             {n.split()[0] for n in names}]
    assert len(table) == len(names)
    assert all("0.875" in line and "0.500 / 0.250" in line for line in table)
    hybrid = next(line for line in table if candidates.WITH_PITCH in line)
    assert " - " in hybrid and "0.750 / 1.000" not in hybrid    # takes not measured for hybrids
    assert "the dev songs choose chroma" in out and "differ" in out   # and say so when they do


def test_take_scores_compares_candidates_only_on_the_same_held_out_takes(monkeypatch):
    from types import SimpleNamespace

    from ragalib.corpus import dataset

    def data_holding_out(test_take):
        roles = {"yaman/a.wav": "train", test_take: "test"}
        return SimpleNamespace(config=DEFAULT, labels=["yaman"], take_roles=lambda: roles,
                               part=lambda name: (np.zeros((1, 2, 3, 1)), np.zeros(1)))

    held_out = {"mfcc": "yaman/b.wav", "chroma": "yaman/c.wav"}
    monkeypatch.setattr(dataset, "build", lambda config, **kw: data_holding_out(held_out[config]))
    monkeypatch.setattr(cnn, "evaluate", lambda *a: {"accuracy": 1.0})
    monkeypatch.setattr(cnn, "evaluate_takes", lambda *a: 1.0)
    bundles = {kind: SimpleNamespace(config=kind, model=None) for kind in held_out}
    with pytest.raises(RagalibError, match="chroma: its held-out takes are not mfcc's"):
        scoring.take_scores(bundles, pitch_model=None)
    with pytest.raises(RagalibError, match="at least one candidate"):
        scoring.take_scores({}, pitch_model=None)
