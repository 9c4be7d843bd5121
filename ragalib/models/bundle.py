"""Model bundles: a trained network with everything needed to use it correctly, stored,
loaded, and trained once then reused.

Taught in notebook 05_train_cnn. A bundle is a folder: ``model.keras`` (the network, loaded in
Keras safe mode), ``bundle.json`` (labels, the :class:`ragalib.features.FeatureConfig`, the
training settings, metrics, history, versions) and, optionally, ``pitch_model.json`` (the pitch
model that judges songs with the CNN). It is written to a temporary folder and swapped in by
renames, so a crash never leaves half a bundle.
"""

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import RagalibError
from ..features import FeatureConfig
from ..paths import default_bundle_dir, kind_bundle_dir
from ..ragas import catalogue_key, catalogue_source, raga_ids
from ..util.files import raise_write_failure
from .cnn import TrainSettings, evaluate, evaluate_takes, load_keras, train

BUNDLE_JSON = "bundle.json"
MODEL_FILE = "model.keras"
PITCH_FILE = "pitch_model.json"
"""Optional: the pitch model that judges songs with the CNN (see :class:`Bundle`)."""


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
    """A :class:`ragalib.melody.pitch_model.PitchModel` that judges songs together with the CNN
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

    Behind notebook 05_train_cnn (not called there by name).
    The bundle is written to a temporary folder beside
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
                "catalogue": {"name": catalogue_source().stem, "key": catalogue_key()},
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
        if not isinstance(meta["labels"], list) or not all(
                isinstance(label, str) for label in meta["labels"]):
            raise TypeError("labels must be a list of raga ids")
        labels = list(meta["labels"])
        settings = TrainSettings.from_dict(meta["training"])
        for part in ("metrics", "history", "info"):
            if not isinstance(meta.get(part, {}), dict):
                raise TypeError(f"{part} must be an object")
    except (ValueError, KeyError, TypeError, AttributeError, RagalibError) as exc:
        raise RagalibError(f"{meta_path}: not a readable bundle description ({exc})") from None
    trained_with = meta.get("catalogue")
    if isinstance(trained_with, dict) and trained_with.get("key") != catalogue_key():
        raise RagalibError(f"{folder}: trained on the ragas of the catalogue "
                           f"{trained_with.get('name')!r}, not those of "
                           f"{catalogue_source().stem!r}; judge with the catalogue it was "
                           f"trained on (--catalogue)")
    unknown = [label for label in labels if label not in raga_ids()]
    if unknown or len(set(labels)) != len(labels):
        raise RagalibError(f"{meta_path}: its labels are not distinct ragas of the catalogue "
                           f"({', '.join(map(repr, unknown or labels))})")
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
    takes = tuple(model.input_shape[1:])
    if takes != tuple(bundle_config.input_shape):
        raise RagalibError(f"{folder}: the model takes segments of shape {takes} but its "
                           f"feature settings make {tuple(bundle_config.input_shape)}")
    pitch = None
    if (folder / PITCH_FILE).exists():
        from ..melody.pitch_model import PitchModel

        pitch = PitchModel.load(folder / PITCH_FILE)
        if list(pitch.labels) != labels:
            raise RagalibError(f"{folder}: its pitch model knows other ragas than its CNN")
    return Bundle(model=model, labels=labels, config=bundle_config, settings=settings,
                  metrics=meta.get("metrics", {}), history=meta.get("history", {}),
                  info=meta.get("info", {}), path=folder, pitch_model=pitch)


def train_bundle(settings=TrainSettings(), *, config=None, out=None):
    """Build (or load) the dataset, train, evaluate on the held-out takes, save a bundle.

    Behind notebook 05_train_cnn (not called there by name); ``python -m ragalib train`` calls it.

    Returns
    -------
    Bundle
        With ``metrics``: ``test_accuracy`` (segments of the test takes), ``test_take_accuracy``
        (whole takes), ``val_accuracy``, per-raga ``precision`` and ``recall``, ``confusion``.
    """
    from ..corpus import dataset as datasets
    from ..features import DEFAULT

    config = config or DEFAULT
    data = datasets.build(config)
    net, history = train(data, settings)
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


def ensure_bundle(settings=TrainSettings(), *, config=None, out=None):
    """The bundle at ``out`` if it was trained with ``settings`` on today's dataset, else a
    freshly trained one. Notebooks call this so a second run costs seconds, not minutes.

    Taught in notebooks 05_train_cnn, 06_tuning and 09_robust_features.
    """
    from ..corpus import dataset as datasets
    from ..features import DEFAULT

    config = config or DEFAULT
    folder = Path(out or kind_bundle_dir(config.kind, augmented=bool(settings.augment)))
    try:
        bundle = load_bundle(folder, config=config)
    except RagalibError:
        bundle = None
    data = datasets.build(config)
    if bundle is not None and bundle.settings == settings \
            and bundle.info.get("dataset_key") == data.key \
            and bundle.info.get("augmented_key") == _augmented_key(data, settings):
        return bundle
    return train_bundle(settings, config=config, out=folder)


def _augmented_key(dataset, settings):
    """The key of the augmented training set ``settings`` asks for (None without one), so
    that a change in how copies are made retrains the bundle."""
    if not settings.augment:
        return None
    from ..corpus.augment import augmented_key

    return augmented_key(dataset, settings.augment, seed=settings.seed)
