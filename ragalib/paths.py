"""Where ragalib writes what it generates (the catalogue is :mod:`ragalib.ragas`'s).

Behind notebook 04_dataset (the recordings and datasets it shows) and every later chapter;
``docs/data-and-caches.md`` lists each folder.
"""

import functools
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The source checkout when ragalib runs from one (its notebooks and ``data/`` are here)."""


@functools.cache
def in_checkout():
    """True when ragalib runs from a source checkout (``pip install -e .`` or ``make setup``),
    not from an installed wheel.

    Behind notebook 04_dataset (not called there by name).
    """
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "notebooks").is_dir()


def data_dir():
    """Folder for generated artefacts (recordings, datasets, models).

    Behind notebook 04_dataset (not called there by name).

    ``$RAGALIB_DATA`` if set and not blank (tests and instructors keep generated files
    elsewhere; a relative path is taken from the folder the command started in); else
    ``data/`` in the source checkout; else, for an installed package, the user data folder
    that ``platformdirs`` names (``~/.local/share/ragalib`` on Linux), never site-packages.
    """
    setting = os.environ.get("RAGALIB_DATA", "").strip()   # empty or blank: not set
    if setting:
        return Path(setting).expanduser().absolute()
    if in_checkout():
        return PROJECT_ROOT / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir("ragalib", appauthor=False))


def quick_mode():
    """True when ``$RAGALIB_QUICK`` asks for the small, fast version of every long job.

    Taught in notebook 00_meet_the_ragas, and used in 7 later chapters.
    """
    setting = os.environ.get("RAGALIB_QUICK", "").strip().lower()
    if setting in ("", "0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    from .errors import RagalibError

    raise RagalibError(f"RAGALIB_QUICK must be 1 or 0 (yes/no, true/false, on/off), not "
                       f"{os.environ['RAGALIB_QUICK']!r}")


def work_dir():
    """Where generated recordings, songs, datasets and models live.

    Behind notebook 04_dataset (not called there by name).

    ``data/`` normally; ``data/quick/`` in quick mode, so the small artefacts that tests make
    never mix with (or overwrite) the full ones; under another raga catalogue
    (:func:`ragalib.ragas.use_catalogue`), ``catalogues/<name>-<digest>/`` inside that, so
    takes, models and caches of one set of ragas are never taken for another's.
    """
    from .ragas import catalogue_tag

    base = data_dir() / "quick" if quick_mode() else data_dir()
    tag = catalogue_tag()
    return base if tag is None else base / "catalogues" / tag


# Every folder and file ragalib generates, in one place (``docs/data-and-caches.md``).

def recordings_dir():
    """``data/recordings/``: the takes, one folder per raga, synthesised and your own.

    Behind notebook 04_dataset (not called there by name).
    """
    return work_dir() / "recordings"


def datasets_dir():
    """``data/datasets/``: the segment datasets, one ``.npz`` per feature configuration.

    Behind notebook 04_dataset (not called there by name).
    """
    return work_dir() / "datasets"


def models_dir():
    """``data/models/``: the trained bundles and the pitch model.

    Taught in notebooks 06_tuning and 09_robust_features.
    """
    return work_dir() / "models"


def default_bundle_dir():
    """``data/models/default``: the bundle detection uses unless told otherwise, a copy of the
    best candidate (see :func:`ragalib.detection.detector`).

    Behind notebook 04_dataset (not called there by name).
    """
    return models_dir() / "default"


def kind_bundle_dir(kind, *, augmented=False):
    """``data/models/<kind>`` (``<kind>-augmented`` when trained with augmentation): the
    bundle trained on one feature kind.

    Taught in notebooks 07_song_detection and 08_similarity.
    """
    return models_dir() / (f"{kind}-augmented" if augmented else kind)


def tuned_bundle_dir():
    """``data/models/tuned``: the best model of the search, retrained (notebook 06_tuning)."""
    return models_dir() / "tuned"


def pitch_model_path():
    """``data/models/pitch_model.json``: the raga note statistics (notebook 07_song_detection)."""
    return models_dir() / "pitch_model.json"


def published_dir():
    """``data/published/``: the takes, dataset and model of the published setting.

    Behind notebook 04_dataset (not called there by name).
    """
    return work_dir() / "published"


def songs_dir(kind="test"):
    """``data/songs/`` for the test songs, ``data/dev_songs/`` for the development songs.

    Behind notebook 04_dataset (not called there by name).
    """
    return work_dir() / ("songs" if kind == "test" else f"{kind}_songs")


def tuning_dir():
    """``data/tuning/``: KerasTuner's trial records.

    Behind notebook 04_dataset (not called there by name).
    """
    return work_dir() / "tuning"


def index_path(folder, method):
    """``data/indexes/<folder hash>-<method>.npz``: a catalogue folder's similarity index.

    Behind notebook 04_dataset (not called there by name).
    """
    import hashlib

    tag = hashlib.sha1(str(Path(folder).resolve()).encode()).hexdigest()[:12]
    return work_dir() / "indexes" / f"{tag}-{method}.npz"


def evidence_dir():
    """``data/evidence/``: what each song gave each pipeline (:mod:`ragalib.detection.evidence`), kept by
    joblib's disk cache so that a chapter run again does not analyse its songs again.

    Behind notebooks 07_song_detection and 09_robust_features (not called there by name).
    """
    return work_dir() / "evidence"


def examples_dir():
    """``data/examples/``: the example clips of the early chapters (quick mode shares them:
    they are the same clips).

    Behind notebook 04_dataset (not called there by name).
    """
    return data_dir() / "examples"


def content_key(tag, version, *inputs):
    """The key of a cached artefact: the SHA-1, in hex, of what it was made from.

    Behind notebook 04_dataset (its dataset's key) and every later cache: datasets, augmented
    copies, the default bundle's selection, the pitch model, embeddings and their index.

    ``tag`` says what is keyed and ``version`` is the maker's version (raise it when what the
    maker computes changes); each input is text, a number or None (its ``str``), bytes, a
    ``Path`` (the file's bytes, read in blocks) or a ``(name, input)`` pair (for a file:
    its name in the key, then its bytes). Every input is fenced off from the next, so
    ``("ab", "c")`` and ``("a", "bc")`` get different keys.
    """
    import hashlib

    digest = hashlib.sha1(f"{tag} {version}".encode())

    def add(part):
        if isinstance(part, tuple):
            for piece in part:
                add(piece)
        elif isinstance(part, Path):
            digest.update(b"|%d:" % part.stat().st_size)
            with open(part, "rb") as f:
                for block in iter(lambda: f.read(1 << 22), b""):
                    digest.update(block)
        else:
            data = part if isinstance(part, bytes) else str(part).encode()
            digest.update(b"|%d:" % len(data) + data)

    for part in inputs:
        add(part)
    return digest.hexdigest()
