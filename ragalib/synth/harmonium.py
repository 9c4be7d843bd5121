"""A harmonium voice: the sound of the published method's training recordings.

Taught in notebook 00_meet_the_ragas. What makes it a harmonium:

* free reeds: a bright, nasal spectrum with many harmonics, band-limited below Nyquist for
  every pitch so nothing aliases;
* two reed banks: the main reed on the equal-tempered pitch, as a harmonium is tuned, and
  a quieter "musette" reed a few cents sharp whose slow beating gives the shimmer. Because
  the main reed is the louder, the tone's pitch stays on the main reed's (its instantaneous
  drift is bounded by ``_MUSETTE_CENTS * g / (1 - g)`` for musette gain ``g``), whereas two
  equal reeds would beat to silence with a phase flip;
* bellows: the player pumps, so the loudness breathes slowly, and swells over each phrase;
* smooth raised-cosine attack and release, and legato overlap between notes: no clicks.
"""

import functools

import numpy as np

SR = 22050
_TABLE_SIZE = 2048
_ATTACK = 0.03      # seconds
_RELEASE = 0.06     # seconds
_MUSETTE_CENTS = 4.0
_MUSETTE_GAIN = 0.45


@functools.lru_cache(maxsize=256)
def reed_table(freq, sr=SR, bank=0):
    """One period of a reed's waveform at ``freq``, band-limited for ``sr``.

    Harmonic amplitudes fall as ``k**-0.8`` with a nasal formant near 1.4 kHz; the phases are
    fixed per reed bank. The table is scaled to unit RMS and carries one guard sample for
    interpolation.
    """
    n_harm = max(1, int(min(0.45 * sr, 9000.0) / freq))
    k = np.arange(1, n_harm + 1)
    amp = k ** -0.8 * (1.0 + 0.9 * np.exp(-(((k * freq) - 1400.0) / 800.0) ** 2))
    phases = np.random.default_rng(1000 + bank).uniform(0, 2 * np.pi, n_harm)
    spectrum = np.zeros(_TABLE_SIZE // 2 + 1, dtype=complex)
    spectrum[1:n_harm + 1] = amp * np.exp(1j * phases)
    table = np.fft.irfft(spectrum, n=_TABLE_SIZE)
    table /= np.sqrt(np.mean(table ** 2))
    return np.append(table, table[0])


def oscillator(table, freq, n, sr=SR, phase=0.0):
    """Read a one-period wavetable at ``freq`` Hz for ``n`` samples (linear interpolation)."""
    pos = ((phase + freq / sr * np.arange(n)) % 1.0) * _TABLE_SIZE
    i = pos.astype(np.int64)
    frac = pos - i
    return table[i] + frac * (table[i + 1] - table[i])


def envelope(n_on, n_total, sr=SR, attack=_ATTACK, release=_RELEASE):
    """Raised-cosine attack, flat sustain until ``n_on``, raised-cosine release after it."""
    env = np.ones(n_total)
    n_att = min(int(attack * sr), n_on)
    env[:n_att] = 0.5 - 0.5 * np.cos(np.pi * np.arange(n_att) / max(n_att, 1))
    n_rel = n_total - n_on
    if n_rel > 0:
        env[n_on:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(1, n_rel + 1) / n_rel)
    return env


def bellows(notes, n, sr, rng):
    """Loudness from the bellows: a slow pumping, plus a swell over each phrase."""
    t = np.arange(n) / sr
    pump_hz = rng.uniform(0.25, 0.45)
    pressure = 0.88 + 0.08 * np.sin(2 * np.pi * pump_hz * t + rng.uniform(0, 2 * np.pi))
    spans = {}
    for note in notes:
        lo, hi = spans.get(note.phrase, (note.start, note.end))
        spans[note.phrase] = (min(lo, note.start), max(hi, note.end))
    swell = np.full(n, 0.9)
    for lo, hi in spans.values():
        a, b = int(lo * sr), min(n, int((hi + _RELEASE) * sr) + 1)
        if b > a:
            swell[a:b] = 0.82 + 0.18 * np.sin(np.pi * np.linspace(0, 1, b - a)) ** 0.5
    return pressure * swell


def render_harmonium(score, *, sr=SR, seed=0):
    """Play a :class:`~ragalib.synth.score.Score` on the harmonium.

    Parameters
    ----------
    score : Score
    sr : int
        Sample rate in Hz.
    seed : int
        Seeds the bellows; the same score and seed give the same samples.

    Returns
    -------
    np.ndarray, shape (round(score.seconds * sr),), float64
        Not normalised.
    """
    n = int(round(score.seconds * sr))
    out = np.zeros(n + int(_RELEASE * sr) + 1)
    banks = ((1.0, 1.0), (2.0 ** (_MUSETTE_CENTS / 1200.0), _MUSETTE_GAIN))
    rng = np.random.default_rng(seed)
    for note, freq in zip(score.notes, score.frequencies()):
        start = int(round(note.start * sr))
        n_on = max(1, int(round(note.duration * sr)))
        n_total = min(n_on + int(_RELEASE * sr), len(out) - start)
        if n_total <= 0:
            continue
        tone = sum(gain * oscillator(reed_table(freq * ratio, sr, bank), freq * ratio,
                                     n_total, sr, rng.random())
                   for bank, (ratio, gain) in enumerate(banks))
        out[start:start + n_total] += tone * envelope(min(n_on, n_total), n_total, sr)
    return out[:n] * bellows(score.notes, n, sr, rng)
