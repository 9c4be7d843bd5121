"""Run the whole notebook series headless, in order: ``python -m ragalib.cli.series``.

``make run`` calls it. Each notebook is executed in a fresh kernel; the executed copy and an
HTML page go to ``build/``, with a contents page, ``build/index.html`` (:mod:`.book`), and a
summary prints at the end. The exit code is non-zero if any
notebook failed.
"""

import argparse
import sys
import time
from pathlib import Path

from ..paths import PROJECT_ROOT

CELL_TIMEOUT = 300
"""Seconds one cell may take. No cell of the series needs more than about two minutes on a
fresh 2-core machine, and a whole chapter is meant to fit in five, so a cell past this is a
kernel that never answered (ipykernel 7 sometimes drops a reply), not a slow computation."""


def _execute(nb, folder, timeout):
    """Run ``nb`` in a fresh kernel that talks over local sockets in a temporary folder: over
    TCP on 127.0.0.1, ipykernel prints a warning about encryption for every chapter."""
    import tempfile

    from nbconvert.preprocessors import ExecutePreprocessor
    from traitlets.config import Config

    with tempfile.TemporaryDirectory(prefix="ragalib-kernel-") as sockets:
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(Path(sockets) / "kernel")
        ExecutePreprocessor(timeout=timeout, kernel_name="python3", config=config).preprocess(
            nb, {"metadata": {"path": str(folder)}})


def run_series(notebooks, out_dir, *, timeout=CELL_TIMEOUT, attempts=2):
    """Execute ``notebooks`` in order; returns a list of ``(name, seconds, error or None)``.

    A notebook whose cell times out (see :data:`CELL_TIMEOUT`) is run once more in a fresh
    kernel, with a one-line message; what it built before is cached, so the second run is
    quick. Other errors are reported at once.
    """
    import nbformat
    from nbclient.exceptions import CellTimeoutError

    from .book import page

    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for path in notebooks:
        print(f"running {path.name} ...", flush=True)
        start = time.perf_counter()
        for attempt in range(1, attempts + 1):
            nb, error = nbformat.read(path, as_version=4), None
            try:
                _execute(nb, path.parent, timeout)
            except CellTimeoutError:
                error = f"a cell got no answer from its kernel in {timeout} s"
                if attempt < attempts:
                    print(f"ragalib: {path.name}: {error}; running it again in a fresh kernel",
                          flush=True)
                    continue
            except Exception as exc:  # report it and go on with the next chapter
                error = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
            break
        seconds = time.perf_counter() - start
        nbformat.write(nb, out_dir / path.name)
        (out_dir / path.with_suffix(".html").name).write_text(page(nb, path.stem),
                                                              encoding="utf-8")
        results.append((path.name, seconds, error))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=Path, default=PROJECT_ROOT / "notebooks")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "build")
    args = parser.parse_args(argv)
    notebooks = sorted(args.notebooks.glob("[0-9][0-9]_*.ipynb"))
    results = run_series(notebooks, args.out)
    import nbformat

    from .book import glossary_page, index_page

    (args.out / "glossary.html").write_text(glossary_page(), encoding="utf-8")
    (args.out / "index.html").write_text(index_page(
        [(path.name, nbformat.read(args.out / path.name, as_version=4)) for path in notebooks
         if (args.out / path.name).exists()]), encoding="utf-8")
    print(f"\n{'notebook':32s} {'seconds':>8s} {'MB':>6s} {'HTML MB':>8s}  result")
    for name, seconds, error in results:
        executed = args.out / name
        sizes = [f.stat().st_size / 1e6 if f.exists() else float("nan")
                 for f in (executed, executed.with_suffix(".html"))]
        print(f"{name:32s} {seconds:8.1f} {sizes[0]:6.1f} {sizes[1]:8.1f}  "
              f"{'ok' if error is None else 'FAILED: ' + error}")
    failed = sum(error is not None for _, _, error in results)
    print(f"{len(results) - failed} of {len(results)} notebooks ran; executed copies and HTML "
          f"in {args.out}; contents: {args.out / 'index.html'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
