"""Synthesised raga music: the series' sound source, since it has no recordings to use.

Taught in notebook 00_meet_the_ragas. :func:`improvise` is the one call most notebooks need:
a raga's grammar -> a score of timed notes -> a harmonium playing it, optionally over a
tanpura drone.
"""

import numbers

import numpy as np

from ..constants import OUTPUT_PEAK
from ..errors import RagalibError
from ..paths import examples_dir
from ..ragas import DEFAULT_TONIC, tonic_hz
from .improviser import HIGH, improvise_score
from .score import Note, Score
from .tanpura import drone_swara, tanpura
from .voices import BOWED, FLUTE, HARMONIUM, PLUCKED, SR, VOICE, VOICES, Voice, get_voice, render

GENERATOR_VERSION = 1
"""Bump when the synthesiser's output changes, so rendered files on disk are renewed."""
MAX_SECONDS = 3600.0
"""The longest piece rendered, one hour (159 million samples at 44.1 kHz, about 0.6 GB as
float32): longer requests are refused before any work."""
_DRONE_LEVEL = 0.3


def check_rate(sr, tonic, seconds):
    """Refuse a sample rate that cannot hold the melody, a piece shorter than one sample, or
    one longer than :data:`MAX_SECONDS`.

    Behind notebook 00_meet_the_ragas (not called there by name).
    """
    if isinstance(sr, bool) or not isinstance(sr, int) or not 4000 <= sr <= 192000:
        raise RagalibError(f"sample rate must be a whole number of Hz in 4000-192000, not {sr!r}")
    top = tonic_hz(tonic) * 2.0 ** (HIGH / 12.0)
    if top >= 0.45 * sr:
        raise RagalibError(f"tonic {tonic} puts the highest note at {top:.0f} Hz, above what "
                           f"{sr} Hz can hold ({0.45 * sr:.0f} Hz); use a lower tonic or a "
                           "higher sample rate")
    if not (isinstance(seconds, numbers.Real) and np.isfinite(seconds)) or seconds * sr < 1:
        raise RagalibError(f"duration must be a positive number of seconds, not {seconds}")
    if seconds > MAX_SECONDS:
        raise RagalibError(f"duration must be at most {MAX_SECONDS:g} s (one hour), not "
                           f"{seconds:g}")


def improvise(raga_id, seconds, *, tonic=DEFAULT_TONIC, seed=0, drone=False, sr=SR,
              voice="harmonium", return_score=False):
    """Render an improvisation in a raga, on the harmonium unless told otherwise.

    Taught in notebook 00_meet_the_ragas.

    Parameters
    ----------
    raga_id : str
        A catalogue id, e.g. ``"yaman"``.
    seconds : float
        Length in seconds; must be positive.
    tonic : str or float
        Sa as a note name (default ``"C#4"``, the published harmonium) or in Hz.
    seed : int
        The same seed (and arguments) gives the same bytes.
    drone : bool
        Add a tanpura drone on Sa and Pa (or Ma/Ni where the raga has no Pa).
    sr : int
        Sample rate; 22050 Hz by default.
    voice : str or Voice
        The instrument: ``"harmonium"`` (the training data's) or another in :data:`VOICES`.
    return_score : bool
        Also return the :class:`Score` that was played.

    Returns
    -------
    np.ndarray, shape (round(seconds * sr),), float32
        Mono audio peaking at about -1 dBFS; with ``return_score``, ``(audio, score)``.

    Raises
    ------
    RagalibError
        For an unknown raga, tonic or voice, or a non-positive duration.

    Examples
    --------
    >>> y = improvise("yaman", 5.0, seed=1)
    >>> y.shape, y.dtype
    ((110250,), dtype('float32'))
    """
    voice = get_voice(voice)
    check_rate(sr, tonic, seconds)
    score = improvise_score(raga_id, seconds, tonic=tonic, seed=seed)
    y = render(score, voice=voice, sr=sr, seed=seed)
    if drone:
        y = y / np.max(np.abs(y)) + _DRONE_LEVEL * tanpura(
            score.tonic_hz, seconds, first=drone_swara(raga_id), sr=sr, seed=seed)
    y = (OUTPUT_PEAK * y / max(np.max(np.abs(y)), 1e-9)).astype(np.float32)
    return (y, score) if return_score else y


def example_file(raga_id="yaman", seconds=10.0, *, seed=1, voice="harmonium", drone=False,
                 sr=SR, channels=1, fmt="wav"):
    """A rendered example clip on disk, for the chapters that teach loading files.

    Taught in notebook 01_amplitude. Written once (atomically) under
    ``data/examples/`` and reused; the name records every argument. With ``channels=2`` the
    right channel is the left at 70% level, as a panned stereo recording would be.

    Returns
    -------
    pathlib.Path
    """
    from ..audio import save

    name = (f"{raga_id}_{voice}_{seconds:g}s_seed{seed}{'_drone' if drone else ''}"
            f"{'' if sr == SR else f'_{sr}Hz'}{'' if channels == 1 else f'_{channels}ch'}.{fmt}")
    path = examples_dir() / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        y = improvise(raga_id, seconds, seed=seed, voice=voice, drone=drone, sr=sr)
        save(path, np.stack([y, 0.7 * y][:channels], axis=1) if channels > 1 else y, sr=sr)
    return path


def contrast_clips(seconds, *, seed=3, changes=None):
    """One performance of Yaman on the harmonium, and the same seed changed in one respect.

    Taught in notebook 03_mfcc (timbre against raga). ``changes`` maps a name to the
    :func:`improvise` arguments of each clip; the default compares another raga, another key
    (Sa a whole tone higher) and another instrument with the first clip.

    Returns
    -------
    dict
        name -> float32 signal, all ``seconds`` long, in the order of ``changes``.
    """
    changes = changes or {
        "Yaman, harmonium": {"raga_id": "yaman"},
        "Bhairavi, harmonium": {"raga_id": "bhairavi"},
        "Yaman, harmonium on D#": {"raga_id": "yaman", "tonic": "D#4"},
        "Yaman, flute": {"raga_id": "yaman", "voice": "flute"},
    }
    return {name: improvise(seconds=seconds, seed=seed, **kwargs)
            for name, kwargs in changes.items()}


__all__ = ["BOWED", "FLUTE", "HARMONIUM", "Note", "PLUCKED", "SR", "Score", "VOICE", "VOICES",
           "Voice", "contrast_clips", "drone_swara", "example_file", "get_voice", "improvise", "improvise_score",
           "render", "tanpura"]
