"""Measuring pitch in audio: one note's frequency, and where a melody's energy falls.

Taught in notebook 00_meet_the_ragas, where it checks that the synthesiser plays in tune and
in the raga. A monophonic melody is assumed (no drone, no percussion).
"""

from dataclasses import dataclass

import numpy as np

from ..constants import NOTE_RANGE_HZ
from ..errors import RagalibError

FMIN, FMAX = NOTE_RANGE_HZ


def cents(measured_hz, target_hz):
    """Signed distance from ``target_hz`` to ``measured_hz`` in cents (1/100 semitone).

    Taught in notebooks 00_meet_the_ragas and 01_amplitude.
    """
    return 1200.0 * np.log2(np.asarray(measured_hz, float) / np.asarray(target_hz, float))


def pitch_class_cents(measured_hz, target_hz):
    """:func:`cents`, folded into one octave (-600 to 600): how far a Sa estimate is from the
    true Sa, whatever its octave.

    Taught in notebook 11_real_singing.
    """
    return (cents(measured_hz, target_hz) + 600.0) % 1200.0 - 600.0


def peak_frequency(y, near_hz, *, sr, search_cents=60.0):
    """The strongest spectral peak within ``search_cents`` of ``near_hz``, in Hz.

    Taught in notebook 01_amplitude.

    A Hann window, a zero-padded FFT with a bin under 0.2 Hz and a parabolic fit on the log
    magnitude locate the peak to a small fraction of a bin.

    Parameters
    ----------
    y : np.ndarray
        A stretch of steady tone (at least a few periods).
    """
    if len(y) < 4 * sr / near_hz:
        raise RagalibError(f"{len(y)} samples is too short to measure {near_hz:.1f} Hz")
    n_fft = 1 << max(17, int(np.ceil(np.log2(len(y)))))
    mag = np.abs(np.fft.rfft(y * np.hanning(len(y)), n=n_fft)) + 1e-12
    hz = np.fft.rfftfreq(n_fft, 1.0 / sr)
    ratio = 2.0 ** (search_cents / 1200.0)
    lo, hi = np.searchsorted(hz, [near_hz / ratio, near_hz * ratio])
    k = lo + int(np.argmax(mag[lo:hi]))
    a, b, c = np.log(mag[k - 1:k + 2])
    shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
    return float((k + shift) * sr / n_fft)


def note_errors(y, score, *, sr, min_seconds=0.15, skip_seconds=0.08):
    """Cents by which each held melody note of ``score`` is off its target in ``y``.

    Behind notebook 00_meet_the_ragas (not called there by name).

    Ornaments and notes shorter than ``min_seconds`` are left out; the first ``skip_seconds``
    of each note (where the previous note's release still sounds) are not measured.

    Returns
    -------
    np.ndarray, shape (n_measured,)
    """
    errors = []
    for note, target in zip(score.notes, score.frequencies()):
        if note.ornament or note.duration < min_seconds:
            continue
        a = int((note.start + skip_seconds) * sr)
        b = min(len(y), int(note.end * sr))
        if b - a < 4 * sr / target:
            continue
        errors.append(float(cents(peak_frequency(y[a:b], target, sr=sr), target)))
    return np.array(errors)


def f0_track(y, *, sr, frame_length=2048, hop_length=256):
    """Fundamental frequency (YIN) and RMS energy per frame of a monophonic signal.

    Behind notebook 00_meet_the_ragas (not called there by name).
    """
    import librosa

    f0 = librosa.yin(y=y.astype(np.float32), fmin=FMIN, fmax=FMAX, sr=sr,
                     frame_length=frame_length, hop_length=hop_length)
    rms = librosa.feature.rms(y=y, frame_length=frame_length, hop_length=hop_length)[0]
    n = min(len(f0), len(rms))
    return f0[:n], rms[:n]


def pitch_class_energy(y, tonic_hz, *, sr, floor_db=-35.0):
    """Share of a melody's energy on each of the 12 pitch classes above the tonic.

    Behind notebook 00_meet_the_ragas (not called there by name).

    Frames quieter than ``floor_db`` below the loudest are treated as silence. Each voiced
    frame's YIN pitch is rounded to the nearest equal-tempered semitone above Sa (octave
    folded) and weighted by the frame's energy.

    Returns
    -------
    np.ndarray, shape (12,)
        Sums to 1; index 0 is Sa, 7 is Pa.
    """
    f0, rms = f0_track(y, sr=sr)
    energy = rms ** 2
    voiced = energy > energy.max() * 10.0 ** (floor_db / 10.0)
    if not voiced.any():
        raise RagalibError("no voiced frames: the signal is silent")
    pcs = np.round(12.0 * np.log2(f0[voiced] / tonic_hz)).astype(int) % 12
    hist = np.bincount(pcs, weights=energy[voiced], minlength=12)
    return hist / hist.sum()


def find_phrase(melody, phrase):
    """Where ``phrase`` (semitones) occurs in ``melody`` as consecutive notes, in any octave.

    Taught in notebook 00_meet_the_ragas.

    Repeated notes in ``phrase`` are merged first, as :meth:`Score.melody` merges them.

    Returns
    -------
    list of int
        Indices into ``melody`` where an occurrence starts.
    """
    target = [p for i, p in enumerate(phrase) if i == 0 or phrase[i - 1] != p]
    found = []
    for i in range(len(melody) - len(target) + 1):
        shift = melody[i] - target[0]
        if shift % 12 == 0 and all(melody[i + j] - t == shift for j, t in enumerate(target)):
            found.append(i)
    return found


def contains_phrase(melody, phrase):
    """Whether ``phrase`` occurs in ``melody`` (see :func:`find_phrase`).

    Behind notebook 00_meet_the_ragas (not called there by name).
    """
    return bool(find_phrase(list(melody), list(phrase)))


@dataclass(frozen=True)
class HeldNote:
    """A stretch of steady pitch: ``start`` and ``end`` in seconds, its frequency ``hz``, and
    a ``label`` for a plot title.

    Behind notebook 00_meet_the_ragas (not called there by name).
    """

    start: float
    end: float
    hz: float
    label: str


def held_note(y, score=None, *, sr, max_cents=30.0):
    """The note to zoom into in notebooks 01_amplitude and 02_spectrogram.

    With the ``score`` a synthesised clip was rendered from: its longest melody note (less its
    first 0.3 s and last 0.05 s, where the neighbours still sound), at its target pitch. With
    no score (your own recording): the longest run of loud frames whose YIN pitch stays within
    ``max_cents`` of the run's first frame, at the run's median pitch.

    Raises
    ------
    RagalibError
        If no run of steady pitch lasts 0.25 s.
    """
    from ..ragas import swara_label

    if score is not None:
        note, hz = score.longest_note()
        return HeldNote(float(note.start + 0.3), float(note.end - 0.05), float(hz),
                        f"swara {swara_label(note.semitones)}")
    hop = 256
    f0, rms = f0_track(y, sr=sr, hop_length=hop)
    loud = rms > 0.1 * rms.max()
    best, run = (0, 0), 0
    for i in range(len(f0)):
        steady = loud[i] and run and abs(cents(f0[i], f0[i - run])) < max_cents
        run = run + 1 if steady else int(loud[i])
        if run > best[1] - best[0]:
            best = (i - run + 1, i + 1)
    a, b = best
    if (b - a) * hop / sr < 0.25:
        raise RagalibError("no steady note of at least 0.25 s: nothing to zoom into")
    return HeldNote(a * hop / sr, b * hop / sr, float(np.median(f0[a:b])),
                    "the steadiest note")
