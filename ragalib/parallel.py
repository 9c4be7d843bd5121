"""Songs prepared on every core: a process pool for the per-song work of the pipeline.

Taught in notebook 08_similarity, where a catalogue is indexed. Separation, tonic estimation
and features are numpy and scipy code that mostly holds Python's lock, so threads do not
help; worker processes do. Workers start from a fresh interpreter ("forkserver", or "spawn"
where that is missing), never by forking a process that may have loaded TensorFlow, and they
never load it themselves. Each worker gets this process's environment as it is when the pool
starts. The results come back in the order of the items, and each item is computed by the
same code as in a single process, so the results are the same.
"""

import ast
import multiprocessing
import os
import signal
import sys
from pathlib import Path

from .errors import RagalibError, one_line_warnings

MIN_ITEMS_PER_WORKER = 2
"""Starting a worker costs about a second (imports), so a pool only pays off past this."""
AHEAD_PER_WORKER = 2
"""Items a pool may finish before the caller takes them, per worker: enough to keep every
worker busy while the caller works on a result, few enough that results (whole songs) do
not pile up in memory."""
_warned = []


def default_workers():
    """How many worker processes to use: ``RAGALIB_WORKERS`` if set, else the usable cores.

    Behind notebook 08_similarity (not called there by name).
    """
    setting = os.environ.get("RAGALIB_WORKERS", "").strip()
    if setting:
        if not setting.isdigit() or int(setting) < 1:
            raise RagalibError(f"RAGALIB_WORKERS must be a whole number from 1, not {setting!r}")
        return int(setting)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                      # macOS and Windows have no affinity call
        return os.cpu_count() or 1


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


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _take_environment(environment):
    """A worker's start: the caller's environment, ragalib's warnings on one line, and Ctrl-C
    left to the caller (who stops the workers), so a terminal's interrupt prints one line, not
    one traceback a worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(environment)
    one_line_warnings()


def _stop_now(pool):
    """Terminate ``pool``'s workers at once (Ctrl-C, an error, a caller that stopped early):
    waiting for the songs in hand took 5-8 s. ``ProcessPoolExecutor`` has no public call for
    this before Python 3.14's ``terminate_workers``."""
    for process in list((pool._processes or {}).values()):
        process.terminate()


def map_in_workers(function, items, *, workers=None, desc="working", progress=True):
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

    Notes
    -----
    The bar counts an item as it is handed over, so it is full when the last result is: a
    caller that ``zip``\ s its items with these results never asks for one more, and a bar
    closed short of its total is drawn red in a notebook, as if the work had failed.
    """
    from tqdm.auto import tqdm

    items = list(items)
    workers = min(default_workers() if workers is None else workers,
                  len(items) // MIN_ITEMS_PER_WORKER)
    bar = dict(total=len(items), desc=desc, disable=not progress, leave=False)
    if workers > 1 and not main_is_safe_to_import():
        if not _warned:
            print("ragalib: working on one core; put your script's code under "
                  "`if __name__ == \"__main__\":` to use them all", file=sys.stderr)
            _warned.append(True)
        workers = 1
    if workers <= 1:
        yield from _counted(map(function, items), tqdm(**bar))
        return
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(workers, mp_context=_context(), initializer=_take_environment,
                               initargs=(dict(os.environ),))
    try:
        yield from _counted(_ahead(pool, function, items, AHEAD_PER_WORKER * workers),
                            tqdm(**bar))
    except BrokenProcessPool:
        raise RagalibError("a worker process stopped unexpectedly (out of memory?); set "
                           "RAGALIB_WORKERS=1 to work in one process") from None
    except BaseException:                 # a caller that stops early does not wait for the rest
        _stop_now(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _counted(results, bar):
    """``results``, each counted on ``bar`` before it is handed over; ``bar`` closed after."""
    with bar:
        for result in results:
            bar.update()
            yield result


def _ahead(pool, function, items, ahead):
    """``pool``'s results of ``function`` over ``items`` in order, with at most ``ahead``
    items submitted beyond the one being handed to the caller."""
    from collections import deque

    pending, rest = deque(), iter(items)
    for item in rest:
        pending.append(pool.submit(function, item))
        if len(pending) >= ahead:
            break
    while pending:
        result = pending.popleft().result()
        for item in rest:                     # one more in, before this one goes out
            pending.append(pool.submit(function, item))
            break
        yield result
