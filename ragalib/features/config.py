"""How audio becomes features: :class:`FeatureConfig`, the one configuration that travels
with every dataset and model bundle, so features made for training and for detection can
never silently differ.

Taught in notebook 03_mfcc.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, fields

import numpy as np

from ..constants import C2_HZ, SR
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
