"""The pitch trackers measured: every tracker of :mod:`ragalib.melody.trackers` on the sung
songs, against the contour the singer was given, with mir_eval's melody metrics.

Taught in notebook 07_song_detection; ``python -m ragalib report melody`` prints the table.
"""

import numpy as np

from ..melody.trackers import TRACKERS, track


def scores(ref_times, ref_hz, est_times, est_hz):
    """mir_eval's melody metrics of an estimate against a reference (both NaN when unvoiced).

    Taught in notebook 07_song_detection.

    Returns
    -------
    dict
        ``raw pitch accuracy`` (share of voiced reference frames within 50 cents),
        ``raw chroma accuracy`` (the same, octave errors forgiven), ``voicing recall`` and
        ``voicing false alarm``.
    """
    import mir_eval

    def positive(hz):   # mir_eval's convention: 0 (or negative) for unvoiced frames
        return np.where(np.isnan(hz), 0.0, np.asarray(hz, dtype=float))

    found = mir_eval.melody.evaluate(np.asarray(ref_times, float), positive(ref_hz),
                                     np.asarray(est_times, float), positive(est_hz))
    return {"raw pitch accuracy": float(found["Raw Pitch Accuracy"]),
            "raw chroma accuracy": float(found["Raw Chroma Accuracy"]),
            "voicing recall": float(found["Voicing Recall"]),
            "voicing false alarm": float(found["Voicing False Alarm"])}


def compare_trackers(kind="dev", *, trackers=TRACKERS, separation=True, limit=None):
    """Every tracker on every sung song of a song set, against the singer's true contour.

    Taught in notebook 07_song_detection; ``python -m ragalib report melody`` prints it. The
    songs are heard as the detector hears them: with their tanpura, harmonium and tabla, after
    percussion suppression (``separation``). Choices are made on the ``dev`` songs. ``limit``
    keeps the first so many sung songs (quick mode, where pyin's few seconds a song add up).

    Returns
    -------
    list of dict
        One row per song and tracker: ``file``, ``tracker``, ``seconds`` (time to track it)
        and the :func:`scores`.
    """
    from functools import partial

    from ..corpus import songs
    from ..util.parallel import map_in_workers

    specs = ensure_sung_songs(kind)[:limit]
    work = partial(_track_song, folder=songs.songs_dir(kind), trackers=tuple(trackers),
                   separation=separation)
    return [row for found in map_in_workers(work, specs,
                                            desc=f"tracking {len(specs)} sung {kind} songs")
            for row in found]


def ensure_sung_songs(kind="dev"):
    """The specs of a song set's sung songs, each rendered if missing (the other songs are
    left to :func:`ragalib.corpus.songs.ensure_songs`).

    Taught in notebook 07_song_detection.
    """
    from ..corpus import songs

    specs = [s for s in songs.planned_specs(kind) if s.instrument == songs.SUNG]
    folder = songs.songs_dir(kind)
    folder.mkdir(parents=True, exist_ok=True)
    songs.render_missing(folder, specs, what=f"sung {kind} songs")
    return specs


def _track_song(spec, *, folder, trackers, separation):
    """Every tracker on one sung song, scored; a worker's share of :func:`compare_trackers`."""
    import time

    from ..audio import load, suppress_percussion
    from ..corpus import songs

    y = load(folder / spec.file, sr=songs.SR)
    y = suppress_percussion(y) if separation else y
    truth = songs.sung_contour(spec)
    rows = []
    for method in trackers:
        start = time.perf_counter()
        times, hz = track(y, songs.SR, method)
        rows.append({"file": spec.file, "tracker": method,
                     "seconds": time.perf_counter() - start,
                     **scores(truth.times, truth.hz, times, hz)})
    return rows


def tracker_table(rows):
    """Per tracker, the median over songs of every score and of the seconds taken, and the
    worst song's raw pitch accuracy (rows as :func:`compare_trackers` returns them).

    Taught in notebook 07_song_detection.
    """
    out = []
    for method in dict.fromkeys(r["tracker"] for r in rows):
        mine = [r for r in rows if r["tracker"] == method]
        out.append({"tracker": method, "songs": len(mine),
                    **{k: float(np.median([r[k] for r in mine]))
                       for k in ("raw pitch accuracy", "raw chroma accuracy", "voicing recall",
                                 "voicing false alarm", "seconds")},
                    "worst raw pitch accuracy": float(min(r["raw pitch accuracy"] for r in mine))})
    return out
