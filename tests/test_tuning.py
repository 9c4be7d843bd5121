from ragalib import model, tuning
from tests.test_model import separable


def test_a_small_search_records_trials_and_resumes(tmp_path):
    ds = separable()
    tuner = tuning.search(ds, max_trials=2, epochs=1, directory=tmp_path, progress=False)
    rows = tuning.trials_table(tuner)
    assert len(rows) == 2 and rows[0]["val_accuracy"] >= rows[1]["val_accuracy"]
    assert {"learning_rate", "batch_size", "filters", "kernel", "dense", "dropout"} <= set(rows[0])
    import keras

    def no_training(*args, **kwargs):
        raise AssertionError("a finished search trained again")

    original = keras.Model.fit
    keras.Model.fit = no_training
    try:
        again = tuning.search(ds, max_trials=2, epochs=1, directory=tmp_path, progress=False)
    finally:
        keras.Model.fit = original
    assert tuning.trials_table(again) == rows                 # reused, not searched again


def test_best_settings_are_train_settings_for_the_full_run(tmp_path):
    tuner = tuning.search(separable(), max_trials=1, epochs=1, directory=tmp_path,
                          progress=False)
    best = tuning.best_settings(tuner, epochs=75, seed=4)
    assert isinstance(best, model.TrainSettings) and best.epochs == 75 and best.seed == 4
    row = tuning.trials_table(tuner)[0]
    assert best.filters == (row["filters"],) * 3 and best.dense == row["dense"]
    assert best.kernels[0] == (row["kernel"], row["kernel"]) and best.batch_size == row["batch_size"]
