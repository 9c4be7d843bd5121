"""A tabla-like percussion track: the thekas (basic cycles) of three common taals.

Taught in notebook 07_song_detection (percussion suppression). The test songs of 04_dataset
play it.
The dayan (right drum) is tuned to the song's Sa; its black patch (syahi) makes its modes
nearly harmonic, so each stroke has a pitch. The bayan (left drum) gives a low boom whose pitch
the player's wrist bends upward.
"""

import numpy as np

from ..constants import SR
from ..errors import RagalibError

THEKAS = {
    "teentaal": "dha dhin dhin dha dha dhin dhin dha dha tin tin ta ta dhin dhin dha",
    "keherwa": "dha ge na ti na ke dhi na",
    "dadra": "dha dhi na dha ti na",
}
"""Bols of one cycle, one per beat."""

# stroke -> (dayan kind or None, bayan kind or None)
_STROKES = {
    "dha": ("na", "ge"), "dhin": ("tin", "ge"), "dhi": ("tin", "ge"), "ge": (None, "ge"),
    "na": ("na", None), "ta": ("na", None), "tin": ("tin", None), "ti": ("ti", None),
    "ke": (None, "ke"),
}


def _dayan(kind, sa_hz, sr, rng):
    """Right-drum stroke on Sa: near-harmonic modes plus a click; 'tin' rings, 'ti' is damped."""
    ring = {"na": 0.18, "tin": 0.45, "ti": 0.06}[kind]
    n = int((ring * 4 + 0.05) * sr)
    t = np.arange(n) / sr
    out = np.zeros(n)
    for k, gain in zip((1, 2, 3, 4, 5), (1.0, 0.7, 0.5, 0.35, 0.2)):
        out += gain * np.exp(-t * k / ring) * np.sin(2 * np.pi * k * sa_hz * t
                                                     + rng.uniform(0, 2 * np.pi))
    click = rng.standard_normal(n) * np.exp(-t / 0.004)
    return out + 0.8 * click


def _bayan(kind, sr, rng):
    """Left-drum stroke: 'ge' booms with an upward pitch glide; 'ke' is a flat slap."""
    if kind == "ke":
        n = int(0.06 * sr)
        t = np.arange(n) / sr
        return 0.6 * rng.standard_normal(n) * np.exp(-t / 0.01)
    n = int(0.6 * sr)
    t = np.arange(n) / sr
    f0 = rng.uniform(85.0, 105.0) * (1.0 + 0.25 * (1 - np.exp(-t / 0.12)))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    return 1.2 * np.exp(-t / 0.22) * (np.sin(phase) + 0.3 * np.sin(2 * phase))


def dayan_hz(sa_hz):
    """The pitch of the dayan for a song whose Sa is ``sa_hz``: that Sa moved by octaves into
    220-450 Hz, where a tabla's right drum is tuned.

    Taught in notebook 07_song_detection (what survives percussion suppression).
    """
    if not np.isfinite(sa_hz) or sa_hz <= 0:
        raise RagalibError(f"a Sa of {sa_hz} Hz: a tabla is tuned to a positive frequency")
    while sa_hz < 220.0:
        sa_hz *= 2.0
    while sa_hz > 450.0:
        sa_hz /= 2.0
    return sa_hz


def tabla(sa_hz, seconds, *, bpm=90.0, taal="teentaal", sr=SR, seed=0):
    """A theka played for ``seconds`` at ``bpm`` beats a minute, dayan tuned to ``sa_hz``.

    Behind notebooks 04_dataset and 07_song_detection (not called there by name).

    Parameters
    ----------
    sa_hz : float
        The song's Sa; the dayan is tuned to it (an octave is moved into 220-450 Hz).
    taal : str
        One of :data:`THEKAS`.

    Returns
    -------
    np.ndarray, shape (round(seconds * sr),), float64, peak about 1
    """
    rng = np.random.default_rng(seed)
    sa_hz = dayan_hz(sa_hz)
    bols = THEKAS[taal].split()
    n = int(round(seconds * sr))
    out = np.zeros(n + sr)
    beat = 60.0 / bpm
    t, i = 0.0, 0
    while t < seconds:
        right, left = _STROKES[bols[i % len(bols)]]
        accent = 1.25 if i % len(bols) == 0 else rng.uniform(0.8, 1.0)
        start = int((t + rng.normal(0, 0.004)) * sr) if t > 0 else 0
        for stroke in ([_dayan(right, sa_hz, sr, rng)] if right else []) + \
                      ([_bayan(left, sr, rng)] if left else []):
            stroke = stroke[:len(out) - start]
            out[start:start + len(stroke)] += accent * stroke
        t += beat
        i += 1
    out = out[:n]
    return out / max(np.max(np.abs(out)), 1e-9)
