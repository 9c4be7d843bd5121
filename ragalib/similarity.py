"""Songs that sound alike: embeddings, a catalogue index and "you may also like".

Taught in notebook 08_similarity. A song's *embedding* is what the trained network thinks of
it just before deciding: the activations of the layer before the softmax, averaged over the
song's 5-second segments (after the same percussion suppression and transposition to C# that
detection uses) and scaled to unit length. Songs whose embeddings point the same way are
recommended for each other; the cosine of the angle between them is their similarity.

The baseline embedding is the plain mean of a song's MFCCs (c0 left out, as in chapter 03).
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import RagalibError
from .files import atomic_write

INDEX_VERSION = 1
"""Part of an index's key: bump it when embeddings are computed differently."""
METHODS = ("cnn", "mfcc-mean")


def _unit(v):
    norm = np.linalg.norm(v)
    if not np.isfinite(norm) or norm == 0:
        raise RagalibError("the embedding is zero: nothing to compare")
    return (v / norm).astype(np.float32)


def embedding_model(bundle):
    """A Keras model that maps a batch of segments to the activations before the softmax."""
    from .model import load_keras

    k = load_keras()
    net = bundle.model
    return k.Model(inputs=net.inputs[0], outputs=net.layers[-2].output)


def embed(y, bundle, *, method="cnn", name="<signal>", pitch_model=None, embedder=None):
    """A song's unit-length embedding.

    Parameters
    ----------
    y : np.ndarray
        Mono signal at ``bundle.config.sr``.
    method : "cnn" or "mfcc-mean"
        The network's pre-softmax activations, or the MFCC-mean baseline.
    embedder : keras.Model, optional
        :func:`embedding_model` of ``bundle``, to build it only once for many songs.
    """
    from . import detect, features

    if method not in METHODS:
        raise RagalibError(f"unknown embedding {method!r}: choose one of {', '.join(METHODS)}")
    if method == "mfcc-mean":                     # timbre alone: no tonic, no transposition
        return _unit(features.mfcc_profile(detect.prepare(y, bundle.config.sr, tonic=None)[0]))
    y, info = detect.prepare(y, bundle.config.sr, pitch_model=pitch_model or bundle.pitch_model,
                             shift_audio=False)
    X, _ = detect.features_at_target(y, bundle.config, name=name, shift=info["shift"],
                                     audio_shifted=info["audio_shifted"])
    embedder = embedder or embedding_model(bundle)
    return _unit(np.asarray(embedder(X[..., None], training=False)).mean(axis=0))


@dataclass
class Index:
    """Embeddings of a catalogue of songs, ready for nearest-neighbour queries."""

    files: list           # file names inside the catalogue folder
    ragas: list           # raga per song (from the folder's manifest), or None
    embeddings: np.ndarray   # (songs, dims), unit rows
    method: str
    key: str
    folder: Path = None

    def neighbours(self, vector, k=5, *, exclude=()):
        """The ``k`` most similar songs to ``vector``: ``[(file, raga, similarity), ...]``,
        best first; files named in ``exclude`` are never returned."""
        similarity = self.embeddings @ np.asarray(vector, dtype=np.float32)
        exclude = set(exclude)
        order = [i for i in np.argsort(-similarity, kind="stable") if self.files[i] not in exclude]
        return [(self.files[i], self.ragas[i], float(similarity[i])) for i in order[:k]]


def _catalogue(folder):
    from .dataset import AUDIO_SUFFIXES

    folder = Path(folder)
    if not folder.is_dir():
        raise RagalibError(f"{folder}: no such catalogue folder")
    files = sorted(p for p in folder.iterdir()
                   if p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith("."))
    if not files:
        raise RagalibError(f"{folder}: the catalogue holds no audio files")
    return files


def _ragas(folder):
    """Raga per file name from the folder's manifest, if it has one."""
    from .synth.songs import MANIFEST, read_manifest

    if not (Path(folder) / MANIFEST).exists():
        return {}
    return {row["file"]: row["raga"] for row in read_manifest(folder)}


def _index_key(files, bundle, method, pitch_model):
    from .synth.songs import MANIFEST

    digest = hashlib.sha1(f"index {INDEX_VERSION} {method} ".encode())
    digest.update((Path(bundle.path) / "bundle.json").read_bytes() if bundle.path else b"")
    if method == "cnn":                  # its Sa, and so its transposition, come from here
        digest.update(pitch_model.key.encode())
    manifest = files[0].parent / MANIFEST
    if manifest.exists():
        digest.update(manifest.read_bytes())
    for path in files:
        digest.update(f"|{path.name}|".encode() + path.read_bytes())
    return digest.hexdigest()


def index_path(folder, method):
    """Where the index of a catalogue folder is cached: ``data/indexes/<folder hash>-<method>.npz``."""
    from .paths import work_dir

    tag = hashlib.sha1(str(Path(folder).resolve()).encode()).hexdigest()[:12]
    return work_dir() / "indexes" / f"{tag}-{method}.npz"


def build_index(folder, bundle, *, method="cnn", pitch_model=None, progress=True, cache=True):
    """Embed every song in ``folder``; reuse the cached index while nothing has changed.

    Taught in notebook 08_similarity. The cache is keyed by the bundle and by every song's
    bytes, so a changed, added or removed song (or another model) rebuilds it. A song that
    cannot be read is a one-line error naming it.
    """
    from tqdm.auto import tqdm

    from .audio import load
    from .pitch_model import ensure_pitch_model

    files = _catalogue(folder)
    if method == "cnn":
        pitch_model = pitch_model or bundle.pitch_model or ensure_pitch_model(progress=progress)
    key = _index_key(files, bundle, method, pitch_model)
    path = index_path(folder, method)
    if cache and path.exists():
        try:
            with np.load(path, allow_pickle=False) as saved:
                meta = json.loads(str(saved["meta"]))
                if meta["key"] == key:
                    return Index(meta["files"], meta["ragas"], saved["embeddings"], method,
                                 key, Path(folder))
        except (OSError, ValueError, KeyError):
            pass                                   # a damaged cache is simply rebuilt
    embedder = embedding_model(bundle) if method == "cnn" else None
    ragas = _ragas(folder)
    vectors = []
    for song in tqdm(files, desc="indexing songs", disable=not progress):
        try:
            vectors.append(embed(load(song, sr=bundle.config.sr), bundle, method=method,
                                 name=str(song), pitch_model=pitch_model, embedder=embedder))
        except RagalibError as exc:
            where = "" if str(song) in str(exc) else f"{song}: "
            raise RagalibError(f"{where}{exc}") from None
    index = Index([p.name for p in files], [ragas.get(p.name) for p in files],
                  np.stack(vectors), method, key, Path(folder))
    if cache:
        meta = json.dumps({"key": key, "files": index.files, "ragas": index.ragas})
        def write(tmp):
            with open(tmp, "wb") as f:
                np.savez(f, embeddings=index.embeddings, meta=np.array(meta))

        atomic_write(path, write)
    return index


def recommend(song, index, bundle, *, k=5, pitch_model=None):
    """The ``k`` catalogue songs most similar to ``song`` (a path), never the song itself.

    Taught in notebook 08_similarity.

    Returns
    -------
    list of (file, raga, similarity)
    """
    from .audio import load

    song = Path(song)
    if index.folder is not None and song.resolve().parent == index.folder.resolve() \
            and song.name in index.files:
        vector = index.embeddings[index.files.index(song.name)]
        itself = {song.name}
    else:
        vector = embed(load(song, sr=bundle.config.sr), bundle, method=index.method,
                       name=str(song), pitch_model=pitch_model)
        # A copy of a catalogue song kept elsewhere is still the song itself.
        itself = {f for f, v in zip(index.files, index.embeddings) if float(v @ vector) > 1 - 1e-6}
    return index.neighbours(vector, k, exclude=itself)


def precision_at_k(index, *, k=5):
    """How well an index's neighbours share a raga, each song queried against the others.

    Returns
    -------
    dict
        ``precision@k``: the share of the k recommendations in the query's raga, averaged;
        ``nearest``: the share of songs whose nearest neighbour is in their raga.
    """
    if any(r is None for r in index.ragas):
        raise RagalibError("the catalogue has no manifest naming each song's raga")
    shares, nearest = [], []
    for i, vector in enumerate(index.embeddings):
        found = index.neighbours(vector, k, exclude=(index.files[i],))
        hits = [raga == index.ragas[i] for _, raga, _ in found]
        shares.append(np.mean(hits))
        nearest.append(hits[0])
    return {f"precision@{k}": float(np.mean(shares)), "nearest": float(np.mean(nearest))}
