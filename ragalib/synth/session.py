"""Recording sessions: what makes two takes of the same instrument sound different.

Behind notebook 04_dataset (not called there by name). Real takes are recorded on different days: the microphone
sits elsewhere, the room answers differently, the noise floor and the level change. Every
5-second window of one take shares that session's character, which is why windows of one take
must never be split between training and test. :func:`record` gives each synthesised take a
session of its own, drawn from the take's seed.
"""

from dataclasses import dataclass

import numpy as np

from ..constants import OUTPUT_PEAK


@dataclass(frozen=True)
class Session:
    """One take's recording conditions.

    Behind notebook 04_dataset (not called there by name).
    """

    tilt_db: float        # spectral tilt per octave around 1 kHz (microphone, distance)
    peak_hz: float        # one resonance of the room or microphone ...
    peak_db: float        # ... and its gain
    rt60: float           # reverberation time in seconds
    wet: float            # reverberant share of the sound
    noise_db: float       # noise floor relative to the signal's RMS
    hum_hz: float         # mains hum, 50 or 60 Hz
    gain: float           # overall level

    @classmethod
    def draw(cls, seed):
        rng = np.random.default_rng(seed)
        return cls(tilt_db=rng.uniform(-1.5, 1.5), peak_hz=float(np.exp(rng.uniform(
            np.log(250), np.log(3000)))), peak_db=rng.uniform(-4, 4),
            rt60=rng.uniform(0.2, 0.7), wet=rng.uniform(0.05, 0.25),
            noise_db=rng.uniform(-55, -35), hum_hz=float(rng.choice([50.0, 60.0])),
            gain=rng.uniform(0.5, 1.0))


def _colour(y, sr, session):
    spectrum = np.fft.rfft(y)
    hz = np.maximum(np.fft.rfftfreq(len(y), 1.0 / sr), 20.0)
    octaves = np.log2(hz / 1000.0)
    bump = np.exp(-0.5 * (np.log2(hz / session.peak_hz) / 0.5) ** 2)
    gain_db = np.clip(session.tilt_db * octaves, -12, 12) + session.peak_db * bump
    return np.fft.irfft(spectrum * 10.0 ** (gain_db / 20.0), n=len(y))


def _room(y, sr, session, rng):
    from scipy.signal import fftconvolve

    t = np.arange(int(session.rt60 * sr)) / sr
    response = rng.standard_normal(len(t)) * np.exp(-6.9 * t / session.rt60)
    response /= np.sqrt(np.sum(response ** 2))
    return (1 - session.wet) * y + session.wet * fftconvolve(y, response)[:len(y)]


def record(y, sr, *, seed):
    """``y`` as heard through one session's microphone, room and noise.

    Behind notebook 04_dataset (not called there by name).

    Returns
    -------
    np.ndarray, float32, same length, peak at ``OUTPUT_PEAK * session.gain``
    """
    session = Session.draw(seed)
    rng = np.random.default_rng(seed + 1)
    out = _room(_colour(np.asarray(y, dtype=np.float64), sr, session), sr, session, rng)
    rms = np.sqrt(np.mean(out ** 2))
    t = np.arange(len(out)) / sr
    hum = sum(np.sin(2 * np.pi * k * session.hum_hz * t) / k for k in (1, 2, 3))
    floor = rng.standard_normal(len(out)) + 0.5 * hum
    out = out + rms * 10.0 ** (session.noise_db / 20.0) * floor / np.std(floor)
    return (OUTPUT_PEAK * session.gain * out / np.max(np.abs(out))).astype(np.float32)
