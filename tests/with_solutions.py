"""Each chapter with its solutions run after it: ``python -m tests.with_solutions OUT``.

``make test`` runs the chapters under nbval from ``OUT``, not from ``notebooks/``: every
chapter there is the committed one, cell for cell, followed by one code cell per Python block
of its collapsed solutions, so a solution whose code breaks, or whose printed figure no longer
matches the assert beside it, fails the tests. A block whose first line says
``# needs your own`` (a recording or a folder of yours) is shown to learners and not run.
"""

import re
import sys
import textwrap
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NOT_RUN = "# needs your own"
"""A solution block that starts with this comment needs a file only a learner has."""


def solution_blocks(nb):
    """The Python blocks of a chapter's solutions (inside ``<details>``), in order."""
    blocks = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "<details>" in cell.source:
            tail = cell.source[cell.source.index("<details>"):]
            # a block inside a list item is indented with it: dedented, it is code
            blocks += [textwrap.dedent(b).strip("\n") + "\n"
                       for b in re.findall(r"```python\n(.*?)```", tail, re.S)]
    return blocks


def with_solutions(path):
    """The chapter at ``path`` with its solutions appended as code cells."""
    nb = nbformat.read(path, as_version=4)
    blocks = [b for b in solution_blocks(nb) if not b.lstrip().startswith(NOT_RUN)]
    nb.cells.append(nbformat.v4.new_markdown_cell(
        f"## The solutions, run by the tests ({len(blocks)} blocks)"))
    nb.cells += [nbformat.v4.new_code_cell(b) for b in blocks]
    return nb


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.ipynb"):
        old.unlink()
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        nbformat.write(with_solutions(path), out / path.name)


if __name__ == "__main__":
    main(sys.argv[1])
