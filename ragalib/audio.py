"""Audio in and out: any file to mono at one rate, fixed-length segments, atomic writes.

Taught in notebook 01_amplitude (loading, samples, the sampling rate) and 04_dataset
(segments).
"""

import os
from pathlib import Path

import numpy as np

from .constants import AUDIO_SUFFIXES, SR
from .errors import RagalibError
from .features import DEFAULT
from .util.files import atomic_write

SILENCE_DBFS = -80.0
"""A file whose peak stays below this level is silent."""
MAX_SECONDS = 600.0
"""The most of a file that is ever decoded: a longer file is analysed in its first ten
minutes (said in one line), so that a small file whose header promises hours (a compressed
stretch of silence, a tiny sample rate) cannot fill the memory. The service refuses such an
upload instead (422, with the limit)."""
RATES = (1000, 384000)
"""The sample rates a file may have, in Hz: below, it is not audio this library can analyse
(a header that says 4 Hz); above, one second would be millions of samples."""


def load(path, *, sr=SR, offset=0.0, duration=None):
    """Read an audio file as mono float32 at ``sr`` Hz.

    Taught in notebook 01_amplitude. Any format libsndfile reads (wav, flac, ogg, mp3, aiff,
    ...), any sample rate and any number of channels: channels are averaged, and the signal
    is resampled with soxr.

    Parameters
    ----------
    path : str or Path
    sr : int
        Target sample rate in Hz.
    offset : float
        Seconds into the file to start reading at (rounded to the file's own samples); only
        that part is read.
    duration : float, optional
        Seconds to read from ``offset`` (rounded to the file's own samples; fewer where the
        file ends first). Default: to the end of the file.

    Returns
    -------
    np.ndarray, shape (n,), float32

    Raises
    ------
    RagalibError
        Naming the file, if it is missing, a directory, not audio, empty or silent (the part
        asked for, with ``offset`` or ``duration``).
    """
    import soundfile

    if offset < 0 or (duration is not None and duration < 0):
        raise RagalibError(f"{path}: offset and duration must not be negative, not "
                           f"{offset} and {duration}")
    path = check_readable(path)
    try:
        with soundfile.SoundFile(sound_name(path)) as f:
            native_sr = f.samplerate
            check_rate(path, native_sr)
            start = int(round(offset * native_sr))
            wanted = f.frames - min(start, f.frames) if duration is None else \
                int(round(duration * native_sr))
            bounded = wanted > MAX_SECONDS * native_sr
            if bounded:
                _say_bounded(path, f.frames / native_sr, offset)
                wanted = int(MAX_SECONDS * native_sr)
            if start:
                f.seek(min(start, f.frames))       # past the end: nothing is read
            blocks = [block.mean(axis=1) for block in f.blocks(
                blocksize=max(1, int(10 * native_sr)), frames=wanted, dtype="float32",
                always_2d=True)]                   # channels averaged block by block
    except RagalibError:
        raise
    except Exception as exc:  # libsndfile's errors name the format problem
        raise _not_audio(path, exc) from None
    data = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
    part = ("" if not start and duration is None else f" from {offset:g} s" +
            ("" if duration is None else f" for {duration:g} s"))
    if data.size == 0:
        raise RagalibError(f"{path}: contains no audio samples{part}")
    promised = _wav_header_frames(path)
    to_the_end = not bounded and (duration is None or len(data) < wanted)
    if promised is not None and promised > start + len(data) and to_the_end:
        import warnings

        from .errors import RagalibWarning

        warnings.warn(f"{path}: truncated: its header promises {promised / native_sr:.1f} s, "
                      f"the file holds {(start + len(data)) / native_sr:.1f} s; analysing what "
                      "is there", RagalibWarning, stacklevel=2)
    y = data
    if not np.all(np.isfinite(y)):
        raise RagalibError(f"{path}: contains samples that are not finite numbers{part}")
    if np.max(np.abs(y - y.mean())) < 10.0 ** (SILENCE_DBFS / 20.0):   # a DC offset is silent
        raise RagalibError(f"{path}: is silent{part} (peak below {SILENCE_DBFS:.0f} dBFS, "
                           "once any constant offset is set aside)")
    if native_sr != sr:
        import librosa

        y = librosa.resample(y, orig_sr=native_sr, target_sr=sr, res_type="soxr_hq")
    return np.ascontiguousarray(y, dtype=np.float32)


def audio_files(folder):
    """The audio files in ``folder`` (:data:`ragalib.constants.AUDIO_SUFFIXES`; hidden files
    left out), sorted by name.

    Behind notebook 08_similarity (its catalogue); taught by use: ``python -m ragalib detect
    FOLDER`` detects every song in it.
    """
    return sorted(p for p in Path(folder).iterdir()
                  if p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith("."))


def check_readable(path):
    """``path`` as a ``Path``, or a :class:`RagalibError` naming it: missing, a directory, not a
    regular file (a FIFO is never opened), not readable by this user, not audio, or at a
    sample rate outside :data:`RATES` (only its header is read). Cheap, so a command checks
    every path before slow work; silence and length are found when the audio is read.

    Behind notebook 07_song_detection (not called there by name; ``detect``'s files).
    """
    import soundfile

    path = Path(path)
    if not path.exists():
        raise RagalibError(f"{path}: no such file")
    if path.is_dir():
        raise RagalibError(f"{path}: is a directory, not an audio file")
    if not path.is_file():           # opening a FIFO would wait for a writer for ever
        raise RagalibError(f"{path}: not a regular file (a pipe, device or socket); not read")
    if not os.access(path, os.R_OK):
        raise RagalibError(f"{path}: cannot be read (permission denied)")
    try:
        rate = soundfile.info(sound_name(path)).samplerate
    except Exception as exc:          # noqa: BLE001 - libsndfile's errors name the problem
        raise _not_audio(path, exc) from None
    check_rate(path, rate)
    return path


def sound_name(path):
    """``path`` as libsndfile can open it: the text, or the bytes of a name that is not UTF-8
    (which soundfile would refuse to encode: "surrogates not allowed").

    Behind notebook 01_amplitude (not called there by name).
    """
    text = str(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return os.fsencode(text)


def check_length(path):
    """Refuse, naming ``path``, a file whose header says it lasts more than
    :data:`MAX_SECONDS` or has a sample rate outside :data:`RATES` (nothing is decoded): what
    the service does where the command line analyses the first part.

    Behind notebook 10_serving (not called there by name).
    """
    import soundfile

    info = soundfile.info(sound_name(path))
    check_rate(path, info.samplerate)
    if info.frames > MAX_SECONDS * info.samplerate:
        raise RagalibError(f"{path}: lasts {info.frames / info.samplerate / 60:.1f} min; at most "
                           f"{MAX_SECONDS / 60:g} min is analysed: send a shorter excerpt")


def check_rate(path, rate):
    """Refuse, naming ``path``, a sample rate outside :data:`RATES`.

    Behind notebook 01_amplitude (not called there by name).
    """
    if not RATES[0] <= rate <= RATES[1]:
        raise RagalibError(f"{path}: its sample rate of {rate} Hz is outside {RATES[0]}-"
                           f"{RATES[1]} Hz: not audio this library can analyse")


def _say_bounded(path, seconds, offset):
    import warnings

    from .errors import RagalibWarning

    warnings.warn(f"{path}: lasts {seconds / 60:.1f} min; analysing {MAX_SECONDS / 60:g} min "
                  f"of it from {offset:g} s (ragalib decodes at most {MAX_SECONDS:g} s of a file)",
                  RagalibWarning, stacklevel=3)


def _wav_header_frames(path):
    """The number of frames a WAV file's ``data`` chunk header promises, or None (not a WAV,
    or a header that promises nothing usable). libsndfile reads a truncated file quietly."""
    import struct

    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    at, block = 12, None
    while at + 8 <= len(head):
        chunk, size = head[at:at + 4], struct.unpack("<I", head[at + 4:at + 8])[0]
        if chunk == b"fmt " and at + 22 <= len(head):
            block = struct.unpack("<H", head[at + 20:at + 22])[0]
        if chunk == b"data":
            # 0 and 0xFFFFFFFF mean "unknown" (a stream, or RF64/WAVE_FORMAT_EXTENSIBLE)
            return size // block if block and 0 < size < 0xFFFFFFFF else None
        at += 8 + size + (size & 1)
    return None


def _not_audio(path, exc):
    reason = str(exc).split(":")[-1].strip() or type(exc).__name__
    return RagalibError(f"{path}: not an audio file that can be read ({reason})")


def segments(y, *, config=DEFAULT, source=None):
    """Cut a signal into non-overlapping windows of ``config.segment_seconds``.

    Taught in notebook 04_dataset. The tail shorter than one window is dropped: 12.3 s gives
    two 5-s segments.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal at ``config.sr``.
    config : FeatureConfig
    source : str, optional
        The file the signal came from, named in the error message.

    Returns
    -------
    np.ndarray, shape (n // config.segment_samples, config.segment_samples)
        A view into ``y``.

    Raises
    ------
    RagalibError
        If ``y`` is shorter than one window; the message gives both lengths in seconds.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise RagalibError(f"expected a mono signal, got shape {y.shape}")
    size = config.segment_samples
    count = len(y) // size
    if count == 0:
        prefix = f"{source}: " if source else ""
        have = np.floor(10 * len(y) / config.sr) / 10   # 4.96 s is "4.9 s", never "5.0 s"
        raise RagalibError(f"{prefix}{have:.1f} s of audio, but one segment needs "
                           f"{config.segment_seconds:.1f} s")
    return y[:count * size].reshape(count, size)

WRITABLE_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}


def check_writable(path):
    """Raise :class:`RagalibError` unless ``path`` can be written as an audio file.

    Behind notebooks 01_amplitude and 04_dataset (not called there by name).

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


def save(path, y, *, sr):
    """Write mono audio atomically: to a temporary file beside ``path``, then rename.

    Behind notebooks 01_amplitude and 04_dataset (not called there by name).

    A crash or a full disk can never leave a half-written file under the final name.

    Parameters
    ----------
    path : str or Path
        ``.wav`` (16-bit PCM), ``.flac`` or ``.ogg``.
    y : np.ndarray, shape (n,) or (n, channels)
    sr : int
    """
    import soundfile

    path = check_writable(path)
    y = np.asarray(y, dtype=np.float32)
    fmt = WRITABLE_FORMATS[path.suffix.lower()]
    subtype = "PCM_16" if fmt == "WAV" else None
    return atomic_write(path, lambda tmp: soundfile.write(tmp, y, sr, format=fmt,
                                                          subtype=subtype))


def quantise(y, bits):
    """``y`` rounded to the levels a ``bits``-bit PCM file can store, and the rounding noise's
    level in dB relative to the signal.

    Taught in notebook 01_amplitude: each bit halves the step between levels, so the noise
    falls by about 6 dB per bit (16-bit WAV: about 96 dB below full scale).
    """
    levels = 2.0 ** (bits - 1)
    y = np.asarray(y, dtype=np.float64)
    q = np.clip(np.round(y * levels), -levels, levels - 1) / levels
    noise_db = 10.0 * np.log10(np.mean((q - y) ** 2) / np.mean(y ** 2))
    return q.astype(np.float32), float(noise_db)


def pitch_shift(y, semitones, *, sr):
    """Shift a signal's pitch by ``semitones`` without changing its length (librosa).

    Taught in notebook 07_song_detection, where songs are moved onto the model's C#.
    """
    if semitones == 0:
        return np.asarray(y, dtype=np.float32)
    import librosa

    return librosa.effects.pitch_shift(np.asarray(y, dtype=np.float32), sr=sr,
                                       n_steps=float(semitones)).astype(np.float32)


def suppress_percussion(y, *, margin=2.0, kernel=31):
    """Keep the harmonic part of a signal (harmonic/percussive separation, as librosa's HPSS).

    Taught in notebook 07_song_detection. Drums are short in time and broad in frequency;
    sustained notes are the opposite. A median filter along each axis of the spectrogram tells
    them apart; ``margin`` > 1 keeps only what is clearly harmonic.

    For ``margin`` > 1 the result is bit-identical to
    ``librosa.effects.harmonic(y, margin=margin)`` (at ``margin`` = 1 librosa splits silent
    bins evenly; here they go to the percussive part), about five times faster: the median
    filters run one row (or column) at a time, where scipy has a fast one-dimensional path,
    instead of as a 2-D filter with a flat footprint.
    """
    import librosa

    y = np.asarray(y, dtype=np.float32)
    spectrum, phase = librosa.magphase(librosa.stft(y))
    along_time = _median_filter_lines(spectrum, kernel, axis=-1)
    along_frequency = _median_filter_lines(spectrum, kernel, axis=-2)
    mask = librosa.util.softmask(along_time, along_frequency * margin, power=2.0,
                                 split_zeros=False)
    return librosa.istft((spectrum * mask) * phase, dtype=y.dtype, length=len(y))


def _median_filter_lines(values, size, *, axis):
    """``scipy.ndimage.median_filter`` of width ``size`` along one axis of a 2-D array."""
    from scipy.ndimage import median_filter

    lines = np.moveaxis(values, axis, -1)
    out = np.stack([median_filter(line, size=size, mode="reflect") for line in lines])
    return np.ascontiguousarray(np.moveaxis(out, -1, axis))
