import os
import sys
import types
from functools import partial

import numpy as np
import pytest

from ragalib import RagalibError, audio
from ragalib.util import parallel


def signals():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(8000).astype(np.float32) for _ in range(4)]


def test_worker_processes_give_the_same_results_in_the_same_order():
    here = list(parallel.map_in_workers(audio.suppress_percussion, signals(), workers=1))
    there = list(parallel.map_in_workers(audio.suppress_percussion, signals(), workers=2))
    assert len(there) == 4
    for a, b in zip(here, there):
        np.testing.assert_array_equal(a, b)


def test_an_error_in_a_worker_reaches_the_caller_naming_the_file(tmp_path):
    paths = [tmp_path / f"missing{i}.wav" for i in range(4)]
    with pytest.raises(RagalibError, match="missing0.wav"):
        list(parallel.map_in_workers(partial(audio.load, sr=22050), paths, workers=2))


def test_workers_follow_the_environment_and_never_outnumber_the_work(monkeypatch):
    monkeypatch.setenv("RAGALIB_WORKERS", "3")
    assert parallel.default_workers() == 3
    monkeypatch.delenv("RAGALIB_WORKERS")
    assert parallel.default_workers() >= 1
    # Two items are too few to start a pool: they run here. A lambda proves it, since it
    # cannot be pickled to a worker.
    assert list(parallel.map_in_workers(lambda x: x + 1, [1, 2], workers=8)) == [2, 3]


def _process_id(_):
    return os.getpid()


def test_a_pool_really_uses_other_processes_and_sees_the_environment_of_its_start(monkeypatch):
    monkeypatch.setenv("RAGALIB_TEST_MARK", "set after import")
    pids = list(parallel.map_in_workers(_process_id, range(4), workers=2))
    assert os.getpid() not in pids and len(set(pids)) >= 1
    marks = list(parallel.map_in_workers(_environment_mark, range(4), workers=2))
    assert marks == ["set after import"] * 4


def _environment_mark(_):
    return os.environ.get("RAGALIB_TEST_MARK")


@pytest.mark.parametrize("source, safe", [
    ("import ragalib\nragalib.run()\n", False),
    ("# __name__ and __main__ in a comment\nrun()\n", False),
    ("def main():\n    pass\n\nif __name__ == '__main__':\n    main()\n", True),
    ("if '__main__' == __name__:\n    main()\n", True),
])
def test_a_script_must_guard_its_work_before_workers_start(tmp_path, monkeypatch, source,
                                                            safe):
    script = tmp_path / "script.py"
    script.write_text(source)
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    fake.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", fake)
    assert parallel.main_is_safe_to_import() is safe


def test_a_bad_worker_count_is_a_clear_error(monkeypatch):
    for bad in ("two", "0", "-1"):
        monkeypatch.setenv("RAGALIB_WORKERS", bad)
        with pytest.raises(RagalibError, match="RAGALIB_WORKERS"):
            parallel.default_workers()


def _mark_done(item, folder):
    (folder / f"{item}.done").touch()
    return item


def test_a_pool_works_ahead_of_a_slow_caller_only_a_little(tmp_path):
    """Left to itself joblib keeps every worker busy however slowly the caller takes the
    results; the windows keep what is finished and not yet taken to a few items."""
    import time

    ahead = parallel.AHEAD_PER_WORKER * 2
    taken = []
    for result in parallel.map_in_workers(partial(_mark_done, folder=tmp_path), range(16),
                                          workers=2):
        taken.append(result)
        time.sleep(0.3)                            # a slow caller: the workers wait for it
        finished = len(list(tmp_path.glob("*.done")))
        assert finished <= len(taken) + ahead, f"{finished} finished, {len(taken)} taken"
    assert taken == list(range(16))


@pytest.mark.parametrize("workers", [1, 2])
def test_the_bar_is_full_when_a_zip_over_the_items_has_its_last_result(monkeypatch, workers):
    import tqdm.auto

    closed = []

    class Bar(tqdm.auto.tqdm):
        def close(self):
            closed.append((self.n, self.total))
            super().close()

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    items = signals()
    pairs = list(zip(items, parallel.map_in_workers(audio.suppress_percussion, items,
                                                     workers=workers)))
    assert len(pairs) == 4 and set(closed) == {(4, 4)}   # not (3, 4): a notebook draws it red
