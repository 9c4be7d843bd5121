"""Traces of a raga in a song: the detection pipeline of the published method, automated.

Taught in notebook 07_song_detection. A song goes through:

1. loading (any format, rate and channel count) at the model's sample rate;
2. percussion suppression (harmonic/percussive separation), on by default. It comes before
   the tonic so that the tonic estimator hears the melody rather than the drums;
3. the tonic: estimated (:mod:`ragalib.melody.tonic`), given, or left alone, and the song shifted by
   whole semitones so that its Sa lands on the model's C#;
4. 5-second segments with the bundle's FeatureConfig; segments too quiet to judge are left out;
5. the model: probabilities per segment, averaged into the song's raga and its confidence.
"""

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..errors import RagalibError
from .evidence import Transposition, pitch_model_for, resolve_tonic


@dataclass
class Detection:
    """What detection found in one song. ``to_json`` gives the CLI contract.

    Behind notebook 07_song_detection (not called there by name).
    """

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
    fit: float | None = None      # the note model's fit of its raga (NoteModel.fit)
    closest: str | None = None    # the best raga of the catalogue, whether it fits or not
    reason: str | None = None     # why ``raga`` is None

    def to_json(self):
        """The JSON object of ``detect --json`` (``docs/command-line.md``): file, raga,
        confidence, probabilities, tonic_hz, segments; with the note model, its ``fit``;
        when no catalogue raga fits, ``"raga": null``, the ``reason`` and the ``closest``."""
        answer = {"file": self.file, "raga": self.raga}
        if self.raga is None:
            answer.update(reason=self.reason, closest=self.closest)
        answer.update(confidence=round(self.confidence, 4),
                      probabilities={k: round(v, 4) for k, v in self.probabilities.items()},
                      tonic_hz=None if self.tonic_hz is None else round(self.tonic_hz, 2))
        if self.fit is not None:
            answer["fit"] = round(self.fit, 3)
        answer["segments"] = self.segments
        return answer


def none_fits(detection, threshold=None):
    """``detection`` with ``raga`` None and the reason, when its fit is below ``threshold``
    (default :data:`ragalib.melody.note_model.OPEN_SET_FIT`): "none of these ragas". The
    best raga stays as ``closest``, and ``confidence`` is still its share among the
    catalogue's ragas.

    Behind notebook 11_real_singing (not called there by name).
    """
    from ..melody.note_model import OPEN_SET_FIT

    threshold = OPEN_SET_FIT if threshold is None else threshold
    if detection.fit is None or detection.raga is None or detection.fit >= threshold:
        return detection
    return dataclasses.replace(
        detection, raga=None, closest=detection.raga,
        reason=f"none of the {len(detection.probabilities)} catalogue ragas fits "
               f"(the closest, {detection.raga}, fits at {detection.fit:.2f}, "
               f"under {threshold:g})")


def no_raga_json(name, exc):
    """The JSON object of ``detect --json`` (and of ``POST /detect``) for sound with no
    melody in it (:class:`ragalib.errors.NoMelody` ``exc``): ``"raga": null`` and the reason.

    Behind notebooks 07_song_detection and 10_serving (not called there by name).
    """
    return {"file": name, "raga": None, "reason": str(exc).removeprefix(f"{name}: ")}


JUDGES = ("both", "pitch", "cnn", "notes")
"""Who gives a song's verdict: the CNN and the pitch model together, one of them alone, or
the note model (:mod:`ragalib.melody.note_model`: held notes and their moves, learned from
the catalogue's description). ``python -m ragalib report folder DIR`` shows which is right
most often on your own recordings (a CNN trained on synthetic takes may only add noise on
real ones)."""


DEFAULT_JUDGE = "notes"
"""The judge of the default detector, chosen on real material (``../shared/real-dev``: six
ragas outside the ten, judged among sixteen; notebook 11_real_singing). On its five
recordings the CNN named 0, the pitch model 1, the two together 1 and the note model 3; on
its pitch tracks the note model names 85% of 45-s excerpts at their given Sa and 79% at the Sa
it finds. On the synthetic dev songs the CNN with the pitch model and the note model tie
(60/60, and 60/60 with every Sa off the A440 grid). A judge that does not transfer to real
music does not vote."""


def note_model_for(judge, note_model=None, labels=None):
    """The note model a call with ``judge`` needs: ``note_model`` if given, else, for
    ``"notes"``, the one of the detector's ``labels`` (the active catalogue's ragas when
    None; :func:`ragalib.melody.note_model.ensure_note_model`), else None.

    Behind notebooks 07_song_detection and 11_real_singing (not called there by name).
    """
    if note_model is not None or judge != "notes":
        return note_model
    from ..melody.note_model import ensure_note_model

    return ensure_note_model(labels)


def detect_signal(y, bundle, *, name="<signal>", tonic="auto", separation=True,
                  pitch_model=None, judge=DEFAULT_JUDGE, note_model=None):
    """Detect the raga in a mono signal at ``bundle.config.sr``.

    Taught in notebook 07_song_detection.

    Percussion suppression (``separation``), then the tonic (see :func:`resolve_tonic`;
    estimated with ``pitch_model``, else the bundle's own, else the learned one), then the
    features at C# and the model's verdict (:func:`decide`, by ``judge``).

    Returns
    -------
    Detection

    Raises
    ------
    RagalibError
        If the signal is shorter than one segment or every segment is silent.
    NoMelody
        If it has no melody to read (:data:`ragalib.melody.salience.MIN_PITCHEDNESS`): noise, hum.
    """
    found = song_evidence(y, bundle.config, name=name, tonic=tonic, separation=separation,
                          tonic_model=pitch_model_for(pitch_model, bundle.pitch_model,
                                                      tonics=[tonic]),
                          pitch_model=bundle.pitch_model,
                          note_model=note_model_for(judge, note_model, bundle.labels))
    return decide(found, bundle, name=name, judge=judge)


def song_evidence(y, config, *, name="<signal>", tonic="auto", separation=True,
                  tonic_model=None, pitch_model=None, note_model=None):
    """Steps 1 to 4 of :func:`detect_signal`: the :class:`ragalib.detection.evidence.Evidence` a model
    with ``config`` judges, with ``pitch_model``'s verdict if given. numpy and scipy only (no
    TensorFlow), so it runs in worker processes or on a cluster (:func:`detect_files`).

    Behind notebook 07_song_detection (not called there by name).
    """
    from .. import audio
    from ..errors import NoMelody
    from ..melody.salience import MIN_PITCHEDNESS
    from .evidence import PreparedSong, gather

    audio.segments(y, config=config, source=name)    # refuse a short song before any work
    song = PreparedSong(audio.suppress_percussion(y) if separation else y, sr=config.sr,
                        name=name)
    if song.pitchedness < MIN_PITCHEDNESS:
        raise NoMelody(f"{name}: no melody here: nothing in it has a clear pitch (pitchedness "
                       f"{song.pitchedness:.1f}; music measures above {MIN_PITCHEDNESS:g}), "
                       "so no raga is given")
    from ..melody.tonic import Tonic

    tonic = Tonic.parse(tonic)
    info = resolve_tonic(song, tonic, pitch_model=tonic_model)
    return gather(song, info, [config], pitch_model=pitch_model, note_model=note_model,
                  given_hz=tonic.hz if tonic.how == "given" else None)


def _file_evidence(path, **kwargs):
    """:func:`song_evidence` of the file at ``path``, or the exception that stops it (a bad
    file is an answer for that file, not the end of a batch)."""
    from ..audio import load

    try:
        return song_evidence(load(path, sr=kwargs["config"].sr), name=str(path), **kwargs)
    except (RagalibError, OSError) as exc:
        return exc


def detect_files(paths, bundle, *, tonic="auto", separation=True, pitch_model=None,
                 judge=DEFAULT_JUDGE, scheduler=None, workers=None, note_model=None):
    """:func:`detect_signal` for many files: each song prepared in worker processes, or on
    the Dask cluster at ``scheduler`` (:func:`ragalib.util.parallel.map_in_workers`), then judged
    here by the bundle's model (TensorFlow stays in this process).

    Taught by use: ``python -m ragalib detect DIR_OR_FILES... [--scheduler tcp://HOST:8786]``
    (notebook 07_song_detection runs the pipeline song by song).

    Yields
    ------
    (path, Detection or Exception)
        In ``paths`` order; a file that cannot be judged comes with its exception
        (:class:`ragalib.errors.NoMelody` for sound with no melody, else a
        :class:`RagalibError` or ``OSError`` naming it), and the others go on. The answers are
        the same bytes wherever the songs were prepared.
    """
    from functools import partial

    from ..melody.tonic import Tonic
    from ..util.parallel import map_in_workers

    tonic = Tonic.parse(tonic)
    tonic_model = pitch_model_for(pitch_model, bundle.pitch_model, tonics=[tonic])
    paths = list(paths)
    work = partial(_file_evidence, config=bundle.config, tonic=tonic, separation=separation,
                   tonic_model=tonic_model, pitch_model=bundle.pitch_model,
                   note_model=note_model_for(judge, note_model, bundle.labels))
    for path, found in zip(paths, map_in_workers(work, paths, scheduler=scheduler,
                                                 workers=workers,
                                                 desc=f"preparing {len(paths)} songs")):
        if isinstance(found, Exception):
            yield path, found
            continue
        try:
            yield path, decide(found, bundle, name=str(path), judge=judge)
        except RagalibError as exc:
            yield path, exc


def describe_pipeline(bundle):
    """The steps :func:`detect_signal` runs with ``bundle``, in words, one per line.

    Taught in notebook 07_song_detection: the steps depend on the bundle (how the song is moved
    to C# depends on its feature kind; a pitch model, if the bundle has one, joins the verdict),
    so the chapter prints them from the bundle it uses.
    """
    from ..features import TRANSPOSABLE

    kind = bundle.config.kind
    move = (f"rotate the {kind} features' pitch-class bins by three per semitone (exact: no "
            "audio is changed)" if kind in TRANSPOSABLE else
            "shift the audio's pitch (librosa), as the published method did")
    steps = ["1. suppress the percussion (harmonic/percussive separation)",
             "2. estimate Sa with the learned pitch model",
             f"3. move the song to C#: {move}",
             f"4. cut {bundle.config.segment_seconds:g}-second segments, leave out quiet ones, "
             f"and average the CNN's probabilities over the rest"]
    if bundle.pitch_model is not None:
        steps.append("5. multiply that average with the pitch model's probabilities for the "
                     "whole song and normalise (a product of experts): the song's verdict; the "
                     "timeline shows the CNN's own segments")
    return steps


def combine(probabilities, pitch_probabilities, labels):
    """The song verdict of a CNN and the pitch model together: the normalised product of the
    CNN's mean probabilities and the pitch model's (a product of experts).

    Behind notebook 09_robust_features (not called there by name).
    """
    product = np.asarray(probabilities) * np.array([pitch_probabilities[r] for r in labels])
    total = product.sum()
    return product / total if total > 0 else np.asarray(probabilities)


def decide(evidence, bundle, *, name="<signal>", judge="both", open_set=True):
    """Step 5: the model's probabilities for each loud segment of a song's
    :class:`ragalib.detection.evidence.Evidence`, averaged into the song's raga; a bundle with a pitch
    model multiplies the average with the pitch model's verdict (:func:`combine`), which the
    evidence must carry. ``judge`` (:data:`JUDGES`) ``"cnn"`` keeps the CNN's average alone,
    ``"pitch"`` the pitch model's verdict alone; the segments are the CNN's either way.
    With ``judge="notes"`` and ``open_set``, a song no raga fits has ``raga`` None
    (:func:`none_fits`).

    Behind notebook 07_song_detection (not called there by name).

    Returns
    -------
    Detection
    """
    from ..models import cnn

    config = bundle.config
    probs = cnn.predict(bundle.model, evidence.features[config][..., None])
    mean = probs.mean(axis=0)
    if judge not in JUDGES:
        raise RagalibError(f"unknown judge {judge!r}: choose one of {', '.join(JUDGES)}")
    if judge == "notes":
        if evidence.notes is None:
            raise RagalibError(f"{name}: {evidence.notes_reason or 'no note-model verdict'}")
        if list(evidence.notes) != list(bundle.labels):
            raise RagalibError(f"{name}: the note model knows other ragas than the bundle")
        mean = np.array([evidence.notes[r] for r in bundle.labels])
    elif bundle.pitch_model is not None and judge != "cnn":
        if evidence.pitch is None:
            raise RagalibError(f"{name}: the evidence has no pitch-model verdict for a "
                               f"bundle that needs one")
        mean = (np.array([evidence.pitch[r] for r in bundle.labels]) if judge == "pitch" else
                combine(mean, evidence.pitch, bundle.labels))
    elif judge == "pitch":
        raise RagalibError(f"{bundle.path}: this bundle has no pitch model to judge alone")
    best = int(np.argmax(mean))
    seconds = config.segment_seconds
    starts = np.arange(len(evidence.loud)) * seconds
    segments = [{"start": float(s), "end": float(s + seconds),
                 "raga": bundle.labels[int(np.argmax(p))], "confidence": round(float(p.max()), 4)}
                for s, p in zip(starts[evidence.loud], probs)]
    info = evidence.info
    if judge == "notes" and info.tonic_hz is not None:   # the Sa the note model judged at
        from ..melody.tonic import note_name, semitones_to

        sa = evidence.notes_sa_hz
        info = Transposition(sa, info.tonic_note if sa == info.tonic_hz else note_name(sa),
                             semitones_to(sa))
    found = Detection(file=name, raga=bundle.labels[best], confidence=float(mean[best]),
                      probabilities=dict(zip(bundle.labels, map(float, mean))),
                      segments=segments, segment_probabilities=probs,
                      skipped=[(float(s), float(s + seconds)) for s in starts[~evidence.loud]],
                      tonic_hz=info.tonic_hz, tonic_note=info.tonic_note, shift=info.shift,
                      fit=evidence.notes_fit if judge == "notes" else None,
                      closest=bundle.labels[best])
    return none_fits(found) if open_set else found


def detect_file(path, bundle=None, *, tonic="auto", separation=True, pitch_model=None,
                judge=DEFAULT_JUDGE, note_model=None):
    """Load a file at the bundle's rate and detect its raga (see :func:`detect_signal`);
    without a bundle, with the default detector (:func:`ragalib.detection.detector`, built on
    first use).

    Behind notebook 07_song_detection (not called there by name); ``rl.detect_file("song.wav")``
    is the README's first example.
    """
    from ..audio import load
    from .default import detector

    bundle = detector() if bundle is None else bundle
    y = load(path, sr=bundle.config.sr)
    return detect_signal(y, bundle, name=str(path), tonic=tonic, separation=separation,
                         pitch_model=pitch_model, judge=judge, note_model=note_model)


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
    """Seconds as m:ss.

    Taught in notebook 07_song_detection.
    """
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
