"""What detectors read from a song: its prepared signal, and everything taken from it once.

Behind notebook 07_song_detection (steps 2 to 4; not called there by name). A song is prepared (percussion
suppressed, or not) into a :class:`PreparedSong`, which computes what any detector asks of
it at most once: the pitch salience that both the tonic estimate and the pitch model read,
the 5-second segments and which are loud enough to judge, the features of each kind at the
model's C#, the audio shifted by whole semitones for the kinds that need it. Judging one song
under several pipelines, or by several candidate models (chapter 09), then costs one pass
over the audio, not one per judge. :func:`gather_songs` does that work for a list of songs in
worker processes and hands back :class:`Evidence`: small arrays, no audio.
"""

import warnings
from dataclasses import dataclass
from functools import cached_property, partial

import numpy as np

from ..errors import RagalibError, RagalibWarning, say_again, with_warnings
from ..ragas import DEFAULT_TONIC

QUIET_DB = -30.0
"""A segment this far below the song's loudest segment (RMS) is too quiet to judge."""


class PreparedSong:
    """A mono signal at ``sr`` at its own Sa (after percussion suppression, if the pipeline
    does it), with everything read from it computed once.

    Behind notebook 07_song_detection (not called there by name).
    """

    def __init__(self, y, *, sr, name="<signal>"):
        self.y = np.asarray(y, dtype=np.float32)
        self.sr = int(sr)
        self.name = name
        self._memo = {}

    def _once(self, key, make):
        """``make()``, once per ``key``: the memo of the methods that take arguments (the
        properties are ``functools.cached_property``)."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    @property
    def salience(self):
        """:func:`ragalib.melody.salience.salience` of the whole signal with the drone removed: what the
        melody is read from."""
        return self._saliences[1]

    @cached_property
    def drone(self):
        """:func:`ragalib.melody.tonic.drone_profile` of the whole signal: what keeps sounding."""
        from ..melody.tonic import drone_profile

        return drone_profile(self._saliences[0])

    @cached_property
    def pitchedness(self):
        """:func:`ragalib.melody.salience.pitchedness` of the whole signal: is there a melody at all?"""
        from ..melody.salience import pitchedness

        return pitchedness(*self._saliences)

    @cached_property
    def _saliences(self):
        from ..melody.salience import saliences

        return saliences(self.y, sr=self.sr)

    def segments(self, config):
        """The signal's segments, and which are loud enough to judge (within
        :data:`QUIET_DB` of the loudest); every segment silent is an error."""
        from ..audio import segments

        def cut():
            parts = segments(self.y, config=config, source=self.name)
            rms = np.sqrt(np.mean(parts.astype(np.float64) ** 2, axis=1))
            loud = rms > rms.max() * 10.0 ** (QUIET_DB / 20.0)
            if not loud.any():
                raise RagalibError(f"{self.name}: every segment is silent")
            return parts, loud

        return self._once(("segments", config.segment_samples), cut)

    def shifted(self, semitones):
        """The signal moved by ``semitones`` (:func:`ragalib.audio.pitch_shift`)."""
        from ..audio import pitch_shift

        return self._once(("shifted", semitones),
                          lambda: pitch_shift(self.y, semitones, sr=self.sr))

    def features(self, config, shift=0):
        """The loud segments' features, moved up by ``shift`` semitones: pitch-class kinds
        rotate their bins (:func:`ragalib.features.transpose`), any other kind hears the
        shifted audio. The same segments are judged whatever the kind."""
        from .. import audio, features

        def make():
            parts, loud = self.segments(config)
            if not shift:
                return features.extract(parts[loud], config=config)
            if config.kind in features.TRANSPOSABLE:
                return features.transpose(self.features(config), shift, config=config)
            parts = audio.segments(self.shifted(shift), config=config, source=self.name)
            return features.extract(parts[loud], config=config)

        return self._once(("features", config, shift), make)

    def pitch(self, pitch_model, tonic_hz=None):
        """The pitch model's raga probabilities for the whole signal, at ``tonic_hz`` (each
        raga at its best Sa when None)."""
        return self._once(("pitch", id(pitch_model), tonic_hz), lambda: pitch_model.classify(
            None, sr=self.sr, tonic_hz=tonic_hz, sal=self.salience))

    @cached_property
    def melody_hz(self):
        """The melody as a pitch track read from :attr:`salience`
        (:func:`ragalib.melody.salience.melody_hz`): what the note model judges."""
        from ..melody.salience import melody_hz

        return melody_hz(self.salience)

    def notes(self, note_model, tonic_hz=None, hint_hz=None):
        """The note model's raga probabilities and Sa for the whole signal, at ``tonic_hz``
        (when None, estimated with the raga, the drone's vote and the ``hint_hz`` of another
        estimate)."""
        from ..melody.salience import HOP_LENGTH

        return self._once(("notes", id(note_model), tonic_hz, hint_hz), lambda: note_model.judge(
            self.melody_hz, HOP_LENGTH / self.sr, sa_hz=tonic_hz,
            drone=None if tonic_hz is not None else self.drone, hint_hz=hint_hz))

    def note_fit(self, note_model, sa_hz, raga):
        """:meth:`ragalib.melody.note_model.NoteModel.fit` of ``raga`` at ``sa_hz`` to the
        signal's melody."""
        from ..melody.salience import HOP_LENGTH

        return note_model.fit(self.melody_hz, HOP_LENGTH / self.sr, sa_hz, raga)

    def pitch_by_segment(self, pitch_model, tonic_hz, config):
        """The pitch model's raga for each loud segment, read from the frames of the whole
        signal's salience that fall in it."""
        from ..melody.salience import HOP_LENGTH as hop

        _, loud = self.segments(config)
        sal, n = self.salience, config.segment_samples
        answers = []
        for i in np.flatnonzero(loud):
            first, stop = -(-i * n // hop), -(-(i + 1) * n // hop)
            p = pitch_model.classify(None, sr=self.sr, tonic_hz=tonic_hz, sal=sal[:, first:stop])
            answers.append(max(p, key=p.get))
        return answers


@dataclass(frozen=True)
class Transposition:
    """A song's Sa and the whole semitones that move it to the model's C#: what
    :func:`resolve_tonic` decides, and what a :class:`ragalib.detection.pipeline.Detection` reports.

    Behind notebook 07_song_detection (not called there by name).
    """

    tonic_hz: float | None      # None: the pitch is left alone (``Tonic.none()``)
    tonic_note: str | None
    shift: int


def resolve_tonic(song, tonic="auto", *, pitch_model=None, target=DEFAULT_TONIC):
    """Sa of a :class:`PreparedSong`, and the shift that brings it to C#.

    Behind notebook 07_song_detection (not called there by name).

    Parameters
    ----------
    tonic : ragalib.melody.tonic.Tonic, or what :meth:`Tonic.parse <ragalib.melody.tonic.Tonic.parse>` reads
        ``Tonic.auto()`` estimates Sa with the pitch model learned from the training takes
        (``pitch_model``, default :func:`ragalib.melody.pitch_model.ensure_pitch_model`);
        ``Tonic.catalogue()`` with the catalogue's note emphasis alone; ``Tonic.none()``
        leaves the pitch alone (and reports no tonic); ``Tonic.given(note_or_hz)`` uses it.

    Returns
    -------
    Transposition
        Sa and the shift to ``target``.
    """
    from ..melody import tonic as tonics

    tonic = tonics.Tonic.parse(tonic)
    if tonic.how == "none":
        return Transposition(None, None, 0)
    if tonic.how == "true":
        raise RagalibError("the song's true tonic is known only to an evaluation: give it "
                           "with Tonic.given")
    if tonic.how in ("auto", "catalogue"):
        if tonic.how == "catalogue":
            pitch_model = None
        elif pitch_model is None:
            from ..melody.pitch_model import ensure_pitch_model

            pitch_model = ensure_pitch_model()
        estimate = tonics.estimate_tonic(song.y, sr=song.sr, model=pitch_model, sal=song.salience,
                                         drone=song.drone)
        hz, note = estimate.hz, estimate.note
    else:
        hz, note = tonic.hz, tonic.note
    return Transposition(hz, note, tonics.semitones_to(hz, target))


def pitch_model_for(*choices, tonics=("auto",)):
    """The pitch model a call estimates Sa with: the first of ``choices`` that is not None
    (a caller's ``pitch_model=``, then its bundle's own), else the learned one
    (:func:`ragalib.melody.pitch_model.ensure_pitch_model`) when any of ``tonics`` estimates Sa
    (``Tonic.auto()``), else None.

    Behind notebook 07_song_detection (not called there by name). Each public call over songs
    resolves it once, at its top, so a worker never fits or loads one of its own and no call
    repeats the fallback chain.
    """
    from ..melody.tonic import Tonic

    found = next((model for model in choices if model is not None), None)
    if found is None and any(Tonic.parse(t).how == "auto" for t in tonics):
        from ..melody.pitch_model import ensure_pitch_model

        return ensure_pitch_model()
    return found


@dataclass
class Evidence:
    """What every detector needs of one song under one pipeline: no audio, small arrays.

    Behind notebook 07_song_detection (not called there by name).
    """

    info: Transposition   # Sa, and the shift to C# (already applied to the features)
    loud: np.ndarray      # one bool per segment: loud enough to judge
    features: dict        # FeatureConfig -> features of the loud segments, at C#
    pitch: dict = None    # the pitch model's raga probabilities at the song's Sa
    pitch_segments: list = None   # the pitch model's raga per loud segment
    notes: dict = None    # the note model's raga probabilities at the song's Sa
    notes_sa_hz: float = None     # the Sa they were judged at
    notes_reason: str = None      # why the note model could not judge, if it could not
    notes_fit: float = None       # how well its raga fits there (NoteModel.fit)


def gather(song, info, configs, *, pitch_model=None, pitch_segments=False, note_model=None,
           given_hz=None):
    """The :class:`Evidence` of a :class:`PreparedSong` for the feature ``configs`` (which
    share their sample rate and segment length), given its :class:`Transposition` ``info``
    (:func:`resolve_tonic`); with ``pitch_model``, its verdict too, and with
    ``pitch_segments`` its answer per segment; with ``note_model``
    (:class:`ragalib.melody.note_model.NoteModel`), its verdict at the Sa ``given_hz``, or at
    the Sa it finds with the raga.

    Behind notebook 07_song_detection (not called there by name).
    """
    configs = list(dict.fromkeys(configs))
    _, loud = song.segments(configs[0])
    tonic_hz = info.tonic_hz
    notes = notes_sa = notes_reason = notes_fit = None
    if note_model is not None:
        try:
            notes, notes_sa = song.notes(note_model, given_hz, hint_hz=tonic_hz)
            notes_fit = song.note_fit(note_model, notes_sa, max(notes, key=notes.get))
        except RagalibError as exc:     # only the note model's judge needs it
            notes_reason = str(exc)
    return Evidence(notes=notes, notes_sa_hz=notes_sa, notes_reason=notes_reason,
        notes_fit=notes_fit,
        info=info, loud=loud,
        features={c: song.features(c, info.shift) for c in configs},
        pitch=None if pitch_model is None else song.pitch(pitch_model, tonic_hz),
        pitch_segments=song.pitch_by_segment(pitch_model, tonic_hz, configs[0])
        if pitch_segments and pitch_model is not None else None)


def gather_songs(rows, variants, configs, *, sr, tonic_model=None, pitch_model=None,
                 pitch_segments=False, note_model=None, workers=None, keep_going=False):
    """:func:`gather` every song of a manifest under every pipeline variant, in worker
    processes (:func:`ragalib.util.parallel.map_in_workers`).

    Behind notebook 07_song_detection (not called there by name).

    Parameters
    ----------
    variants : dict
        Name -> ``{"tonic": ..., "separation": bool}`` (see :data:`ragalib.evaluation.scoring.VARIANTS`);
        the tonic ``"true"`` gives each song its own Sa from the manifest. Variants that
        separate share one separated signal.
    tonic_model : ragalib.melody.pitch_model.PitchModel, optional
        Estimates Sa for the variants whose tonic is ``"auto"``.
    pitch_model : ragalib.melody.pitch_model.PitchModel, optional
        Its verdict goes into the evidence (for hybrid detectors and the baseline).
    note_model : ragalib.melody.note_model.NoteModel, optional
        Its verdict goes into the evidence too.
    keep_going : bool
        Yield ``(evidence, None)`` for a song that could be analysed and ``(None, reason)``
        for one that could not (unreadable, silent, shorter than a segment), instead of
        stopping at the first bad song.

    Yields
    ------
    dict
        Variant name -> :class:`Evidence`, one dict per row, in ``rows`` order (a pair, with
        ``keep_going``).
    """
    from ..util.parallel import map_in_workers

    tonic_model = pitch_model_for(tonic_model, tonics=[v["tonic"] for v in variants.values()])
    work = _gather_row_or_reason if keep_going else _gather_row
    yield from map_in_workers(
        partial(work, variants=variants, configs=list(configs), sr=sr,
                tonic_model=tonic_model, pitch_model=pitch_model,
                pitch_segments=pitch_segments, note_model=note_model),
        rows, workers=workers,
        desc=f"analysing {len(rows)} songs x {len(variants)} pipeline(s)")


def _gather_row_or_reason(row, **kwargs):
    """:func:`_gather_row`, or the one-line reason the song cannot be analysed."""
    try:
        return _gather_row(row, **kwargs), None
    except (RagalibError, OSError) as exc:
        return None, str(exc) if str(row["path"]) in str(exc) else f"{row['path']}: {exc}"


EVIDENCE_VERSION = 6
"""Part of every cached song's key (:func:`ragalib.paths.evidence_dir`): raise it when what
:func:`gather` computes, or how it is stored, changes (3: the package by task; 4: the note
model's verdict; 5: its fit; 6: stored as npz and JSON, no pickle). An entry is also renewed
whenever the song's bytes, the variants, the feature configs, the sample rate or either
model's key change."""


def _gather_row(row, *, variants, configs, sr, tonic_model, pitch_model, pitch_segments,
                note_model=None):
    """:func:`_gather_file` for one manifest row, kept in :func:`ragalib.paths.evidence_dir`
    (``<key>.npz``: arrays and one JSON text, read with ``allow_pickle=False`` so that a file
    planted in the data folder cannot run code; keyed by :func:`joblib.hash` of
    :data:`EVIDENCE_VERSION`, the song's bytes and everything else it was analysed with), so
    a song analysed the same way before is read back, not analysed again. Models without a
    key (built by hand, not by :func:`ragalib.melody.pitch_model.fit`) are never cached against; a
    damaged entry is analysed again, and a cache that cannot be written is left alone.

    Not ``joblib.Memory``: it reports an entry it cannot load through ``logging``, in several
    lines with a traceback (this says it in one line, as a :class:`RagalibWarning`), and it
    creates its folder when made and warns when it cannot write there, where a read-only data
    folder must still answer quietly, uncached."""
    import joblib

    from ..paths import evidence_dir
    from ..util.files import atomic_write, file_digest

    work = dict(path=row["path"], tonic_note=row.get("tonic_note"), variants=variants,
                configs=configs, sr=sr, tonic_model=tonic_model, pitch_model=pitch_model,
                pitch_segments=pitch_segments, note_model=note_model)
    model_keys = [None if m is None else m.key for m in (tonic_model, pitch_model, note_model)]
    try:
        digest = file_digest(row["path"])
    except OSError:
        digest = None                   # _gather_file says why, as it loads the file
    if digest is None or "" in model_keys:
        out, heard = _gather_file(**work)
    else:
        key = joblib.hash((EVIDENCE_VERSION, digest, row.get("tonic_note"), variants,
                           configs, sr, model_keys, pitch_segments))
        entry = evidence_dir() / f"{key}.npz"
        try:
            out, heard = read_evidence(entry)
        except Exception as exc:        # absent, or damaged in any way
            if entry.exists():
                warnings.warn(f"{entry}: damaged cache ({type(exc).__name__}); analysing "
                              f"{row['path']} again", RagalibWarning, stacklevel=2)
            out, heard = _gather_file(**work)
            try:
                atomic_write(entry, lambda tmp: write_evidence(tmp, out, heard))
            except RagalibError:
                pass                    # a read-only data folder: still answers, uncached
    say_again(heard)                    # also when the song comes from the cache
    return out


def write_evidence(path, out, heard):
    """Write ``{variant: Evidence}`` and the warnings heard making it to ``path`` as an
    ``.npz`` of plain arrays and one JSON text (no pickle: :func:`read_evidence`).

    Behind notebook 07_song_detection (not called there by name).
    """
    import dataclasses
    import json

    arrays, variants = {}, {}
    for i, (name, ev) in enumerate(out.items()):
        arrays[f"loud{i}"] = np.asarray(ev.loud, dtype=bool)
        for j, features in enumerate(ev.features.values()):
            arrays[f"features{i}_{j}"] = np.asarray(features)
        variants[name] = {
            "info": dataclasses.asdict(ev.info),
            "configs": [dataclasses.asdict(config) for config in ev.features],
            **{f: getattr(ev, f) for f in ("pitch", "pitch_segments", "notes", "notes_sa_hz",
                                           "notes_reason", "notes_fit")}}
    text = json.dumps({"variants": variants,
                       "heard": [[category.__name__, message] for category, message in heard]},
                      default=float, allow_nan=True)
    with open(path, "wb") as handle:
        np.savez(handle, meta=np.array(text), **arrays)


def read_evidence(path):
    """``({variant: Evidence}, heard)`` from a :func:`write_evidence` file, read with
    ``allow_pickle=False``; any damage raises.

    Behind notebook 07_song_detection (not called there by name).
    """
    import builtins
    import json

    from ..features import FeatureConfig

    with np.load(path, allow_pickle=False) as saved:
        meta = json.loads(str(saved["meta"]))
        out = {}
        for i, (name, v) in enumerate(meta["variants"].items()):
            features = {FeatureConfig(**config): saved[f"features{i}_{j}"]
                        for j, config in enumerate(v["configs"])}
            out[name] = Evidence(info=Transposition(**v["info"]), loud=saved[f"loud{i}"],
                                 features=features, pitch=v["pitch"],
                                 pitch_segments=v["pitch_segments"], notes=v["notes"],
                                 notes_sa_hz=v["notes_sa_hz"], notes_reason=v["notes_reason"],
                                 notes_fit=v["notes_fit"])
    categories = {"RagalibWarning": RagalibWarning}
    heard = [(categories.get(name) or getattr(builtins, name, UserWarning), message)
             for name, message in meta["heard"]]
    if not all(isinstance(c, type) and issubclass(c, Warning) for c, _ in heard):
        raise ValueError("a warning category that is not a warning")
    return out, heard


def _gather_file(path, **kwargs):
    """Every variant's :class:`Evidence` of the song at ``path``, and the warnings reading it
    gave (:func:`ragalib.errors.with_warnings`)."""
    return with_warnings(_gather_signal, path, **kwargs)


def _gather_signal(path, *, tonic_note, variants, configs, sr, tonic_model, pitch_model,
                   pitch_segments, note_model=None):
    from ..audio import load, suppress_percussion
    from ..melody.tonic import Tonic

    y, prepared, out = load(path, sr=sr), {}, {}
    for name, variant in variants.items():
        separation = variant["separation"]
        if separation not in prepared:
            prepared[separation] = PreparedSong(suppress_percussion(y) if separation else y,
                                                sr=sr, name=str(path))
        song = prepared[separation]
        tonic = Tonic.parse(variant["tonic"])
        if tonic.how == "true":
            tonic = Tonic.given(tonic_note)
        info = resolve_tonic(song, tonic, pitch_model=tonic_model)
        out[name] = gather(song, info, configs, pitch_model=pitch_model,
                           pitch_segments=pitch_segments, note_model=note_model,
                           given_hz=tonic.hz if tonic.how == "given" else None)
    return out
