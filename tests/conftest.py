"""Test settings shared by every unit test, and the split of ``make test`` over two processes.

``make test`` runs under pytest-xdist (``-n 2``): the chapters (nbval's cells) run in order,
00-03 in one work unit and 04-11 in another, with their quick data in ``data/quick`` as a
learner's would be (the browser test starts from a copy of it); the unit tests are spread over
both workers, and each worker keeps what they generate in a folder of its own,
``build/test-data/<worker>``, so two processes never build the same dataset or bundle at once.
"""

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ROOT / "build" / "test-data" / os.environ.get("PYTEST_XDIST_WORKER", "main")
"""Where this process's unit tests keep generated data (tests that need an empty folder
still make their own under ``tmp_path``)."""
CHAPTERS_DATA = os.environ.get("RAGALIB_DATA")
"""Where the chapters keep theirs: the caller's choice, ``data/`` by default."""

os.environ.setdefault("RAGALIB_WORKERS", "1")
"""Each test process works in one process (the chapters' kernels too): ``make test`` already
runs two on the two cores, so worker pools would only crowd them and pay about 3 s a pool to
start. The pools themselves are tested where a test asks for them (``workers=2``:
test_parallel, test_evidence, test_similarity, test_cli_failures)."""


def pytest_xdist_make_scheduler(config, log):
    """Under ``make test`` (``-n 2``): the chapters in two work units, each run in order in
    one worker (each cell needs the ones before it, and chapter 07 uses what 05 trained):
    00-03, which only synthesise and plot, and 04-10, which build the datasets and models in
    ``data/quick`` (so no two processes ever build the same one); each unit-test module is
    one unit too (its module fixtures are made once). Under ``make
    test-browser`` each chapter is a unit of its own, and each worker has its own JupyterLab.
    (xdist's ``--dist loadgroup`` would say this with markers, but with pytest 9.2 it no longer
    groups: it renames ``item._nodeid``, which pytest 9.2 does not read.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ChaptersTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            if path.endswith(".ipynb"):       # 00-03 build no dataset and train no model
                return "chapters 00-03" if Path(path).name < "04" else "chapters 04-11"
            return nodeid if path.startswith("tests/browser/") else path

    return ChaptersTogether(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Point ``RAGALIB_DATA`` at this worker's folder before a unit test's fixtures (module
    fixtures included) are made, and back at the learner's for a chapter's kernel."""
    if item.path.suffix != ".ipynb":
        os.environ["RAGALIB_DATA"] = str(TEST_DATA)
    elif CHAPTERS_DATA is None:
        os.environ.pop("RAGALIB_DATA", None)
    else:
        os.environ["RAGALIB_DATA"] = CHAPTERS_DATA
