"""What the detector is worth on your own recordings: ``python -m ragalib report folder DIR``.

Named in notebook 07_song_detection, for learners with labelled recordings of their own.

``DIR`` is laid out like ``data/recordings/``: ``DIR/<raga_id>/<file>``, any format and sample
rate. An optional ``DIR/tonics.csv`` (columns ``file,tonic_hz``, ``file`` relative to ``DIR``
or a bare file name) gives the true Sa of some files, so the tonic estimate is scored too.
Folders that are not raga ids, files that are not audio and files that cannot be analysed are
reported on one line each and left out; every other file is judged once, in worker processes.
"""

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RagalibError, say

JUDGE_OPTIONS = {"CNN alone": "cnn", "pitch model alone": "pitch"}
"""The ``detect --judge`` value of each judge the report scores alone."""



def read_tonics(root):
    """``{relative path: tonic Hz}`` from ``root / "tonics.csv"``, empty without one.

    Behind notebook 07_song_detection (not called there by name).

    Raises
    ------
    RagalibError
        Naming the file and the line, for a row that is not ``file,tonic_hz`` with a
        positive number.
    """
    path = Path(root) / "tonics.csv"
    if not path.exists():
        return {}
    tonics = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for n, row in enumerate(csv.DictReader(handle), 2):
            try:
                hz = float(row["tonic_hz"])
                name = row["file"].strip()
            except (KeyError, TypeError, ValueError, AttributeError):
                raise RagalibError(f"{path}: line {n}: expected columns file,tonic_hz") from None
            if not hz > 0 or not name:
                raise RagalibError(f"{path}: line {n}: tonic_hz must be a positive number")
            tonics[name] = hz
    return tonics


@dataclass
class FolderScore:
    """Every judged file of a folder: ``rows`` (``path``, ``raga``, ``tonic_hz`` or None),
    their :class:`ragalib.detection.pipeline.Detection` in the same order, the reasons of the files left
    out, the seconds of audio judged and the wall-clock seconds it took. For a detector that
    multiplies a CNN with the pitch model, ``judges`` holds what each of the two says alone,
    so the report shows whether the combination helps on these recordings.

    Behind notebook 07_song_detection (not called there by name).
    """

    root: Path
    rows: list
    found: list
    left_out: list = field(default_factory=list)
    judges: dict = field(default_factory=dict)   # "CNN alone" / "pitch model alone" -> ragas
    audio_seconds: float = 0.0
    seconds: float = 0.0


def score_folder(root, bundle, *, tonic="auto", pitch_model=None, report=say):
    """Detect the raga of every recording under ``root`` and keep what is needed to score it.

    Behind notebook 07_song_detection (not called there by name).

    Parameters
    ----------
    root : Path
        ``<raga_id>/<file>`` folders (see the module docstring).
    bundle : ragalib.models.bundle.Bundle
    tonic : str
        ``"auto"`` (the learned estimate) or ``"catalogue"``.
    report : callable
        Receives one line per file or folder left out.

    Returns
    -------
    FolderScore
    """
    import copy

    import soundfile

    from ..corpus.dataset import scan_recordings
    from ..detection.evidence import gather_songs, pitch_model_for
    from ..detection.pipeline import decide

    root = Path(root)
    if not root.is_dir():
        raise RagalibError(f"{root}: no such folder")
    tonics = read_tonics(root)
    files = scan_recordings(root, report=report, ignore=("tonics.csv",))
    rows = [{"path": path, "raga": raga,
             "tonic_hz": tonics.get(str(path.relative_to(root)), tonics.get(path.name))}
            for raga, paths in files.items() for path in paths]
    tonic_model = pitch_model_for(pitch_model, bundle.pitch_model, tonics=[tonic])
    score = FolderScore(root, [], [])
    cnn_alone = None
    if bundle.pitch_model is not None:
        cnn_alone = copy.copy(bundle)
        cnn_alone.pitch_model = None
        score.judges = {"CNN alone": [], "pitch model alone": []}
    started = time.perf_counter()
    variants = {"default": {"tonic": tonic, "separation": True}}
    for row, (evidence, reason) in zip(rows, gather_songs(
            rows, variants, [bundle.config], sr=bundle.config.sr, tonic_model=tonic_model,
            pitch_model=bundle.pitch_model, keep_going=True)):
        if reason is not None:
            report(f"{reason}; left out")
            score.left_out.append(reason)
            continue
        score.rows.append(row)
        ev = evidence["default"]
        score.found.append(decide(ev, bundle, name=str(row["path"])))
        if cnn_alone is not None:
            score.judges["CNN alone"].append(decide(ev, cnn_alone).raga)
            score.judges["pitch model alone"].append(max(ev.pitch, key=ev.pitch.get))
        score.audio_seconds += soundfile.info(row["path"]).duration
    score.seconds = time.perf_counter() - started
    if not score.rows:
        raise RagalibError(f"{root}: no recording could be analysed (see the messages above)")
    return score


def summary(score, labels):
    """The figures of a :class:`FolderScore`: ``right`` and ``n`` overall, ``per_raga``
    (raga -> (right, n)), the ``confusion`` matrix over ``labels``, ``tonic`` as (right pitch
    class, n given) or None, and ``speed`` (seconds of audio per second).

    Behind notebook 07_song_detection (not called there by name).
    """
    from ..melody.tonic import semitones_to
    from .scoring import song_confusion

    per_raga = {}
    for row, found in zip(score.rows, score.found):
        k, n = per_raga.get(row["raga"], (0, 0))
        per_raga[row["raga"]] = (k + (found.raga == row["raga"]), n + 1)
    given = [(row, found) for row, found in zip(score.rows, score.found)
             if row["tonic_hz"] is not None and found.tonic_hz is not None]
    tonic = ((sum(semitones_to(f.tonic_hz, row["tonic_hz"]) == 0 for row, f in given), len(given))
             if given else None)
    return {"right": sum(k for k, _ in per_raga.values()), "n": len(score.rows),
            "per_raga": per_raga, "tonic": tonic,
            "confusion": song_confusion(score.rows, score.found, labels),
            "speed": score.audio_seconds / max(score.seconds, 1e-9)}


def report_lines(score, labels):
    """The text ``report folder`` prints: per raga, overall with a 95% interval, the tonic,
    the confusion and the speed.

    Behind notebook 07_song_detection (not called there by name).
    """
    from ..util.stats import share
    from ..util.tables import text_table

    s = summary(score, labels)
    lines = [f"folder report: {score.root}: {s['n']} recordings judged"
             + (f", {len(score.left_out)} left out" if score.left_out else ""),
             text_table([{"raga": raga, "files": n, "right": k, "accuracy": share(k, n)}
                         for raga, (k, n) in sorted(s["per_raga"].items())])]
    lines.append(f"all: {share(s['right'], s['n'], 'recordings')}")
    alone = {}
    for judge, said in score.judges.items():
        alone[judge] = sum(a == row["raga"] for a, row in zip(said, score.rows))
        lines.append(f"  {judge}: {share(alone[judge], s['n'], 'recordings')}")
    if alone and max(alone.values()) > s["right"]:
        best = max(alone, key=alone.get)
        lines.append(f"  on these recordings the {best.removesuffix(' alone')} alone is right "
                     f"more often than both together: `detect --judge "
                     f"{JUDGE_OPTIONS[best]}` uses it alone")
    if s["tonic"]:
        lines.append(f"tonic (tonics.csv): {share(*s['tonic'], 'with the right Sa')}")
    present = [i for i, label in enumerate(labels)
               if s["confusion"][i].sum() or s["confusion"][:, i].sum()]
    lines.append("confusion (rows: true raga, columns: detected):")
    lines.append(text_table([{"": labels[i], **{labels[j]: int(s["confusion"][i, j])
                                                for j in present}}
                             for i in present if s["confusion"][i].sum()],
                            columns=["", *(labels[j] for j in present)]))
    lines.append(f"speed: {score.audio_seconds:.0f} s of audio in {score.seconds:.1f} s "
                 f"({s['speed']:.0f}x real time)")
    return lines
