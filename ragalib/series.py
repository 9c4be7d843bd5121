"""Run the whole notebook series headless, in order: ``python -m ragalib.series``.

``make run`` calls it. Each notebook is executed in a fresh kernel; the executed copy and an
HTML page go to ``build/``, and a summary prints at the end. The exit code is non-zero if any
notebook failed.
"""

import argparse
import sys
import time
from pathlib import Path

from .paths import PROJECT_ROOT


def run_series(notebooks, out_dir, *, timeout=3600):
    """Execute ``notebooks`` in order; returns a list of ``(name, seconds, error or None)``."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import ExecutePreprocessor

    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for path in notebooks:
        print(f"running {path.name} ...", flush=True)
        nb = nbformat.read(path, as_version=4)
        start, error = time.perf_counter(), None
        try:
            ExecutePreprocessor(timeout=timeout, kernel_name="python3").preprocess(
                nb, {"metadata": {"path": str(path.parent)}})
        except Exception as exc:  # report it and go on with the next chapter
            error = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
        seconds = time.perf_counter() - start
        nbformat.write(nb, out_dir / path.name)
        body, _ = HTMLExporter().from_notebook_node(nb)
        (out_dir / path.with_suffix(".html").name).write_text(body, encoding="utf-8")
        results.append((path.name, seconds, error))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=Path, default=PROJECT_ROOT / "notebooks")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "build")
    args = parser.parse_args(argv)
    notebooks = sorted(args.notebooks.glob("[0-9][0-9]_*.ipynb"))
    results = run_series(notebooks, args.out)
    print(f"\n{'notebook':32s} {'seconds':>8s}  result")
    for name, seconds, error in results:
        print(f"{name:32s} {seconds:8.1f}  {'ok' if error is None else 'FAILED: ' + error}")
    failed = sum(error is not None for _, _, error in results)
    print(f"{len(results) - failed} of {len(results)} notebooks ran; executed copies and HTML "
          f"in {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
