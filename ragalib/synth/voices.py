"""Instrument voices that play a score: the harmonium of the training data, and others.

Taught in notebook 03_mfcc (why a change of instrument moves MFCCs far more than a change of
raga does). Behind notebook 00_meet_the_ragas (the harmonium).

A :class:`Voice` is a recipe for a pitched instrument: a harmonic spectrum (a power law shaped
by formants), band-limited below Nyquist for every pitch so nothing aliases; an optional second
reed bank; an attack and release; breath or bow noise; vibrato; a swell over each phrase; and,
for plucked strings, a decay in which the upper harmonics die first. What makes the harmonium
a harmonium:

* free reeds: a bright, nasal spectrum with many harmonics;
* two reed banks: the main reed on the equal-tempered pitch, as a harmonium is tuned, and a
  quieter "musette" reed a few cents sharp whose slow beating gives the shimmer. Because the
  main reed is the louder, the tone's pitch stays on the main reed's (its instantaneous drift
  is bounded by ``musette_cents * g / (1 - g)`` for musette gain ``g``), whereas two equal reeds
  would beat to silence with a phase flip;
* bellows: the player pumps, so the loudness breathes slowly, and swells over each phrase;
* no vibrato: a harmonium's pitch is fixed;
* smooth raised-cosine attack and release, and legato overlap between notes: no clicks.
"""

import functools
from dataclasses import dataclass

import numpy as np

from ..constants import SR  # noqa: F401 - synth.SR, the rate every voice renders at
from ..errors import RagalibError

_TABLE_SIZE = 2048


@dataclass(frozen=True)
class Voice:
    """A sustained pitched instrument (see the module docstring).

    Behind notebooks 00_meet_the_ragas and 03_mfcc (not called there by name).
    """

    name: str
    slope: float                 # harmonic k has amplitude k ** -slope ...
    formants: tuple              # ... times 1 + sum of gain * bump((f - hz) / width)
    max_hz: float = 9000.0       # no harmonics above this
    musette_cents: float = 0.0   # a second reed bank this much sharp (0: none)
    musette_gain: float = 0.0
    attack: float = 0.03         # seconds
    release: float = 0.06
    breath: float = 0.0          # breath noise, relative to the tone
    vibrato_cents: float = 0.0
    vibrato_hz: float = 5.0
    pumping: float = 0.08        # depth of the slow bellows / breath pressure cycle
    decay: float = 0.0           # plucked: seconds for the tone to fall by 1/e (0: sustained)


HARMONIUM = Voice("harmonium", slope=0.8, formants=((1400.0, 800.0, 0.9),),
                  musette_cents=4.0, musette_gain=0.45)
FLUTE = Voice("flute", slope=2.2, formants=((800.0, 500.0, 0.5),), max_hz=5000.0,
              attack=0.07, release=0.09, breath=0.05, vibrato_cents=12.0, vibrato_hz=5.2,
              pumping=0.05)
PLUCKED = Voice("plucked", slope=1.1, formants=((2200.0, 1200.0, 1.2),), attack=0.004,
                release=0.05, decay=0.7, pumping=0.0)
BOWED = Voice("bowed", slope=1.0, formants=((550.0, 250.0, 1.5), (2600.0, 900.0, 1.0)),
              attack=0.09, release=0.12, breath=0.03, vibrato_cents=18.0, vibrato_hz=5.6)
VOICE = Voice("voice", slope=1.2, formants=((750.0, 110.0, 9.0), (1200.0, 130.0, 5.0),
                                            (2600.0, 200.0, 2.5)),
              max_hz=6000.0, attack=0.06, release=0.1, breath=0.01, vibrato_cents=25.0,
              vibrato_hz=5.4, pumping=0.06)
"""A sung "aa": a glottal source shaped by the vowel's first three formants."""
VOICES = {voice.name: voice for voice in (HARMONIUM, FLUTE, PLUCKED, BOWED, VOICE)}


def get_voice(voice):
    """A :class:`Voice` by name (or itself); unknown names list the valid ones.

    Behind notebooks 00_meet_the_ragas and 03_mfcc (not called there by name).
    """
    if isinstance(voice, Voice):
        return voice
    if voice not in VOICES:
        raise RagalibError(f"unknown voice {voice!r}; valid voices are {', '.join(VOICES)}")
    return VOICES[voice]


@functools.lru_cache(maxsize=1024)
def wavetable(voice, freq, sr=SR, bank=0, dull=0.0):
    """One period of ``voice``'s waveform at ``freq``, band-limited for ``sr``.

    Behind notebooks 00_meet_the_ragas and 03_mfcc (not called there by name).

    Phases are fixed per bank; ``dull`` steepens the slope (a plucked string's later, darker
    sound). The table is scaled to unit RMS and carries one guard sample for interpolation.
    """
    n_harm = max(1, int(min(0.45 * sr, voice.max_hz) / freq))
    k = np.arange(1, n_harm + 1)
    shape = 1.0 + sum(gain * np.exp(-(((k * freq) - hz) / width) ** 2)
                      for hz, width, gain in voice.formants)
    amp = k ** -(voice.slope + dull) * shape
    phases = np.random.default_rng(1000 + bank).uniform(0, 2 * np.pi, n_harm)
    spectrum = np.zeros(_TABLE_SIZE // 2 + 1, dtype=complex)
    spectrum[1:n_harm + 1] = amp * np.exp(1j * phases)
    table = np.fft.irfft(spectrum, n=_TABLE_SIZE)
    table /= np.sqrt(np.mean(table ** 2))
    return np.append(table, table[0])


def oscillator(table, cycles):
    """Read a one-period wavetable at the running phase ``cycles`` (linear interpolation).

    Behind notebooks 00_meet_the_ragas and 03_mfcc (not called there by name).
    """
    pos = (cycles % 1.0) * _TABLE_SIZE
    i = pos.astype(np.int64)
    frac = pos - i
    return table[i] + frac * (table[i + 1] - table[i])


def envelope(n_on, n_total, sr=SR, attack=0.03, release=0.06):
    """Raised-cosine attack, flat sustain until ``n_on``, raised-cosine release after it.

    Behind notebooks 00_meet_the_ragas and 03_mfcc (not called there by name).
    """
    env = np.ones(n_total)
    n_att = min(int(attack * sr), n_on)
    env[:n_att] = 0.5 - 0.5 * np.cos(np.pi * np.arange(n_att) / max(n_att, 1))
    n_rel = n_total - n_on
    if n_rel > 0:
        env[n_on:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(1, n_rel + 1) / n_rel)
    return env


def swell(notes, n, sr, rng, depth):
    """Loudness from bellows or breath: a slow pumping, plus a swell over each phrase.

    Behind notebooks 00_meet_the_ragas and 03_mfcc (not called there by name).
    """
    t = np.arange(n) / sr
    pump_hz = rng.uniform(0.25, 0.45)
    pressure = 1.0 - depth + depth * np.sin(2 * np.pi * pump_hz * t + rng.uniform(0, 2 * np.pi))
    spans = {}
    for note in notes:
        lo, hi = spans.get(note.phrase, (note.start, note.end))
        spans[note.phrase] = (min(lo, note.start), max(hi, note.end))
    phrase = np.full(n, 0.9)
    for lo, hi in spans.values():
        a, b = int(lo * sr), min(n, int((hi + 0.1) * sr) + 1)
        if b > a:
            phrase[a:b] = 0.82 + 0.18 * np.sin(np.pi * np.linspace(0, 1, b - a)) ** 0.5
    return pressure * phrase


def _breath_noise(n, sr, rng):
    from scipy.signal import butter, sosfilt

    sos = butter(2, [1000.0, min(7000.0, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
    noise = sosfilt(sos, rng.standard_normal(n))
    return noise / (np.std(noise) + 1e-12)


def render(score, *, voice=HARMONIUM, sr=SR, seed=0):
    """Play a :class:`~ragalib.synth.score.Score` on a voice.

    Behind notebooks 00_meet_the_ragas and 03_mfcc (not called there by name).

    Parameters
    ----------
    score : Score
    voice : Voice or str
        ``"harmonium"`` (default) or another name in :data:`VOICES`.
    sr : int
        Sample rate in Hz.
    seed : int
        Seeds phases, pumping and noise; the same score and seed give the same samples.

    Returns
    -------
    np.ndarray, shape (round(score.seconds * sr),), float64
        Not normalised.
    """
    voice = get_voice(voice)
    n = int(round(score.seconds * sr))
    n_release = int(voice.release * sr)
    out = np.zeros(n + n_release + 1)
    loudness = np.zeros_like(out) if voice.breath else None
    banks = [(1.0, 1.0)]
    if voice.musette_gain:
        banks.append((2.0 ** (voice.musette_cents / 1200.0), voice.musette_gain))
    rng = np.random.default_rng(seed)
    for note, freq in zip(score.notes, score.frequencies()):
        start = int(round(note.start * sr))
        n_on = max(1, int(round(note.duration * sr)))
        n_total = min(n_on + n_release, len(out) - start)
        if n_total <= 0:
            continue
        cycles = np.arange(n_total) * (freq / sr)
        if voice.vibrato_cents:  # vibrato fades in after the attack
            t = np.arange(n_total) / sr
            depth = voice.vibrato_cents / 1200.0 * np.clip(t / 0.3 - 0.5, 0.0, 1.0)
            step = freq / sr * 2.0 ** (depth * np.sin(2 * np.pi * voice.vibrato_hz * t))
            cycles = np.cumsum(step) - step[0]
        phase = rng.random() + cycles
        tone = sum(gain * oscillator(wavetable(voice, freq * ratio, sr, bank), phase * ratio)
                   for bank, (ratio, gain) in enumerate(banks))
        env = envelope(min(n_on, n_total), n_total, sr, voice.attack, voice.release)
        if voice.decay:  # the string rings down, its upper harmonics first
            t = np.arange(n_total) / sr
            bright = np.exp(-t / (0.25 * voice.decay))
            tone = bright * tone + (1 - bright) * oscillator(
                wavetable(voice, freq, sr, 0, dull=1.5), phase)
            env = env * np.exp(-t / voice.decay)
        out[start:start + n_total] += tone * env
        if loudness is not None:
            loudness[start:start + n_total] += env
    if loudness is not None:
        out += voice.breath * loudness * _breath_noise(len(out), sr, rng)
    return out[:n] * swell(score.notes, n, sr, rng, voice.pumping)
