"""Traces of a raga in a song: the detection pipeline of the published method, automated.

Taught in notebook 07_song_detection. A song goes through:

1. loading (any format, rate and channel count) at the model's sample rate;
2. percussion suppression (harmonic/percussive separation), on by default. It comes before
   the tonic so that the tonic estimator hears the melody rather than the drums;
3. the tonic: estimated (:mod:`ragalib.tonic`), given, or left alone, and the song shifted by
   whole semitones so that its Sa lands on the model's C#;
4. 5-second segments with the bundle's FeatureConfig; segments too quiet to judge are left out;
5. the model: probabilities per segment, averaged into the song's raga and its confidence.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import RagalibError

QUIET_DB = -30.0
"""A segment this far below the song's loudest segment (RMS) is too quiet to judge."""


@dataclass
class Detection:
    """What detection found in one song. ``to_json`` gives the CLI contract."""

    file: str
    raga: str
    confidence: float
    probabilities: dict
    tonic_hz: float | None
    tonic_note: str | None
    shift: int
    segments: list = field(default_factory=list)   # {"start", "end", "raga", "confidence"}
    skipped: list = field(default_factory=list)    # (start, end) of quiet segments
    segment_probabilities: np.ndarray = None

    def to_json(self):
        """The contract of ../shared/DESIGN.md: file, raga, confidence, probabilities,
        tonic_hz, segments."""
        return {"file": self.file, "raga": self.raga, "confidence": round(self.confidence, 4),
                "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
                "tonic_hz": None if self.tonic_hz is None else round(self.tonic_hz, 2),
                "segments": self.segments}


def prepare(y, sr, *, tonic="auto", separation=True, target="C#4", pitch_model=None,
            shift_audio=True):
    """Tonic, transposition and percussion suppression for one signal.

    Parameters
    ----------
    tonic : "auto", "catalogue", a note name such as "D4", a frequency in Hz, or None
        "auto" estimates Sa with the pitch model learned from the training takes
        (``pitch_model``, default :func:`ragalib.pitch_model.ensure_pitch_model`);
        "catalogue" with the catalogue's note emphasis alone; None leaves the pitch alone
        (and reports no tonic).
    shift_audio : bool
        False leaves the transposition to the features (see
        :func:`ragalib.features.transpose`): ``shift`` is then reported, not applied.

    Returns
    -------
    y : np.ndarray
        The prepared signal.
    info : dict
        ``tonic_hz``, ``tonic_note``, ``shift`` (semitones to C#) and ``audio_shifted``.
    """
    from . import audio, ragas, tonic as tonics

    if separation:
        y = audio.suppress_percussion(y)
    if tonic is None or (isinstance(tonic, str) and tonic.lower() == "none"):
        return y, {"tonic_hz": None, "tonic_note": None, "shift": 0, "audio_shifted": True}
    if isinstance(tonic, str) and tonic.lower() in ("auto", "catalogue"):
        if tonic.lower() == "catalogue":
            pitch_model = None
        elif pitch_model is None:
            from .pitch_model import ensure_pitch_model

            pitch_model = ensure_pitch_model(progress=False)
        estimate = tonics.estimate_tonic(y, sr, model=pitch_model)
        hz, note = estimate.hz, estimate.note
    else:
        hz = ragas.tonic_hz(tonic)
        note = str(tonic) if isinstance(tonic, str) else f"{hz:.1f} Hz"
    shift = tonics.semitones_to(hz, target)
    info = {"tonic_hz": hz, "tonic_note": note, "shift": shift, "audio_shifted": shift_audio}
    return (audio.pitch_shift(y, sr, shift) if shift_audio else y), info


def detect_signal(y, bundle, *, name="<signal>", tonic="auto", separation=True,
                  pitch_model=None):
    """Detect the raga in a mono signal at ``bundle.config.sr``.

    ``tonic``, ``separation`` and ``pitch_model`` are those of :func:`prepare`; the tonic is
    estimated with the bundle's own pitch model when it has one and none is given.

    Returns
    -------
    Detection

    Raises
    ------
    RagalibError
        If the signal is shorter than one segment or every segment is silent.
    """
    from . import audio

    audio.segments(y, config=bundle.config, source=name)   # refuse a short song before any work
    # Shifting is left to judge(), so that the pitch model hears the song unshifted.
    y, info = prepare(y, bundle.config.sr, tonic=tonic, separation=separation,
                      pitch_model=pitch_model or bundle.pitch_model, shift_audio=False)
    return judge(y, bundle, name=name, **info)


def loud_segments(y, config, *, name="<signal>"):
    """A signal's segments, and which are loud enough to judge (within ``QUIET_DB`` of the
    loudest); every segment silent is an error."""
    from . import audio

    parts = audio.segments(y, config=config, source=name)
    rms = np.sqrt(np.mean(parts.astype(np.float64) ** 2, axis=1))
    loud = rms > rms.max() * 10.0 ** (QUIET_DB / 20.0)
    if not loud.any():
        raise RagalibError(f"{name}: every segment is silent")
    return parts, loud


def segment_features(y, config, *, name="<signal>", transpose=0):
    """The features of a prepared signal's segments that are loud enough to judge, moved up
    by ``transpose`` semitones in the feature domain (pitch-class kinds only).

    Returns
    -------
    X : np.ndarray, shape (loud segments, frames, n_features)
    loud : np.ndarray of bool, one per segment
        Segments more than ``QUIET_DB`` below the loudest are left out.
    """
    from . import features

    parts, loud = loud_segments(y, config, name=name)
    X = features.extract(parts[loud], config=config)
    return (features.transpose(X, transpose, config=config) if transpose else X), loud


def features_at_target(y, config, *, name="<signal>", shift=0, audio_shifted=True,
                       shifted=None):
    """The loud segments' features of a prepared signal, with its Sa on the model's C#.

    If the audio was not shifted (``audio_shifted`` False), pitch-class kinds rotate their
    bins (:func:`ragalib.features.transpose`); any other kind hears ``y`` pitch-shifted here,
    or ``shifted`` (the same signal already moved by ``shift``) when the caller has it.
    """
    from .audio import pitch_shift
    from .features import TRANSPOSABLE

    pending = 0 if audio_shifted else shift
    if pending and config.kind not in TRANSPOSABLE:
        y = shifted if shifted is not None else pitch_shift(y, config.sr, pending)
        pending = 0
    return segment_features(y, config, name=name, transpose=pending)


def combine(probabilities, pitch_probabilities, labels):
    """The song verdict of a CNN and the pitch model together: the normalised product of the
    CNN's mean probabilities and the pitch model's (a product of experts).

    Taught in notebook 09_robust_features.
    """
    product = np.asarray(probabilities) * np.array([pitch_probabilities[r] for r in labels])
    total = product.sum()
    return product / total if total > 0 else np.asarray(probabilities)


def judge(y, bundle, *, name="<signal>", tonic_hz=None, tonic_note=None, shift=0,
          audio_shifted=True, shifted=None):
    """Step 4 and 5 on a signal already prepared (see :func:`prepare`): segments, features,
    the model's probabilities per segment and for the song.

    The features are moved to C# by :func:`features_at_target`. A bundle's pitch model
    always hears ``y`` as given, at its Sa.

    Returns
    -------
    Detection
    """
    from . import model

    config = bundle.config
    X, loud = features_at_target(y, config, name=name, shift=shift, audio_shifted=audio_shifted,
                                 shifted=shifted)
    seconds = config.segment_seconds
    starts = np.arange(len(loud)) * seconds
    probs = model.predict(bundle.model, X[..., None])
    mean = probs.mean(axis=0)
    if bundle.pitch_model is not None:
        sa = None if tonic_hz is None else tonic_hz * 2.0 ** ((shift if audio_shifted else 0) / 12)
        mean = combine(mean, bundle.pitch_model.classify(y, config.sr, tonic_hz=sa),
                       bundle.labels)
    best = int(np.argmax(mean))
    segments = [{"start": float(s), "end": float(s + seconds),
                 "raga": bundle.labels[int(np.argmax(p))], "confidence": round(float(p.max()), 4)}
                for s, p in zip(starts[loud], probs)]
    return Detection(file=name, raga=bundle.labels[best], confidence=float(mean[best]),
                     probabilities=dict(zip(bundle.labels, map(float, mean))),
                     segments=segments, segment_probabilities=probs,
                     skipped=[(float(s), float(s + seconds)) for s in starts[~loud]],
                     tonic_hz=tonic_hz, tonic_note=tonic_note, shift=shift)


def detect_file(path, bundle, *, tonic="auto", separation=True, pitch_model=None):
    """Load a file at the bundle's rate and detect its raga (see :func:`detect_signal`)."""
    from .audio import load

    y = load(path, sr=bundle.config.sr)
    return detect_signal(y, bundle, name=str(path), tonic=tonic, separation=separation,
                         pitch_model=pitch_model)


def traces(detection, *, min_segments=2):
    """Runs of consecutive segments that agree on a raga: ``[(raga, start, end), ...]``.

    Taught in notebook 07_song_detection ("traces of Raga Yaman from 0:35 to 1:10").
    """
    runs = []
    for seg in detection.segments:
        if runs and runs[-1][0] == seg["raga"] and abs(runs[-1][2] - seg["start"]) < 1e-6:
            runs[-1] = (seg["raga"], runs[-1][1], seg["end"])
        else:
            runs.append((seg["raga"], seg["start"], seg["end"]))
    seconds = detection.segments[0]["end"] - detection.segments[0]["start"] if runs else 0
    return [r for r in runs if r[2] - r[1] >= min_segments * seconds - 1e-6]


def clock(seconds):
    """Seconds as m:ss."""
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


VARIANTS = {"default (auto tonic, separation)": dict(tonic="auto", separation=True),
            "no transposition": dict(tonic=None, separation=True),
            "no separation": dict(tonic="auto", separation=False),
            "catalogue tonic (nothing learned)": dict(tonic="catalogue", separation=True),
            "true tonic given": dict(tonic="true", separation=True)}
"""Pipeline variants that switch one step off (or give it the right answer)."""


def prepare_songs(rows, variant, sr, *, pitch_model=None, progress=True, shift_audio=True,
                  workers=None):
    """Load each song of a manifest and :func:`prepare` it as ``variant`` says.

    ``variant`` is one of :data:`VARIANTS`' values; its tonic ``"true"`` gives each song its
    own Sa from the manifest. The songs are prepared in ``workers`` processes (see
    :func:`ragalib.parallel.map_in_workers`). Yields ``(signal, info)`` in ``rows`` order.
    """
    from functools import partial

    from .parallel import map_in_workers

    if pitch_model is None and variant["tonic"] == "auto":   # once here, not in every worker
        from .pitch_model import ensure_pitch_model

        pitch_model = ensure_pitch_model(progress=progress)
    yield from map_in_workers(partial(_prepare_row, variant=variant, sr=sr,
                                      pitch_model=pitch_model, shift_audio=shift_audio),
                              rows, workers=workers, desc="preparing songs", progress=progress)


def _prepare_row(row, variant, sr, pitch_model, shift_audio):
    from .audio import load

    tonic = row["tonic_note"] if variant["tonic"] == "true" else variant["tonic"]
    return prepare(load(row["path"], sr=sr), sr, tonic=tonic, separation=variant["separation"],
                   pitch_model=pitch_model, shift_audio=shift_audio)


def song_scores(found, rows):
    """Song-level and segment-level accuracy of detections against a manifest's ragas, and
    the share of estimated tonics with the right pitch class (None when none was estimated).
    """
    from .tonic import semitones_to

    segments = [s["raga"] == row["raga"] for f, row in zip(found, rows) for s in f.segments]
    tonics = [semitones_to(f.tonic_hz, row["tonic_note"]) == 0
              for f, row in zip(found, rows) if f.tonic_hz is not None]
    return {"song accuracy": float(np.mean([f.raga == row["raga"] for f, row in zip(found, rows)])),
            "segment accuracy": float(np.mean(segments)) if segments else float("nan"),
            "tonic pitch class right": float(np.mean(tonics)) if tonics else None}


def evaluate_songs(rows, bundle, variants=VARIANTS, *, pitch_model=None, progress=True):
    """Score the pipeline on songs with known ragas and tonics (a manifest's rows).

    Taught in notebook 07_song_detection; ``python -m ragalib report detect`` prints it.

    Returns
    -------
    table : list of dict
        Per variant: song-level and segment-level accuracy, and the share of songs whose
        estimated tonic has the right pitch class (for variants that estimate it).
    results : dict
        Variant name -> list of :class:`Detection`, in ``rows`` order.
    """
    if pitch_model is None and any(v["tonic"] == "auto" for v in variants.values()):
        from .pitch_model import ensure_pitch_model

        pitch_model = ensure_pitch_model(progress=progress)
    table, results = [], {}
    for name, variant in variants.items():
        prepared = prepare_songs(rows, variant, bundle.config.sr, pitch_model=pitch_model,
                                 progress=progress, shift_audio=False)
        found = [judge(y, bundle, name=str(row["path"]), **info)
                 for (y, info), row in zip(prepared, rows)]
        results[name] = found
        scores = song_scores(found, rows)
        if variant["tonic"] not in ("auto", "catalogue"):
            scores["tonic pitch class right"] = None
        table.append({"pipeline": name, **scores})
    return table, results


def song_confusion(rows, found, labels):
    """Confusion matrix of songs: rows the true raga, columns the detected one, in ``labels``
    order; ``found`` holds detections or raga ids. Taught in notebooks 07 and 09."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix([r["raga"] for r in rows], [getattr(f, "raga", f) for f in found],
                            labels=labels)
