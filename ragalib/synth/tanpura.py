"""A tanpura-like drone: four plucked strings, Pa (or Ma, or Ni) - Sa - Sa - low Sa.

Taught in notebook 00_meet_the_ragas. The tanpura's bridge (jawari) makes each string buzz:
a band of harmonics that sweeps upward as the string decays. That sweep, and the endless
re-plucking, is what makes the drone sound alive.
"""

import numpy as np

from ..constants import SR
from ..ragas import SEMITONES, get_raga

_PLUCK_SECONDS = 3.5


def drone_swara(raga_id):
    """The first string's note: Pa, or Ma for ragas without Pa, or Ni without either.

    Behind notebook 00_meet_the_ragas (not called there by name).
    """
    swaras = get_raga(raga_id).swaras
    return next(s for s in ("P", "m", "N", "D") if s in swaras)


def pluck(freq, sr, rng):
    """One jawari pluck of ``_PLUCK_SECONDS``: decaying harmonics with a rising buzz band.

    Behind notebook 00_meet_the_ragas (not called there by name).
    """
    n = int(_PLUCK_SECONDS * sr)
    t = np.arange(n) / sr
    sweep = 3.0 + 14.0 * t / _PLUCK_SECONDS
    out = np.zeros(n)
    for k in range(1, int(min(40, 0.45 * sr / freq)) + 1):
        buzz = 1.0 + 1.6 * np.exp(-((k - sweep) / 3.0) ** 2)
        amp = k ** -0.7 * np.exp(-t * (0.5 + 0.06 * k)) * buzz
        out += amp * np.sin(2 * np.pi * k * freq * t + rng.uniform(0, 2 * np.pi))
    attack = min(n, int(0.005 * sr))
    out[:attack] *= np.linspace(0, 1, attack)
    return out / np.max(np.abs(out))


def tanpura(tonic_hz, seconds, *, first="P", sr=SR, seed=0):
    """A drone on ``tonic_hz`` for ``seconds``, strings plucked in a steady cycle.

    Behind notebook 00_meet_the_ragas (not called there by name).

    Parameters
    ----------
    tonic_hz : float
        Sa in Hz; the strings are the first note in the lower octave, Sa, Sa, and low Sa.
    first : str
        The first string's swara (see :func:`drone_swara`).

    Returns
    -------
    np.ndarray, shape (round(seconds * sr),), float64, peak about 1
    """
    rng = np.random.default_rng(seed)
    strings = [SEMITONES[first] - 12, 0, 0, -12]
    plucks = {s: pluck(tonic_hz * 2.0 ** (s / 12.0), sr, rng) for s in sorted(set(strings))}
    n = int(round(seconds * sr))
    out = np.zeros(n + len(next(iter(plucks.values()))))
    gap = rng.uniform(0.8, 1.0)
    t, i = 0.0, 0
    while t < seconds:
        start = int(t * sr)
        wave = plucks[strings[i % 4]]
        out[start:start + len(wave)] += rng.uniform(0.8, 1.0) * wave
        t += gap * rng.uniform(0.95, 1.05) * (1.3 if i % 4 == 3 else 1.0)
        i += 1
    out = out[:n]
    return out / max(np.max(np.abs(out)), 1e-9)
