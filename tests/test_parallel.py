from functools import partial

import numpy as np
import pytest

from ragalib import RagalibError, audio, parallel


def signals():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(8000).astype(np.float32) for _ in range(4)]


def test_worker_processes_give_the_same_results_in_the_same_order():
    here = list(parallel.map_in_workers(audio.suppress_percussion, signals(), workers=1,
                                        progress=False))
    there = list(parallel.map_in_workers(audio.suppress_percussion, signals(), workers=2,
                                         progress=False))
    assert len(there) == 4
    for a, b in zip(here, there):
        np.testing.assert_array_equal(a, b)


def test_an_error_in_a_worker_reaches_the_caller_naming_the_file(tmp_path):
    paths = [tmp_path / f"missing{i}.wav" for i in range(4)]
    with pytest.raises(RagalibError, match="missing0.wav"):
        list(parallel.map_in_workers(partial(audio.load, sr=22050), paths, workers=2,
                                     progress=False))


def test_workers_follow_the_environment_and_never_outnumber_the_work(monkeypatch):
    monkeypatch.setenv("RAGALIB_WORKERS", "3")
    assert parallel.default_workers() == 3
    monkeypatch.delenv("RAGALIB_WORKERS")
    assert parallel.default_workers() >= 1
    # Two items are too few to start a pool: they run here. A lambda proves it, since it
    # cannot be pickled to a worker.
    assert list(parallel.map_in_workers(lambda x: x + 1, [1, 2], workers=8,
                                        progress=False)) == [2, 3]
