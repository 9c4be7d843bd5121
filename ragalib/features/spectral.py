"""Spectral features: the STFT, log and mel spectrograms, MFCCs and chroma, and the views of
them the chapters show.

Taught in notebooks 02_spectrogram (STFT, dB), 03_mfcc (mel bands, cepstrum) and
09_robust_features (chroma: pitch classes from a constant-Q transform).
"""

import numpy as np

from ..constants import octaves_below_nyquist
from ..errors import RagalibError
from .config import CHROMA_BINS, CHROMA_FMIN, DEFAULT


def checked_signal(y):
    """``y`` as float32, checked to be a mono signal or a stack of segments.

    Behind notebooks 02_spectrogram, 03_mfcc and 09_robust_features (not called there by name).
    """
    y = np.asarray(y)
    if y.ndim not in (1, 2) or y.shape[-1] == 0:
        raise RagalibError(f"expected a mono signal or a stack of segments, got shape {y.shape}")
    return y.astype(np.float32, copy=False)


def stft_magnitude(y, *, config=DEFAULT):
    """Linear STFT magnitude, shape ``(1 + n_fft // 2, frames)``, Hann window, centred frames.

    Taught in notebook 02_spectrogram.
    """
    import librosa

    return np.abs(librosa.stft(checked_signal(y), n_fft=config.n_fft, hop_length=config.hop_length,
                               window="hann", center=True))


def log_spectrogram(y, *, config=DEFAULT, top_db=80.0):
    """STFT magnitude in dB relative to its loudest bin, floored ``top_db`` below it.

    Taught in notebook 02_spectrogram.
    """
    import librosa

    return librosa.amplitude_to_db(stft_magnitude(y, config=config), ref=np.max, top_db=top_db)


def mel_spectrogram(y, *, config=DEFAULT):
    """Mel-band power spectrogram, shape ``(n_mels, frames)``.

    Behind notebook 03_mfcc (not called there by name).
    """
    import librosa

    return librosa.feature.melspectrogram(y=checked_signal(y), sr=config.sr, n_fft=config.n_fft,
                                          hop_length=config.hop_length, n_mels=config.n_mels)


def log_mel(y, *, config=DEFAULT, top_db=80.0):
    """Mel power in dB, floored ``top_db`` below the loudest value *of each signal*.

    Taught in notebook 03_mfcc. ``librosa.power_to_db`` floors relative to the loudest value
    of the whole array, so on a stack of segments each segment's features would depend on its
    neighbours; here every segment is floored against its own peak, and a segment's features
    are the same whatever batch it is computed in.
    """
    power = mel_spectrogram(y, config=config)
    db = 10.0 * np.log10(np.maximum(power, 1e-10))
    return np.maximum(db, db.max(axis=(-2, -1), keepdims=True) - top_db)


def mfcc(y, *, config=DEFAULT):
    """MFCCs, time-major as the CNN takes them: the DCT of the log-mel spectrum.

    Taught in notebook 03_mfcc. ``librosa.feature.mfcc`` takes the DCT (type 2, orthonormal)
    of this module's :func:`log_mel`, whose level floor is set per segment; for one signal
    this equals ``librosa.feature.mfcc(y=y, ...)``.

    Parameters
    ----------
    y : np.ndarray, shape (n,) or (k, n)
        A signal, or a stack of segments (computed in one batched call, each segment on its
        own, see :func:`log_mel`).

    Returns
    -------
    np.ndarray, shape (frames, n_mfcc) or (k, frames, n_mfcc), float32
    """
    import librosa

    coefficients = librosa.feature.mfcc(S=log_mel(y, config=config), n_mfcc=config.n_mfcc)
    return np.ascontiguousarray(np.swapaxes(coefficients, -1, -2), dtype=np.float32)


def mfcc_to_audio(M, *, config=DEFAULT, n_iter=32, seed=0):
    """Sound rebuilt from MFCCs alone: what the published model's features keep.

    Taught in notebook 03_mfcc. ``M`` is time-major, as :func:`mfcc` returns it. librosa
    inverts each step: the DCT back to a (smoothed) log-mel spectrum, the mel bands back to
    a magnitude spectrogram, and Griffin-Lim (``n_iter`` rounds, from a random phase drawn
    with ``seed``, so the same MFCCs always give the same sound) back to a signal. The
    13 coefficients keep the envelope and lose the harmonics, so the result has the
    instrument's colour and almost no pitch. Peak-normalised to 0.9.
    """
    import librosa

    mel_power = librosa.feature.inverse.mfcc_to_mel(np.asarray(M, dtype=np.float64).T,
                                                    n_mels=config.n_mels)
    magnitude = librosa.feature.inverse.mel_to_stft(mel_power, sr=config.sr, n_fft=config.n_fft)
    y = librosa.griffinlim(magnitude, n_iter=n_iter, hop_length=config.hop_length,
                           n_fft=config.n_fft, random_state=seed)
    return (0.9 * y / max(float(np.abs(y).max()), 1e-12)).astype(np.float32)


def chroma(y, *, config=DEFAULT):
    """Chroma: constant-Q energy folded into :data:`CHROMA_BINS` pitch classes, time-major.

    Taught in notebook 09_robust_features. Each frame is scaled so its largest pitch class is
    1 (librosa's ``chroma_cqt``); bin 0 is C. Octaves are folded, so it is the *note*, not the
    register or the instrument's formants, that the features keep. Tuning is taken as A440
    (no per-call estimate), so every segment is measured against the same grid.

    Returns
    -------
    np.ndarray, shape (frames, CHROMA_BINS) or (k, frames, CHROMA_BINS), float32
    """
    import librosa

    octaves = octaves_below_nyquist(config.sr, 6)
    values = librosa.feature.chroma_cqt(y=checked_signal(y), sr=config.sr,
                                        hop_length=config.hop_length, fmin=CHROMA_FMIN,
                                        n_octaves=octaves, tuning=0.0, n_chroma=CHROMA_BINS,
                                        bins_per_octave=CHROMA_BINS)
    return np.ascontiguousarray(np.swapaxes(values, -1, -2), dtype=np.float32)


def cepstral_envelope(y, *, config=DEFAULT, n_keep=None, frame=None):
    """One frame's log-mel spectrum and its smooth envelope from the first ``n_keep`` MFCCs.

    Taught in notebook 03_mfcc: MFCCs are the DCT of the log-mel spectrum, so keeping only the
    first few coefficients and inverting the DCT gives the spectral envelope (timbre) with the
    fine harmonic detail (pitch) smoothed away. With ``n_keep == n_mels`` it is exact.

    Returns
    -------
    log_mel, envelope : np.ndarray, shape (n_mels,)
        In dB.
    """
    from scipy.fft import dct, idct

    n_keep = config.n_mfcc if n_keep is None else n_keep
    spectrum = log_mel(y, config=config)
    frame = spectrum.shape[1] // 2 if frame is None else frame
    coefficients = dct(spectrum[:, frame], type=2, norm="ortho")
    coefficients[n_keep:] = 0.0
    return spectrum[:, frame], idct(coefficients, type=2, norm="ortho")


def mfcc_profile(y, *, config=DEFAULT, floor_db=30.0):
    """Mean MFCC vector over the sounding frames of a signal: a summary of its timbre.

    Behind notebook 03_mfcc (not called there by name),
    where distances between profiles show that a change of
    instrument moves MFCCs more than a change of raga. Coefficient 0 (overall loudness) is
    left out, and so are frames more than ``floor_db`` below the loudest: otherwise the
    profile would mostly measure how much of the clip is silence between phrases.

    Returns
    -------
    np.ndarray, shape (n_mfcc - 1,)
    """
    coefficients = mfcc(y, config=config)
    # With the orthonormal DCT, c0 = sum of band levels / sqrt(n_mels): a frame X dB quieter
    # in every band sits X * sqrt(n_mels) lower.
    loudness = coefficients[:, 0]
    sounding = loudness > loudness.max() - floor_db * np.sqrt(config.n_mels)
    return coefficients[sounding, 1:].mean(axis=0)


def spectral_peaks(y, *, config=DEFAULT, at, n=6):
    """Frequencies in Hz of the ``n`` strongest peaks of the STFT frame at ``at`` seconds.

    Taught in notebook 02_spectrogram, where a held note's peaks all fall on its harmonics.
    """
    from scipy.signal import find_peaks

    frame = stft_magnitude(y, config=config)[:, int(at * config.sr / config.hop_length)]
    peaks, _ = find_peaks(frame)
    strongest = peaks[np.argsort(frame[peaks])[::-1][:n]]
    return np.sort(strongest) * config.sr / config.n_fft


def profile_distances(signals, *, config=DEFAULT):
    """Euclidean distances between the :func:`mfcc_profile` of each signal, as a matrix.

    Taught in notebook 03_mfcc (timbre against raga).
    """
    profiles = np.array([mfcc_profile(y, config=config) for y in signals])
    return np.linalg.norm(profiles[:, None] - profiles[None], axis=-1)
