"""Where ragalib finds its committed catalogue and writes what it generates."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CATALOGUE_PATH = PROJECT_ROOT / "data" / "ragas.json"


def data_dir():
    """Folder for generated artefacts (recordings, datasets, models).

    ``$RAGALIB_DATA`` overrides the default ``data/`` beside the package, which lets tests and
    instructors keep generated files elsewhere.
    """
    return Path(os.environ.get("RAGALIB_DATA", PROJECT_ROOT / "data"))


def quick_mode():
    """True when ``$RAGALIB_QUICK`` asks for the small, fast version of every long job."""
    return os.environ.get("RAGALIB_QUICK", "") not in ("", "0", "false", "no")


def work_dir():
    """Where generated recordings, songs, datasets and models live.

    ``data/`` normally; ``data/quick/`` in quick mode, so the small artefacts that tests make
    never mix with (or overwrite) the full ones.
    """
    return data_dir() / "quick" if quick_mode() else data_dir()
