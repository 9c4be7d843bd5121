"""Writing files safely: to a temporary file beside the target, then an atomic rename.

A crash, a full disk or bad input can never leave a half-written dataset, model, cache or
audio file under its final name, nor damage one that is already there.
"""

import os
import tempfile
from pathlib import Path


def atomic_write(path, write):
    """Call ``write(tmp_path)``, then rename ``tmp_path`` over ``path``.

    The temporary file lives in the same folder (so the rename is atomic) and is removed if
    ``write`` fails. The result is readable by everyone, like a normal file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
