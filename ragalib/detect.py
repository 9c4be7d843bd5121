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


def prepare(y, sr, *, tonic="auto", separation=True, target="C#4"):
    """Tonic, transposition and percussion suppression for one signal.

    Parameters
    ----------
    tonic : "auto", a note name such as "D4", a frequency in Hz, or None
        None leaves the pitch alone (and reports no tonic).

    Returns
    -------
    y : np.ndarray
        The prepared signal.
    info : dict
        ``tonic_hz``, ``tonic_note`` and ``shift`` (semitones applied).
    """
    from . import audio, ragas, tonic as tonics

    if separation:
        y = audio.suppress_percussion(y)
    if tonic is None or (isinstance(tonic, str) and tonic.lower() == "none"):
        return y, {"tonic_hz": None, "tonic_note": None, "shift": 0}
    if isinstance(tonic, str) and tonic.lower() == "auto":
        estimate = tonics.estimate_tonic(y, sr)
        hz, note = estimate.hz, estimate.note
    else:
        hz = ragas.tonic_hz(tonic)
        note = str(tonic) if isinstance(tonic, str) else f"{hz:.1f} Hz"
    shift = tonics.semitones_to(hz, target)
    return audio.pitch_shift(y, sr, shift), {"tonic_hz": hz, "tonic_note": note, "shift": shift}


def detect_signal(y, bundle, *, name="<signal>", tonic="auto", separation=True):
    """Detect the raga in a mono signal at ``bundle.config.sr``.

    Returns
    -------
    Detection

    Raises
    ------
    RagalibError
        If the signal is shorter than one segment or every segment is silent.
    """
    from . import audio, features, model

    config = bundle.config
    audio.segments(y, config=config, source=name)   # refuse a short song before any work
    y, info = prepare(y, config.sr, tonic=tonic, separation=separation)
    parts = audio.segments(y, config=config, source=name)
    rms = np.sqrt(np.mean(parts.astype(np.float64) ** 2, axis=1))
    loud = rms > rms.max() * 10.0 ** (QUIET_DB / 20.0)
    seconds = config.segment_seconds
    starts = np.arange(len(parts)) * seconds
    if not loud.any():
        raise RagalibError(f"{name}: every segment is silent")
    probs = model.predict(bundle.model, features.extract(parts[loud], config=config)[..., None])
    mean = probs.mean(axis=0)
    best = int(np.argmax(mean))
    segments = [{"start": float(s), "end": float(s + seconds),
                 "raga": bundle.labels[int(np.argmax(p))], "confidence": round(float(p.max()), 4)}
                for s, p in zip(starts[loud], probs)]
    return Detection(file=name, raga=bundle.labels[best], confidence=float(mean[best]),
                     probabilities=dict(zip(bundle.labels, map(float, mean))),
                     segments=segments, segment_probabilities=probs,
                     skipped=[(float(s), float(s + seconds)) for s in starts[~loud]], **info)


def detect_file(path, bundle, *, tonic="auto", separation=True):
    """Load a file at the bundle's rate and detect its raga (see :func:`detect_signal`)."""
    from .audio import load

    y = load(path, sr=bundle.config.sr)
    return detect_signal(y, bundle, name=str(path), tonic=tonic, separation=separation)


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
            "true tonic given": dict(tonic="true", separation=True)}
"""Pipeline variants that switch one step off (or give it the right answer)."""


def evaluate_songs(rows, bundle, variants=VARIANTS, *, progress=True):
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
    from tqdm.auto import tqdm

    from .tonic import semitones_to

    table, results = [], {}
    jobs = [(name, row) for name in variants for row in rows]
    found_all = [detect_file(row["path"], bundle,
                             tonic=row["tonic_note"] if variants[name]["tonic"] == "true"
                             else variants[name]["tonic"],
                             separation=variants[name]["separation"])
                 for name, row in tqdm(jobs, desc="detecting", disable=not progress)]
    for k, name in enumerate(variants):
        found = found_all[k * len(rows):(k + 1) * len(rows)]
        results[name] = found
        segments = [(s["raga"], row["raga"]) for f, row in zip(found, rows) for s in f.segments]
        tonic_right = [semitones_to(f.tonic_hz, row["tonic_note"]) == 0
                       for f, row in zip(found, rows) if f.tonic_hz is not None]
        table.append({"pipeline": name,
                      "song accuracy": float(np.mean([f.raga == row["raga"]
                                                      for f, row in zip(found, rows)])),
                      "segment accuracy": float(np.mean([a == b for a, b in segments])),
                      "tonic pitch class right": (float(np.mean(tonic_right))
                                                  if variants[name]["tonic"] == "auto" else None)})
    return table, results


def song_confusion(rows, found, labels):
    """Confusion matrix of songs: rows the true raga, columns the detected one, in ``labels``
    order. Taught in notebook 07_song_detection."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix([r["raga"] for r in rows], [f.raga for f in found], labels=labels)
