"""Test settings shared by every unit test, and the split of ``make test`` over two processes.

``make test`` runs under pytest-xdist (``-n 2 --dist loadgroup``): the chapters (nbval's cells)
form one group and run in order in one worker, with their quick data in ``data/quick`` as a
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


@pytest.hookimpl(tryfirst=True)     # before xdist reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group("chapters"))


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
