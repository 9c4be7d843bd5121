"""Automated hyper-parameter search with KerasTuner, run locally.

Taught in notebook 06_tuning. The published method tuned its network with a managed cloud
service; KerasTuner's Bayesian optimisation does the same job on one machine. The search
space: learning rate, filters, kernel size, dense units, dropout and batch size, plus the two
optional layers (batch normalisation, input standardisation). The objective is validation
accuracy on the validation *takes*; the test takes stay untouched until the best settings are
retrained and scored once.
"""

from .model import TrainSettings, _quiet_stderr, build_model, load_keras, seed_everything
from .paths import work_dir


def _keras_tuner():
    load_keras()
    with _quiet_stderr():
        import keras_tuner
    return keras_tuner


def settings_from(hp, *, epochs, seed=0):
    """The :class:`TrainSettings` one KerasTuner trial's hyper-parameters describe."""
    filters = hp.Choice("filters", [16, 32, 64])
    kernel = hp.Choice("kernel", [2, 3, 5])
    return TrainSettings(
        epochs=epochs,
        batch_size=hp.Choice("batch_size", [16, 32, 64]),
        learning_rate=hp.Float("learning_rate", 1e-4, 3e-3, sampling="log"),
        filters=(filters, filters, filters),
        kernels=((kernel, kernel), (kernel, kernel), (2, 2)),
        dense=hp.Choice("dense", [32, 64, 128, 256]),
        dropout=hp.Float("dropout", 0.0, 0.5, step=0.1),
        batch_norm=hp.Boolean("batch_norm"),
        normalize=hp.Boolean("normalize"),
        seed=seed)


def tuning_dir():
    """``data/tuning/`` (``data/quick/tuning/`` in quick mode): KerasTuner's trial records."""
    return work_dir() / "tuning"


TRIAL_PATIENCE = 5
"""A trial stops once its validation accuracy (the search's objective) has not improved for
this many epochs: a hopeless or finished trial does not spend the rest of its epochs."""


def search(dataset, *, max_trials=8, epochs=15, seed=0, directory=None, progress=True):
    """Bayesian optimisation of the CNN's hyper-parameters on ``dataset``'s by-take split.

    Taught in notebook 06_tuning. Each trial trains for at most ``epochs`` epochs, with early
    stopping (:data:`TRIAL_PATIENCE`); its score is its best validation accuracy. Trials are
    recorded under ``directory`` in a project named after the dataset's key, so running the
    search again resumes (or reuses) it, and a changed dataset starts afresh.

    Returns
    -------
    keras_tuner.Tuner
    """
    kt = _keras_tuner()
    keras = load_keras()
    x_train, y_train = dataset.part("train")
    x_val, y_val = dataset.part("val")
    n_classes = len(dataset.labels)

    class RagaHyperModel(kt.HyperModel):
        def build(self, hp):
            settings = settings_from(hp, epochs=epochs, seed=seed)
            return build_model(x_train.shape[1:], n_classes, settings, train_x=x_train)

        def fit(self, hp, model, *args, callbacks=(), **kwargs):
            stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                                 patience=TRIAL_PATIENCE)
            return model.fit(*args, batch_size=hp.get("batch_size"),
                             callbacks=[*callbacks, stop], **kwargs)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=max_trials, desc=f"tuning: {max_trials} trials of at most {epochs} "
                                           f"epochs on the {dataset.config.kind} dataset")

    class Tuner(kt.BayesianOptimization):
        def run_trial(self, trial, *args, **kwargs):
            # each trial starts from its own seed, so a resumed search equals an unbroken one
            seed_everything(seed + int(trial.trial_id))
            return super().run_trial(trial, *args, **kwargs)

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            if bar is not None:
                bar.update(1)

    seed_everything(seed)
    tuner = Tuner(RagaHyperModel(), objective="val_accuracy", max_trials=max_trials,
                  seed=seed + 1,  # KerasTuner takes a seed of 0 as "draw one at random"
                  directory=str(directory or tuning_dir()),
                  project_name=(f"cnn-{dataset.key[:12]}-{epochs}ep-stop{TRIAL_PATIENCE}acc"
                                f"-seed{seed}"),
                  overwrite=False)
    done = len([t for t in tuner.oracle.trials.values() if t.status == "COMPLETED"])
    if bar is not None:
        bar.update(min(done, max_trials))
    with _quiet_stderr():
        tuner.search(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
                     verbose=0, shuffle=True)
    if bar is not None:
        bar.close()
    return tuner


def trials_table(tuner):
    """One row per completed trial, best first: its hyper-parameters and validation accuracy.

    Taught in notebook 06_tuning (the published method showed such a table).
    """
    rows = []
    for trial in tuner.oracle.trials.values():
        if trial.score is None:
            continue
        values = trial.hyperparameters.values
        rows.append({"trial": int(trial.trial_id), "val_accuracy": float(trial.score),
                     "learning_rate": float(values["learning_rate"]),
                     "batch_size": values["batch_size"], "filters": values["filters"],
                     "kernel": values["kernel"], "dense": values["dense"],
                     "dropout": float(values["dropout"]), "batch_norm": values["batch_norm"],
                     "normalize": values["normalize"]})
    return sorted(rows, key=lambda r: (-r["val_accuracy"], r["trial"]))


def best_settings(tuner, *, epochs=75, seed=0):
    """The best trial's hyper-parameters as :class:`TrainSettings` for a full training run."""
    return settings_from(tuner.get_best_hyperparameters(1)[0], epochs=epochs, seed=seed)


def tuned_bundle_dir():
    """``data/models/tuned``: where the retrained best model is saved."""
    from .model import models_dir

    return models_dir() / "tuned"


