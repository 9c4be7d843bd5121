"""The melody roll: the predominant melody's pitch class frame by frame, the features that
survive a change of instrument.

Behind notebook 09_robust_features (its "melody" feature kind; not called there by name).
"""

import numpy as np

from .config import CHROMA_BINS, DEFAULT
from .spectral import checked_signal


def melody_roll(y, *, config=DEFAULT):
    """The melody's pitch class frame by frame: a pitch-class roll, time-major.

    Behind notebook 09_robust_features (not called there by name: ``extract`` makes the
    "melody" kind with it). Each frame holds one value: the salience of the predominant pitch
    (harmonic sum over a constant-Q spectrum, see :func:`ragalib.melody.salience.salience`),
    relative to the loudest frame of its segment, placed in the pitch-class bin
    (:data:`CHROMA_BINS` per octave, bin 0 = C) of that pitch. The harmonics, which chroma
    keeps and which differ from one instrument to the next, are gone.

    Returns
    -------
    np.ndarray, shape (frames, CHROMA_BINS) or (k, frames, CHROMA_BINS), float32
    """
    from ..melody.salience import BINS_PER_SEMITONE, salience

    signals = checked_signal(y)
    stack = signals[None] if signals.ndim == 1 else signals
    sal = salience(stack, sr=config.sr, hop_length=config.hop_length)
    peak, level = sal.argmax(axis=-2), sal.max(axis=-2)            # (k, frames) each
    loudest = level.max(axis=-1, keepdims=True)
    level = np.divide(level, loudest, out=np.zeros_like(level), where=loudest > 0)
    bins = np.round(peak * (CHROMA_BINS // 12) / BINS_PER_SEMITONE).astype(int) % CHROMA_BINS
    out = np.zeros((*peak.shape, CHROMA_BINS), np.float32)
    np.put_along_axis(out, bins[..., None], level[..., None], axis=-1)
    return out[0] if signals.ndim == 1 else out


SHEPARD_CENTRE_HZ = 261.63
"""Where the octaves of :func:`melody_roll_to_audio`'s tones are loudest (middle C)."""


def melody_roll_to_audio(roll, *, config=DEFAULT, octaves=6):
    """Sound made from a melody roll alone: what the melody features keep.

    Taught in notebook 09_robust_features. Each frame's pitch class sounds as a Shepard
    tone (the class in ``octaves`` octaves at once, loudest around
    :data:`SHEPARD_CENTRE_HZ`, so no octave is implied, as none is kept), at the frame's
    level; the tone glides where the class changes. The instrument, the octave and the
    harmonics are gone: played on any instrument, the same melody sounds the same.
    Peak-normalised to 0.9.

    Parameters
    ----------
    roll : np.ndarray, shape (frames, CHROMA_BINS)
        From :func:`melody_roll` (one segment).
    """
    roll = np.asarray(roll, dtype=np.float64)
    n = (len(roll) - 1) * config.hop_length
    frame_times = np.arange(len(roll)) * config.hop_length
    pitch_class = roll.argmax(axis=1) / (CHROMA_BINS / 12)          # semitones above C
    level = roll.max(axis=1)
    # follow the shortest way round the circle of pitch classes, so a step B -> C is a
    # semitone up, not eleven down
    steps = np.diff(pitch_class, prepend=pitch_class[0])
    unwrapped = pitch_class[0] + np.cumsum((steps + 6) % 12 - 6)
    t = np.arange(n)
    semitones = np.interp(t, frame_times, unwrapped)
    amplitude = np.interp(t, frame_times, level)
    low_c = SHEPARD_CENTRE_HZ / 2 ** (octaves / 2)
    y = np.zeros(n)
    for octave in range(octaves):
        # octaves above low C; one above the top wraps to the bottom, and the weight follows
        position = (octave + semitones / 12) % octaves
        hz = low_c * 2 ** position
        weight = np.exp(-0.5 * ((position - octaves / 2) / (octaves / 6)) ** 2)
        y += weight * np.sin(2 * np.pi * np.cumsum(hz) / config.sr)
    y *= amplitude
    return (0.9 * y / max(float(np.abs(y).max()), 1e-12)).astype(np.float32)
