"""What the detector is worth on your own recordings: ``python -m ragalib report folder DIR``.

Named in notebooks 07_song_detection and 11_real_singing, for learners with labelled
recordings (or pitch tracks) of their own.

``DIR`` is laid out like ``data/recordings/``: ``DIR/<raga_id>/<file>``, any audio format and
sample rate, or pitch tracks (:mod:`ragalib.melody.pitch_track`). An optional
``DIR/tonics.csv`` (columns ``file,tonic_hz``, ``file`` relative to ``DIR`` or a bare file
name) gives the true Sa of some files, so the tonic estimate is scored too. Or an index
(``--index FILE``: a CSV with columns ``file, raga, sa_hz``, files relative to the index, as
research corpora publish them) names the files. Folders that are not raga ids, files that are
not audio or tracks and files that cannot be analysed are reported on one line each and left
out; audio is judged in worker processes by the detector, pitch tracks by the note model
(:mod:`ragalib.detection.track`), whole or in excerpts (``--excerpt SECONDS``).
"""

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RagalibError, say
from ..melody.note_model import OPEN_SET_FIT

JUDGE_OPTIONS = {"CNN alone": "cnn", "pitch model alone": "pitch",
                 "CNN and pitch model together": "both"}
"""The ``detect --judge`` value of each judge the report scores alone."""



def read_index(path, *, report=say, any_raga=False):
    """The rows of an index file: ``{"path", "raga", "tonic_hz"}`` for every row with a
    raga (rows without one, such as a corpus's drones, are skipped quietly). With
    ``any_raga``, a raga the catalogue does not know is kept, spelled in lower case.

    Behind notebook 11_real_singing (not called there by name).

    Raises
    ------
    RagalibError
        Naming the file and the line, for a missing column or a ``sa_hz`` that is not a
        positive number. A raga the catalogue does not know, or a file that is not there,
        is one line (through ``report``) and the row is left out.
    """
    from ..ragas import get_raga

    path = Path(path)
    try:
        handle = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise RagalibError(f"{path}: cannot read the index ({exc.strerror})") from None
    rows = []
    with handle:
        reader = csv.DictReader(handle)
        if not {"file", "raga"} <= set(reader.fieldnames or ()):
            raise RagalibError(f"{path}: an index needs the columns file, raga (and sa_hz)")
        for n, row in enumerate(reader, 2):
            raga, name = (row.get("raga") or "").strip(), (row.get("file") or "").strip()
            if not raga:
                continue
            text = (row.get("sa_hz") or "").strip()
            try:
                hz = float(text) if text else None
            except ValueError:
                hz = -1.0
            if hz is not None and not hz > 0:
                raise RagalibError(f"{path}: line {n}: sa_hz {text!r} is not a positive number")
            try:
                raga = get_raga(raga).id
            except RagalibError:
                if not any_raga:
                    report(f"{path}: line {n}: raga {raga!r} is not in the catalogue; left out")
                    continue
                raga = raga.lower()
            file = path.parent / name
            if not file.is_file():
                report(f"{file}: no such file (line {n} of {path.name}); left out")
                continue
            rows.append({"path": file, "raga": raga, "tonic_hz": hz})
    return rows


@dataclass
class FolderScore:
    """Every judged item of a folder: ``rows`` (``path``, ``raga``, ``tonic_hz`` or None,
    ``item``: the file, or the excerpt of it, ``outside``: its raga is not the catalogue's), their
    :class:`ragalib.detection.pipeline.Detection` in the same order, the reasons of the files
    left out, the seconds judged and the wall-clock seconds it took. The detections are the
    default judge's (:data:`ragalib.detection.pipeline.DEFAULT_JUDGE`); ``judges`` holds what
    other judges say of the same items (None where one cannot say): for audio, the CNN alone
    (and with a pitch model, that model alone and the two together); for pitch tracks with a
    known Sa, the note model at that Sa.

    Behind notebook 07_song_detection (not called there by name).
    """

    root: Path
    rows: list
    found: list
    left_out: list = field(default_factory=list)
    judges: dict = field(default_factory=dict)   # judge -> ragas (or None), one per row
    audio_seconds: float = 0.0
    seconds: float = 0.0
    given_fits: list = field(default_factory=list)  # the note model's fit at the given Sa
    learned: object = None    # what the note model learned from your recordings (OwnRecordings)

    def inside(self):
        """The score of the items whose raga is in the catalogue (all of them, unless the
        folder was read with ``open_set``)."""
        keep = [i for i, row in enumerate(self.rows) if not row.get("outside")]
        if len(keep) == len(self.rows):
            return self
        return FolderScore(self.root, [self.rows[i] for i in keep], [self.found[i] for i in keep],
                           self.left_out,
                           {judge: [said[i] if i < len(said) else None for i in keep]
                            for judge, said in self.judges.items()},
                           self.audio_seconds, self.seconds,
                           [self.given_fits[i] for i in keep] if self.given_fits else [])


SA_GIVEN = "note model, Sa given"
MIN_EXCERPT_S = 5.0
"""The shortest excerpt a report judges: a segment's length."""


def check_excerpt(excerpt):
    """Refuse, in one line, an ``--excerpt`` shorter than :data:`MIN_EXCERPT_S`.

    Behind notebook 11_real_singing (not called there by name).
    """
    if excerpt is not None and excerpt < MIN_EXCERPT_S:
        raise RagalibError(f"--excerpt {excerpt:g}: excerpts must last at least "
                           f"{MIN_EXCERPT_S:g} s to hold notes")


def score_folder(root, bundle=None, *, index=None, excerpt=None, tonic="auto",
                 pitch_model=None, open_set=False, report=say):
    """Detect the raga of every recording under ``root`` (or named by ``index``) and keep
    what is needed to score it.

    Behind notebooks 07_song_detection and 11_real_singing (not called there by name).

    Parameters
    ----------
    root : Path
        ``<raga_id>/<file>`` folders (see the module docstring); with ``index``, may be None.
    bundle : ragalib.models.bundle.Bundle or callable, optional
        Judges the audio files; a callable is called only if there is audio (the default
        detector, :func:`ragalib.detection.detector`, when None).
    index : Path, optional
        An index CSV (:func:`read_index`) in place of the raga folders.
    excerpt : float, optional
        Judge pitch tracks in consecutive excerpts of this many seconds, not whole.
    tonic : str
        ``"auto"`` (the learned estimate) or ``"catalogue"``.
    open_set : bool
        Also judge the recordings of ragas outside the catalogue (folders or index rows
        that name one), marked ``outside``, for :func:`open_set_table`.
    report : callable
        Receives one line per file or folder left out.

    Returns
    -------
    FolderScore
    """
    from ..melody.pitch_track import is_pitch_track

    from ..corpus.dataset import folder_rows
    from ..ragas import raga_ids

    if index is not None:
        rows = read_index(index, report=report, any_raga=open_set)
        root = Path(index).parent
    else:
        root = Path(root)
        if not root.is_dir():
            raise RagalibError(f"{root}: no such folder")
        rows = folder_rows(root, report, any_raga=open_set)
    known = set(raga_ids())
    for row in rows:
        row["outside"] = row["raga"] not in known
    check_excerpt(excerpt)
    score = FolderScore(root, [], [])
    started = time.perf_counter()
    tracks = [row for row in rows if is_pitch_track(row["path"])]
    sounds = [row for row in rows if not is_pitch_track(row["path"])]
    if sounds:
        from ..detection.default import detector

        bundle = detector() if bundle is None else bundle() if callable(bundle) else bundle
        _score_sounds(score, sounds, bundle, tonic, pitch_model, report,
                      _note_model(score, rows, bundle.labels, report))
    if tracks:
        _score_tracks(score, tracks, excerpt, report, _note_model(score, rows, None, report))
    score.seconds = time.perf_counter() - started
    if not score.rows:
        raise RagalibError(f"{root}: no recording could be analysed (see the messages above)")
    return score


def _judged(score, judge):
    """The list of ``judge``'s answers, padded with None for the rows it did not judge."""
    said = score.judges.setdefault(judge, [])
    said += [None] * (len(score.rows) - len(said))
    return said


def _note_model(score, rows, labels, report):
    """The note model of ``labels`` (the catalogue's when None), learned from your recordings
    in ``data/recordings/`` but for those among ``rows`` (a model is not judged on what it
    learned from); what it learned is kept in ``score.learned``."""
    from ..melody.note_learning import own_recordings_model
    from ..melody.note_model import ensure_note_model
    from ..util.files import file_digest

    judged = frozenset(file_digest(row["path"]) for row in rows)
    score.learned = own_recordings_model(ensure_note_model(labels, own_recordings=False),
                                         exclude=judged, report=report)
    return score.learned.model


def _score_sounds(score, rows, bundle, tonic, pitch_model, report, note_model):
    """Judge the audio files (whole) with ``bundle``, in worker processes."""
    import copy

    import soundfile

    from ..detection.evidence import gather_songs, pitch_model_for
    from ..detection.pipeline import DEFAULT_JUDGE, decide

    tonic_model = pitch_model_for(pitch_model, bundle.pitch_model, tonics=[tonic])
    cnn_alone = None
    if bundle.pitch_model is not None:
        cnn_alone = copy.copy(bundle)
        cnn_alone.pitch_model = None
    variants = {"default": {"tonic": tonic, "separation": True}}
    for row, (evidence, reason) in zip(rows, gather_songs(
            rows, variants, [bundle.config], sr=bundle.config.sr, tonic_model=tonic_model,
            pitch_model=bundle.pitch_model, note_model=note_model, keep_going=True)):
        if reason is not None:
            report(f"{reason}; left out")
            score.left_out.append(reason)
            continue
        ev = evidence["default"]
        _judged(score, "CNN alone").append(decide(ev, cnn_alone or bundle, judge="cnn").raga)
        if cnn_alone is not None:
            _judged(score, "pitch model alone").append(max(ev.pitch, key=ev.pitch.get))
            _judged(score, "CNN and pitch model together").append(decide(ev, bundle).raga)
        try:
            found = decide(ev, bundle, name=str(row["path"]), judge=DEFAULT_JUDGE,
                           open_set=False)
        except RagalibError as exc:
            report(f"{exc}; left out")
            score.left_out.append(str(exc))
            for said in score.judges.values():
                del said[len(score.rows):]   # this file's other answers go with it
            continue
        score.rows.append({**row, "item": row["path"].name})
        score.found.append(found)
        score.audio_seconds += soundfile.info(row["path"]).duration


def _score_tracks(score, rows, excerpt, report, model):
    """Judge the pitch tracks with the note model, whole or in excerpts: at the Sa it
    estimates and, where the Sa is known, at that Sa too."""
    from ..detection.track import detect_track
    from ..melody.pitch_track import read_pitch_track

    for row in rows:
        try:
            track = read_pitch_track(row["path"])
        except RagalibError as exc:
            report(f"{exc}; left out")
            score.left_out.append(str(exc))
            continue
        sa_hz = row["tonic_hz"] or None
        for part in track.excerpts(excerpt) if excerpt else [track]:
            try:
                found = detect_track(part, model=model, open_set=False)
                given = (detect_track(part, tonic=sa_hz, model=model, open_set=False)
                         if sa_hz else None)
            except RagalibError as exc:
                report(f"{exc}; left out")
                score.left_out.append(str(exc))
                continue
            _judged(score, SA_GIVEN).append(given and given.raga)
            score.given_fits += [None] * (len(score.rows) - len(score.given_fits))
            score.given_fits.append(given and given.fit)
            score.rows.append({**row, "item": Path(part.source).name})
            score.found.append(found)
            score.audio_seconds += part.seconds


def summary(score, labels):
    """The figures of a :class:`FolderScore`: ``right`` and ``n`` overall, ``per_raga``
    (raga -> (right, n)), the ``confusion`` matrix over ``labels``, ``tonic`` as (Sa within
    :data:`SA_CENTS` cents, n given) or None, ``twins`` (for the items whose raga shares its
    notes with another of the catalogue: raga -> (taken for a twin, n)), ``calibration``
    (:func:`ragalib.util.stats.reliability`) and ``speed`` (seconds judged per second).

    Behind notebooks 07_song_detection and 11_real_singing (not called there by name).
    """
    import numpy as np

    from ..melody.pitch import pitch_class_cents
    from ..ragas import load_catalogue
    from ..util.stats import reliability
    from .scoring import song_confusion

    per_raga = {}
    for row, found in zip(score.rows, score.found):
        k, n = per_raga.get(row["raga"], (0, 0))
        per_raga[row["raga"]] = (k + (found.raga == row["raga"]), n + 1)
    given = [(row, found) for row, found in zip(score.rows, score.found)
             if row["tonic_hz"] is not None and found.tonic_hz is not None]
    tonic = ((sum(abs(pitch_class_cents(f.tonic_hz, row["tonic_hz"])) <= SA_CENTS
                  for row, f in given), len(given)) if given else None)
    catalogue = load_catalogue()
    twins = {}
    for row, found in zip(score.rows, score.found):
        notes = set(catalogue[row["raga"]].swaras)
        same = {r for r, raga in catalogue.items() if set(raga.swaras) == notes} - {row["raga"]}
        if same:
            k, n = twins.get(row["raga"], (0, 0))
            twins[row["raga"]] = (k + (found.raga in same), n + 1)
    right = [found.raga == row["raga"] for row, found in zip(score.rows, score.found)]
    return {"right": sum(right), "n": len(score.rows),
            "per_raga": per_raga, "tonic": tonic, "twins": twins,
            "calibration": reliability([f.confidence for f in score.found], np.array(right)),
            "confusion": song_confusion(score.rows, score.found, labels),
            "speed": score.audio_seconds / max(score.seconds, 1e-9)}


SA_CENTS = 50
"""A Sa estimate within this many cents of the true one is right (a quarter-tone either way)."""


def report_lines(score, labels, *, open_set=False):
    """The text ``report folder`` prints: per raga, overall with a 95% interval, the other
    judges, the same-scale pairs, the tonic, the calibration, the confusion and the speed,
    for the items of the catalogue's ragas; then how many "none of these" would flag, and
    with ``open_set`` the whole trade-off (:func:`open_set_table`).

    Behind notebooks 07_song_detection and 11_real_singing (not called there by name).
    """
    from ..util.tables import text_table

    what = ("items" if any(r.get("item", r["path"].name) != r["path"].name for r in score.rows)
            else "recordings")
    inside = score.inside()
    outside = len(score.rows) - len(inside.rows)
    lines = [f"folder report: {score.root}: {len(score.rows)} {what} judged"
             + (f" ({outside} of ragas outside the catalogue)" if outside else "")
             + (f", {len(score.left_out)} left out" if score.left_out else "")]
    if inside.rows:
        lines += _closed_set_lines(inside, labels, what)
    speed = lines.pop() if inside.rows else None
    flagged = open_set_counts(score)
    if flagged:
        lines.append(f"none of these (fit under {OPEN_SET_FIT:g}): "
                     + "; ".join(f"{k}/{n} {side} flagged" for side, (k, n) in flagged.items()))
    if open_set:
        lines.append("the trade-off, by the fit under which detection says none of these "
                     "(flagged: outside the catalogue, rightly; inside it, wrongly):")
        lines.append(text_table(open_set_table(score)))
    if speed is not None:
        lines.append(speed)
    return lines


OPEN_SET_STEPS = tuple(round(-2.2 - 0.05 * k, 2) for k in range(13))
"""The fits :func:`open_set_table` tries, from -2.2 to -2.8."""


def open_set_counts(score, threshold=None, *, given=False):
    """``{"inside": (flagged, n), "outside": (flagged, n)}``: how many items of the catalogue's
    ragas, and of others, have a fit under ``threshold`` (default
    :data:`ragalib.melody.note_model.OPEN_SET_FIT`), at the Sa found or, with ``given``, the
    Sa given; sides with no item judged are left out.

    Behind notebook 11_real_singing (not called there by name).
    """
    threshold = OPEN_SET_FIT if threshold is None else threshold
    fits = (score.given_fits + [None] * (len(score.rows) - len(score.given_fits)) if given
            else [found.fit for found in score.found])
    counts = {}
    for side in ("inside", "outside"):
        judged = [fit for fit, row in zip(fits, score.rows)
                  if fit is not None and bool(row.get("outside")) == (side == "outside")]
        if judged:
            counts[side] = (sum(fit < threshold for fit in judged), len(judged))
    return counts


def open_set_table(score, thresholds=OPEN_SET_STEPS):
    """One row per fit in ``thresholds``: the share of items flagged "none of these",
    outside the catalogue and inside it, at the Sa found and (where known) given.

    Behind notebook 11_real_singing (not called there by name).
    """
    rows = []
    for threshold in thresholds:
        row = {"fit under": f"{threshold:g}" + (" *" if threshold == OPEN_SET_FIT else "")}
        for given, sa in ((False, "Sa found"), (True, "Sa given")):
            for side, (k, n) in open_set_counts(score, threshold, given=given).items():
                row[f"{side}, {sa}"] = f"{k}/{n} ({k / n:.0%})"
        rows.append(row)
    return rows


def _closed_set_lines(score, labels, what):
    """:func:`report_lines` for the items of the catalogue's ragas."""
    from ..util.stats import share
    from ..util.tables import text_table

    s = summary(score, labels)
    lines = [text_table([{"raga": raga, what: n, "right": k, "accuracy": share(k, n)}
                         for raga, (k, n) in sorted(s["per_raga"].items())])]
    lines.append(f"all: {share(s['right'], s['n'], what)}")
    alone = {}
    for judge, said in score.judges.items():
        judged = [(a, row) for a, row in zip(said, score.rows) if a is not None]
        if not judged:
            continue
        right = sum(a == row["raga"] for a, row in judged)
        lines.append(f"  {judge}: {share(right, len(judged), what)}")
        if judge in JUDGE_OPTIONS and len(judged) == s["n"]:    # a judge of every item
            alone[judge] = right
    if alone and max(alone.values()) > s["right"]:
        best = max(alone, key=alone.get)
        lines.append(f"  on these recordings the {best.removesuffix(' alone')} alone is right "
                     f"more often than the detector: `detect --judge "
                     f"{JUDGE_OPTIONS[best]}` uses it alone")
    for raga, (k, n) in sorted(s["twins"].items()):
        lines.append(f"same notes as another raga: {raga} taken for its twin in "
                     f"{share(k, n, what)}")
    if s["tonic"]:
        lines.append(f"Sa (where known): {share(*s['tonic'], what)} within {SA_CENTS} cents")
    ece, table = s["calibration"]
    lines.append(f"calibration: expected calibration error {ece:.3f} (0 when the confidence "
                 "is how often it is right)")
    lines.append(text_table(table))
    present = [i for i, label in enumerate(labels)
               if s["confusion"][i].sum() or s["confusion"][:, i].sum()]
    lines.append("confusion (rows: true raga, columns: detected):")
    lines.append(text_table([{"": labels[i], **{labels[j]: int(s["confusion"][i, j])
                                                for j in present}}
                             for i in present if s["confusion"][i].sum()],
                            columns=["", *(labels[j] for j in present)]))
    lines.append(f"speed: {score.audio_seconds:.0f} s judged in {score.seconds:.1f} s "
                 f"({s['speed']:.0f}x real time)")
    return lines
