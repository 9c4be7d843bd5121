"""``python -m ragalib bench ...``: how fast each stage runs, as a ratio to real time.

Every bench warms up first (numba's compiled kernels, TensorFlow's start-up, lazy imports),
then times ``repeat`` runs and prints them and their median: this machine is noisy, so the
median is the figure ``docs/timings.md`` quotes.
"""

import statistics
import time
from dataclasses import replace
from pathlib import Path


def timed(work, repeat):
    """Run ``work(run)`` for run = 0 .. ``repeat`` - 1; the wall-clock seconds of each."""
    times = []
    for run in range(repeat):
        start = time.perf_counter()
        work(run)
        times.append(time.perf_counter() - start)
    return times


def _runs(times, digits=2):
    return ", ".join(f"{t:.{digits}f}" for t in times)


def synth(seconds, repeat):
    """Rendering ``seconds`` of harmonium (notebook 00_meet_the_ragas)."""
    from .. import synth as synthesiser

    synthesiser.improvise("yaman", 5.0, seed=0)  # warm-up: caches and lazy imports
    times = timed(lambda run: synthesiser.improvise("yaman", seconds, seed=run), repeat)
    _ratio(f"synth: {seconds:g} s of harmonium audio", times, seconds)


def features(seconds, repeat):
    """The MFCCs of ``seconds`` of audio in 5-second segments (notebook 03_mfcc)."""
    from .. import audio
    from .. import features as feats
    from .. import synth as synthesiser

    stack = audio.segments(synthesiser.improvise("yaman", seconds, seed=0))
    feats.extract(stack[:2])  # warm-up: numba compiles librosa's kernels once
    times = timed(lambda run: feats.extract(stack), repeat)
    _ratio(f"features: MFCCs of {len(stack)} five-second segments ({seconds:g} s of audio)",
           times, seconds)


def _ratio(what, times, seconds):
    median = statistics.median(times)
    print(f"{what}, {len(times)} runs after warm-up: {_runs(times)} s;"
          f" median {median:.2f} s = {seconds / median:.0f}x real time")


def dataset(seconds, repeat):
    """Rendering the takes, building the dataset, loading it from the cache (notebook
    04_dataset)."""
    import numpy as np

    from .. import features as feats
    from ..corpus import dataset as datasets
    from ..corpus.takes import ensure_recordings

    start = time.perf_counter()
    ensure_recordings()
    render = time.perf_counter() - start
    feats.mfcc(np.zeros(feats.DEFAULT.segment_samples))  # warm-up (numba)
    builds = timed(lambda run: datasets.build(force=True), 1)
    cached = timed(lambda run: datasets.build(), repeat)
    ds = datasets.build()
    audio_minutes = len(ds.y) * ds.config.segment_seconds / 60
    print(f"dataset: {len(ds.y)} segments ({audio_minutes:.0f} min of audio) from "
          f"{len(ds.takes)} takes; rendering missing takes took {render:.1f} s")
    print(f"full build after warm-up: {builds[0]:.1f} s; cached load, {repeat} runs: "
          f"{_runs(cached)} s, median {statistics.median(cached):.2f} s")


def train(seconds, repeat):
    """Training the published CNN for its 75 epochs (notebook 05_train_cnn)."""
    from ..corpus import dataset as datasets
    from ..models import cnn

    data = datasets.build()
    cnn.train(data, cnn.TrainSettings(epochs=1))  # warm-up: TF start-up
    settings = cnn.TrainSettings()
    times = timed(lambda run: cnn.train(data, settings), repeat)
    print(f"train: the published CNN, {settings.epochs} epochs on {int(sum(data.split == 'train'))}"
          f" segments, {repeat} runs after warm-up: {_runs(times, 1)} s; median "
          f"{statistics.median(times):.1f} s = {statistics.median(times) / settings.epochs:.2f}"
          " s per epoch")


def detect(seconds, repeat):
    """Detecting the raga of a 60-s song, model load excluded; then the test songs in a batch,
    on this machine's pool and on a local Dask cluster (notebook 07_song_detection)."""
    from ..constants import SR
    from ..corpus import songs
    from ..detection import pipeline
    from ..detection.default import detector
    from ..detection.evidence import pitch_model_for

    bundle = detector()                     # loading the model is not timed
    spec = replace(songs.song_plan(1)[0], seconds=60.0)
    y, _ = songs.render_song(spec)
    pitch_model = pitch_model_for(bundle.pitch_model)
    pipeline.detect_signal(y[:10 * SR], bundle, pitch_model=pitch_model)  # warm-up
    times = timed(lambda run: pipeline.detect_signal(y, bundle, pitch_model=pitch_model), repeat)
    median = statistics.median(times)
    print(f"detect: a 60-s song ({spec.instrument}, tabla {spec.percussion}), {repeat} runs "
          f"after warm-up: {_runs(times)} s; median {median:.2f} s = "
          f"{60.0 / median:.0f}x real time (model load excluded)")
    _batch(bundle, repeat)


def _side_by_side(what, work, repeat, seconds_of_audio):
    """Time ``work(scheduler=None)`` here and ``work(scheduler=ADDRESS)`` on a local Dask
    cluster of as many workers as this machine's pool; print both and their ratio."""
    from ..util.parallel import default_workers, local_cluster

    work(scheduler=None)                             # warm-up: the pool's workers start
    here = timed(lambda run: work(scheduler=None), repeat)
    start = time.perf_counter()
    with local_cluster() as cluster:
        started = time.perf_counter() - start
        work(scheduler=cluster.scheduler_address)    # warm-up: imports in every worker
        there = timed(lambda run: work(scheduler=cluster.scheduler_address), repeat)
    a, b = statistics.median(here), statistics.median(there)
    print(f"{what}, {repeat} runs after warm-up, {default_workers()} workers:")
    print(f"  this machine's pool:  {_runs(here)} s; median {a:.2f} s = "
          f"{seconds_of_audio / a:.0f}x real time")
    print(f"  local Dask cluster:   {_runs(there)} s; median {b:.2f} s = "
          f"{seconds_of_audio / b:.0f}x real time ({b / a:.2f}x the pool's time; the cluster "
          f"took {started:.1f} s to start)")


def _batch(bundle, repeat):
    """Batch detection of the test songs, on this machine's pool and on a local Dask cluster
    (``detect DIR --scheduler``)."""
    from ..corpus import songs
    from ..detection import pipeline

    rows = songs.ensure_songs()
    paths = [r["path"] for r in rows]
    _side_by_side(f"batch detection of {len(paths)} songs",
                  lambda scheduler: list(pipeline.detect_files(paths, bundle,
                                                                scheduler=scheduler)),
                  repeat, sum(r["seconds"] for r in rows))


def similarity(seconds, repeat):
    """Indexing the test songs, reloading the index, a query, adding one song (notebook
    08_similarity)."""
    from .. import similarity as search
    from ..corpus import songs
    from ..detection.default import detector
    from ..detection.evidence import pitch_model_for

    bundle = detector()
    learned = pitch_model_for(bundle.pitch_model)
    rows = songs.ensure_songs()
    folder = songs.songs_dir()
    minutes = sum(r["seconds"] for r in rows) / 60
    index_of = dict(bundle=bundle, pitch_model=learned)
    build = timed(lambda run: search.build_index(folder, cache=False, **index_of), repeat)
    index = search.build_index(folder, **index_of)
    cached = timed(lambda run: search.build_index(folder, **index_of), repeat)
    queries = timed(lambda run: [search.recommend(folder / f, index, bundle)
                                 for f in index.files], repeat)
    per_query = statistics.median(queries) / len(index.files)
    median = statistics.median(build)
    print(f"similarity: indexing {len(rows)} songs ({minutes:.0f} min of audio), "
          f"{repeat} runs: {_runs(build, 1)} s; median {median:.1f} s = "
          f"{minutes * 60 / median:.0f}x real time")
    print(f"reloading the cached index: median {statistics.median(cached) * 1000:.0f} ms "
          f"(checks every song's bytes)")
    print(f"a query (5 nearest of {len(rows)}): median {per_query * 1000:.3f} ms")
    added = _adding_a_song(folder, index.files, index_of, repeat)
    print(f"adding one song to an indexed catalogue of {len(rows) - 1}, {repeat} runs: "
          f"{_runs(added)} s; median {statistics.median(added):.2f} s")
    _side_by_side(f"indexing {len(rows)} songs afresh",
                  lambda scheduler: search.build_index(folder, cache=False, scheduler=scheduler,
                                                       **index_of),
                  repeat, minutes * 60)


def _adding_a_song(folder, files, index_of, repeat):
    """Seconds to re-index a catalogue after its last song is added (the others are cached);
    the catalogue and its index live in a temporary folder."""
    import os
    import tempfile
    from unittest import mock

    from .. import similarity as search

    times = []
    with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ, RAGALIB_DATA=tmp):
        catalogue = Path(tmp) / "catalogue"
        catalogue.mkdir()
        folder = Path(folder).resolve()          # links must not depend on the working folder
        for name in files[:-1]:
            (catalogue / name).symlink_to(folder / name)
        newest = catalogue / files[-1]
        for _ in range(repeat):
            search.build_index(catalogue, **index_of)
            newest.symlink_to(folder / files[-1])
            times.append(timed(lambda run: search.build_index(catalogue, **index_of), 1)[0])
            newest.unlink()
    return times


def serve(seconds, repeat):
    """The detector's service under load: 200 requests from 8 clients at once, each a 10-s
    excerpt of a test song (notebook 10_serving)."""
    import tempfile

    from ..corpus import songs
    from ..detection.default import detector
    from ..serving import client

    bundle = detector()                 # built here, not in the service, if missing
    rows = songs.ensure_songs()
    with tempfile.TemporaryDirectory() as tmp, client.start() as running:
        excerpts = client.write_excerpts([r["path"] for r in rows[:8]], tmp,
                                          sr=bundle.config.sr)
        client.load_test(running.url, excerpts, requests=16, clients=8)      # warm-up
        results = [client.load_test(running.url, excerpts, requests=200, clients=8)
                   for _ in range(repeat)]
    for result in results:
        print(f"serve: {result.summary()}")
    rates = [r.requests / r.seconds for r in results]
    print(f"serve: {repeat} runs after warm-up, 8 clients; "
          f"median {statistics.median(rates):.1f} requests/s "
          f"({statistics.median(rates) * 10:.0f}x real time); lost: "
          f"{sum(r.lost for r in results)}")


BENCHES = {"synth": synth, "features": features, "dataset": dataset, "train": train,
           "detect": detect, "similarity": similarity, "serve": serve}
"""``bench NAME`` runs ``BENCHES[NAME](seconds, repeat)``; each docstring is its help line."""
