"""Audio in and out: reading any file into mono at one rate, writing files atomically.

Taught in notebook 01_amplitude.
"""

import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import RagalibError

WRITABLE_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}


def check_writable(path):
    """Raise :class:`RagalibError` unless ``path`` can be written as an audio file.

    Checked before any work is done, so a bad path costs nothing and writes nothing.
    """
    path = Path(path)
    if path.is_dir():
        raise RagalibError(f"{path}: is a directory, not a file name")
    if path.suffix.lower() not in WRITABLE_FORMATS:
        raise RagalibError(f"{path}: cannot write {path.suffix or 'a file without extension'}; "
                           f"use one of {', '.join(WRITABLE_FORMATS)}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise RagalibError(f"{path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise RagalibError(f"{path}: folder {parent} is not writable")
    return path


def save(path, y, sr):
    """Write mono audio atomically: to a temporary file beside ``path``, then rename.

    A crash or a full disk can never leave a half-written file under the final name.

    Parameters
    ----------
    path : str or Path
        ``.wav`` (16-bit PCM), ``.flac`` or ``.ogg``.
    y : np.ndarray, shape (n,)
    sr : int
    """
    import soundfile

    path = check_writable(path)
    y = np.asarray(y, dtype=np.float32)
    fmt = WRITABLE_FORMATS[path.suffix.lower()]
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        subtype = "PCM_16" if fmt == "WAV" else None
        soundfile.write(tmp, y, sr, format=fmt, subtype=subtype)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
