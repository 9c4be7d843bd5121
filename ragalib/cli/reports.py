"""``python -m ragalib report ...``: the quality figures of each stage, measured and printed.

Each report computes its figures afresh (on cached data where it can) and prints them as
tables (:func:`ragalib.util.tables.text_table`); the notebooks show the same rows as HTML.
"""

import numpy as np

from ..errors import RagalibError
from ..util.tables import text_table


def synth(seconds, seeds):
    """The harmonium synthesiser, then the singing voice, against the scores they were given
    (notebook 00_meet_the_ragas)."""
    from .. import ragas
    from ..synth.quality import assess

    print(f"synthesiser report: {seconds:g} s improvisations, seeds {seeds}")
    rows = [assess(r, seconds, seed=s) for r in ragas.raga_ids() for s in seeds]
    print(text_table([{"raga": r["raga"], "notes": r["notes"], "max|c|": r["max_cents"],
                       "med|c|": r["median_cents"], "in-raga": r["in_raga"],
                       "rarest swara": _rarest(r["swara_share"]),
                       "missing": " ".join(r["missing"]) or "-",
                       "pakad": "yes" if r["pakad"] else "NO"} for r in rows],
                     floatfmt={"max|c|": ".2f", "med|c|": ".2f"}))
    print(f"all: {sum(r['notes'] for r in rows)} notes, worst pitch error "
          f"{max(r['max_cents'] for r in rows):.2f} cents, median "
          f"{np.median([r['median_cents'] for r in rows]):.2f}; in-raga share min "
          f"{min(r['in_raga'] for r in rows):.3f}; {_missing(rows)}")
    singer(seconds, seeds)


def _rarest(share):
    rare = min(share, key=share.get)
    return f"{rare} {share[rare]:.3f}"


def _missing(rows):
    return (f"swaras missing in {sum(bool(r['missing']) for r in rows)} pieces; pakad missing "
            f"in {sum(not r['pakad'] for r in rows)} of {len(rows)}")


def singer(seconds, seeds):
    """The singing voice alone, measured frame by frame against the contour it was given,
    with its ornaments counted (notebook 07_song_detection)."""
    from .. import ragas
    from ..synth.quality import assess_singer

    print("\nsinging voice: the same improvisations sung (male on C#3 for even seeds, female "
          "on C#4 for odd), no accompaniment")
    rows = [assess_singer(r, seconds, seed=s, singer="female" if s % 2 else "male")
            for r in ragas.raga_ids() for s in seeds]
    print(text_table([{"raga": r["raga"], "in-tune": r["in_tune"], "med|c|": r["median_cents"],
                       "in-raga": r["in_raga"], "missing": " ".join(r["missing"]) or "-",
                       "pakad": "yes" if r["pakad"] else "NO", **r["ornaments"]} for r in rows],
                     floatfmt={"med|c|": ".2f"}))
    total = {k: sum(r["ornaments"][k] for r in rows) for k in rows[0]["ornaments"]}
    print(f"all: in tune (within 50 cents of the contour) min {min(r['in_tune'] for r in rows):.3f}"
          f", median error {np.median([r['median_cents'] for r in rows]):.2f} cents; in-raga "
          f"share min {min(r['in_raga'] for r in rows):.3f}; {_missing(rows)}; ornaments "
          + ", ".join(f"{k} {v}" for k, v in total.items()))


def detect(model=None, songs_set="test"):
    """Every pipeline step switched off in turn, on the test songs (notebook 07_song_detection)."""
    from ..corpus import songs
    from ..detection.default import detector
    from ..evaluation import scoring
    from ..util.stats import share

    bundle = detector(model)
    rows = songs.ensure_songs(kind=songs_set)
    table, found = scoring.evaluate_songs(rows, bundle)
    print(f"detection report: {len(rows)} {songs_set} songs, model {bundle.path}")
    print(text_table([{"pipeline": r["pipeline"], "songs": r["song accuracy"],
                       "segments": r["segment accuracy"],
                       "tonic pc": r["tonic pitch class right"]} for r in table]))
    default = found[next(iter(scoring.VARIANTS))]
    print("the default pipeline, by kind of song:")
    for label, group in scoring.song_groups(rows).items():
        raga, sa = scoring.group_scores(default, rows, group)
        print(f"  {label:24s} raga {share(*raga, 'songs')}; Sa {share(*sa)}")


def judges(model=None, songs_set="dev"):
    """Every judge on the same songs: the note model, the CNN with the pitch model, each alone
    (notebook 11_real_singing)."""
    from ..corpus import songs
    from ..detection.default import detector
    from ..evaluation.scoring import judge_scores
    from ..util.stats import share

    bundle = detector(model)
    rows = songs.ensure_songs(kind=songs_set)
    print(f"judges report: {len(rows)} {songs_set} songs, model {bundle.path}")
    print(text_table([{"judge": r["judge"], "raga": share(r["right"], r["songs"], "songs"),
                       "calibration error": "-" if r["ece"] is None else f"{r['ece']:.3f}",
                       "Sa within 50 cents": "-" if r["sa_within_50_cents"] is None else
                       share(r["sa_within_50_cents"], r["songs"]),
                       "none of these": "-" if r["none_fits"] is None else r["none_fits"]}
                      for r in judge_scores(rows, bundle)]))


def melody(songs_set="dev"):
    """The f0 trackers against the singer's true pitch (notebook 07_song_detection)."""
    from ..evaluation import tracking

    rows = tracking.compare_trackers(songs_set)
    print(f"melody report: {len(rows) // len(tracking.TRACKERS)} sung {songs_set} songs with "
          "their tanpura, harmonium and tabla, after percussion suppression, against the "
          "singer's true f0 (mir_eval; medians over songs)")
    print(text_table(tracking.tracker_table(rows),
                     columns=["tracker", "raw pitch accuracy", "raw chroma accuracy",
                              "voicing recall", "voicing false alarm",
                              "worst raw pitch accuracy", "seconds"], floatfmt={"seconds": ".2f"}))


def similarity(model=None):
    """Precision at 5 of the recommendations, CNN against MFCC means (notebook 08_similarity)."""
    from .. import similarity as search
    from ..corpus import songs
    from ..detection.default import detector

    bundle = detector(model)
    folder = songs.songs_dir()
    songs.ensure_songs()
    print(f"similarity report: {folder}, model {bundle.path} "
          f"({bundle.config.kind} features); each song queried against the others")
    rows = []
    for method in search.METHODS:
        scores = search.precision_at_k(search.build_index(folder, bundle, method=method))
        rows.append({"embedding": method, "precision@5": scores["precision@5"],
                     "nearest same raga": scores["nearest"]})
    print(text_table(rows))


def folder(path, model=None, *, index=None, excerpt=None, open_set=False, folds=None):
    """The detector on your own labelled recordings or pitch tracks, ``path/<raga_id>/<files>``
    or the files an ``index`` names (notebooks 07_song_detection and 11_real_singing)."""
    from ..detection.default import detector
    from ..evaluation.folder import report_lines, score_folder
    from ..melody.pitch_track import is_pitch_track
    from ..ragas import catalogue_source, raga_ids

    if path is None and index is None:
        raise RagalibError("report folder needs a folder or an index: report folder DIR "
                           "(DIR/<raga_id>/<files>, optional DIR/tonics.csv) or report folder "
                           "--index FILE (columns file, raga, sa_hz)")
    if path is not None and index is not None:
        raise RagalibError("report folder takes a folder or --index FILE, not both")
    if folds is not None:
        if open_set:
            raise RagalibError("--folds and --open-set are two reports: run them one at a time")
        return _folds(path, index, excerpt, folds)
    used = []

    def bundle():
        used.append(detector(model))
        return used[-1]

    score = score_folder(path, bundle, index=index, excerpt=excerpt, open_set=open_set)
    if used:
        print(f"model {used[0].path} ({used[0].config.kind} features) for the audio files")
    if line := _what_was_learned(score.learned):
        print(line)
    if any(is_pitch_track(r["path"]) for r in score.rows):
        print(f"pitch tracks: the note model of the catalogue {catalogue_source().stem!r} "
              f"({len(raga_ids())} ragas), Sa estimated with the raga"
              + (f"; {excerpt:g}-s excerpts" if excerpt else "; whole tracks"))
    print("\n".join(report_lines(score, used[0].labels if used else raga_ids(),
                                  open_set=open_set)))


def _what_was_learned(learned):
    """One line on what the note model learned from your recordings in data/recordings (none
    of the files judged: a model is not judged on what it learned from), or None."""
    if learned is None or not learned.recordings:
        return None
    mine = f"note model: {learned.recordings} of your recordings in data/recordings"
    if learned.recordings < 3 or learned.ragas < 2:
        return f"{mine}: too few to learn from (3 recordings of 2 ragas at least)"
    if learned.prior is None:
        return f"{mine} did not help it in a leave-one-out check: it reads the grammar alone"
    return f"{mine} taught it (the grammar weighted {learned.prior:g} s)"


def _folds(path, index, excerpt, k):
    """``report folder --folds K``: cross-validated learning from the recordings."""
    from ..evaluation import folds
    from ..corpus.dataset import folder_rows
    from ..evaluation.folder import read_index
    from ..ragas import catalogue_source

    rows = read_index(index) if index is not None else folder_rows(path)
    print(f"note model of the catalogue {catalogue_source().stem!r}; "
          f"{excerpt or 45:g}-s excerpts")
    results, priors = folds.cross_validate(rows, k, excerpt=excerpt)
    print("\n".join(folds.report_lines(results, priors, k)))


def models():
    """Every candidate on the dev songs (the choice), the held-out takes and the test songs
    (notebook 09_robust_features)."""
    from ..corpus import songs
    from ..detection.default import detector
    from ..evaluation import candidates, scoring

    chosen = detector(current=True)
    bundles = candidates.ensure_candidates()
    learned = chosen.pitch_model
    choice, dev_table = scoring.dev_choice(bundles, learned)
    on_dev = {r["model"]: r["song accuracy"] for r in dev_table}
    takes = scoring.take_scores(bundles, learned)
    rows = songs.ensure_songs()
    table, _ = scoring.candidate_song_scores(bundles, learned, rows)
    print(f"model report: song accuracy on the dev songs (the choice), then held-out harmonium "
          f"takes and {len(rows)} test songs")
    for i, variant in enumerate(candidates.SONG_VARIANTS, 1):
        print(f"  ({i}) test songs, {variant}: song accuracy / segment accuracy")

    def pair(a, b):
        return "-" if a is None else f"{a:.3f} / {b:.3f}"

    print(text_table([{"model": r["model"], "dev": on_dev.get(r["model"]),
                       "test takes": pair(r["take segments"], r["whole takes"]),
                       **{f"({i})": pair(r["songs: " + v], r["segments: " + v])
                          for i, v in enumerate(candidates.SONG_VARIANTS, 1)}}
                      for r in scoring.candidate_summary(takes, table)]))
    default = candidates.candidate_name(chosen)
    print(f"default detector ({chosen.path}): {chosen.info.get('chosen_as_default')}")
    print(f"the dev songs choose {choice}" + ("; so does the default" if choice == default else
          f"; the default is {default}: they differ, so change detection.default.DEFAULT_CANDIDATE"))
