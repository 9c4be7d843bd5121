"""Automated hyper-parameter search with KerasTuner, run locally.

Taught in notebook 06_tuning. The published method tuned its network with a managed cloud
service; KerasTuner does the same job on one machine. The search space: learning rate,
filters, kernel size, dense units, dropout and batch size, plus the two optional layers
(batch normalisation, input standardisation). The objective is validation accuracy on the
validation *takes*; the test takes stay untouched until the best settings are retrained and
scored once.

Three searches are offered (``tuner=`` of :func:`search`): ``"bayesian"`` (a few random
trials, then trials proposed by a Gaussian process fitted to the trials so far),
``"random"`` and ``"hyperband"`` (many short random trials; only the best of each round are
continued for more epochs). The oracle records, at the moment it creates a trial, how the
trial was proposed, so :func:`trials_table` reports what happened rather than guessing it.
"""

import os
import time
import warnings

from ..constants import PUBLISHED_AFTER, PUBLISHED_BEFORE
from ..models.cnn import TrainSettings, build_model, load_keras, quiet_stderr, seed_everything
from ..paths import tuning_dir
from ..util.progress import bar as progress_bar

TUNERS = ("bayesian", "random", "hyperband")
"""The searches :func:`search` runs."""

HYPERBAND_FACTOR = 3
"""Hyperband keeps about one trial in this many from one round to the next (KerasTuner's
default)."""

PUBLISHED = {"before tuning": PUBLISHED_BEFORE, "after tuning": PUBLISHED_AFTER}
"""The published test accuracies, on (as far as we can tell) a random split of segments
(quoted once, in :data:`ragalib.constants.PUBLISHED_BEFORE`)."""


def keras_tuner():
    """Import and return KerasTuner (and Keras before it), without start-up noise.

    Behind notebook 06_tuning (not called there by name).
    """
    load_keras()
    with quiet_stderr():
        import keras_tuner
    return keras_tuner


def _settings_from_values(values, *, epochs, seed=0):
    filters, kernel = values["filters"], values["kernel"]
    return TrainSettings(
        epochs=epochs, batch_size=values["batch_size"],
        learning_rate=float(values["learning_rate"]), filters=(filters, filters, filters),
        kernels=((kernel, kernel), (kernel, kernel), (2, 2)), dense=values["dense"],
        dropout=float(values["dropout"]), batch_norm=bool(values["batch_norm"]),
        normalize=bool(values["normalize"]), seed=seed)


def settings_from(hp, *, epochs, seed=0):
    """The :class:`TrainSettings` one KerasTuner trial's hyper-parameters describe.

    Behind notebook 06_tuning (not called there by name).
    """
    values = {"filters": hp.Choice("filters", [16, 32, 64]),
              "kernel": hp.Choice("kernel", [2, 3, 5]),
              "batch_size": hp.Choice("batch_size", [16, 32, 64]),
              "learning_rate": hp.Float("learning_rate", 1e-4, 3e-3, sampling="log"),
              "dense": hp.Choice("dense", [32, 64, 128, 256]),
              "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1),
              "batch_norm": hp.Boolean("batch_norm"),
              "normalize": hp.Boolean("normalize")}
    return _settings_from_values(values, epochs=epochs, seed=seed)


def settings_of(row, *, epochs, seed=0):
    """The :class:`TrainSettings` of one row of :func:`trials_table`.

    Taught in notebook 06_tuning: the retrained model must have the settings of the table's
    best row.
    """
    return _settings_from_values(row, epochs=epochs, seed=seed)


TRIAL_PATIENCE = 5
"""A trial stops once its validation accuracy (the search's objective) has not improved for
this many epochs: a hopeless or finished trial does not spend the rest of its epochs."""


def _fit(model, x, y, validation_data, *, batch_size, callbacks=(), **kwargs):
    """How every trial trains: early stopping on validation accuracy (:data:`TRIAL_PATIENCE`)."""
    keras = load_keras()
    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                         patience=TRIAL_PATIENCE)
    kwargs = {"verbose": 0, "shuffle": True, **kwargs}
    return model.fit(x, y, validation_data=validation_data, batch_size=batch_size,
                     callbacks=[*callbacks, stop], **kwargs)


def _trial_metrics(history, seconds):
    """What a trial reports to the oracle: its best validation accuracy (the objective), the
    epoch that reached it, the epochs it trained and the seconds it took. They travel with
    the trial, so a search on several machines keeps them too."""
    val = history.history["val_accuracy"]
    best = max(range(len(val)), key=lambda i: (val[i], -i))     # the first epoch at the best
    return {"val_accuracy": float(val[best]), "best_epoch": float(best + 1),
            "epochs_trained": float(len(val)), "seconds": float(seconds)}


def _recording(oracle_class, proposer):
    """``oracle_class`` that records, when it creates a trial, how the trial was proposed:
    ``"random"`` if it drew the values at random (every KerasTuner oracle draws through
    ``_random_values``), else ``proposer`` (or, for a Hyperband trial that continues an
    earlier one, ``"continues trial N"``). The record is part of the oracle's saved state, so
    it survives a resumed search."""

    class Recording(oracle_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.proposed_by = {}
            self._drew_at_random = False

        def _random_values(self):
            self._drew_at_random = True
            return super()._random_values()

        def populate_space(self, trial_id):
            self._drew_at_random = False
            response = super().populate_space(trial_id)
            if response.get("status") == "RUNNING":
                values = response.get("values") or {}
                if self._drew_at_random:
                    how = "random"
                elif "tuner/trial_id" in values:
                    how = f"continues trial {int(values['tuner/trial_id'])}"
                else:
                    how = proposer
                self.proposed_by[trial_id] = how
            return response

        def get_state(self):
            return {**super().get_state(), "ragalib_proposed_by": self.proposed_by}

        def set_state(self, state):
            super().set_state(state)
            self.proposed_by = dict(state.get("ragalib_proposed_by", {}))

    Recording.__name__ = f"Recording{oracle_class.__name__}"
    return Recording


def hyperband_plan(epochs, factor=HYPERBAND_FACTOR):
    """The rounds one Hyperband iteration runs with at most ``epochs`` epochs a trial.

    Behind notebook 06_tuning (not called there by name).
    Read off KerasTuner's own Hyperband oracle, so the plan is
    the one it follows: each bracket starts many trials of few epochs and continues the best
    of each round for more epochs (from where they stopped), ending with a few full-length
    trials.

    Returns
    -------
    list of dict
        ``bracket``, ``round``, ``trials``, ``up_to_epoch`` (the epoch a trial of the round
        trains to) and ``epochs_each`` (the epochs it adds).
    """
    kt = keras_tuner()
    oracle = kt.oracles.HyperbandOracle(objective=kt.Objective("val_accuracy", "max"),
                                        max_epochs=epochs, factor=factor)
    rows = []
    for bracket in reversed(range(oracle._get_num_brackets())):
        for rnd in range(bracket + 1):
            start = oracle._get_epochs(bracket, rnd - 1) if rnd else 0
            end = oracle._get_epochs(bracket, rnd)
            rows.append({"bracket": bracket, "round": rnd,
                         "trials": oracle._get_size(bracket, rnd), "up_to_epoch": end,
                         "epochs_each": end - start})
    return rows


def budget(tuner="bayesian", *, max_trials=8, epochs=15):
    """``(trials, epochs)``: how many trials a search runs and the most epochs they train.

    Behind notebook 06_tuning (not called there by name).
    For the Bayesian and random searches that is ``max_trials``
    trials of at most ``epochs`` epochs; Hyperband's count follows :func:`hyperband_plan`
    (``max_trials`` does not apply). Early stopping can only make the epochs fewer.

    Examples
    --------
    >>> budget("bayesian", max_trials=8, epochs=15)
    (8, 120)
    """
    if tuner not in TUNERS:
        raise ValueError(f"tuner must be one of {TUNERS}, got {tuner!r}")
    if tuner != "hyperband":
        return max_trials, max_trials * epochs
    plan = hyperband_plan(epochs)
    return (sum(r["trials"] for r in plan), sum(r["trials"] * r["epochs_each"] for r in plan))


def project_name(dataset, *, tuner="bayesian", initial_points=3, epochs=15, seed=0):
    """The folder under :func:`tuning_dir` that holds one search's records: it names the
    dataset, the search (and its random initial points) and the trial length, so a record of
    another search is never reused.

    Behind notebook 06_tuning (not called there by name).
    """
    kind = {"bayesian": f"bayes{initial_points}init", "random": "random",
            "hyperband": f"hyperband{HYPERBAND_FACTOR}"}[tuner]
    # "best": the records carry each trial's best epoch (older ones did not)
    return f"cnn-{dataset.key[:12]}-{kind}-{epochs}ep-stop{TRIAL_PATIENCE}acc-best-seed{seed}"


def check_search(tuner="bayesian", *, max_trials=8, initial_points=3):
    """Refuse a search :func:`search` cannot run (a ``ValueError`` naming the choice).

    Behind notebook 06_tuning (not called there by name); :mod:`ragalib.tuning.chief` checks
    a search with it before it starts any process.
    """
    if tuner not in TUNERS:
        raise ValueError(f"tuner must be one of {TUNERS}, got {tuner!r}")
    if tuner == "bayesian" and not 1 <= initial_points <= max_trials:
        raise ValueError(f"initial_points must be 1 to max_trials ({max_trials}), "
                         f"got {initial_points}")


def cluster_role():
    """``None`` outside KerasTuner's distributed mode, else ``"chief"`` or ``"worker"``.

    Behind notebook 06_tuning (not called there by name). KerasTuner reads the mode from the
    environment: ``KERASTUNER_ORACLE_IP`` set means distributed, and a ``KERASTUNER_TUNER_ID``
    containing ``"chief"`` is the chief.
    """
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return None
    return "chief" if "chief" in os.environ.get("KERASTUNER_TUNER_ID", "") else "worker"


def search_identity(dataset, *, tuner="bayesian", initial_points=3, epochs=15, seed=0):
    """What a search is, for a chief and a worker to agree on: its project name, the
    dataset's key and the choices of :func:`search` that change its trials.

    Behind notebook 06_tuning (not called there by name): a chief refuses a worker whose
    identity differs from its own (:mod:`ragalib.tuning.chief`).
    """
    return {"project": project_name(dataset, tuner=tuner, initial_points=initial_points,
                                    epochs=epochs, seed=seed),
            "dataset": dataset.key,
            "search": {"tuner": tuner, "epochs": epochs, "seed": seed,
                       "initial_points": initial_points if tuner == "bayesian" else None}}


def search(dataset, *, tuner="bayesian", max_trials=8, initial_points=3, epochs=15, seed=0,
           directory=None, cluster=None):
    """Search the CNN's hyper-parameters on ``dataset``'s by-take split.

    Taught in notebook 06_tuning. Each trial trains for at most ``epochs`` epochs, with early
    stopping (:data:`TRIAL_PATIENCE`); its score is its best validation accuracy. Trials are
    recorded under ``directory`` in a project named by :func:`project_name`, so running the
    search again resumes (or reuses) it, and a changed dataset or search starts afresh. Each
    trial starts from the seed ``seed + trial number``, so a resumed search equals an unbroken
    one.

    In KerasTuner's distributed mode (:func:`cluster_role`) every process runs this same
    function: the chief serves the oracle until the search is done, and each worker runs
    trials it asks the chief for. :mod:`ragalib.tuning.cluster` starts such processes.

    Parameters
    ----------
    tuner : {"bayesian", "random", "hyperband"}
        ``"bayesian"``: ``initial_points`` random trials, then ``max_trials -
        initial_points`` proposed by a Gaussian process fitted to the trials so far.
        ``"random"``: ``max_trials`` random trials. ``"hyperband"``: one Hyperband iteration
        of :func:`hyperband_plan` (``max_trials`` and ``initial_points`` do not apply); a
        trial that continues an earlier one starts from its weights, with a fresh optimiser.
    initial_points : int
        Random trials before the Gaussian process proposes any (KerasTuner's default, three
        per hyper-parameter, would be 24 here: a search of fewer trials would be random).
    cluster : ragalib.tuning.chief.Cluster, optional
        Distributed mode only: what admits a worker (``cluster.join(identity)``, before
        TensorFlow is loaded, so a refused worker costs little) and serves the chief's oracle
        (``cluster.serve(oracle, identity, on_trial_end)``). Without it, KerasTuner's own
        server runs the chief.

    Returns
    -------
    keras_tuner.Tuner
        A worker's has the attribute ``trials_run``: how many trials it ran.
    """
    check_search(tuner, max_trials=max_trials, initial_points=initial_points)
    role = cluster_role()
    identity = search_identity(dataset, tuner=tuner, initial_points=initial_points,
                               epochs=epochs, seed=seed)
    joined = cluster.join(identity) if role == "worker" and cluster is not None else None
    try:
        return _search(dataset, tuner=tuner, max_trials=max_trials,
                       initial_points=initial_points, epochs=epochs, seed=seed,
                       directory=directory, role=role,
                       identity=identity, cluster=cluster)
    finally:
        if joined is not None:
            joined.close()


def _search(dataset, *, tuner, max_trials, initial_points, epochs, seed, directory, role,
            identity, cluster):
    from sklearn.exceptions import ConvergenceWarning

    kt = keras_tuner()
    x_train, y_train = dataset.part("train")
    x_val, y_val = dataset.part("val")
    n_classes = len(dataset.labels)

    class RagaHyperModel(kt.HyperModel):
        def build(self, hp):
            settings = settings_from(hp, epochs=epochs, seed=seed)
            return build_model(x_train.shape[1:], n_classes, settings, train_x=x_train)

        def fit(self, hp, model, x, y, *, validation_data, **kwargs):
            return _fit(model, x, y, validation_data, batch_size=hp.get("batch_size"), **kwargs)

    trials, _ = budget(tuner, max_trials=max_trials, epochs=epochs)
    if role == "worker":        # a worker sees only the trials it runs; the chief has them all
        bar = progress_bar(desc=f"worker {os.environ.get('KERASTUNER_TUNER_ID')}: trials of the "
                                f"{tuner} search run here")
    else:
        bar = progress_bar(total=trials, desc=f"{tuner} search: {trials} trials of at most "
                                              f"{epochs} epochs on the {dataset.config.kind} "
                                              "dataset")

    objective = kt.Objective("val_accuracy", "max")
    common = dict(objective=objective, seed=seed + 1)  # KerasTuner takes a seed of 0 as "any"
    if role is not None:        # a trial whose worker stopped half way is run once more
        common["max_retries_per_trial"] = 1
    if tuner == "bayesian":
        oracle = _recording(kt.oracles.BayesianOptimizationOracle, "gaussian process")(
            max_trials=max_trials, num_initial_points=initial_points, **common)
    elif tuner == "random":
        oracle = _recording(kt.oracles.RandomSearchOracle, "random")(max_trials=max_trials,
                                                                     **common)
    else:
        oracle = _recording(kt.oracles.HyperbandOracle, "hyperband")(
            max_epochs=epochs, factor=HYPERBAND_FACTOR, hyperband_iterations=1, **common)
    # Hyperband's tuner gives each trial its epochs and the weights of the trial it continues
    base = kt.Hyperband if tuner == "hyperband" else kt.Tuner

    class Tuner(base):
        def __init__(self, **kwargs):
            self.trials_run = 0
            kt.Tuner.__init__(self, **kwargs)    # Hyperband's own __init__ makes its oracle

        def _get_tuner_fname(self):
            if role is None:
                return super()._get_tuner_fname()
            # the chief keeps the file a search on one machine keeps (each resumes the
            # other's records); a worker keeps its own, named after it
            who = f"worker-{self.tuner_id}" if role == "worker" else "tuner0"
            return os.path.join(str(self.project_dir), f"{who}.json")

        def search(self, *args, **kwargs):
            if role != "chief" or cluster is None:
                return super().search(*args, **kwargs)
            self.oracle.verbose = 0
            self.save()
            cluster.serve(self.oracle, identity,
                          on_trial_end=lambda: bar.update(1))
            return None

        def run_trial(self, trial, *args, **kwargs):
            seed_everything(seed + int(trial.trial_id))
            start = time.perf_counter()
            histories = super().run_trial(trial, *args, **kwargs)
            return [_trial_metrics(h, time.perf_counter() - start) for h in histories]

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            self.trials_run += 1
            bar.update(1)

    seed_everything(seed)
    found = Tuner(oracle=oracle, hypermodel=RagaHyperModel(),
                  directory=str(directory or tuning_dir()), project_name=identity["project"],
                  overwrite=False)
    if role == "worker":
        _pause_when_idle(found.oracle)
    else:
        done = len([t for t in found.oracle.trials.values() if t.status == "COMPLETED"])
        bar.update(min(done, trials))
    # stderr stays open (only the imports, in keras_tuner(), are silenced): what a failing
    # trial says reaches the terminal or the cluster's log
    with warnings.catch_warnings():
        # the Gaussian process fitted to a few trials often leaves a length scale at its
        # bound (that hyper-parameter made no visible difference); a continued Hyperband
        # trial loads its weights but starts the optimiser afresh: neither is an error
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        found.search(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
                     verbose=0)
    bar.close()
    return found


def _pause_when_idle(client, seconds=1.0):
    """A worker whose chief has no trial for it yet (Hyperband waits for a round to end) asks
    again after ``seconds``: KerasTuner's workers would ask again at once, in a busy loop."""
    ask = client.create_trial

    def create_trial(tuner_id):
        trial = ask(tuner_id)
        if trial.status == "IDLE":
            time.sleep(seconds)
        return trial

    client.create_trial = create_trial


def _metric(trial, name):
    if not trial.metrics.exists(name):
        return None
    return float(trial.metrics.get_best_value(name))


def trials_table(tuner):
    """One row per completed trial, best first: how it was proposed, its validation accuracy,
    the epoch that reached it (``best_epoch``), the epochs it trained, its seconds and its
    hyper-parameters.

    Taught in notebook 06_tuning (the published method showed such a table). ``proposed_by``
    is what the oracle recorded when it created the trial: ``"random"``, ``"gaussian
    process"`` or, with Hyperband, ``"continues trial N"``; Hyperband's trials also show their
    ``bracket``, ``round`` and the epoch they train to (``up_to_epoch``).
    """
    proposed = getattr(tuner.oracle, "proposed_by", {})
    rows = []
    for trial in tuner.oracle.trials.values():
        if trial.score is None or trial.status != "COMPLETED":
            continue
        values = trial.hyperparameters.values
        epochs, best = _metric(trial, "epochs_trained"), _metric(trial, "best_epoch")
        row = {"trial": int(trial.trial_id), "proposed_by": proposed.get(trial.trial_id, "?"),
               "val_accuracy": float(trial.score),
               "best_epoch": None if best is None else int(best),
               "epochs_trained": None if epochs is None else int(epochs),
               "seconds": _metric(trial, "seconds")}
        if "tuner/bracket" in values:
            row.update(bracket=values["tuner/bracket"], round=values["tuner/round"],
                       up_to_epoch=values["tuner/epochs"])
        row.update({"learning_rate": float(values["learning_rate"]),
                    "batch_size": values["batch_size"], "filters": values["filters"],
                    "kernel": values["kernel"], "dense": values["dense"],
                    "dropout": float(values["dropout"]), "batch_norm": values["batch_norm"],
                    "normalize": values["normalize"]})
        rows.append(row)
    return sorted(rows, key=lambda r: (-r["val_accuracy"], r["trial"]))


def seconds_per_epoch(rows):
    """Measured seconds per trained epoch over the trials of :func:`trials_table`: the basis
    for what another search would cost on this machine.

    Taught in notebook 06_tuning.
    """
    seconds = sum(r["seconds"] for r in rows)
    epochs = sum(r["epochs_trained"] for r in rows)
    return seconds / epochs


def cost(tuner="bayesian", *, max_trials=8, epochs=15, retrain_epochs=0, per_epoch):
    """One line on what a search (and an optional retraining run) would cost, such as
    ``"hyperband search: 30 trials, at most 166 epochs: about 4 min at 1.4 s an epoch"``
    (seconds below two minutes).

    Taught in notebook 06_tuning (the cost of each exercise). ``per_epoch`` is
    :func:`seconds_per_epoch` of a search on this machine; trials of other sizes train faster
    or slower, so the figure is a rough guide.
    """
    trials, total = budget(tuner, max_trials=max_trials, epochs=epochs)
    more = f", then a {retrain_epochs}-epoch retraining run" if retrain_epochs else ""
    seconds = (total + retrain_epochs) * per_epoch
    took = f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
    return (f"{tuner} search: {trials} trials, at most {total} epochs{more}: about {took} "
            f"at {per_epoch:.1f} s an epoch")


def summary(rows, dataset):
    """A sentence on a search: how its trials were proposed, and the best of each kind as a
    count of validation segments with its 95% interval.

    Taught in notebook 06_tuning.
    """
    from ..util.stats import count, share

    n_val = int((dataset.split == "val").sum())
    kinds, runs = {}, []
    for row in sorted(rows, key=lambda r: r["trial"]):
        kind = "continued" if row["proposed_by"].startswith("continues") else row["proposed_by"]
        kinds.setdefault(kind, []).append(row)
        runs += [kind] if not runs or runs[-1] != kind else []
    names = {"random": "random", "gaussian process": "proposed by the Gaussian process",
             "continued": "continuing an earlier trial"}
    parts = (", then " if len(runs) == len(kinds) else ", ").join(
        f"{len(group)} {names.get(kind, kind)}" for kind, group in kinds.items())
    short = {"gaussian process": "proposed"}
    best = [f"best {short.get(kind, kind)}: trial {max(g, key=lambda r: r['val_accuracy'])['trial']}, "
            + share(count(max(r["val_accuracy"] for r in g), n_val), n_val, "validation segments")
            for kind, g in kinds.items()]
    low, high = min(r["val_accuracy"] for r in rows), max(r["val_accuracy"] for r in rows)
    return (f"{len(rows)} trials ({parts}). " + "; ".join(best)
            + f". Across trials the validation accuracy spans {low:.1%} to {high:.1%}.")


def trial_score(dataset, settings, *, seed):
    """The score a trial with ``settings`` gets when it starts from ``seed``: its best
    validation accuracy in at most ``settings.epochs`` epochs, trained exactly as a trial of
    :func:`search` is (early stopping on validation accuracy).

    Taught in notebook 06_tuning: the same settings from other seeds show how much of the
    spread between trials is noise. A trial ``t`` of a search with seed ``s`` started from
    ``s + t``.
    """
    seed_everything(seed)
    x_train, y_train = dataset.part("train")
    net = build_model(x_train.shape[1:], len(dataset.labels), settings, train_x=x_train)
    with quiet_stderr():
        history = _fit(net, x_train, y_train, dataset.part("val"),
                       batch_size=settings.batch_size, epochs=settings.epochs)
    return float(max(history.history["val_accuracy"]))


def best_settings(tuner, *, epochs=75, seed=0):
    """The best trial's hyper-parameters as :class:`TrainSettings` for a full training run.

    Taught in notebook 06_tuning.

    The best trial is the first row of :func:`trials_table`: on a tie in validation accuracy
    (common in short runs) the earliest trial wins, where KerasTuner's own
    ``get_best_hyperparameters`` may pick either, so the table and the retrained model always
    agree.
    """
    return settings_of(trials_table(tuner)[0], epochs=epochs, seed=seed)


def judged_settings(tuner, *, seed=0):
    """The best trial retrained as the search judged it: its hyper-parameters, its own seed
    and as many epochs as it took to reach its best validation accuracy.

    Taught in notebook 06_tuning. A trial is scored at its best epoch, and training is
    deterministic, so these settings give back the very network the search scored (its last
    validation accuracy equals the trial's score) for a trial that started afresh. Training
    the winner longer, as :func:`best_settings` with the published 75 epochs does, judges a
    different network from the one the search chose. ``seed`` is the search's seed (a trial
    ``t`` started from ``seed + t``). A Hyperband trial that continues another was judged on
    weights trained partly from another seed: it gets the same number of epochs from the
    start, which repeats its training only approximately.
    """
    row = trials_table(tuner)[0]
    if row["best_epoch"] is None:
        raise ValueError("the search's records do not say at which epoch its best trial peaked")
    before = row.get("up_to_epoch", row["epochs_trained"]) - row["epochs_trained"]
    epochs = before + row["best_epoch"]                  # a continued trial's earlier epochs too
    return settings_of(row, epochs=epochs, seed=seed + row["trial"])


def _test_takes(dataset):
    import numpy as np

    return len(np.unique(dataset.take[dataset.split == "test"]))


def comparison_rows(bundles, dataset):
    """The published accuracies before and after tuning beside ours, as counts of test
    segments and of whole test takes with their 95% intervals.

    Taught in notebook 06_tuning. ``bundles`` maps a name (``"base"``, ``"tuned"``) to a
    bundle trained on ``dataset``'s by-take split; the published figures came (as far as we
    can tell) from a random split of segments, and their counts were not published.
    """
    from ..util.stats import count, share

    n_takes = _test_takes(dataset)
    rows = [{"model": f"published, {when} (random split of segments)",
             "test segments": f"{accuracy:.1%}", "whole test takes": "not published"}
            for when, accuracy in PUBLISHED.items()]
    for name, bundle in bundles.items():
        n = bundle.metrics["test_segments"]
        rows.append({"model": f"ours, {name} (by take)",
                     "test segments": share(count(bundle.metrics["test_accuracy"], n), n),
                     "whole test takes": share(count(bundle.metrics["test_take_accuracy"],
                                                     n_takes), n_takes)})
    return rows


def comparison_sentence(base, tuned, dataset, *, names=("base", "tuned")):
    """How two bundles compare on the same test items: counts, the items only one of them
    gets right, and McNemar's exact test on those, for segments and for whole takes.

    Taught in notebook 06_tuning. ``names`` name the two bundles in the sentence. Both
    models answered the same items, so whether their 95% intervals overlap is not the test:
    what counts is how lopsided their disagreements are. Segments of one take are not
    independent, so the segments' p is too small; the takes' p is the honest one.
    """
    from ..models.cnn import answers
    from ..util.stats import mcnemar

    n = int((dataset.split == "test").sum())
    if not n == base.metrics["test_segments"] == tuned.metrics["test_segments"]:
        raise ValueError("the two bundles were not scored on the dataset's test segments")
    (seg_b, take_b), (seg_t, take_t) = answers(base.model, dataset), answers(tuned.model, dataset)
    first, second = names[1], names[0]

    def compared(right_t, right_b, what):
        only_t, only_b, p = mcnemar(right_t, right_b)
        return (f"{first} {int(right_t.sum())}/{len(right_t)} against {second} "
                f"{int(right_b.sum())}/{len(right_b)} {what}; {first} alone right on {only_t}, "
                f"{second} alone on {only_b}, McNemar's exact p = {p:.2g}")

    takes_p = mcnemar(take_t, take_b)[2]
    verdict = ("the takes do not show a difference larger than chance" if takes_p >= 0.05
               else "the takes show a difference larger than chance")
    sentence = (f"{compared(seg_t, seg_b, 'test segments')}. Whole takes: "
                f"{compared(take_t, take_b, 'test takes')}: {verdict}.")
    return sentence[0].upper() + sentence[1:]
