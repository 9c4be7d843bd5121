"""Songs prepared on every core: a process pool for the per-song work of the pipeline.

Taught in notebook 08_similarity, where a catalogue is indexed. Separation, tonic estimation
and features are numpy and scipy code that mostly holds Python's lock, so threads do not
help; worker processes do. Workers start from a fresh interpreter ("forkserver", or "spawn"
where that is missing), never by forking a process that may have loaded TensorFlow, and they
never load it themselves. The results come back in the order of the items, and each item is
computed by the same code as in a single process, so the results are the same.
"""

import multiprocessing
import os
from pathlib import Path

_warned = []

MIN_ITEMS_PER_WORKER = 2
"""Starting a worker costs about a second (imports), so a pool only pays off past this."""


def default_workers():
    """How many worker processes to use: ``RAGALIB_WORKERS`` if set, else the usable cores."""
    if os.environ.get("RAGALIB_WORKERS"):
        return max(1, int(os.environ["RAGALIB_WORKERS"]))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                      # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def main_is_safe_to_import():
    """Whether a worker may start: each worker imports the main script again, so a script
    must keep its work under ``if __name__ == "__main__":``. Notebooks, the interactive
    prompt and ``python -m package`` have nothing to re-run."""
    import sys

    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    spec = getattr(main, "__spec__", None)
    if path is None or (spec is not None and spec.name.endswith("__main__")):
        return True
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "__name__" in text and "__main__" in text


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def map_in_workers(function, items, *, workers=None, desc="working", progress=True):
    """``function(item)`` for every item, in worker processes, yielded in ``items`` order.

    Parameters
    ----------
    function : callable
        A module-level function (or a ``functools.partial`` of one) whose arguments and
        result can be pickled.
    workers : int, optional
        Default :func:`default_workers`. With one worker, or too few items for a pool to pay
        off, everything runs here in this process.
    """
    from tqdm.auto import tqdm

    items = list(items)
    workers = min(default_workers() if workers is None else workers,
                  len(items) // MIN_ITEMS_PER_WORKER)
    bar = dict(total=len(items), desc=desc, disable=not progress, leave=False)
    if workers > 1 and not main_is_safe_to_import():
        if not _warned:
            import sys

            print("ragalib: working on one core; put your script's code under "
                  "`if __name__ == \"__main__\":` to use them all", file=sys.stderr)
            _warned.append(True)
        workers = 1
    if workers <= 1:
        yield from tqdm(map(function, items), **bar)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=_context()) as pool:
        yield from tqdm(pool.map(function, items), **bar)
