"""Songs prepared on every core, or on a Dask cluster: joblib over the per-song work.

Taught in notebook 08_similarity, where a catalogue is indexed on a local Dask cluster.
Separation, tonic estimation and features are numpy and scipy code that mostly holds Python's
lock, so threads do not help; worker processes do. :func:`map_in_workers` runs
``joblib.Parallel``: on this machine with joblib's own process pool (loky: workers start from
a fresh interpreter, never by forking a process that may have loaded TensorFlow, and they
never load it themselves), and with joblib's Dask backend when it is given a scheduler's
address, so the same call runs on a cluster. Each task carries the caller's ``RAGALIB_*``
settings as they are when it is handed over. The results come back in the order of the items,
and each item is computed by the same code as in a single process, so the results are the
same bytes wherever they were computed.
"""

import ast
import functools
import os
import signal
import sys
import threading
import warnings
from pathlib import Path

from ..errors import RagalibError, one_line_warnings, say, say_again, with_warnings

MIN_ITEMS_PER_WORKER = 2
"""Starting a worker costs about a second (imports), so a pool only pays off past this."""
AHEAD_PER_WORKER = 2
"""Items a pool may finish before the caller takes them, per worker: enough to keep every
worker busy while the caller works on a result, few enough that results (whole songs) do
not pile up in memory."""
CONNECT_SECONDS = 10
"""How long a Dask scheduler may take to answer before :func:`map_in_workers` gives up."""


@functools.cache
def _warn_one_core():
    """Say once per process (the cache makes later calls do nothing) that a script without a
    main guard works on one core."""
    say("working on one core; put your script's code under "
        "`if __name__ == \"__main__\":` to use them all")


MAX_WORKERS_PER_CORE = 2
"""``RAGALIB_WORKERS`` is capped at this many processes per usable core: each worker holds a
song's analysis in memory, and more of them than cores only queue for the processor."""


def default_workers():
    """How many worker processes to use: ``RAGALIB_WORKERS`` if set, else the usable cores.

    Behind notebook 08_similarity (not called there by name).
    """
    setting = os.environ.get("RAGALIB_WORKERS", "").strip()
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:                      # macOS and Windows have no affinity call
        cores = os.cpu_count() or 1
    if not setting:
        return cores
    if not (setting.isascii() and setting.isdigit()) or int(setting) < 1:
        raise RagalibError(f"RAGALIB_WORKERS must be a whole number from 1, not {setting!r}")
    if int(setting) > MAX_WORKERS_PER_CORE * cores:
        say(f"RAGALIB_WORKERS={setting} on {cores} core(s): using "
            f"{MAX_WORKERS_PER_CORE * cores}")
        return MAX_WORKERS_PER_CORE * cores
    return int(setting)


def main_is_safe_to_import():
    """Whether a worker may start: each worker imports the main script again, so a script
    must keep its work under ``if __name__ == "__main__":``. Notebooks, the interactive
    prompt and ``python -m package`` have nothing to re-run.

    Behind notebook 08_similarity (not called there by name).
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    spec = getattr(main, "__spec__", None)
    if path is None or (spec is not None and spec.name.endswith("__main__")):
        return True
    try:
        tree = ast.parse(Path(path).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return False
    return any(isinstance(node, ast.If) and _is_main_guard(node.test) for node in tree.body)


def _is_main_guard(test):
    """``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = {ast.dump(test.left), ast.dump(test.comparators[0])}
    return sides == {ast.dump(ast.Name("__name__", ast.Load())),
                     ast.dump(ast.Constant("__main__"))}


def _in_caller_settings(settings, threads, function, item):
    """One task in a worker: the caller's ``RAGALIB_*`` settings (and only those: on a
    cluster the rest of the environment is the worker machine's), as many BLAS threads as
    the caller has (joblib and Dask start their workers with fewer, and another count sums
    in another order: the results would differ in the last bits), ragalib's warnings on one
    line, and Ctrl-C left to the caller (who stops the workers), so a terminal's interrupt
    prints one line, not one traceback a worker."""
    from threadpoolctl import threadpool_limits

    if threading.current_thread() is threading.main_thread():   # a Dask worker's thread cannot
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in [n for n in os.environ if n.startswith("RAGALIB_") and n not in settings]:
        del os.environ[name]
    os.environ.update(settings)
    one_line_warnings()
    try:
        with threadpool_limits(limits=threads):
            return _Outcome(*with_warnings(function, item))
    except Exception as exc:
        return _Outcome(None, [], exc)


class _Outcome:
    """An item's result, or its exception, and the warnings it gave, carried back to the
    caller, who says the warnings and raises the exception when it reaches that item: in the
    items' order (joblib itself raises whichever failed first in time), and on the caller's
    screen (a cluster worker's stderr is on another machine)."""

    def __init__(self, value, heard, exc=None):
        self.value, self.heard, self.exc = value, heard, exc

    def take(self):
        say_again(self.heard)
        if self.exc is not None:
            raise self.exc
        return self.value


def _caller_settings():
    """What a task carries from the caller: its ``RAGALIB_*`` variables and its BLAS threads."""
    from threadpoolctl import threadpool_info

    settings = {name: value for name, value in os.environ.items() if name.startswith("RAGALIB_")}
    return settings, max((pool["num_threads"] for pool in threadpool_info()), default=None)


def map_in_workers(function, items, *, workers=None, scheduler=None, desc="working"):
    """``function(item)`` for every item, in worker processes, yielded in ``items`` order.

    Behind notebook 08_similarity (not called there by name).

    Parameters
    ----------
    function : callable
        A module-level function (or a ``functools.partial`` of one) whose arguments and
        result can be pickled.
    workers : int, optional
        Default :func:`default_workers`. With one worker, or too few items for a pool to pay
        off, everything runs here in this process.
    scheduler : str, optional
        A Dask scheduler's address (``tcp://HOST:8786``): the items run on that cluster's
        workers (joblib's Dask backend), which must see the same files at the same paths.
        ``workers`` then only bounds the look-ahead (default: the cluster's worker threads).

    Notes
    -----
    The items go to joblib in windows of :data:`AHEAD_PER_WORKER` per worker, so at most
    that many results are ever finished before the caller takes them (joblib alone keeps
    every worker busy whether or not the caller keeps up, and results would pile up).
    The bar counts an item as it is handed over, so it is full when the last result is: a
    caller that ``zip``\\ s its items with these results never asks for one more, and a bar
    closed short of its total is drawn red in a notebook, as if the work had failed.
    """
    from .progress import bar as progress_bar

    items = list(items)
    bar = dict(total=len(items), desc=desc, leave=False)
    if scheduler is not None:
        yield from _on_cluster(function, items, scheduler, workers, progress_bar(**bar))
        return
    workers = min(default_workers() if workers is None else workers,
                  len(items) // MIN_ITEMS_PER_WORKER)
    if workers > 1 and not main_is_safe_to_import():
        _warn_one_core()
        workers = 1
    if workers <= 1:
        yield from _counted(map(function, items), progress_bar(**bar))
        return
    from joblib import Parallel
    from joblib.externals.loky.process_executor import BrokenProcessPool

    # loky retires a worker that has grown past its memory-leak guard (or sat idle too long)
    # and starts a fresh one; the jobs queued for it wait and run there, none is lost. Its
    # warning, from loky's own thread, would only alarm a reader, so this one is silenced.
    warnings.filterwarnings("ignore", category=UserWarning,
                            message="A worker stopped while some jobs were given to the executor")
    try:
        with Parallel(n_jobs=workers, backend="loky", return_as="generator", batch_size=1,
                      pre_dispatch="n_jobs", max_nbytes=None) as parallel:
            yield from _counted(_windows(parallel, function, items, AHEAD_PER_WORKER * workers),
                                progress_bar(**bar))
    except BrokenProcessPool:
        raise RagalibError("a worker process stopped unexpectedly (out of memory?); set "
                           "RAGALIB_WORKERS=1 to work in one process") from None


def _on_cluster(function, items, scheduler, workers, bar):
    """:func:`map_in_workers` on the Dask cluster at ``scheduler``."""
    from joblib import Parallel, parallel_config

    try:
        from distributed import Client

        client = Client(scheduler, timeout=f"{CONNECT_SECONDS}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise RagalibError(f"{scheduler}: no Dask scheduler answers there ({exc})") from None
    try:
        threads = sum(client.nthreads().values()) or 1
        with client.as_current(), parallel_config(backend="dask", client=client):
            with Parallel(n_jobs=-1, return_as="generator", batch_size=1,
                          pre_dispatch="n_jobs") as parallel:
                yield from _counted(_windows(parallel, function, items,
                                             AHEAD_PER_WORKER * (workers or threads)), bar)
    finally:
        client.close()


def local_cluster(workers=None):
    """A Dask cluster on this machine, for ``with``: a ``distributed.LocalCluster`` of
    ``workers`` processes (default :func:`default_workers`) with one thread each, its
    scheduler and dashboard on 127.0.0.1 (free ports); closed at the end, pass or fail.

    Taught in notebook 08_similarity, which indexes its catalogue on one: its
    ``scheduler_address`` is what ``scheduler=`` and ``--scheduler`` take, and its
    ``dashboard_link`` shows the tasks as they run.
    """
    import logging
    from contextlib import contextmanager

    from distributed import LocalCluster

    @contextmanager
    def cluster():
        started = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                               processes=True, host="127.0.0.1",
                               dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
        try:
            yield started
        finally:
            started.close(timeout=30)

    return cluster()


def _windows(parallel, function, items, ahead):
    """``parallel``'s results of ``function`` over ``items`` in order, handed to joblib
    ``ahead`` items at a time: the next window starts once the caller has taken this one's
    results."""
    from joblib import delayed

    settings, threads = _caller_settings()
    for start in range(0, len(items), ahead):
        outcomes = parallel(delayed(_in_caller_settings)(settings, threads, function, item)
                            for item in items[start:start + ahead])
        try:
            for outcome in outcomes:
                yield outcome.take()
        finally:                          # the caller stopped early (an error, Ctrl-C, enough):
            with warnings.catch_warnings():   # joblib's note on the unused results says nothing
                warnings.simplefilter("ignore", UserWarning)
                outcomes.close()


def _counted(results, bar):
    """``results``, each counted on ``bar`` before it is handed over; ``bar`` closed after."""
    with bar:
        for result in results:
            bar.update()
            yield result
