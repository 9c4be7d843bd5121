"""Features under one configuration: :class:`FeatureConfig` (:mod:`.config`), the spectral
features (:mod:`.spectral`: STFT, log spectrogram, mel spectrogram, MFCC, chroma) and the
melody roll (:mod:`.melody_roll`), and :func:`extract`, which makes the kind a config names.

Taught in notebooks 02_spectrogram, 03_mfcc and 09_robust_features, which call them as
``features.mfcc(...)``, ``features.FeatureConfig(...)``: every name is here.
"""

import numpy as np

from ..errors import RagalibError
from .config import CHROMA_BINS, CHROMA_FMIN, DEFAULT, KINDS, TRANSPOSABLE, FeatureConfig
from .melody_roll import melody_roll, melody_roll_to_audio
from .spectral import (cepstral_envelope, checked_signal, chroma, log_mel, log_spectrogram,
                       mel_spectrogram, mfcc, mfcc_profile, mfcc_to_audio, profile_distances,
                       spectral_peaks, stft_magnitude)

__all__ = ["CHROMA_BINS", "CHROMA_FMIN", "DEFAULT", "KINDS", "TRANSPOSABLE", "FeatureConfig",
           "cepstral_envelope", "checked_signal", "chroma", "extract", "log_mel",
           "log_spectrogram", "mel_spectrogram", "melody_roll", "melody_roll_to_audio", "mfcc",
           "mfcc_profile", "mfcc_to_audio", "profile_distances", "spectral_peaks",
           "stft_magnitude", "transpose"]


def transpose(values, semitones, *, config=DEFAULT):
    """Pitch-class features of a signal moved up by ``semitones``, without touching audio.

    Taught in notebook 09_robust_features. Only for the kinds in :data:`TRANSPOSABLE`.
    """
    if config.kind not in TRANSPOSABLE:
        raise RagalibError(f"{config.kind} features cannot be transposed; shift the audio")
    return np.roll(values, int(semitones) * (CHROMA_BINS // 12), axis=-1)


def extract(segments, *, config=DEFAULT):
    """The features ``config.kind`` names for a stack of segments.

    Behind notebooks 02_spectrogram, 03_mfcc and 09_robust_features (not called there by name).

    Returns
    -------
    np.ndarray, shape (k, config.segment_frames, config.n_features), float32
    """
    segments = checked_signal(segments)
    if segments.ndim != 2 or segments.shape[1] != config.segment_samples:
        raise RagalibError(f"expected segments of {config.segment_samples} samples, got shape "
                           f"{segments.shape}")
    if config.kind == "mfcc":
        return mfcc(segments, config=config)
    if config.kind == "chroma":
        return chroma(segments, config=config)
    if config.kind == "melody":
        return melody_roll(segments, config=config)
    return np.concatenate([chroma(segments, config=config), mfcc(segments, config=config)],
                          axis=-1)
