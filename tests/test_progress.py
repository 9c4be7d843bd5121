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


def test_nothing_to_count_draws_no_bar():
    assert progress.bar(total=0).disable and progress.bar([]).disable
    assert not progress.bar([1]).disable and not progress.bar(iter([])).disable   # unknown length


def test_an_epoch_bar_stopped_early_ends_at_its_last_epoch_and_says_so():
    import keras
    import numpy as np

    [callback] = progress.keras_callbacks("training")
    net = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    net.compile(loss="mse")
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)
    net.fit(np.zeros((4, 1)), np.zeros(4), epochs=9, verbose=0, callbacks=[callback, stop])
    bar = callback.epoch_bar
    assert bar.n == bar.total == 2 and "stopped early at epoch 2 of 9" in bar.desc


def test_a_notebook_epoch_bar_stopped_early_is_drawn_full():
    import keras
    import numpy as np
    import tqdm.notebook

    [callback] = progress.keras_callbacks("training")
    callback.epoch_bar = tqdm.notebook.tqdm(total=9, desc="training")    # the widget bar
    callback.on_epoch_end = callback.bar2callback(callback.epoch_bar)
    net = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    net.compile(loss="mse")
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)
    net.fit(np.zeros((4, 1)), np.zeros(4), epochs=9, verbose=0, callbacks=[callback, stop])
    widget = callback.epoch_bar.container.children[1]
    assert widget.max == widget.value == 2 and widget.bar_style == "success"
