"""One switch for every progress bar: ``ragalib.util.progress.quiet`` and tqdm's ``TQDM_DISABLE``."""

import subprocess
import sys
import threading

from ragalib.util import parallel, progress


def test_quiet_hides_bars_inside_the_block_and_only_there():
    assert not progress.bar(total=3).disable
    with progress.quiet():
        assert progress.bar(total=3).disable
        with progress.quiet(False):               # long work inside a quiet command
            assert not progress.bar(total=3).disable
        assert progress.bar(total=3).disable
    assert not progress.bar(total=3).disable


def test_work_in_workers_draws_its_bar_unless_quiet(monkeypatch):
    import tqdm.auto

    drawn = []

    class Bar(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            drawn.append(self.disable)

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    assert list(parallel.map_in_workers(abs, [-1, -2], workers=1)) == [1, 2]
    with progress.quiet():
        assert list(parallel.map_in_workers(abs, [-1, -2], workers=1)) == [1, 2]
    assert drawn == [False, True]


def test_a_quiet_block_in_one_thread_leaves_another_threads_bars():
    seen = []
    with progress.quiet():
        other = threading.Thread(target=lambda: seen.append(progress.shown()))
        other.start()
        other.join()
        assert seen == [True] and not progress.shown()


def test_tqdm_disable_in_the_environment_turns_every_bar_off():
    code = "from ragalib.util import progress; print(progress.bar(total=3).disable)"
    said = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"TQDM_DISABLE": "1", "PATH": ""}, check=True, timeout=60)
    assert said.stdout.strip() == "True"
