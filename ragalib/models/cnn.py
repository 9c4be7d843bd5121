"""The published CNN: build, train and evaluate it (bundles: :mod:`ragalib.models.bundle`).

Taught in notebook 05_train_cnn. The network is the published one: three Conv2D blocks with
max pooling, a dense layer, softmax, trained with Adam at a learning rate of 0.0001, batch 32,
75 epochs. TensorFlow is imported lazily, and silently, only when a model is built or loaded.
"""

import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import RagalibError
from ..util.progress import keras_callbacks


@contextmanager
def quiet_stderr():
    """Silence file descriptor 2: TensorFlow's C++ start-up noise bypasses Python's stderr.

    Behind notebooks 05_train_cnn and 06_tuning (not called there by name). Meant for imports
    only: everything written to stderr inside the block is lost, Python's tracebacks too.
    """
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
    with quiet_stderr():
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
    augment: int = 0                 # augmented copies of each training take (ragalib.corpus.augment)
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

    Taught in notebook 05_train_cnn (shown with :func:`ragalib.util.tables.html_table`).
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


def train(dataset, settings=TrainSettings(), *, split=None, root=None):
    """Train the CNN on a dataset's training part, validating on its validation part.

    Taught in notebook 05_train_cnn.

    Parameters
    ----------
    dataset : ragalib.corpus.dataset.Dataset
    settings : TrainSettings
    split : np.ndarray, optional
        Use this split instead of the dataset's by-take split (chapter 05 compares them).
    root : Path, optional
        The recordings folder the dataset was built from, for ``settings.augment`` (default
        ``data/recordings``).

    An epoch bar is drawn unless :func:`ragalib.util.progress.quiet` says not.

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
        from ..corpus.augment import augmented

        dataset = augmented(dataset, settings.augment, seed=settings.seed, root=root)
    seed_everything(settings.seed)
    x_train, y_train = dataset.part("train", split=split)
    x_val, y_val = dataset.part("val", split=split)
    if not len(x_train) or not len(x_val):
        raise RagalibError("training needs segments in both the train and val splits")
    model = build_model(x_train.shape[1:], len(dataset.labels), settings, train_x=x_train)
    callbacks = keras_callbacks(describe_training(
        dataset.config.kind, settings, len(x_train), len(x_val), x_train.shape[1:]))
    if settings.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(
            patience=settings.early_stopping, restore_best_weights=True))
    fit = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=settings.epochs,
                    batch_size=settings.batch_size, shuffle=True, verbose=0,
                    callbacks=callbacks)
    return model, {k: [float(v) for v in values] for k, values in fit.history.items()}


SECONDS_PER_VALUE = 3.2e-7
"""Seconds per input value and epoch (training and validation) on the 2-core laptop of
``docs/timings.md``: the basis of the time :func:`describe_training` announces."""


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


def evaluate_takes(model, dataset, part="test", *, split=None):
    """Accuracy per *take*: each take's segment probabilities averaged into one answer.

    Behind notebook 05_train_cnn (not called there by name); the same averaging judges a whole
    song in chapter 07.
    """
    _, takes = answers(model, dataset, part, split=split)
    return float(takes.mean()) if len(takes) else float("nan")


def answers(model, dataset, part="test", *, split=None):
    """Which items of ``part`` the model gets right: ``(segments, takes)``, two boolean
    arrays, the takes in the order of their numbers (each take's segment probabilities
    averaged into one answer).

    Behind notebook 06_tuning (not called there by name): two models scored on the same
    items are compared item by item (:func:`ragalib.util.stats.mcnemar`), not by whether
    their intervals overlap.
    """
    split = dataset.split if split is None else split
    inside = split == part
    probabilities, truth, take_of = (predict(model, dataset.X[inside][..., None]),
                                     dataset.y[inside], dataset.take[inside])
    segments = probabilities.argmax(axis=1) == truth
    takes = [probabilities[mine].mean(axis=0).argmax() == truth[mine][0]
             for mine in (take_of == take for take in np.unique(take_of))]
    return segments, np.asarray(takes, dtype=bool)
