"""Songs that sound alike: embeddings, a catalogue index and "you may also like".

Taught in notebook 08_similarity. A song's *embedding* is what the trained network thinks of
it just before deciding: the activations of the layer before the softmax, averaged over the
song's 5-second segments (after the same percussion suppression and transposition to C# that
detection uses) and scaled to unit length. Songs whose embeddings point the same way are
recommended for each other; the cosine of the angle between them is their similarity.

The baseline embedding is the plain mean of a song's MFCCs (c0 left out, as in chapter 03).
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import RagalibError, say
from .paths import content_key, index_path
from .util.files import atomic_write, file_digest

INDEX_VERSION = 1
"""Part of an index's key: bump it when embeddings are computed differently."""
METHODS = ("cnn", "mfcc-mean")


def _unit(v):
    norm = np.linalg.norm(v)
    if not np.isfinite(norm) or norm == 0:
        raise RagalibError("the embedding is zero: nothing to compare")
    return (v / norm).astype(np.float32)


def embedding_model(bundle):
    """A Keras model that maps a batch of segments to the activations before the softmax.

    Behind notebook 08_similarity (not called there by name).
    """
    from .models.cnn import load_keras

    k = load_keras()
    net = bundle.model
    return k.Model(inputs=net.inputs[0], outputs=net.layers[-2].output)


def embed(y, bundle, *, method="cnn", name="<signal>", pitch_model=None, embedder=None):
    """A song's unit-length embedding.

    Behind notebook 08_similarity (not called there by name).

    Parameters
    ----------
    y : np.ndarray
        Mono signal at ``bundle.config.sr``.
    method : "cnn" or "mfcc-mean"
        The network's pre-softmax activations, or the MFCC-mean baseline.
    embedder : keras.Model, optional
        :func:`embedding_model` of ``bundle``, to build it only once for many songs.
    """
    from .detection.evidence import pitch_model_for

    needs = ["auto"] if method == "cnn" else []      # the baseline reads no tonic
    inputs = embedding_input(y, bundle.config, method=method, name=name,
                             pitch_model=pitch_model_for(pitch_model, bundle.pitch_model,
                                                         tonics=needs))
    return finish_embedding(inputs, bundle, method=method, embedder=embedder)


def embedding_input(y, config, *, method="cnn", name="<signal>", pitch_model=None):
    """Everything an embedding needs from the audio, without the network.

    Behind notebook 08_similarity (not called there by name).

    For "cnn", the features of the song's loud segments after separation, the tonic and
    the move to C# (as detection does them); for "mfcc-mean", the MFCC profile after
    separation alone: timbre, no tonic, no transposition. This is the slow part of indexing,
    and it runs in worker processes (see :mod:`ragalib.util.parallel`).
    """
    from . import features
    from .audio import suppress_percussion
    from .detection.evidence import PreparedSong, resolve_tonic

    if method not in METHODS:
        raise RagalibError(f"unknown embedding {method!r}: choose one of {', '.join(METHODS)}")
    if method == "mfcc-mean":
        return features.mfcc_profile(suppress_percussion(y))
    song = PreparedSong(suppress_percussion(y), sr=config.sr, name=name)
    return song.features(config, resolve_tonic(song, pitch_model=pitch_model).shift)


def finish_embedding(inputs, bundle, *, method="cnn", embedder=None):
    """The unit-length embedding from :func:`embedding_input`: for "cnn", the network's
    pre-softmax activations averaged over the segments.

    Behind notebook 08_similarity (not called there by name).
    """
    if method == "mfcc-mean":
        return _unit(inputs)
    embedder = embedder or embedding_model(bundle)
    return _unit(np.asarray(embedder(inputs[..., None], training=False)).mean(axis=0))


def song_input(path, config, method, pitch_model):
    """:func:`embedding_input` of an audio file; an error names the file.

    Behind notebook 08_similarity (not called there by name).
    """
    from .audio import load

    try:
        return embedding_input(load(path, sr=config.sr), config, method=method,
                               name=str(path), pitch_model=pitch_model)
    except RagalibError as exc:
        where = "" if str(path) in str(exc) else f"{path}: "
        raise RagalibError(f"{where}{exc}") from None


def _song_input_or_reason(path, **kwargs):
    """``(song_input(path), None)``, or ``(None, reason)`` for a song that cannot be indexed."""
    try:
        return song_input(path, **kwargs), None
    except RagalibError as exc:
        return None, str(exc)



@dataclass
class Index:
    """Embeddings of a catalogue of songs, ready for nearest-neighbour queries.

    Behind notebook 08_similarity (not called there by name).
    """

    files: list           # file names inside the catalogue folder
    ragas: list           # raga per song (from the folder's manifest), or None
    embeddings: np.ndarray   # (songs, dims), unit rows
    method: str
    key: str
    folder: Path = None

    def neighbours(self, vector, k=5, *, exclude=()):
        """The ``k`` most similar songs to ``vector``: ``[(file, raga, similarity), ...]``,
        best first; files named in ``exclude`` are never returned."""
        vector = np.asarray(vector, dtype=np.float32)
        if vector.shape != self.embeddings.shape[1:]:
            where = (f"delete {index_path(self.folder, self.method)} to build it again"
                     if self.folder is not None else "build it again")
            raise RagalibError(f"{self.folder or 'the index'}: its index holds "
                               f"{self.embeddings.shape[1]}-number embeddings and the model "
                               f"makes {vector.size}: {where}")
        similarity = self.embeddings @ vector
        exclude = set(exclude)
        order = [i for i in np.argsort(-similarity, kind="stable") if self.files[i] not in exclude]
        return [(self.files[i], self.ragas[i], float(similarity[i])) for i in order[:k]]


def _catalogue(folder):
    from .audio import audio_files

    folder = Path(folder)
    if not folder.is_dir():
        raise RagalibError(f"{folder}: no such catalogue folder")
    files = audio_files(folder)
    if not files:
        raise RagalibError(f"{folder}: the catalogue holds no audio files")
    return files


def _ragas(folder):
    """Raga per file name from the folder's manifest, if it has one."""
    from .corpus.songs import MANIFEST, read_manifest

    if not (Path(folder) / MANIFEST).exists():
        return {}
    return {row["file"]: row["raga"] for row in read_manifest(folder)}


def _model_key(bundle, method, pitch_model):
    """What every embedding in an index depends on besides its song."""
    from .models.bundle import BUNDLE_JSON

    if bundle.path:
        model = (Path(bundle.path) / BUNDLE_JSON,)
    elif method == "cnn":                # a model never saved: its weights are all it has
        model = tuple(np.ascontiguousarray(w).tobytes() for w in bundle.model.get_weights())
    else:
        model = ()
    # With the CNN, the song's Sa (and so its transposition) comes from the pitch model.
    return content_key("index", INDEX_VERSION, method, model,
                       pitch_model.key if method == "cnn" else None)


def _index_key(model_key, files, digests):
    from .corpus.songs import MANIFEST

    manifest = files[0].parent / MANIFEST
    return content_key("index of songs", INDEX_VERSION, model_key,
                       manifest if manifest.exists() else None,
                       *((path.name, song) for path, song in zip(files, digests)))


def _read_saved(path):
    """The saved index's metadata and embeddings.

    Raises
    ------
    ValueError
        Saying what is wrong with a damaged index: unreadable, truncated, not an index,
        embeddings that are not unit rows of finite numbers, or lists that disagree.
    """
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as saved:
            meta = json.loads(str(saved["meta"]))
            embeddings = saved["embeddings"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError,
            zipfile.BadZipFile) as exc:
        raise ValueError(f"unreadable: {type(exc).__name__}") from None
    if not isinstance(meta, dict) or not all(isinstance(meta.get(k), list)
                                             for k in ("files", "digests", "ragas")):
        raise ValueError("not an index of this library")
    if embeddings.ndim != 2 or not np.issubdtype(embeddings.dtype, np.floating):
        raise ValueError(f"embeddings of shape {embeddings.shape} and type {embeddings.dtype}")
    if not np.isfinite(embeddings).all() or not np.allclose(
            np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-3):
        raise ValueError("embeddings that are not unit rows of finite numbers")
    if not len(embeddings) == len(meta["files"]) == len(meta["digests"]) == len(meta["ragas"]) \
            or meta.get("dim", embeddings.shape[1]) != embeddings.shape[1]:
        raise ValueError("its lists and embeddings disagree")
    return meta, embeddings


def build_index(folder, bundle, *, method="cnn", pitch_model=None, cache=True,
                workers=None, scheduler=None, report=say, only=None):
    """Embed every song in ``folder``; reuse what is cached while nothing has changed.

    Taught in notebook 08_similarity. The cache is keyed by the bundle, the pitch model and
    every song's bytes. A changed or added song is embedded again, alone: the embeddings of
    unchanged songs are kept, and another model embeds everything anew. The songs are
    prepared in ``workers`` processes (default: one per core, see
    :func:`ragalib.util.parallel.map_in_workers`), or on the Dask cluster at ``scheduler``
    (``tcp://HOST:8786``: the same index, byte for byte). A song that cannot be indexed (unreadable, not
    audio, silent, shorter than a segment) is left out and told to ``report`` on one line
    naming it (default: stderr), and the rest are indexed. If the cache cannot be written (a
    read-only or full data folder) the index is returned all the same, with one ``report``.
    With ``only`` (file names in ``folder``), just those songs are embedded, afresh: such a
    part of the catalogue is neither read from nor written to its cache.
    """
    from functools import partial

    from .detection.evidence import pitch_model_for
    from .util.parallel import map_in_workers

    files = _catalogue(folder)
    if only is not None:
        wanted = set(only)
        files, cache = [song for song in files if song.name in wanted], False
    if method == "cnn":
        pitch_model = pitch_model_for(pitch_model, bundle.pitch_model)
    model_key = _model_key(bundle, method, pitch_model)
    digests = {}
    for song in files:
        if not song.is_file():          # a FIFO would hang the digest
            report(f"{song}: not a regular file (a pipe, device or socket); left out of the "
                   "index")
            continue
        try:
            digests[song] = file_digest(song)
        except OSError as exc:
            report(f"{song}: cannot be read ({exc.strerror}); left out of the index")
    path = index_path(folder, method)
    saved = None
    if cache and path.exists():
        try:
            saved = _read_saved(path)
        except ValueError as exc:
            report(f"{path}: damaged index ({exc}); building it again")
    known = {}
    if saved is not None and saved[0].get("model_key") == model_key:
        known = dict(zip(saved[0]["digests"], saved[1]))
    todo = {d: p for p, d in digests.items() if d not in known}   # copies: one is enough
    inputs = map_in_workers(partial(_song_input_or_reason, config=bundle.config, method=method,
                                    pitch_model=pitch_model), todo.values(),
                            workers=workers, scheduler=scheduler, desc="indexing songs")
    embedder = embedding_model(bundle) if method == "cnn" and todo else None
    for digest, (values, reason) in zip(todo, inputs):
        if reason is not None:
            report(f"{reason}; left out of the index")
        else:
            known[digest] = finish_embedding(values, bundle, method=method, embedder=embedder)
    files = [song for song in files if digests.get(song) in known]
    if not files:
        raise RagalibError(f"{folder}: no song in it could be indexed")
    digests = [digests[song] for song in files]
    key = _index_key(model_key, files, digests)
    ragas = _ragas(folder)
    index = Index([p.name for p in files], [ragas.get(p.name) for p in files],
                  np.stack([known[d] for d in digests]), method, key, Path(folder))
    if cache and (saved is None or saved[0].get("key") != key):
        meta = json.dumps({"key": key, "model_key": model_key, "files": index.files,
                           "digests": digests, "ragas": index.ragas,
                           "dim": int(index.embeddings.shape[1])})

        def write(tmp):
            with open(tmp, "wb") as f:
                np.savez(f, embeddings=index.embeddings, meta=np.array(meta))

        try:
            atomic_write(path, write)
        except RagalibError as exc:
            report(f"{exc}; the index is not cached, so the next call builds it again")
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
        return index.neighbours(index.embeddings[index.files.index(song.name)], k,
                                exclude={song.name})
    vector = embed(load(song, sr=bundle.config.sr), bundle, method=index.method,
                   name=str(song), pitch_model=pitch_model)
    return nearest(vector, index, k)


def recommendations_json(file, index, found):
    """The JSON object of ``similar --json`` (and of ``POST /similar``): the query ``file``,
    the catalogue, the method and the recommendations ``found`` (:func:`recommend`).

    Behind notebooks 08_similarity and 10_serving (not called there by name).
    """
    return {"file": str(file), "catalog": str(index.folder), "method": index.method,
            "recommendations": [{"file": f, "raga": r, "similarity": round(s, 4)}
                                for f, r, s in found]}


def nearest(vector, index, k=5):
    """The ``k`` catalogue songs nearest to a song's embedding ``vector``, leaving out a copy
    of the song itself (a catalogue song sent from elsewhere is still that song).

    Behind notebooks 08_similarity and 10_serving (not called there by name).

    Returns
    -------
    list of (file, raga, similarity)
    """
    itself = {f for f, v in zip(index.files, index.embeddings) if float(v @ vector) > 1 - 1e-6}
    return index.neighbours(vector, k, exclude=itself)


def precision_at_k(index, *, k=5, labels=None):
    """How well an index's neighbours share a label, each song queried against the others.

    Taught in notebook 08_similarity. ``labels`` (one per song, in ``index.files`` order)
    defaults to the songs' ragas; the chapter also passes their instruments.

    Returns
    -------
    dict
        ``precision@k``: the share of the k recommendations with the query's label, averaged;
        ``nearest``: the share of songs whose nearest neighbour has their label.
    """
    labels = index.ragas if labels is None else list(labels)
    if any(r is None for r in labels):
        raise RagalibError("the catalogue has no manifest naming each song's raga")
    position = {f: j for j, f in enumerate(index.files)}
    shares, nearest = [], []
    for i, vector in enumerate(index.embeddings):
        found = index.neighbours(vector, k, exclude=(index.files[i],))
        hits = [labels[position[f]] == labels[i] for f, _, _ in found]
        shares.append(np.mean(hits))
        nearest.append(hits[0])
    return {f"precision@{k}": float(np.mean(shares)), "nearest": float(np.mean(nearest))}


def chance_agreement(labels):
    """The share of a random *other* song that has the query's label, averaged over queries:
    what precision at k would be if neighbours were drawn at random.

    Behind notebook 08_similarity (not called there by name).
    """
    from collections import Counter

    labels = list(labels)
    counts = Counter(labels)
    return float(np.mean([(counts[x] - 1) / (len(labels) - 1) for x in labels]))


def quality_table(indexes, instruments, *, k=5):
    """One row per index (and one for chance): how often its recommendations share the
    query's raga, and how often its instrument.

    Taught in notebook 08_similarity: the CNN was trained to tell ragas apart, so raga
    agreement favours it by design; instrument agreement shows what else an embedding hears.
    ``nearest, counted`` gives the songs whose nearest neighbour shares their raga as a count
    with its 95% interval (each song one item; a song's five recommendations are not five
    independent items, so precision@k gets no interval).

    Parameters
    ----------
    indexes : dict
        name -> :class:`Index` over the same songs.
    instruments : dict
        file -> instrument.
    """
    from .util.stats import count, share

    rows = []
    for name, index in indexes.items():
        by_raga = precision_at_k(index, k=k)
        by_instrument = precision_at_k(index, k=k, labels=[instruments[f] for f in index.files])
        n = len(index.files)
        rows.append({"embedding": name, f"raga precision@{k}": by_raga[f"precision@{k}"],
                     "nearest in raga": by_raga["nearest"],
                     "nearest, counted": share(count(by_raga["nearest"], n), n, "songs"),
                     f"instrument precision@{k}": by_instrument[f"precision@{k}"]})
    files = next(iter(indexes.values())).files
    ragas = next(iter(indexes.values())).ragas
    raga_chance = chance_agreement(ragas)
    rows.append({"embedding": "chance (random songs)", f"raga precision@{k}": raga_chance,
                 "nearest in raga": raga_chance, "nearest, counted": "",
                 f"instrument precision@{k}": chance_agreement(instruments[f] for f in files)})
    return rows
