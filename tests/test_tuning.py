from types import SimpleNamespace

import numpy as np
import pytest

from ragalib import tuning
from ragalib.display import plots
from ragalib.models import cnn
from tests.test_cnn import separable


def _by_trial(rows):
    return sorted(rows, key=lambda r: r["trial"])


def test_a_bayesian_search_draws_its_initial_points_at_random_then_the_gp_proposes(tmp_path):
    ds = separable()
    tuner = tuning.search(ds, max_trials=3, initial_points=2, epochs=1, directory=tmp_path)
    rows = tuning.trials_table(tuner)
    assert len(rows) == 3 and rows[0]["val_accuracy"] >= rows[1]["val_accuracy"] >= rows[2]["val_accuracy"]
    assert [r["proposed_by"] for r in _by_trial(rows)] == ["random", "random", "gaussian process"]
    assert {"learning_rate", "batch_size", "filters", "kernel", "dense", "dropout"} <= set(rows[0])
    assert all(r["epochs_trained"] == 1 and r["seconds"] > 0 for r in rows)
    import keras

    def no_training(*args, **kwargs):
        raise AssertionError("a finished search trained again")

    original = keras.Model.fit
    keras.Model.fit = no_training
    try:
        again = tuning.search(ds, max_trials=3, initial_points=2, epochs=1, directory=tmp_path)
    finally:
        keras.Model.fit = original
    assert tuning.trials_table(again) == rows       # reused, "proposed by" read back from disk


def test_a_trial_score_repeats_exactly_from_the_trial_seed(tmp_path):
    ds = separable()
    tuner = tuning.search(ds, max_trials=2, initial_points=2, epochs=2, seed=5,
                          directory=tmp_path)
    for row in tuning.trials_table(tuner):
        settings = tuning.settings_of(row, epochs=2)
        assert tuning.trial_score(ds, settings, seed=5 + row["trial"]) == row["val_accuracy"]


def test_best_settings_are_the_best_rows_train_settings_for_the_full_run(tmp_path):
    tuner = tuning.search(separable(), max_trials=1, initial_points=1, epochs=1,
                          directory=tmp_path)
    best = tuning.best_settings(tuner, epochs=75, seed=4)
    assert isinstance(best, cnn.TrainSettings) and best.epochs == 75 and best.seed == 4
    row = tuning.trials_table(tuner)[0]
    assert best == tuning.settings_of(row, epochs=75, seed=4)
    assert best.filters == (row["filters"],) * 3 and best.dense == row["dense"]
    assert best.kernels[0] == (row["kernel"], row["kernel"]) and best.batch_size == row["batch_size"]


def test_hyperband_runs_its_plan_and_continues_the_best_trials(tmp_path):
    ds = separable()
    tuner = tuning.search(ds, tuner="hyperband", epochs=3, directory=tmp_path)
    rows = _by_trial(tuning.trials_table(tuner))
    plan = tuning.hyperband_plan(3)
    assert len(rows) == tuning.budget("hyperband", epochs=3)[0] == sum(p["trials"] for p in plan)
    steps = {(p["bracket"], p["round"]): p for p in plan}
    for row in rows:
        step = steps[(row["bracket"], row["round"])]
        assert row["up_to_epoch"] == step["up_to_epoch"]
        assert row["epochs_trained"] == step["epochs_each"]
        if row["round"] == 0:
            assert row["proposed_by"] == "random"
        else:                   # continues a trial of the round before, with its settings
            earlier = rows[int(row["proposed_by"].removeprefix("continues trial "))]
            assert earlier["round"] == row["round"] - 1 and earlier["dense"] == row["dense"]
    assert any(r["round"] > 0 for r in rows)


def test_hyperband_plan_of_15_epochs_matches_the_count_by_hand():
    # brackets of 12 x 2 epochs -> 4 to epoch 5 -> 2 to epoch 15; 6 x 5 -> 2 to 15; 4 x 15
    plan = tuning.hyperband_plan(15)
    assert [(p["trials"], p["up_to_epoch"]) for p in plan] == [
        (12, 2), (4, 5), (2, 15), (6, 5), (2, 15), (4, 15)]
    assert tuning.budget("hyperband", epochs=15) == (30, 12 * 2 + 4 * 3 + 2 * 10 + 6 * 5
                                                     + 2 * 10 + 4 * 15)
    assert tuning.budget("bayesian", max_trials=8, epochs=15) == (8, 120)


def test_every_search_has_its_own_project_and_bad_choices_are_refused():
    ds = separable()
    names = {tuning.project_name(ds, tuner="bayesian", initial_points=3),
             tuning.project_name(ds, tuner="bayesian", initial_points=2),
             tuning.project_name(ds, tuner="random"), tuning.project_name(ds, tuner="hyperband"),
             tuning.project_name(ds, tuner="bayesian", initial_points=3, epochs=2)}
    assert len(names) == 5
    with pytest.raises(ValueError, match="tuner"):
        tuning.search(ds, tuner="grid")
    with pytest.raises(ValueError, match="initial_points"):
        tuning.search(ds, max_trials=3, initial_points=4)


def _bundle(test_accuracy, take_accuracy, segments=8, model=None):
    return SimpleNamespace(model=model, metrics={"test_accuracy": test_accuracy,
                                                 "test_segments": segments,
                                                 "test_take_accuracy": take_accuracy})


class _Answers:
    """A stand-in network: class 1 where a segment's mean passes ``threshold``."""

    def __init__(self, threshold):
        self.threshold = threshold

    def __call__(self, X, training=False):
        one = (np.asarray(X).mean(axis=(1, 2, 3)) > self.threshold).astype(np.float32)
        return np.stack([1 - one, one], axis=1)


def test_comparison_rows_give_counts_and_intervals_of_segments_and_takes():
    ds = separable()                             # 8 test segments in 2 test takes
    rows = tuning.comparison_rows({"base": _bundle(0.75, 0.5), "tuned": _bundle(1.0, 1.0)}, ds)
    assert [r["model"] for r in rows][2:] == ["ours, base (by take)", "ours, tuned (by take)"]
    assert rows[0]["test segments"] == "72.0%" and rows[1]["test segments"] == "92.7%"
    assert rows[2]["test segments"].startswith("6/8 (75%; 95% interval")
    assert rows[2]["whole test takes"].startswith("1/2 (50%")
    assert rows[3]["whole test takes"].startswith("2/2 (100%")


def test_the_comparison_sentence_tests_the_same_items_paired():
    ds = separable()                             # 8 test segments (4 of each raga) in 2 takes
    right, wrong = _bundle(1.0, 1.0, model=_Answers(0.75)), _bundle(0.5, 0.5, model=_Answers(-9))
    sentence = tuning.comparison_sentence(wrong, right, ds)
    # the right model alone is right on the 4 yaman segments: p = 2 * 0.5**4 = 0.125
    assert sentence.startswith("Tuned 8/8 against base 4/8 test segments; tuned alone right on "
                               "4, base alone on 0, McNemar's exact p = 0.12. Whole takes: tuned "
                               "2/2 against base 1/2 test takes; tuned alone right on 1")
    assert sentence.endswith("the takes do not show a difference larger than chance.")
    same = tuning.comparison_sentence(right, right, ds, names=("small", "big"))
    assert same.startswith("Big 8/8 against small 8/8") and "alone right on 0, small alone on 0, " \
        "McNemar's exact p = 1" in same
    with pytest.raises(ValueError, match="test segments"):
        tuning.comparison_sentence(_bundle(0.0, 0.0, 100), _bundle(0.0, 0.0, 100), ds)


def test_the_winner_retrained_as_judged_is_the_network_the_search_scored(tmp_path):
    ds = separable()
    tuner = tuning.search(ds, max_trials=2, initial_points=2, epochs=4, seed=3, directory=tmp_path)
    row = tuning.trials_table(tuner)[0]
    assert 1 <= row["best_epoch"] <= row["epochs_trained"] <= 4
    settings = tuning.judged_settings(tuner, seed=3)
    assert settings == tuning.settings_of(row, epochs=row["best_epoch"], seed=3 + row["trial"])
    _, history = cnn.train(ds, settings)
    assert history["val_accuracy"][-1] == row["val_accuracy"]


def _rows():
    return [{"trial": t, "proposed_by": by, "val_accuracy": acc, "epochs_trained": e,
             "seconds": s, "learning_rate": 1e-3, "batch_size": 32, "filters": 16, "kernel": 3,
             "dense": 64, "dropout": 0.1, "batch_norm": False, "normalize": True}
            for t, by, acc, e, s in [(0, "random", 0.5, 10, 20.0), (1, "random", 0.75, 5, 5.0),
                                     (2, "gaussian process", 0.625, 15, 5.0)]]


def test_summary_names_the_phases_and_the_best_of_each():
    text = tuning.summary(_rows(), separable())              # 8 validation segments
    assert text.startswith("3 trials (2 random, then 1 proposed by the Gaussian process)")
    assert "best random: trial 1, 6/8 validation segments" in text and "spans 50.0% to 75.0%" in text


def test_the_cost_of_a_search_follows_its_budget_and_the_measured_speed():
    assert tuning.seconds_per_epoch(_rows()) == 1.0          # 30 s over 30 epochs
    line = tuning.cost("bayesian", max_trials=4, epochs=30, retrain_epochs=60, per_epoch=1.0)
    assert line.startswith("bayesian search: 4 trials, at most 120 epochs, then a 60-epoch")
    assert "about 3 min at 1.0 s an epoch" in line             # (120 + 60) x 1 s
    assert "about 90 s" in tuning.cost(max_trials=4, epochs=30, retrain_epochs=60, per_epoch=0.5)


def test_the_trials_scatter_has_a_panel_per_hyper_parameter_with_every_trial():
    import matplotlib

    matplotlib.use("Agg")
    axes = plots.trials_scatter(_rows())
    assert len(axes) == len(plots.TRIAL_PANELS) == 8
    assert axes[0].get_xlabel() == "learning rate" and axes[0].get_xscale() == "log"
    points = sum(len(c.get_offsets()) for c in axes[0].collections)
    assert points == 3 + 1                                   # every trial, and the best ringed
    assert {t.get_text() for t in axes[0].get_legend().get_texts()} == {
        "random", "gaussian process", "best trial"}


def test_on_a_tie_the_best_settings_are_the_earliest_trials_as_the_table_shows():
    from types import SimpleNamespace

    def trial(trial_id, filters):
        values = {"learning_rate": 1e-3, "batch_size": 32, "filters": filters, "kernel": 3,
                  "dense": 64, "dropout": 0.0, "batch_norm": False, "normalize": False}
        return SimpleNamespace(trial_id=trial_id, score=0.1, status="COMPLETED",
                               hyperparameters=SimpleNamespace(values=values),
                               metrics=SimpleNamespace(exists=lambda name: False))

    # KerasTuner's dict order need not be the trials' order; a tie must not depend on it
    tuner = SimpleNamespace(oracle=SimpleNamespace(trials={"1": trial("1", 64),
                                                           "0": trial("0", 16)}))
    assert [r["trial"] for r in tuning.trials_table(tuner)] == [0, 1]
    assert tuning.best_settings(tuner, epochs=75).filters == (16, 16, 16)
