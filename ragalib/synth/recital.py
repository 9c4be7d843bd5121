"""A sung recital: a vocalist over a tanpura, shadowed by a harmonium, sometimes with tabla,
recorded anywhere from a studio to a phone in a hall.

Taught in notebook 07_song_detection. Real raga music is mostly sung, and it almost never comes
alone: the tanpura drones Sa and Pa throughout, the harmonium follows the singer a moment late
on its equal-tempered reeds (so two tunings sound at once), and the recording adds its own
room, band limits, compression and noise. :func:`draw_recital` picks all of that for one take
from a seed; :func:`render_recital` plays it and returns the singer's true pitch contour, the
reference that melody extraction is measured against.
"""

from dataclasses import dataclass, replace

import numpy as np

from ..constants import OUTPUT_PEAK
from ..ragas import tonic_hz
from .score import Note
from .singer import SINGERS, sing
from .tabla import THEKAS, tabla
from .tanpura import drone_swara, tanpura
from .voices import HARMONIUM, SR, render

SA_RANGES = {"male": ("A2", "A#2", "B2", "C3", "C#3", "D3", "D#3", "E3"),
             "female": ("F#3", "G3", "G#3", "A3", "A#3", "B3", "C4", "C#4")}
"""Where singers put Sa: a male voice's tanpura around C3, a female voice's a fifth higher."""
DRONE_SHARE = 0.9
HARMONIUM_SHARE = 0.7
TABLA_SHARE = 0.4


@dataclass(frozen=True)
class Recital:
    """Everything that decides one sung recital besides its score; see :func:`draw_recital`.

    Behind notebook 07_song_detection (not called there by name).
    """

    singer: str
    tonic_hz: float
    drone: bool
    drone_db: float          # tanpura level relative to the voice
    harmonium: bool
    harmonium_db: float
    harmonium_lag: float     # seconds the harmonium follows the voice by
    tabla: bool
    tabla_db: float
    taal: str
    bpm: float
    low_hz: float            # band-limiting of the recording chain
    high_hz: float
    compression: float       # 0: none, 1: heavy
    seed: int


def draw_recital(seed, *, tonic=None, singer=None):
    """Draw a recital's texture and recording from ``seed``.

    Behind notebook 07_song_detection (not called there by name).

    ``tonic`` (a note name or Hz) and ``singer`` (``"male"`` or ``"female"``) may be fixed;
    otherwise the singer is drawn, and Sa from that singer's :data:`SA_RANGES`, tuned up to
    25 cents off A440 (a tanpura is tuned to the singer, not to a piano).
    """
    rng = np.random.default_rng(seed)
    singer = singer or str(rng.choice(list(SINGERS)))
    if tonic is None:
        sa = tonic_hz(str(rng.choice(SA_RANGES[singer]))) * 2.0 ** (rng.uniform(-25, 25) / 1200)
    else:
        sa = tonic_hz(tonic)
    return Recital(
        singer=singer, tonic_hz=float(sa),
        drone=bool(rng.random() < DRONE_SHARE), drone_db=float(rng.uniform(-14, -4)),
        harmonium=bool(rng.random() < HARMONIUM_SHARE), harmonium_db=float(rng.uniform(-14, -6)),
        harmonium_lag=float(rng.uniform(0.05, 0.25)),
        tabla=bool(rng.random() < TABLA_SHARE), tabla_db=float(rng.uniform(-10, -3)),
        taal=str(rng.choice(list(THEKAS))), bpm=float(np.round(rng.uniform(60, 120))),
        low_hz=float(rng.uniform(60, 200)), high_hz=float(rng.uniform(3500, 10000)),
        compression=float(rng.uniform(0, 1)), seed=int(seed))


def shadow(score, lag):
    """The harmonium's part: the melody line, without the singer's ornaments, ``lag`` late.

    Behind notebook 07_song_detection (not called there by name).
    """
    notes = tuple(Note(start + lag, end - start, semis, 0)
                  for semis, start, end in score.melody_spans() if start + lag < score.seconds)
    return replace(score, notes=notes)


def rms(y):
    """Root-mean-square level of a signal (never exactly 0, so it can divide).

    Behind notebook 07_song_detection (not called there by name).
    """
    return float(np.sqrt(np.mean(y ** 2))) + 1e-12


def _at(y, db, reference):
    return y / rms(y) * reference * 10.0 ** (db / 20.0)


def recording_chain(y, recital, *, sr):
    """Band limits and compression of the recording (the room and noise come from
    :func:`ragalib.synth.session.record`).

    Behind notebook 07_song_detection (not called there by name).
    """
    from scipy.signal import butter, sosfiltfilt

    high = min(recital.high_hz, 0.45 * sr)
    sos = butter(2, [recital.low_hz, high], btype="bandpass", fs=sr, output="sos")
    y = sosfiltfilt(sos, y)
    if recital.compression > 0:   # above a threshold 10 dB under the peak level, 1:ratio
        from scipy.ndimage import uniform_filter1d

        level = np.sqrt(uniform_filter1d(y ** 2, int(0.05 * sr)) + 1e-12)
        threshold = 0.3 * level.max()
        ratio = 1.0 + 3.0 * recital.compression
        y = y * np.minimum(1.0, (level / threshold) ** (1.0 / ratio - 1.0))
    return y


def render_recital(score, recital, *, sr=SR):
    """Sing ``score`` (improvised or composed with ``sung=True``) in ``recital``'s setting.

    Behind notebook 07_song_detection (not called there by name).

    Returns
    -------
    y : np.ndarray, float32, peak about -1 dBFS
    sung : ragalib.synth.singer.SungContour
        The singer's true f0, the reference for melody extraction.
    """
    from .session import record

    score = replace(score, tonic_hz=recital.tonic_hz)
    voice, sung = sing(score, singer=recital.singer, sr=sr, seed=recital.seed)
    level = rms(voice)
    y = voice.copy()
    if recital.drone:
        y += _at(tanpura(score.tonic_hz, score.seconds, first=drone_swara(score.raga_id), sr=sr,
                         seed=recital.seed), recital.drone_db, level)
    if recital.harmonium:
        y += _at(render(shadow(score, recital.harmonium_lag), voice=HARMONIUM, sr=sr,
                        seed=recital.seed), recital.harmonium_db, level)
    if recital.tabla:
        y += _at(tabla(score.tonic_hz, score.seconds, bpm=recital.bpm, taal=recital.taal, sr=sr,
                       seed=recital.seed), recital.tabla_db, level)
    y = record(recording_chain(y, recital, sr=sr), sr, seed=recital.seed)
    return (OUTPUT_PEAK * y / max(np.max(np.abs(y)), 1e-9)).astype(np.float32), sung


def improvised_recital(raga_id, seconds, *, seed=0, tonic=None, singer=None, sr=SR):
    """An improvisation in ``raga_id`` sung as a recital: ``(y, score, sung, recital)``.

    Behind notebook 07_song_detection (not called there by name); the sung training takes are
    made with it.
    """
    from .improviser import improvise_score

    recital = draw_recital(seed, tonic=tonic, singer=singer)
    score = improvise_score(raga_id, seconds, tonic=recital.tonic_hz, seed=seed, sung=True)
    y, sung = render_recital(score, recital, sr=sr)
    return y, score, sung, recital
