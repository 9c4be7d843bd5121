"""The chapters as committed: no outputs, a time banner, solutions, and a working way on."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def text(cell):
    return "".join(cell["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_chapter_is_committed_without_outputs(path):
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, \
                f"{path.name} cell {i} has outputs: clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_chapter_opens_with_its_time_and_ends_with_the_way_on(path):
    first, last = text(cells(path)[0]), text(cells(path)[-1])
    assert re.search(r"\*\*Time:\*\* .*full run.*quick mode", first), \
        f"{path.name}: the first cell needs a time banner (full run and quick mode)"
    if path != NOTEBOOKS[-1]:
        link = re.search(r"\*\*What's next:\*\* \[[^\]]+\]\(([^)]+\.ipynb)\)", last)
        assert link, f"{path.name}: the last cell needs a linked 'What's next'"
        assert (path.parent / link.group(1)) == NOTEBOOKS[NOTEBOOKS.index(path) + 1]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_try_this_comes_with_solutions(path):
    sources = [text(c) for c in cells(path) if c["cell_type"] == "markdown"]
    starts = [i for i, s in enumerate(sources) if "## Try this" in s]
    assert starts, f"{path.name} has no 'Try this' section"
    tail = "\n".join(sources[starts[0]:])
    assert "<details><summary>Solution" in tail and "</details>" in tail, \
        f"{path.name}: the exercises need a collapsed solutions block"
