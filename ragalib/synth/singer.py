"""A singing voice: a score sung as a Hindustani vocalist would, with its true pitch contour.

Taught in notebook 07_song_detection (melody extraction is measured against the contour this
module returns). A harmonium steps from note to note on the equal-tempered grid; a singer does
not:

* **meend**: the voice glides between notes (a slow, continuous slide on held notes, a quick
  one elsewhere), so a pitch track passes through the notes in between;
* **andolan**: on the notes the catalogue marks (Darbari's g and d, Bhairav's r and d) the
  voice swings slowly below the note and back, once or twice a second;
* **kan** and **gamak**: grace notes flicked before a note (from the score), and in fast taans a
  heavy oscillation around each note;
* **intonation on shruti positions**: each swara sits where the raga's tradition places it
  (the catalogue's ``intonation``, in cents off equal temperament), plus a small spread of the
  performer's own, plus a slow drift;
* **vibrato** on long notes, a **vowel** per phrase (three formants), and **breath** noise.

The source is a band-limited glottal pulse train (harmonic k at k ** -slope) whose phase
follows the contour sample by sample, shaped by the vowel's formant resonators.
"""

import functools
from dataclasses import dataclass

import numpy as np

from ..constants import SR
from ..ragas import SEMITONES, get_raga

CONTROL_HOP = 64
"""Samples between points of the pitch contour (2.9 ms at 22050 Hz)."""
VOWELS = {"aa": ((750.0, 90.0), (1200.0, 110.0), (2600.0, 160.0)),
          "a": ((650.0, 90.0), (1100.0, 110.0), (2500.0, 160.0)),
          "o": ((500.0, 80.0), (850.0, 100.0), (2500.0, 160.0)),
          "e": ((450.0, 80.0), (1900.0, 120.0), (2600.0, 160.0)),
          "ee": ((300.0, 70.0), (2300.0, 130.0), (3000.0, 170.0))}
"""Vowel formants (centre Hz, bandwidth Hz): sung syllables and the open "aa" of an alap."""
_FORMANT_GAINS = (1.0, 0.5, 0.25)
MAX_HZ = 6000.0
"""No harmonics above this: a voice carries little energy higher, and it halves the work."""


@dataclass(frozen=True)
class Singer:
    """One vocalist's habits (see the module docstring).

    Behind notebook 07_song_detection (not called there by name).
    """

    name: str
    slope: float = 1.3            # glottal source: harmonic k at k ** -slope
    vibrato_cents: float = 15.0
    vibrato_hz: float = 5.5
    spread_cents: float = 6.0     # this performer's own offset per swara (standard deviation)
    drift_cents: float = 6.0      # slow wander within a held note
    meend_share: float = 0.45     # share of transitions between held notes sung as meend
    breath: float = 0.04


MALE = Singer("male")
FEMALE = Singer("female", slope=1.5, vibrato_cents=20.0, vibrato_hz=5.8)
SINGERS = {s.name: s for s in (MALE, FEMALE)}


@dataclass(frozen=True)
class SungContour:
    """What the singer sang, point by point every ``hop`` samples: ``hz`` (NaN where silent),
    ``level`` (0-1) and the ornaments counted (``meend``, ``andolan``, ``kan``, ``gamak``).

    Behind notebook 07_song_detection (not called there by name).
    """

    hz: np.ndarray
    level: np.ndarray
    hop: int
    sr: int
    ornaments: dict

    @property
    def times(self):
        return np.arange(len(self.hz)) * self.hop / self.sr


def swara_cents(raga_id, *, rng=None, spread=0.0):
    """Where a singer places each of the raga's 12 steps, in cents above Sa: the equal-tempered
    step plus the catalogue's ``intonation`` plus, with ``rng``, a performer's spread (Sa and Pa,
    the drone's notes, stay put).

    Behind notebook 07_song_detection (not called there by name).
    """
    raga = get_raga(raga_id)
    out = 100.0 * np.arange(12)
    for swara, offset in raga.intonation:
        out[SEMITONES[swara]] += offset
    if rng is not None and spread:
        wobble = rng.normal(0.0, spread, 12)
        wobble[[0, 7]] = 0.0
        out += wobble
    return out


def _smooth_step(n):
    """A raised-cosine rise from 0 to 1 over ``n`` points."""
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / max(n - 1, 1))


def contour(score, *, singer=MALE, sr=SR, seed=0, hop=CONTROL_HOP):
    """The sung pitch and level of ``score``: see the module docstring.

    Behind notebook 07_song_detection (not called there by name).

    Returns
    -------
    SungContour
    """
    rng = np.random.default_rng(seed)
    rate = sr / hop
    n = int(np.ceil(score.seconds * rate)) + 1
    steps = swara_cents(score.raga_id, rng=rng, spread=singer.spread_cents)
    cents = np.full(n, np.nan)
    on = np.zeros(n)
    counts = {"meend": 0, "andolan": 0, "kan": 0, "gamak": 0}
    notes = sorted(score.notes, key=lambda note: note.start)
    targets = [steps[p % 12] + 1200.0 * (p // 12) for p in (note.semitones for note in notes)]
    for note, target in zip(notes, targets):
        a, b = int(round(note.start * rate)), min(n, int(round(note.end * rate)))
        if b <= a:
            continue
        t = np.arange(b - a) / rate
        shape = np.zeros(b - a)
        if note.andolan:            # a slow swing below the note and back
            depth, speed = rng.uniform(35, 60), rng.uniform(0.8, 1.4)
            shape -= depth * 0.5 * (1 - np.cos(2 * np.pi * speed * t))
            counts["andolan"] += 1
        elif note.duration < 0.3 and not note.ornament and rng.random() < 0.3:
            shape += rng.uniform(40, 90) * np.sin(2 * np.pi * t / note.duration)   # gamak
            counts["gamak"] += 1
        elif note.duration >= 0.6:  # vibrato fades in, and the voice drifts a little
            fade = np.clip(t / 0.4 - 0.5, 0.0, 1.0)
            shape += singer.vibrato_cents * fade * np.sin(2 * np.pi * singer.vibrato_hz * t
                                                          + rng.uniform(0, 2 * np.pi))
            shape += singer.drift_cents * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * t
                                                 + rng.uniform(0, 2 * np.pi))
        counts["kan"] += bool(note.ornament and not note.andolan)
        cents[a:b] = target + shape
        on[a:b] = 1.0
    # Glides: each join between touching notes is sung through, as meend or a quick slide.
    for prev, nxt, p_hz, n_hz in zip(notes, notes[1:], targets, targets[1:]):
        if nxt.start - prev.end > 0.06 or p_hz == n_hz:
            continue
        held = prev.duration >= 0.4 and nxt.duration >= 0.4
        meend = held and rng.random() < singer.meend_share
        seconds = rng.uniform(0.15, 0.3) if meend else min(0.05, 0.4 * prev.duration,
                                                           0.4 * nxt.duration)
        counts["meend"] += meend
        join = int(round(nxt.start * rate))
        a = max(0, join - int(seconds * rate * (0.7 if meend else 0.5)))
        b = min(n, join + int(seconds * rate * (0.3 if meend else 0.5)))
        if b - a < 2 or np.isnan(cents[a]) or np.isnan(cents[b - 1]):
            continue
        cents[a:b] = cents[a] + (cents[b - 1] - cents[a]) * _smooth_step(b - a)
    level = np.convolve(on, np.hanning(max(3, int(0.06 * rate))), mode="same")
    level = np.clip(level / max(np.hanning(max(3, int(0.06 * rate))).sum(), 1e-9), 0, 1)
    # Fill the silences with the nearest sung pitch, so a release decays on its own note.
    filled = cents.copy()
    idx = np.where(~np.isnan(filled), np.arange(n), 0)
    np.maximum.accumulate(idx, out=idx)
    if np.isnan(filled).all():
        filled[:] = 0.0
    else:
        first = np.flatnonzero(~np.isnan(filled))[0]
        idx[:first] = first
        filled = filled[idx]
    hz = score.tonic_hz * 2.0 ** (filled / 1200.0)
    return SungContour(hz=np.where(on > 0, hz, np.nan), level=level, hop=hop, sr=sr,
                       ornaments=counts), hz


def _formant_filter(x, sr, formants):
    """``x`` through parallel two-pole resonators at the vowel's formants."""
    from scipy.signal import lfilter

    out = np.zeros_like(x)
    for (hz, bandwidth), gain in zip(formants, _FORMANT_GAINS):
        if hz >= 0.45 * sr:
            continue
        r = np.exp(-np.pi * bandwidth / sr)
        a = [1.0, -2.0 * r * np.cos(2 * np.pi * hz / sr), r * r]
        out += gain * (1 - r) * lfilter([1.0], a, x)
    return out


def _glottal_source(hz, sr, slope):
    """A band-limited pulse train following ``hz`` (one value per sample): harmonic k at
    k ** -slope, none above :data:`MAX_HZ` or 0.45 * sr.

    Read from one-period tables, one per sixth of an octave, each band-limited for the top of
    its band (:func:`ragalib.synth.voices.oscillator`), so the cost does not grow with the
    number of harmonics.
    """
    from .voices import oscillator

    edge = min(0.45 * sr, MAX_HZ)
    cycles = np.cumsum(hz / sr)
    band = np.floor(6.0 * np.log2(np.maximum(hz, 30.0) / 30.0)).astype(int)
    out = np.zeros(len(hz))
    for b in np.unique(band):
        where = band == b
        out[where] = oscillator(_pulse_table(30.0 * 2.0 ** ((b + 1) / 6.0), edge, slope),
                                cycles[where])
    return out


@functools.lru_cache(maxsize=256)
def _pulse_table(top_hz, edge, slope, size=2048):
    """One period of the glottal pulse for pitches up to ``top_hz`` (see _glottal_source)."""
    k = np.arange(1, max(1, int(edge / top_hz)) + 1)
    spectrum = np.zeros(size // 2 + 1, dtype=complex)
    spectrum[k] = k ** -slope * -1j
    table = np.fft.irfft(spectrum, n=size) * size / 2
    return np.append(table, table[0])


def sing(score, *, singer="male", sr=SR, seed=0):
    """Sing ``score``: the voice and the contour it follows.

    Behind notebook 07_song_detection (not called there by name).

    Parameters
    ----------
    score : ragalib.synth.score.Score
        Notes with ``andolan`` marks where the improviser left them (``sung=True``).
    singer : str or Singer
        ``"male"`` or ``"female"`` (:data:`SINGERS`); the register comes from the score's Sa.
    sr : int
    seed : int

    Returns
    -------
    y : np.ndarray, float64, shape (round(score.seconds * sr),), not normalised
    sung : SungContour
        The true f0 every :data:`CONTROL_HOP` samples (NaN where the singer is silent).
    """
    from scipy.ndimage import uniform_filter1d

    singer = SINGERS[singer] if isinstance(singer, str) else singer
    sung, filled = contour(score, singer=singer, sr=sr, seed=seed)
    n = int(round(score.seconds * sr))
    grid = np.arange(len(filled)) * sung.hop
    hz = np.interp(np.arange(n), grid, filled)
    level = np.interp(np.arange(n), grid, sung.level)
    rng = np.random.default_rng(seed + 7)
    source = _glottal_source(hz, sr, singer.slope)
    source += singer.breath * rng.standard_normal(n) * np.sqrt(np.mean(source ** 2))
    # One vowel per phrase, cross-faded: each vowel's filter runs over the whole signal once.
    names = list(VOWELS)
    phrase_vowel = {}
    weight = np.zeros((len(names), n))
    for note in score.notes:
        v = phrase_vowel.setdefault(note.phrase, int(rng.integers(len(names))))
        a, b = int(note.start * sr), min(n, int((note.end + 0.15) * sr))
        weight[v, a:b] = 1.0
    weight[0, weight.sum(axis=0) == 0] = 1.0
    width = int(0.04 * sr) + 1   # two boxes of 40 ms: an 80-ms triangular cross-fade
    weight = uniform_filter1d(uniform_filter1d(weight, width, axis=1), width, axis=1)
    weight /= np.maximum(weight.sum(axis=0), 1e-9)
    y = np.zeros(n)
    for v, name in enumerate(names):
        if weight[v].any():
            y += weight[v] * _formant_filter(source, sr, VOWELS[name])
    return y * level, sung
