"""The published CNN: build, train, evaluate, and save or load a model bundle.

Taught in notebook 05_train_cnn. The network is the published one: three Conv2D blocks with
max pooling, a dense layer, softmax, trained with Adam at a learning rate of 0.0001, batch 32,
75 epochs. TensorFlow is imported lazily, and silently, only when a model is built or loaded.
"""

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .errors import RagalibError
from .features import FeatureConfig
from .files import raise_write_failure
from .paths import default_bundle_dir, kind_bundle_dir

BUNDLE_JSON = "bundle.json"
MODEL_FILE = "model.keras"
PITCH_FILE = "pitch_model.json"
"""Optional: the pitch model that judges songs with the CNN (see :class:`Bundle`)."""


@contextmanager
def _quiet_stderr():
    """Silence file descriptor 2: TensorFlow's C++ start-up noise bypasses Python's stderr."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def load_keras():
    """Import and return Keras (TensorFlow backend), once, without start-up noise.

    Behind notebook 05_train_cnn (not called there by name).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with _quiet_stderr():
        import keras as _keras
        import tensorflow  # noqa: F401  (its import is what prints)
    return _keras


PATIENCE = 5
"""Epochs without a better validation loss after which the series stops a training run that
asks for early stopping (the candidates of chapter 09)."""


@dataclass(frozen=True)
class TrainSettings:
    """Everything that decides a training run, stored in the bundle. Defaults: published.

    Taught in notebooks 05_train_cnn and 06_tuning.

    ``kernels`` are the three Conv2D kernel sizes; ``pool`` the three pooling sizes (stride 2).
    """

    epochs: int = 75
    batch_size: int = 32
    learning_rate: float = 1e-4
    filters: tuple = (32, 32, 32)
    kernels: tuple = ((3, 3), (3, 3), (2, 2))
    pool: tuple = ((3, 3), (3, 3), (2, 2))
    dense: int = 64
    dropout: float = 0.0
    batch_norm: bool = False
    early_stopping: int = 0          # patience in epochs on validation loss; 0: off
    normalize: bool = False          # standardise each coefficient (statistics of train)
    augment: int = 0                 # augmented copies of each training take (ragalib.augment)
    seed: int = 0

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        data = dict(data)
        for key in ("filters", "kernels", "pool"):
            if key in data:
                data[key] = tuple(tuple(v) if isinstance(v, list) else v for v in data[key])
        return cls(**data)


def build_model(input_shape, n_classes, settings=TrainSettings(), *, train_x=None):
    """The published network, compiled.

    Taught in notebook 05_train_cnn. Input -> three blocks of Conv2D (relu, same padding) and
    MaxPooling2D (stride 2, same padding), optionally with BatchNormalization -> Flatten ->
    Dense (relu), optionally Dropout -> Dense softmax. The published listing leaves out the
    Flatten that its own comment describes; without it the dense layers would act on every
    position of the feature map separately and the output would not be one vector per segment.
    """
    keras = load_keras()
    layers = keras.layers
    model = keras.Sequential(name="raga_cnn")
    model.add(keras.Input(shape=tuple(input_shape)))
    if settings.normalize:
        norm = layers.Normalization(axis=-2)
        if train_x is not None:
            norm.adapt(train_x)
        model.add(norm)
    for filters, kernel, pool in zip(settings.filters, settings.kernels, settings.pool):
        model.add(layers.Conv2D(filters, tuple(kernel), activation="relu", padding="same"))
        model.add(layers.MaxPooling2D(tuple(pool), strides=(2, 2), padding="same"))
        if settings.batch_norm:
            model.add(layers.BatchNormalization())
    model.add(layers.Flatten())
    model.add(layers.Dense(settings.dense, activation="relu"))
    if settings.dropout:
        model.add(layers.Dropout(settings.dropout))
    model.add(layers.Dense(n_classes, activation="softmax"))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=settings.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def layer_table(net):
    """One row per layer of a built network: ``layer``, ``output shape`` (without the batch
    axis) and ``parameters``, as Keras computed them.

    Taught in notebook 05_train_cnn (shown with :func:`ragalib.tables.html_table`).
    """
    return [{"layer": layer.name, "output shape": tuple(layer.output.shape[1:]),
             "parameters": int(layer.count_params())} for layer in net.layers]


def expected_shapes(input_shape, n_classes, settings=TrainSettings()):
    """The output shape of each layer of :func:`build_model` (plain settings: no
    normalisation, batch norm or dropout), computed by hand: a 'same' convolution of stride 1
    keeps the size, ``out = in``; a 'same' max pooling of stride 2 gives ``out = ceil(in / 2)``
    whatever the pool size; Flatten multiplies; each dense layer gives its units.

    Taught in notebook 05_train_cnn, to check :func:`layer_table` against the formula.

    Examples
    --------
    >>> [s for _, s in expected_shapes((216, 13, 1), 10)][-3:]
    [(1728,), (64,), (10,)]
    """
    rows, (h, w, _) = [], input_shape
    for filters in settings.filters:
        rows.append(("conv", (h, w, filters)))
        h, w = -(-h // 2), -(-w // 2)
        rows.append(("pool", (h, w, filters)))
    rows += [("flatten", (h * w * settings.filters[-1],)), ("dense", (settings.dense,)),
             ("softmax", (n_classes,))]
    return rows


def seed_everything(seed):
    """Fixed seeds and deterministic ops: the same data and seed give the same training curve.

    Behind notebook 05_train_cnn (not called there by name).
    """
    k = load_keras()
    import tensorflow as tf

    k.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def train(dataset, settings=TrainSettings(), *, split=None, progress=True, root=None):
    """Train the CNN on a dataset's training part, validating on its validation part.

    Taught in notebook 05_train_cnn.

    Parameters
    ----------
    dataset : ragalib.dataset.Dataset
    settings : TrainSettings
    split : np.ndarray, optional
        Use this split instead of the dataset's by-take split (chapter 05 compares them).
    progress : bool
        An epoch progress bar.
    root : Path, optional
        The recordings folder the dataset was built from, for ``settings.augment`` (default
        ``data/recordings``).

    Returns
    -------
    model : keras.Model
    history : dict
        ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` per epoch.
    """
    keras = load_keras()
    if settings.augment:
        if split is not None:
            raise RagalibError("augmentation adds copies of the training takes: it needs the "
                               "dataset's by-take split, not another split")
        from .augment import augmented

        dataset = augmented(dataset, settings.augment, seed=settings.seed, root=root,
                            progress=progress)
    seed_everything(settings.seed)
    x_train, y_train = dataset.part("train", split=split)
    x_val, y_val = dataset.part("val", split=split)
    if not len(x_train) or not len(x_val):
        raise RagalibError("training needs segments in both the train and val splits")
    model = build_model(x_train.shape[1:], len(dataset.labels), settings, train_x=x_train)
    callbacks = []
    if progress:
        from tqdm.keras import TqdmCallback

        callbacks.append(TqdmCallback(verbose=0, desc=describe_training(
            dataset.config.kind, settings, len(x_train), len(x_val), x_train.shape[1:])))
    if settings.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(
            patience=settings.early_stopping, restore_best_weights=True))
    fit = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=settings.epochs,
                    batch_size=settings.batch_size, shuffle=True, verbose=0,
                    callbacks=callbacks)
    return model, {k: [float(v) for v in values] for k, values in fit.history.items()}


SECONDS_PER_VALUE = 3.2e-7
"""Seconds per input value and epoch (training and validation) on the 2-core laptop of the
README: the basis of the time :func:`describe_training` announces."""


def describe_training(kind, settings, n_train, n_val, shape):
    """One line that says what a training run does and about how long it takes, such as
    ``"training the melody CNN on 720 segments: at most 75 epochs (early stopping), about
    2.3 s each"``.

    Behind notebook 05_train_cnn (not called there by name).
    """
    per_epoch = (n_train + n_val / 3) * float(np.prod(shape)) * SECONDS_PER_VALUE
    stop = " (early stopping)" if settings.early_stopping else ""
    epochs = f"at most {settings.epochs}" if stop else f"{settings.epochs}"
    return (f"training the {kind} CNN on {n_train} segments: {epochs} epochs{stop}, "
            f"about {per_epoch:.1f} s each")


def predict(model, X, *, batch_size=256):
    """Class probabilities, shape (n, n_classes), for CNN-shaped input.

    Taught in notebook 05_train_cnn.

    The model is called directly, batch by batch: ``model.predict`` would build a new graph
    for every new batch size (one per song), which is slow and fills the log with warnings.
    """
    X = np.asarray(X, dtype=np.float32)
    if not len(X):
        return np.zeros((0, model.layers[-1].output.shape[-1]), dtype=np.float32)
    return np.concatenate([np.asarray(model(X[i:i + batch_size], training=False))
                           for i in range(0, len(X), batch_size)])


def evaluate(model, X, y, labels):
    """Accuracy, per-raga precision and recall, and the confusion matrix.

    Taught in notebook 05_train_cnn.

    Returns
    -------
    dict
        ``accuracy``; ``precision`` and ``recall`` (raga -> value); ``confusion``, a list of
        rows (true raga) of counts per predicted raga, in ``labels`` order.
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    predicted = predict(model, X).argmax(axis=1)
    classes = list(range(len(labels)))
    precision, recall, _, _ = precision_recall_fscore_support(
        y, predicted, labels=classes, zero_division=0)
    return {"accuracy": float(np.mean(predicted == y)),
            "precision": dict(zip(labels, map(float, precision))),
            "recall": dict(zip(labels, map(float, recall))),
            "confusion": confusion_matrix(y, predicted, labels=classes).tolist()}


@dataclass
class Bundle:
    """A trained model with everything needed to use it correctly.

    Behind notebook 05_train_cnn (not called there by name).
    """

    model: object
    labels: list
    config: FeatureConfig
    settings: TrainSettings
    metrics: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    path: Path = None
    pitch_model: object = None
    """A :class:`ragalib.pitch_model.PitchModel` that judges songs together with the CNN
    (``pitch_model.json`` in the bundle folder), or None for the CNN alone."""


def _versions():
    import importlib.metadata as md

    names = ("tensorflow-cpu", "tensorflow", "keras", "librosa", "numpy", "ragalib")
    found = {}
    for name in names:
        try:
            found[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return found


def save_bundle(folder, model, *, labels, config, settings, metrics=None, history=None,
                info=None):
    """Write a model bundle atomically: ``model.keras`` and ``bundle.json`` in ``folder``.

    Taught in notebook 05_train_cnn. The bundle is written to a temporary folder beside
    ``folder`` and swapped in by renames, so a crash never leaves half a bundle, and an
    existing bundle is replaced only once the new one is complete.
    """
    folder = Path(folder)
    tmp = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
        model.save(tmp / MODEL_FILE)
        meta = {"labels": list(labels), "feature_config": config.to_dict(),
                "training": settings.to_dict(), "metrics": metrics or {},
                "history": history or {}, "seed": settings.seed, "versions": _versions(),
                **({"info": info} if info else {})}
        (tmp / BUNDLE_JSON).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        os.chmod(tmp, 0o755)
        old = folder.with_name(f".{folder.name}.old")
        if folder.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise_write_failure(folder, exc)
        raise
    return folder


def _check_archive(model_path):
    """A damaged ``model.keras`` said as such: Keras reports a truncated archive as "File
    not found". A ``.keras`` file is a zip archive; its table of contents sits at the end,
    and every member's checksum is tested."""
    import zipfile

    if not os.access(model_path, os.R_OK):
        raise RagalibError(f"{model_path}: cannot be read (permission denied)")
    try:
        with zipfile.ZipFile(model_path) as archive:
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise RagalibError(f"{model_path}: damaged or truncated, not a whole .keras archive "
                           f"({exc}); train the model again") from None
    if broken is not None:
        raise RagalibError(f"{model_path}: damaged ({broken} fails its checksum); train the "
                           "model again")


def load_bundle(folder=None, *, config=None):
    """Load a model bundle (the model in Keras safe mode).

    Taught in notebooks 05_train_cnn, 07_song_detection and 08_similarity.

    Parameters
    ----------
    folder : Path, optional
        Default :func:`ragalib.paths.default_bundle_dir`.
    config : FeatureConfig, optional
        The features you will feed it; refused unless it equals the bundle's.

    Raises
    ------
    RagalibError
        If the folder is not a complete bundle, or ``config`` does not match.
    """
    folder = Path(folder or default_bundle_dir())
    previous = folder.with_name(f".{folder.name}.old")
    if not folder.exists() and previous.exists():   # caught between the two renames of a save
        folder = previous
    meta_path, model_path = folder / BUNDLE_JSON, folder / MODEL_FILE
    if not meta_path.exists() or not model_path.exists():
        raise RagalibError(f"{folder}: not a model bundle (needs {BUNDLE_JSON} and "
                           f"{MODEL_FILE}); `python -m ragalib detect` without --model "
                           f"builds the default one, `python -m ragalib train` trains one")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        bundle_config = FeatureConfig.from_dict(meta["feature_config"])
        labels = [str(label) for label in meta["labels"]]
        settings = TrainSettings.from_dict(meta["training"])
    except (ValueError, KeyError, TypeError, RagalibError) as exc:
        raise RagalibError(f"{meta_path}: not a readable bundle description ({exc})") from None
    if config is not None and config != bundle_config:
        changed = {k: (v, getattr(config, k)) for k, v in bundle_config.to_dict().items()
                   if getattr(config, k) != v}
        detail = ", ".join(f"{k} {a} in the bundle but {b} offered" for k, (a, b)
                           in changed.items())
        raise RagalibError(f"{folder}: feature config does not match the model's ({detail})")
    _check_archive(model_path)
    k = load_keras()
    try:
        model = k.models.load_model(model_path, safe_mode=True)
    except Exception as exc:
        raise RagalibError(f"{model_path}: cannot load the model ({exc})") from None
    outputs = model.layers[-1].output.shape[-1]
    if outputs != len(labels):
        raise RagalibError(f"{folder}: the model has {outputs} outputs but the bundle names "
                           f"{len(labels)} labels")
    pitch = None
    if (folder / PITCH_FILE).exists():
        from .pitch_model import PitchModel

        pitch = PitchModel.load(folder / PITCH_FILE)
        if list(pitch.labels) != labels:
            raise RagalibError(f"{folder}: its pitch model knows other ragas than its CNN")
    return Bundle(model=model, labels=labels, config=bundle_config, settings=settings,
                  metrics=meta.get("metrics", {}), history=meta.get("history", {}),
                  info=meta.get("info", {}), path=folder, pitch_model=pitch)


def evaluate_takes(model, dataset, part="test", *, split=None):
    """Accuracy per *take*: each take's segment probabilities averaged into one answer.

    Taught in notebook 05_train_cnn; the same averaging judges a whole song in chapter 07.
    """
    split = dataset.split if split is None else split
    takes = np.unique(dataset.take[split == part])
    if not len(takes):
        return float("nan")
    right = 0
    for take in takes:
        mask = (dataset.take == take) & (split == part)
        probabilities = predict(model, dataset.X[mask][..., None]).mean(axis=0)
        right += int(np.argmax(probabilities) == dataset.y[mask][0])
    return right / len(takes)


def train_bundle(settings=TrainSettings(), *, config=None, out=None, progress=True):
    """Build (or load) the dataset, train, evaluate on the held-out takes, save a bundle.

    Taught in notebook 05_train_cnn; ``python -m ragalib train`` calls it.

    Returns
    -------
    Bundle
        With ``metrics``: ``test_accuracy`` (segments of the test takes), ``test_take_accuracy``
        (whole takes), ``val_accuracy``, per-raga ``precision`` and ``recall``, ``confusion``.
    """
    from . import dataset as datasets
    from .features import DEFAULT

    config = config or DEFAULT
    data = datasets.build(config, progress=progress)
    net, history = train(data, settings, progress=progress)
    x_test, y_test = data.part("test")
    report = evaluate(net, x_test, y_test, data.labels)
    metrics = {"test_accuracy": report.pop("accuracy"),
               "test_take_accuracy": evaluate_takes(net, data),
               "val_accuracy": evaluate(net, *data.part("val"), data.labels)["accuracy"],
               **report, "test_segments": int(len(y_test)),
               "epochs_trained": len(history["loss"]),
               "weights_of_epoch": (int(np.argmin(history["val_loss"])) + 1
                                    if settings.early_stopping else len(history["loss"]))}
    folder = Path(out or kind_bundle_dir(config.kind, augmented=bool(settings.augment)))
    info = {"dataset_key": data.key, "trained_on": "by-take split of the harmonium and sung takes",
            "augmented_key": _augmented_key(data, settings)}
    save_bundle(folder, net, labels=data.labels, config=config, settings=settings,
                metrics=metrics, history=history, info=info)
    return Bundle(model=net, labels=data.labels, config=config, settings=settings,
                  metrics=metrics, history=history, info=info, path=folder)


def ensure_bundle(settings=TrainSettings(), *, config=None, out=None, progress=True):
    """The bundle at ``out`` if it was trained with ``settings`` on today's dataset, else a
    freshly trained one. Notebooks call this so a second run costs seconds, not minutes.

    Taught in notebooks 05_train_cnn, 06_tuning and 09_robust_features.
    """
    from . import dataset as datasets
    from .features import DEFAULT

    config = config or DEFAULT
    folder = Path(out or kind_bundle_dir(config.kind, augmented=bool(settings.augment)))
    try:
        bundle = load_bundle(folder, config=config)
    except RagalibError:
        bundle = None
    data = datasets.build(config, progress=progress)
    if bundle is not None and bundle.settings == settings \
            and bundle.info.get("dataset_key") == data.key \
            and bundle.info.get("augmented_key") == _augmented_key(data, settings):
        return bundle
    return train_bundle(settings, config=config, out=folder, progress=progress)


def _augmented_key(dataset, settings):
    """The key of the augmented training set ``settings`` asks for (None without one), so
    that a change in how copies are made retrains the bundle."""
    if not settings.augment:
        return None
    from .augment import augmented_key

    return augmented_key(dataset, settings.augment, seed=settings.seed)
