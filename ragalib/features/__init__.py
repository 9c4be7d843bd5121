"""Feature extraction: STFT, log spectrogram, mel spectrogram, MFCC and chroma, under one config.

Taught in notebooks 02_spectrogram (STFT, dB), 03_mfcc (mel bands, cepstrum) and
09_robust_features (chroma: pitch classes from a constant-Q transform). One
:class:`FeatureConfig` travels with every dataset and model bundle, so features made for
training and for detection can never silently differ.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, fields

import numpy as np

from ..constants import C2_HZ, SR, octaves_below_nyquist
from ..errors import RagalibError

KINDS = ("mfcc", "chroma", "chroma+mfcc", "melody")
"""Feature kinds a config may name; each maps to an extractor in :func:`extract`."""
CHROMA_BINS = 36
"""Chroma bins per octave: three per semitone, so a note a little sharp or flat, or an
ornament between two notes, still has somewhere to go."""
TRANSPOSABLE = ("chroma", "melody")
"""Kinds made of pitch classes only: moving a song by whole semitones is an exact circular
shift of their bins (:func:`transpose`), with none of the artefacts of shifting audio."""
CHROMA_FMIN = C2_HZ
"""The constant-Q transform behind chroma starts at C2 and spans six octaves."""


@dataclass(frozen=True)
class FeatureConfig:
    """How audio becomes features. The defaults mirror the published method.

    Taught in notebook 03_mfcc. Validated on creation; frozen, so it can key a cache.

    Parameters
    ----------
    sr : int
        Sample rate in Hz that audio is resampled to.
    n_fft : int
        STFT window length in samples (2048 = 93 ms at 22050 Hz).
    hop_length : int
        Samples between successive STFT frames (512 = 23 ms).
    n_mfcc : int
        Number of cepstral coefficients kept (kinds with MFCCs only).
    n_mels : int
        Mel bands the MFCCs are computed from.
    segment_seconds : float
        Length of the windows a recording is cut into.
    kind : str
        Which features: one of :data:`KINDS`. ``chroma`` has :data:`CHROMA_BINS` values per
        frame, ``chroma+mfcc`` those followed by ``n_mfcc`` MFCCs.

    Examples
    --------
    >>> config = FeatureConfig()
    >>> config.segment_frames, config.input_shape
    (216, (216, 13, 1))
    """

    sr: int = SR
    n_fft: int = 2048
    hop_length: int = 512
    n_mfcc: int = 13
    n_mels: int = 128
    segment_seconds: float = 5.0
    kind: str = "mfcc"

    def __post_init__(self):
        def whole(value):
            return isinstance(value, int) and not isinstance(value, bool)

        seconds = self.segment_seconds
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
                or not np.isfinite(seconds):
            raise RagalibError(f"bad FeatureConfig: segment_seconds must be a finite number of "
                               f"seconds, not {seconds!r}")
        object.__setattr__(self, "segment_seconds", float(seconds))  # 5 and 5.0: one config
        checks = [
            (whole(self.sr) and 4000 <= self.sr <= 192000,
             f"sr must be a whole number of Hz in 4000-192000, not {self.sr!r}"),
            (whole(self.n_fft) and 16 <= self.n_fft,
             f"n_fft must be a whole number of samples >= 16, not {self.n_fft!r}"),
            (whole(self.hop_length) and 1 <= self.hop_length <= self.n_fft,
             f"hop_length must be 1..n_fft ({self.n_fft}), not {self.hop_length!r}"),
            (whole(self.n_mels) and 1 <= self.n_mels <= 1 + self.n_fft // 2,
             f"n_mels must be 1..{1 + self.n_fft // 2}, not {self.n_mels!r}"),
            (whole(self.n_mfcc) and 1 <= self.n_mfcc <= self.n_mels,
             f"n_mfcc must be 1..n_mels ({self.n_mels}), not {self.n_mfcc!r}"),
            (self.segment_seconds * self.sr >= self.n_fft,
             f"segment_seconds must hold at least one n_fft window, not "
             f"{self.segment_seconds!r}"),
            (self.kind in KINDS, f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise RagalibError(f"bad FeatureConfig: {message}")

    @property
    def segment_samples(self):
        """Samples in one segment (110250 for 5 s at 22050 Hz)."""
        return int(round(self.segment_seconds * self.sr))

    def frames(self, n_samples):
        """STFT frames for ``n_samples`` with centred frames: ``1 + n_samples // hop_length``."""
        return 1 + int(n_samples) // self.hop_length

    @property
    def segment_frames(self):
        """Frames in one segment: 216 for the defaults (1 + 110250 // 512)."""
        return self.frames(self.segment_samples)

    @property
    def n_features(self):
        """Values per frame."""
        return {"mfcc": self.n_mfcc, "chroma": CHROMA_BINS, "melody": CHROMA_BINS,
                "chroma+mfcc": CHROMA_BINS + self.n_mfcc}[self.kind]

    @property
    def input_shape(self):
        """The CNN's input shape for one segment: (frames, features, 1)."""
        return (self.segment_frames, self.n_features, 1)

    def to_dict(self):
        return asdict(self)

    def to_json(self):
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data):
        """Rebuild a config; unknown keys are an error, so a newer file is never misread."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RagalibError(f"bad FeatureConfig: unknown field(s) {', '.join(unknown)}")
        return cls(**data)

    @property
    def id(self):
        """A short, stable id: the first 10 hex digits of the SHA-1 of the JSON form."""
        return hashlib.sha1(self.to_json().encode()).hexdigest()[:10]


DEFAULT = FeatureConfig()


def _signal(y):
    y = np.asarray(y)
    if y.ndim not in (1, 2) or y.shape[-1] == 0:
        raise RagalibError(f"expected a mono signal or a stack of segments, got shape {y.shape}")
    return y.astype(np.float32, copy=False)


def stft_magnitude(y, *, config=DEFAULT):
    """Linear STFT magnitude, shape ``(1 + n_fft // 2, frames)``, Hann window, centred frames.

    Taught in notebook 02_spectrogram.
    """
    import librosa

    return np.abs(librosa.stft(_signal(y), n_fft=config.n_fft, hop_length=config.hop_length,
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

    return librosa.feature.melspectrogram(y=_signal(y), sr=config.sr, n_fft=config.n_fft,
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
    values = librosa.feature.chroma_cqt(y=_signal(y), sr=config.sr, hop_length=config.hop_length,
                                        fmin=CHROMA_FMIN, n_octaves=octaves, tuning=0.0,
                                        n_chroma=CHROMA_BINS, bins_per_octave=CHROMA_BINS)
    return np.ascontiguousarray(np.swapaxes(values, -1, -2), dtype=np.float32)


def melody(y, *, config=DEFAULT):
    """The melody's pitch class frame by frame: a pitch-class roll, time-major.

    Taught in notebook 09_robust_features. Each frame holds one value: the salience of the
    predominant pitch (harmonic sum over a constant-Q spectrum, see
    :func:`ragalib.melody.salience.salience`), relative to the loudest frame of its segment, placed in
    the pitch-class bin (:data:`CHROMA_BINS` per octave, bin 0 = C) of that pitch. The
    harmonics, which chroma keeps and which differ from one instrument to the next, are gone.

    Returns
    -------
    np.ndarray, shape (frames, CHROMA_BINS) or (k, frames, CHROMA_BINS), float32
    """
    from ..melody.salience import BINS_PER_SEMITONE, salience

    signals = _signal(y)
    stack = signals[None] if signals.ndim == 1 else signals
    sal = salience(stack, sr=config.sr, hop_length=config.hop_length)
    peak, level = sal.argmax(axis=-2), sal.max(axis=-2)            # (k, frames) each
    loudest = level.max(axis=-1, keepdims=True)
    level = np.divide(level, loudest, out=np.zeros_like(level), where=loudest > 0)
    bins = np.round(peak * (CHROMA_BINS // 12) / BINS_PER_SEMITONE).astype(int) % CHROMA_BINS
    out = np.zeros((*peak.shape, CHROMA_BINS), np.float32)
    np.put_along_axis(out, bins[..., None], level[..., None], axis=-1)
    return out[0] if signals.ndim == 1 else out


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
    segments = _signal(segments)
    if segments.ndim != 2 or segments.shape[1] != config.segment_samples:
        raise RagalibError(f"expected segments of {config.segment_samples} samples, got shape "
                           f"{segments.shape}")
    if config.kind == "mfcc":
        return mfcc(segments, config=config)
    if config.kind == "chroma":
        return chroma(segments, config=config)
    if config.kind == "melody":
        return melody(segments, config=config)
    return np.concatenate([chroma(segments, config=config), mfcc(segments, config=config)],
                          axis=-1)


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
