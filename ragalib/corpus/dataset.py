"""The labelled training set: recordings -> 5-second segments -> features, split by take.

Taught in notebook 04_dataset. Mirrors the published preparation (each raga improvised for
about ten minutes on a harmonium in C#, 5-second segments, one MFCC matrix per segment mapped
to its label), with two fixes:

* splits are by *take* (recording), never by random segment: neighbouring 5-second windows
  of one take are near-copies, so a random split would measure memory, not recognition;
* the result is cached under ``data/datasets/`` keyed by the :class:`FeatureConfig` and the
  recordings' *content*; a changed config or recording rebuilds, a damaged cache file is
  detected and rebuilt, and every write is atomic.
"""

import csv
import hashlib
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from ..constants import AUDIO_SUFFIXES
from ..errors import RagalibError, say
from ..features import DEFAULT, FeatureConfig, extract
from ..paths import content_key, datasets_dir, recordings_dir
from ..ragas import raga_ids
from ..util.files import atomic_write
from .takes import SUNG_PREFIX, ensure_recordings

BUILDER_VERSION = 1
"""Part of the cache key: bump it when the way features are built changes."""
SPLITS = ("train", "val", "test")



def scan_recordings(root, *, report=say, ignore=(), tracks=False, any_raga=False):
    """Find the recordings under ``root``: ``{raga_id: [paths sorted by name]}``.

    Taught in notebook 04_dataset.

    Folders that are not raga ids (unless ``any_raga``: then every folder is a raga, the
    catalogue's or not), and files that are not audio by their extension (nor, with
    ``tracks``, pitch tracks: :mod:`ragalib.melody.pitch_track`), are reported through
    ``report`` and skipped, never guessed at; names in ``ignore`` (at the top level) are
    passed over in silence.
    """
    from ..melody.pitch_track import TRACK_SUFFIXES

    suffixes = AUDIO_SUFFIXES | (TRACK_SUFFIXES if tracks else set())
    root = Path(root)
    if not root.is_dir():
        raise RagalibError(f"{root}: no recordings folder")
    valid = raga_ids()
    found = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name in ignore:
            continue
        if not entry.is_dir() or (entry.name not in valid and not any_raga):
            report(f"{entry}: skipped: not a raga folder (valid: {', '.join(valid)})")
            continue
        files = []
        for path in sorted(entry.iterdir()):
            if path.name.startswith("."):
                continue
            if path.suffix.lower() in suffixes and path.is_file():
                files.append(path)
            elif path.suffix.lower() in suffixes and not path.is_dir():
                report(f"{path}: skipped: not a regular file (a pipe, device or socket)")
            else:
                report(f"{path}: skipped: not an audio file{' or pitch track' * tracks} by "
                       "its name")
        if files:
            found[entry.name] = files
    if not found:
        raise RagalibError(f"{root}: no recordings in any raga folder")
    return found


def read_tonics(root):
    """``{relative path: tonic Hz}`` from ``root / "tonics.csv"``, empty without one.

    Behind notebook 07_song_detection (not called there by name).

    Raises
    ------
    RagalibError
        Naming the file and the line, for a row that is not ``file,tonic_hz`` with a
        positive number.
    """
    path = Path(root) / "tonics.csv"
    if not path.exists():
        return {}
    tonics = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for n, row in enumerate(csv.DictReader(handle), 2):
            try:
                hz = float(row["tonic_hz"])
                name = row["file"].strip()
            except (KeyError, TypeError, ValueError, AttributeError):
                raise RagalibError(f"{path}: line {n}: expected columns file,tonic_hz") from None
            if not hz > 0 or not name:
                raise RagalibError(f"{path}: line {n}: tonic_hz must be a positive number")
            tonics[name] = hz
    return tonics


def folder_rows(root, report=say, any_raga=False):
    """The rows of a folder laid out by raga (``path``, ``raga``, ``tonic_hz`` from its
    ``tonics.csv`` or None).

    Behind notebook 11_real_singing (not called there by name).
    """
    from ..melody.pitch_track import NOT_TRACKS

    tonics = read_tonics(root)
    files = scan_recordings(root, report=report, ignore=NOT_TRACKS, tracks=True,
                            any_raga=any_raga)
    return [{"path": path, "raga": raga,
             "tonic_hz": tonics.get(str(path.relative_to(root)), tonics.get(path.name))}
            for raga, paths in files.items() for path in paths]


def recordings_table(files):
    """Takes and minutes of audio per raga, from file headers (nothing is decoded).

    ``files`` is what :func:`scan_recordings` returns. Taught in notebook 04_dataset.
    """
    import soundfile

    def minutes(path):
        try:
            return soundfile.info(path).duration / 60.0
        except Exception:
            return 0.0

    return [{"raga": raga, "takes": len(paths), "minutes": sum(map(minutes, paths))}
            for raga, paths in files.items()]


def assign_splits(names, *, seed=0):
    """Split one raga's takes into train/val/test by take, deterministically, family by family
    (the harmonium takes ``synth_*``, the sung ones ``sung_*``, and your own recordings), so
    that each family is heard in training and, given two takes or more, in the test.

    Behind notebook 04_dataset (not called there by name).

    Within a family, one take: train only. Two: train and test. Three or more: about 20% (at
    least one) to test, as many to validation, the rest to training, chosen by a seeded
    shuffle of the sorted names.

    Returns
    -------
    dict
        Take name -> ``"train"``, ``"val"`` or ``"test"``.
    """
    families = {}
    for name in names:
        family = name.split("_")[0] if name.split("_")[0] in ("synth", SUNG_PREFIX) else ""
        families.setdefault(family, []).append(name)
    if len(families) > 1:
        return {name: role for group in families.values()
                for name, role in assign_splits(group, seed=seed).items()}
    names = sorted(names)
    order = np.random.default_rng(seed).permutation(len(names))
    n = len(names)
    n_test = 0 if n < 2 else max(1, round(0.2 * n))
    n_val = 0 if n < 3 else max(1, round(0.2 * n))
    roles = ["test"] * n_test + ["val"] * n_val + ["train"] * (n - n_test - n_val)
    return {names[i]: role for i, role in zip(order, roles)}


def random_segment_split(n, *, seed=0, fractions=(0.6, 0.2, 0.2)):
    """A *random split of segments*, ignoring takes: the split this series warns against.

    Taught in notebooks 04_dataset and 05_train_cnn, to show how much it flatters a model.

    Returns
    -------
    np.ndarray, shape (n,), of ``"train"``, ``"val"``, ``"test"``
    """
    order = np.random.default_rng(seed).permutation(n)
    cut = np.cumsum(np.round(np.array(fractions) * n).astype(int))[:2]
    split = np.empty(n, dtype=object)
    for name, part in zip(SPLITS, np.split(order, cut)):
        split[part] = name
    return split.astype(str)


@dataclass
class Dataset:
    """Segment features with their labels, takes and by-take split.

    Behind notebook 04_dataset (not called there by name).

    Attributes
    ----------
    X : np.ndarray, shape (N, frames, n_features), float32
    y : np.ndarray, shape (N,), int64
        Index into ``labels``.
    labels : list of str
        Sorted raga ids.
    take : np.ndarray, shape (N,), int64
        Index into ``takes``.
    takes : list of str
        Recording paths relative to the recordings folder, e.g. ``"yaman/synth_take1.wav"``.
    split : np.ndarray, shape (N,), str
        ``"train"``, ``"val"`` or ``"test"``, the same for every segment of a take.
    start : np.ndarray, shape (N,), float64
        Seconds from the start of its take where each segment begins.
    config : FeatureConfig
    key : str
        The cache key: config, builder version and the recordings' content.
    """

    X: np.ndarray
    y: np.ndarray
    labels: list
    take: np.ndarray
    takes: list
    split: np.ndarray
    start: np.ndarray
    config: FeatureConfig
    key: str

    def take_roles(self):
        """``{"raga/take.wav": "train" | "val" | "test"}``: the split, take by take. Other
        models trained on these recordings use it, so no test take is ever learned from."""
        return {self.takes[t]: str(self.split[np.flatnonzero(self.take == t)[0]])
                for t in np.unique(self.take)}

    def part(self, name, *, split=None):
        """``(X, y)`` of one split, X shaped for the CNN: (n, frames, n_features, 1).

        ``split`` overrides the stored by-take split (e.g. with :func:`random_segment_split`).
        """
        mask = (self.split if split is None else split) == name
        return self.X[mask][..., None], self.y[mask]

    def takes_table(self, ragas=None):
        """One row per take: its name, split and number of segments (for a notebook table)."""
        return [{"take": name, "split": str(self.split[self.take == i][0]),
                 "segments": int(np.sum(self.take == i))}
                for i, name in enumerate(self.takes)
                if ragas is None or name.split("/")[0] in ragas]

    def counts(self):
        """``{raga: {"train": n, "val": n, "test": n, "takes": n}}`` segment counts."""
        table = {}
        for i, raga in enumerate(self.labels):
            mine = self.y == i
            table[raga] = {s: int(np.sum(mine & (self.split == s))) for s in SPLITS}
            table[raga]["takes"] = len(set(self.take[mine].tolist()))
        return table


def _content_key(files, config):
    return content_key("dataset", BUILDER_VERSION, config.to_json(),
                       *((f"{raga}/{path.name}", path)
                         for raga, paths in sorted(files.items()) for path in paths))


def _array_digest(*arrays):
    digest = hashlib.sha1()
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


def cache_paths(config, cache_dir=None):
    """The ``.npz`` training file and the published-structure ``.json`` for a config (the
    ``.json`` is written for MFCC datasets only).

    Taught in notebook 04_dataset.
    """
    folder = Path(cache_dir or datasets_dir())
    stem = f"{config.kind}-{config.id}"
    return folder / f"{stem}.npz", folder / f"{stem}.json"


def save_cache(dataset, npz_path, json_path=None):
    """Write a dataset to its ``.npz`` cache (and, with ``json_path``, the published JSON
    structure), atomically.

    Behind notebook 04_dataset (not called there by name).
    """
    meta = {"labels": dataset.labels, "takes": dataset.takes, "config": dataset.config.to_dict(),
            "key": dataset.key,
            "digest": _array_digest(dataset.X, dataset.y, dataset.take, dataset.start,
                                    dataset.split)}

    def write_npz(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, X=dataset.X, y=dataset.y, take=dataset.take, start=dataset.start,
                     split=dataset.split, meta=np.array(json.dumps(meta)))

    def write_json(tmp):  # the published structure: {"mapping", "labels", "mfcc"}
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"mapping": dataset.labels, "labels": dataset.y.tolist(),
                       dataset.config.kind: np.round(dataset.X, 4).tolist()}, f)

    if json_path is not None:
        atomic_write(json_path, write_json)
    atomic_write(npz_path, write_npz)  # last: its presence means both are complete


def load_cache(npz_path, key, report=say):
    """The cached dataset if it is intact and its key matches, else None.

    Behind notebook 04_dataset (not called there by name).
    """
    try:
        with np.load(npz_path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {k: data[k] for k in ("X", "y", "take", "start", "split")}
    except FileNotFoundError:
        return None
    except Exception as exc:  # truncated zip, bad header, missing member...
        report(f"{npz_path}: damaged cache ({type(exc).__name__}); rebuilding")
        return None
    if meta.get("key") != key:
        return None
    if meta.get("digest") != _array_digest(arrays["X"], arrays["y"], arrays["take"],
                                           arrays["start"], arrays["split"]):
        report(f"{npz_path}: damaged cache (checksum mismatch); rebuilding")
        return None
    return Dataset(labels=meta["labels"], takes=meta["takes"], key=key,
                   config=FeatureConfig.from_dict(meta["config"]), **arrays)


def build(config=DEFAULT, *, root=None, cache_dir=None, force=False, synthesise=True, report=say):
    """The dataset for ``config``: loaded from the cache when it is valid, else built.

    Taught in notebook 04_dataset. Renders any missing synthesised takes first (see
    :func:`ragalib.corpus.takes.ensure_recordings`); your own recordings in the same folders
    are used beside them. Recordings that cannot be read, or are shorter than one segment,
    are reported through ``report`` and skipped.

    Parameters
    ----------
    config : FeatureConfig
    root : Path, optional
        The recordings folder; default ``data/recordings``.
    cache_dir : Path, optional
        Default ``data/datasets``.
    force : bool
        Rebuild even if the cache is valid.
    synthesise : bool
        Render missing synthesised takes; ``False`` uses only what is in the folder.

    Returns
    -------
    Dataset
    """
    root = Path(root or recordings_dir())
    if root.exists() and not root.is_dir():
        raise RagalibError(f"{root}: is a file, not a recordings folder")
    if synthesise:
        ensure_recordings(root)
    files = scan_recordings(root, report=report)
    key = _content_key(files, config)
    npz_path, json_path = cache_paths(config, cache_dir)
    if not force:
        cached = load_cache(npz_path, key, report)
        if cached is not None:
            return cached
    from ..util.parallel import map_in_workers

    loaded = []
    jobs = [(raga, path) for raga, paths in files.items() for path in paths]
    for (raga, path), (feats, problem) in zip(jobs, map_in_workers(
            partial(_take_features, config=config), [path for _, path in jobs],
            desc=f"{config.kind} features of {len(jobs)} takes")):
        if problem is not None:
            report(f"{problem}; skipped")
            continue
        loaded.append((raga, path.name, feats))
    if not loaded:
        raise RagalibError(f"{root}: no usable recordings (see the messages above)")
    labels = raga_ids()
    roles = {raga: assign_splits([name for r, name, _ in loaded if r == raga])
             for raga in {r for r, _, _ in loaded}}
    sizes = [len(feats) for _, _, feats in loaded]
    dataset = Dataset(
        X=np.concatenate([feats for _, _, feats in loaded]),
        y=np.repeat([labels.index(raga) for raga, _, _ in loaded], sizes).astype(np.int64),
        labels=labels, take=np.repeat(np.arange(len(loaded)), sizes).astype(np.int64),
        takes=[f"{raga}/{name}" for raga, name, _ in loaded],
        split=np.repeat([roles[raga][name] for raga, name, _ in loaded], sizes).astype(str),
        start=np.concatenate([np.arange(n) * config.segment_seconds for n in sizes]),
        config=config, key=key)
    # The published JSON structure is for the published features: as text, a melody or chroma
    # dataset would take longer to write (about 20 s) than to compute.
    save_cache(dataset, npz_path, json_path if config.kind == "mfcc" else None)
    return dataset


def _take_features(path, *, config):
    """One recording's segment features, or ``(None, the reason it cannot be used)``; a
    worker's share of :func:`build`."""
    from ..audio import load, segments

    try:
        parts = segments(load(path, sr=config.sr), config=config, source=path)
    except RagalibError as exc:
        return None, str(exc)
    return extract(parts, config=config), None


def leakage_report(dataset, split=None):
    """How a split lets a model *remember* rather than recognise.

    Taught in notebook 04_dataset. Each segment is summarised by the mean and spread of its
    features over time; a 1-nearest-neighbour classifier trained on the split's training part
    labels its test part.

    Returns
    -------
    dict
        ``accuracy`` of that classifier, and ``same_take``: the share of test segments whose
        nearest training segment comes from the *same take*. A by-take split makes it 0;
        a random split lets a model score by recognising the recording session.
    """
    from sklearn.neighbors import KNeighborsClassifier

    split = dataset.split if split is None else split
    X = np.concatenate([dataset.X.mean(axis=1), dataset.X.std(axis=1)], axis=1)
    X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-6)
    train, test = split == "train", split == "test"
    knn = KNeighborsClassifier(n_neighbors=1).fit(X[train], dataset.y[train])
    nearest = np.flatnonzero(train)[knn.kneighbors(X[test], return_distance=False)[:, 0]]
    return {"accuracy": float(knn.score(X[test], dataset.y[test])),
            "same_take": float(np.mean(dataset.take[nearest] == dataset.take[test]))}
