"""Writing files safely: to a temporary file beside the target, then an atomic rename.

Behind notebook 04_dataset (every cache it builds). A crash, a full disk or bad input can
never leave a half-written dataset, model, cache or audio file under its final name, nor
damage one that is already there.
"""

import errno
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import RagalibError

LOW_SPACE = 1 << 20
"""Free bytes under which a failed write is put down to a full disk (1 MiB)."""
DIGEST_CHUNK = 1 << 20
"""Bytes :func:`file_digest` reads at a time (1 MiB)."""


def atomic_write(path, write):
    """Call ``write(tmp_path)``, then rename ``tmp_path`` over ``path``.

    Behind notebook 04_dataset (not called there by name).

    The temporary file lives in the same folder (so the rename is atomic) and is removed if
    ``write`` fails. The result is readable by everyone, like a normal file. A failure to
    write (a full disk, no permission, a folder that cannot hold files) is a
    :class:`RagalibError` naming ``path``, never the hidden temporary file, and leaves an
    existing ``path`` as it was.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise_write_failure(path, exc)
        raise
    return path


def file_digest(path):
    """The SHA-1 of a file's bytes, in hex: what names a song in the similarity index and in
    the evidence cache.

    Behind notebook 08_similarity (not called there by name).

    Read in chunks of :data:`DIGEST_CHUNK` bytes, so a long recording is never held whole in
    memory (``hashlib.file_digest`` does the same but needs Python 3.11).
    """
    import hashlib

    digest = hashlib.sha1()
    with open(path, "rb") as f:
        while chunk := f.read(DIGEST_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def raise_write_failure(path, exc):
    """Raise a one-line :class:`RagalibError` naming ``path`` if ``exc`` is a failure to
    write (an ``OSError``, or an error of libsndfile, which is not one); else return.

    Behind notebook 04_dataset (not called there by name).
    """
    is_audio_library = type(exc).__module__.split(".")[0] == "soundfile"
    if not isinstance(exc, OSError) and not is_audio_library:
        return
    if isinstance(exc, OSError):
        reason = ("no space left on the device" if exc.errno == errno.ENOSPC else
                  exc.strerror or str(exc))
    elif _low_space(path):           # libsndfile says only "System error."
        reason = "no space left on the device"
    else:
        reason = f"the audio library could not write it ({exc})"
    raise RagalibError(f"{path}: cannot write: {reason}") from exc


def _low_space(path):
    folder = Path(path).parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free < LOW_SPACE
    except OSError:
        return False
