"""``python -m ragalib ...``: the series' command line.

Expected bad input prints one line, ``ragalib: <what was wrong>``, on stderr and exits 2 (a
usage error too, with where to find help); ``detect`` reports each bad file on one line,
goes on, and exits 1 if any file failed. Ctrl-C prints ``ragalib: interrupted`` and exits
130. A traceback means a bug.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from .constants import SR
from .errors import RagalibError
from .ragas import DEFAULT_TONIC


def _cmd_synth(args):
    from . import audio, ragas, synth

    if args.list:
        for raga in ragas.load_catalogue().values():
            print(f"{raga.id:10s} {raga.name:16s} {raga.thaat:9s} "
                  f"{' '.join(raga.swaras):22s} vadi {raga.vadi}, samvadi {raga.samvadi}")
        return 0
    if not args.raga or not args.output:
        raise RagalibError("synth needs a RAGA and -o FILE (or --list)")
    # Validate everything before rendering, so bad input costs nothing and writes nothing.
    raga = ragas.get_raga(args.raga)
    sa_hz = ragas.tonic_hz(args.tonic)
    audio.check_writable(args.output)
    y = synth.improvise(raga.id, args.seconds, tonic=args.tonic, seed=args.seed,
                        drone=args.drone, sr=args.sr)
    audio.save(args.output, y, args.sr)
    print(f"wrote {args.output}: {raga.name}, {args.seconds:g} s, seed {args.seed}, "
          f"tonic {args.tonic} ({sa_hz:.2f} Hz){', with drone' if args.drone else ''}")
    return 0


def _cmd_report(args):
    import numpy as np

    other = {"detect": _cmd_report_detect, "models": _cmd_report_models,
             "similarity": _cmd_report_similarity, "folder": _cmd_report_folder,
             "melody": _cmd_report_melody}.get(args.what)
    if other:
        return other(args)

    from . import ragas
    from .synth.quality import assess

    print(f"synthesiser report: {args.seconds:g} s improvisations, seeds {args.seeds}")
    print(f"{'raga':10s} {'notes':>5s} {'max|c|':>7s} {'med|c|':>7s} {'in-raga':>8s} "
          f"{'rarest swara':>13s} {'missing':>8s} {'pakad':>6s}")
    rows = [assess(r, args.seconds, seed=s) for r in ragas.raga_ids() for s in args.seeds]
    for row in rows:
        rare = min(row["swara_share"], key=row["swara_share"].get)
        print(f"{row['raga']:10s} {row['notes']:5d} {row['max_cents']:7.2f} "
              f"{row['median_cents']:7.2f} {row['in_raga']:8.3f} "
              f"{rare + ' ' + format(row['swara_share'][rare], '.3f'):>13s} "
              f"{' '.join(row['missing']) or '-':>8s} {'yes' if row['pakad'] else 'NO':>6s}")
    worst = max(r["max_cents"] for r in rows)
    print(f"all: {sum(r['notes'] for r in rows)} notes, worst pitch error {worst:.2f} cents, "
          f"median {np.median([r['median_cents'] for r in rows]):.2f}; in-raga share "
          f"min {min(r['in_raga'] for r in rows):.3f}; swaras missing in "
          f"{sum(bool(r['missing']) for r in rows)} pieces; pakad missing in "
          f"{sum(not r['pakad'] for r in rows)} of {len(rows)}")
    _report_singer(args)
    return 0


def _report_singer(args):
    """The second half of ``report synth``: the singing voice, alone, measured frame by frame
    against the contour it was given, with its ornaments counted."""
    import numpy as np

    from . import ragas
    from .synth.quality import assess_singer

    print(f"\nsinging voice: the same improvisations sung (male on C#3 for even seeds, female "
          f"on C#4 for odd), no accompaniment")
    print(f"{'raga':10s} {'in-tune':>8s} {'med|c|':>7s} {'in-raga':>8s} {'missing':>8s} "
          f"{'pakad':>6s}  ornaments (meend andolan kan gamak)")
    rows = [assess_singer(r, args.seconds, seed=s, singer="female" if s % 2 else "male")
            for r in ragas.raga_ids() for s in args.seeds]
    for row in rows:
        o = row["ornaments"]
        print(f"{row['raga']:10s} {row['in_tune']:8.3f} {row['median_cents']:7.2f} "
              f"{row['in_raga']:8.3f} {' '.join(row['missing']) or '-':>8s} "
              f"{'yes' if row['pakad'] else 'NO':>6s}  {o['meend']:5d} {o['andolan']:7d} "
              f"{o['kan']:3d} {o['gamak']:5d}")
    total = {k: sum(r["ornaments"][k] for r in rows) for k in rows[0]["ornaments"]}
    print(f"all: in tune (within 50 cents of the contour) min {min(r['in_tune'] for r in rows):.3f}"
          f", median error {np.median([r['median_cents'] for r in rows]):.2f} cents; in-raga "
          f"share min {min(r['in_raga'] for r in rows):.3f}; swaras missing in "
          f"{sum(bool(r['missing']) for r in rows)} pieces; pakad missing in "
          f"{sum(not r['pakad'] for r in rows)} of {len(rows)}; ornaments "
          + ", ".join(f"{k} {v}" for k, v in total.items()))


def _cmd_dataset(args):
    from . import dataset

    ds = dataset.build(force=args.force)
    npz, json_path = dataset.cache_paths(ds.config)
    print(f"dataset {npz.stem}: {len(ds.y)} segments of {ds.X.shape[1]} x {ds.X.shape[2]} "
          f"from {len(ds.takes)} takes ({dataset.recordings_dir()})")
    print(f"{'raga':10s} {'takes':>5s} {'train':>6s} {'val':>5s} {'test':>5s}")
    counts = ds.counts()
    for raga, row in counts.items():
        print(f"{raga:10s} {row['takes']:5d} {row['train']:6d} {row['val']:5d} {row['test']:5d}")
    total = {k: sum(row[k] for row in counts.values()) for k in ("takes", *dataset.SPLITS)}
    print(f"{'total':10s} {total['takes']:5d} {total['train']:6d} {total['val']:5d} "
          f"{total['test']:5d}")
    print(f"cached in {npz} (published JSON structure beside it: {json_path.name})")
    return 0


def _cmd_songs(args):
    from .synth import songs

    rows = songs.ensure_songs(kind=args.set)
    print(f"{len(rows)} {args.set} songs in {songs.songs_dir(args.set)} "
          f"(manifest: {songs.MANIFEST})")
    for row in rows:
        print(f"{row['file']:32s} {row['raga']:9s} {row['tonic_note']:4s} "
              f"{row['instrument']:8s} {row['seconds']:4.0f} s"
              f"{'  tabla' if row['percussion'] else ''}{'  drone' if row['drone'] else ''}")
    return 0


def _cmd_train(args):
    from . import model
    from .paths import quick_mode

    settings = model.TrainSettings(
        epochs=args.epochs or (3 if quick_mode() else 75), batch_norm=args.batch_norm,
        dropout=args.dropout, normalize=args.normalize, augment=args.augment, seed=args.seed)
    from .features import FeatureConfig

    bundle = model.train_bundle(settings, config=FeatureConfig(kind=args.kind), out=args.out)
    m = bundle.metrics
    print(f"trained {m['epochs_trained']} epochs (seed {settings.seed}); validation accuracy "
          f"{m['val_accuracy']:.3f}")
    print(f"test accuracy on the held-out takes: {m['test_accuracy']:.3f} of "
          f"{m['test_segments']} segments; whole takes: {m['test_take_accuracy']:.3f}")
    print(f"bundle written to {bundle.path}")
    return 0


def _detector(folder):
    """The bundle in ``folder``; without one, the default detector, built on first use (under
    two and a half minutes on a fresh machine, with progress bars on stderr)."""
    from . import compare, model, paths

    if folder is not None:
        return model.load_bundle(folder)
    try:
        return model.load_bundle()
    except RagalibError:
        print(f"ragalib: no default detector in {paths.default_bundle_dir()} yet; building it "
              f"once ({compare.DEFAULT_CANDIDATE}, about 2.5 minutes on a fresh machine)",
              file=sys.stderr)
        return compare.ensure_default_bundle(progress=True)


def _cmd_detect(args):
    import json

    from . import detect
    from .audio import check_readable
    from .errors import NoMelody
    from .ragas import tonic_hz

    if args.tonic.lower() not in ("auto", "catalogue", "none"):
        tonic_hz(args.tonic)          # a bad tonic is one error, not one per file
    unreadable = {}
    for path in args.files:           # before the model's 6-9 s: a wrong path costs nothing
        try:
            check_readable(path)
        except RagalibError as exc:
            unreadable[path] = exc
    if len(unreadable) == len(args.files):
        for exc in unreadable.values():
            print(f"ragalib: {exc}", file=sys.stderr)
        return 1
    bundle = _detector(args.model)
    pitch_model = None
    if args.tonic.lower() == "auto" and bundle.pitch_model is None:
        from .pitch_model import ensure_pitch_model

        pitch_model = ensure_pitch_model(progress=False)
    failed = 0
    if not args.json:
        choice = bundle.info.get("chosen_as_default")
        print(f"model {bundle.path} ({len(bundle.labels)} ragas"
              f"{'; ' + choice if choice else ''})")
        print(f"{'file':40s} {'raga':10s} {'conf':>5s} {'tonic':>7s} {'shift':>5s}  traces")
    for path in args.files:
        try:
            if path in unreadable:
                raise unreadable[path]
            found = detect.detect_file(path, bundle, tonic=args.tonic,
                                       separation=not args.no_separation,
                                       pitch_model=pitch_model, judge=args.judge)
        except NoMelody as exc:       # an answer, not a failure: there is no raga to name
            reason = str(exc).removeprefix(f"{path}: ")
            print(json.dumps({"file": str(path), "raga": None, "reason": reason}) if args.json
                  else f"{path.name[:40]:40s} {'-':10s}  {reason}", flush=True)
            continue
        except (RagalibError, OSError) as exc:
            where = "" if str(path) in str(exc) else f"{path}: "
            print(f"ragalib: {where}{exc}", file=sys.stderr)
            failed += 1
            continue
        if args.json:
            print(json.dumps(found.to_json()), flush=True)
        else:
            runs = ", ".join(f"{r} {detect.clock(a)}-{detect.clock(b)}"
                             for r, a, b in detect.traces(found)) or "-"
            tonic = found.tonic_note or "-"
            print(f"{path.name[:40]:40s} {found.raga:10s} {found.confidence:5.2f} "
                  f"{tonic:>7s} {found.shift:+5d}  {runs}")
            if found.skipped:
                print(f"{'':40s} ({len(found.skipped)} quiet segment(s) left out)")
    return 1 if failed else 0


def _cmd_similar(args):
    import json

    from . import audio, similarity

    audio.check_readable(args.file)    # a bad query fails before the model and the index
    bundle = _detector(args.model)
    index = similarity.build_index(args.catalog, bundle, method=args.method,
                                   progress=not args.json)
    try:
        found = similarity.recommend(args.file, index, bundle, k=args.k)
    except RagalibError as exc:
        where = "" if str(args.file) in str(exc) else f"{args.file}: "
        raise RagalibError(f"{where}{exc}") from None
    if args.json:
        print(json.dumps({"file": str(args.file), "catalog": str(args.catalog),
                          "method": args.method,
                          "recommendations": [{"file": f, "raga": r, "similarity": round(s, 4)}
                                              for f, r, s in found]}))
        return 0
    print(f"songs like {args.file.name} in {args.catalog} ({args.method} embeddings):")
    for rank, (name, raga, score) in enumerate(found, 1):
        print(f"{rank:2d}. {name:40s} {raga or '-':10s} similarity {score:.3f}")
    return 0


def _cmd_report_similarity(args):
    from . import similarity
    from .synth import songs

    bundle = _detector(args.model)
    folder = songs.songs_dir()
    songs.ensure_songs(progress=False)
    print(f"similarity report: {folder}, model {bundle.path} "
          f"({bundle.config.kind} features); each song queried against the others")
    print(f"{'embedding':12s} {'precision@5':>12s} {'nearest same raga':>18s}")
    for method in similarity.METHODS:
        scores = similarity.precision_at_k(similarity.build_index(folder, bundle, method=method,
                                                                  progress=False))
        print(f"{method:12s} {scores['precision@5']:12.3f} {scores['nearest']:18.3f}")
    return 0


def _cmd_report_folder(args):
    from . import folder_report

    if args.dir is None:
        raise RagalibError("report folder needs a folder: report folder DIR "
                           "(DIR/<raga_id>/<files>, optional DIR/tonics.csv)")
    bundle = _detector(args.model)
    score = folder_report.score_folder(args.dir, bundle, progress=False)
    print(f"model {bundle.path} ({bundle.config.kind} features)")
    print("\n".join(folder_report.report_lines(score, bundle.labels)))
    return 0


def _cmd_report_detect(args):
    from . import detect
    from .stats import share
    from .synth import songs

    bundle = _detector(args.model)
    kind = args.songs or "test"
    rows = songs.ensure_songs(progress=False, kind=kind)
    table, found = detect.evaluate_songs(rows, bundle, progress=False)
    print(f"detection report: {len(rows)} {kind} songs, model {bundle.path}")
    print(f"{'pipeline':34s} {'songs':>6s} {'segments':>9s} {'tonic pc':>9s}")
    for row in table:
        tonic = row["tonic pitch class right"]
        print(f"{row['pipeline']:34s} {row['song accuracy']:6.3f} {row['segment accuracy']:9.3f} "
              f"{'-' if tonic is None else format(tonic, '.3f'):>9s}")
    default = found[next(iter(detect.VARIANTS))]
    print("the default pipeline, by kind of song:")
    for label, group in detect.song_groups(rows).items():
        raga, sa = detect.group_scores(default, rows, group)
        print(f"  {label:24s} raga {share(*raga, 'songs')}; Sa {share(*sa)}")
    return 0


def _cmd_report_melody(args):
    from . import melody

    kind = args.songs or "dev"
    rows = melody.compare_trackers(kind, progress=False)
    print(f"melody report: {len(rows) // len(melody.TRACKERS)} sung {kind} songs with their "
          "tanpura, harmonium and tabla, after percussion suppression, against the singer's "
          "true f0 (mir_eval; medians over songs)")
    print(f"{'tracker':9s} {'pitch<50c':>10s} {'chroma':>7s} {'voicing':>8s} {'false al.':>10s} "
          f"{'worst song':>11s} {'seconds':>8s}")
    for row in melody.tracker_table(rows):
        print(f"{row['tracker']:9s} {row['raw pitch accuracy']:10.3f} "
              f"{row['raw chroma accuracy']:7.3f} {row['voicing recall']:8.3f} "
              f"{row['voicing false alarm']:10.3f} {row['worst raw pitch accuracy']:11.3f} "
              f"{row['seconds']:8.2f}")
    return 0


def _cmd_report_models(args):
    from . import compare
    from .synth import songs

    chosen = compare.ensure_default_bundle(progress=False)
    bundles = compare.ensure_candidates(progress=False)
    learned = chosen.pitch_model
    choice, dev_table = compare.dev_choice(bundles, learned, progress=False)
    on_dev = {r["model"]: r["song accuracy"] for r in dev_table}
    takes = compare.take_scores(bundles, learned, progress=False)
    rows = songs.ensure_songs(progress=False)
    table, _ = compare.song_scores(bundles, learned, rows, progress=False)
    print(f"model report: song accuracy on the dev songs (the choice), then held-out harmonium "
          f"takes and {len(rows)} test songs")
    for i, variant in enumerate(compare.SONG_VARIANTS, 1):
        print(f"  ({i}) test songs, {variant}: song accuracy / segment accuracy")
    print(f"{'model':40s} {'dev':>5s} | {'test takes':>15s}"
          + "".join(f"{'(' + str(i) + ')':>15s}" for i in range(1, len(compare.SONG_VARIANTS) + 1)))
    for row in compare.summary(takes, table):
        cells = [f"{row['songs: ' + v]:.3f} / {row['segments: ' + v]:.3f}"
                 for v in compare.SONG_VARIANTS]
        takes_cell = ("-" if row["take segments"] is None else
                      f"{row['take segments']:.3f} / {row['whole takes']:.3f}")
        dev = on_dev.get(row["model"])
        print(f"{row['model']:40s} {'-' if dev is None else format(dev, '.3f'):>5s} | "
              f"{takes_cell:>15s}" + "".join(f"{c:>15s}" for c in cells))
    default = compare.candidate_name(chosen)
    print(f"default detector ({chosen.path}): {chosen.info.get('chosen_as_default')}")
    print(f"the dev songs choose {choice}" + ("; so does the default" if choice == default else
          f"; the default is {default}: they differ, so change compare.DEFAULT_CANDIDATE"))
    return 0


def _timed(work, repeat):
    """Run ``work`` ``repeat`` times; return the list of wall-clock seconds."""
    times = []
    for run in range(repeat):
        start = time.perf_counter()
        work(run)
        times.append(time.perf_counter() - start)
    return times


def _cmd_bench(args):
    from . import audio, features, synth

    seconds = args.seconds
    other = {"dataset": _bench_dataset, "train": _bench_train, "detect": _bench_detect,
             "similarity": _bench_similarity}.get(args.what)
    if other:
        return other(args)
    if args.what == "synth":
        synth.improvise("yaman", 5.0, seed=0)  # warm-up: caches and lazy imports
        times = _timed(lambda run: synth.improvise("yaman", seconds, seed=run), args.repeat)
        what = f"synth: {seconds:g} s of harmonium audio"
    else:
        stack = audio.segments(synth.improvise("yaman", seconds, seed=0))
        features.extract(stack[:2])  # warm-up: numba compiles librosa's kernels once
        times = _timed(lambda run: features.extract(stack), args.repeat)
        what = f"features: MFCCs of {len(stack)} five-second segments ({seconds:g} s of audio)"
    median = statistics.median(times)
    print(f"{what}, {args.repeat} runs after warm-up: {', '.join(f'{t:.2f}' for t in times)} s;"
          f" median {median:.2f} s = {seconds / median:.0f}x real time")
    return 0


def _bench_dataset(args):
    import numpy as np

    from . import dataset, features

    start = time.perf_counter()
    dataset.ensure_recordings(progress=False)
    render = time.perf_counter() - start
    features.mfcc(np.zeros(features.DEFAULT.segment_samples))  # warm-up (numba)
    builds = _timed(lambda run: dataset.build(force=True, progress=False), 1)
    cached = _timed(lambda run: dataset.build(progress=False), args.repeat)
    ds = dataset.build(progress=False)
    audio_minutes = len(ds.y) * ds.config.segment_seconds / 60
    print(f"dataset: {len(ds.y)} segments ({audio_minutes:.0f} min of audio) from "
          f"{len(ds.takes)} takes; rendering missing takes took {render:.1f} s")
    print(f"full build after warm-up: {builds[0]:.1f} s; cached load, {args.repeat} runs: "
          f"{', '.join(f'{t:.2f}' for t in cached)} s, median {statistics.median(cached):.2f} s")
    return 0


def _bench_train(args):
    from . import dataset, model

    data = dataset.build(progress=False)
    model.train(data, model.TrainSettings(epochs=1), progress=False)  # warm-up: TF start-up
    settings = model.TrainSettings()
    times = _timed(lambda run: model.train(data, settings, progress=False), args.repeat)
    per_epoch = [t / settings.epochs for t in times]
    print(f"train: the published CNN, {settings.epochs} epochs on {int(sum(data.split == 'train'))}"
          f" segments, {args.repeat} runs after warm-up: {', '.join(f'{t:.1f}' for t in times)}"
          f" s; median {statistics.median(times):.1f} s = "
          f"{statistics.median(per_epoch):.2f} s per epoch")
    return 0


def _bench_detect(args):
    from . import detect, synth
    from .synth import songs

    bundle = _detector(None)                      # loading the model is not timed
    spec = songs.song_plan(1)[0].__class__(**{**songs.song_plan(1)[0].__dict__, "seconds": 60.0})
    y, _ = songs.render_song(spec)
    from .pitch_model import ensure_pitch_model

    pitch_model = bundle.pitch_model or ensure_pitch_model(progress=False)
    detect.detect_signal(y[:10 * synth.SR], bundle, pitch_model=pitch_model)  # warm-up
    times = _timed(lambda run: detect.detect_signal(y, bundle, pitch_model=pitch_model),
                   args.repeat)
    median = statistics.median(times)
    print(f"detect: a 60-s song ({spec.instrument}, tabla {spec.percussion}), {args.repeat} runs "
          f"after warm-up: {', '.join(f'{t:.2f}' for t in times)} s; median {median:.2f} s = "
          f"{60.0 / median:.0f}x real time (model load excluded)")
    return 0


def _bench_similarity(args):
    from . import similarity
    from .pitch_model import ensure_pitch_model
    from .synth import songs

    bundle = _detector(None)
    learned = bundle.pitch_model or ensure_pitch_model(progress=False)
    rows = songs.ensure_songs(progress=False)
    folder = songs.songs_dir()
    minutes = sum(r["seconds"] for r in rows) / 60
    build = _timed(lambda run: similarity.build_index(folder, bundle, pitch_model=learned,
                                                      progress=False, cache=False), args.repeat)
    index = similarity.build_index(folder, bundle, pitch_model=learned, progress=False)
    cached = _timed(lambda run: similarity.build_index(folder, bundle, pitch_model=learned,
                                                       progress=False), args.repeat)
    queries = _timed(lambda run: [similarity.recommend(folder / f, index, bundle)
                                  for f in index.files], args.repeat)
    per_query = statistics.median(queries) / len(index.files)
    print(f"similarity: indexing {len(rows)} songs ({minutes:.0f} min of audio), "
          f"{args.repeat} runs: {', '.join(f'{t:.1f}' for t in build)} s; median "
          f"{statistics.median(build):.1f} s = {minutes * 60 / statistics.median(build):.0f}x "
          f"real time")
    print(f"reloading the cached index: median {statistics.median(cached) * 1000:.0f} ms "
          f"(checks every song's bytes)")
    print(f"a query (5 nearest of {len(rows)}): median {per_query * 1000:.3f} ms")
    added = _bench_adding_a_song(folder, index.files, bundle, learned, args.repeat)
    print(f"adding one song to an indexed catalogue of {len(rows) - 1}, {args.repeat} runs: "
          f"{', '.join(f'{t:.2f}' for t in added)} s; median {statistics.median(added):.2f} s")
    return 0


def _bench_adding_a_song(folder, files, bundle, learned, repeat):
    """Seconds to re-index a catalogue after its last song is added (the others are cached);
    the catalogue and its index live in a temporary folder."""
    import tempfile
    from unittest import mock

    from . import similarity

    times = []
    with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ, RAGALIB_DATA=tmp):
        catalogue = Path(tmp) / "catalogue"
        catalogue.mkdir()
        folder = Path(folder).resolve()          # links must not depend on the working folder
        for name in files[:-1]:
            (catalogue / name).symlink_to(folder / name)
        newest = catalogue / files[-1]
        for _ in range(repeat):
            similarity.build_index(catalogue, bundle, pitch_model=learned, progress=False)
            newest.symlink_to(folder / files[-1])
            start = time.perf_counter()
            similarity.build_index(catalogue, bundle, pitch_model=learned, progress=False)
            times.append(time.perf_counter() - start)
            newest.unlink()
    return times


def _dropout(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), not {value}")
    return value


def _positive_int(text):
    return _int_at_least(text, 1)


def _non_negative_int(text):
    return _int_at_least(text, 0)


def _integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None


def _int_at_least(text, low):
    value = _integer(text)
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
    return value


def _seconds(text):
    """A duration on the command line: positive, finite, at most ``synth.MAX_SECONDS``."""
    from .synth import MAX_SECONDS

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not 0.0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {MAX_SECONDS:g} s (one hour), not {text}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error told on one ``ragalib:`` line and how to get help."""

    def error(self, message):
        hint = ""
        if any(arg.startswith("-") and len(arg) > 1 and Path(arg).exists()
               for arg in _ARGV or ()):
            hint = "; use -- before a file name that starts with -"
        command = self.prog.removeprefix("python -m ragalib").strip()
        print(f"ragalib: {command + ': ' if command else ''}{message}{hint} "
              f"(see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


_ARGV = None
"""The arguments ``main`` is parsing, for :class:`_Parser`'s hint."""


def build_parser():
    from .detect import JUDGES
    from .features import KINDS
    from .synth.songs import SETS

    parser = _Parser(prog="python -m ragalib", description="Raga detection tutorial helpers.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="render a harmonium improvisation in a raga")
    p.add_argument("raga", nargs="?", help="raga id (see --list)")
    p.add_argument("--list", action="store_true", help="list the ragas and exit")
    p.add_argument("--seconds", type=_seconds, default=30.0)
    p.add_argument("--seed", type=_non_negative_int, default=0)
    p.add_argument("--tonic", default=DEFAULT_TONIC, help=f"Sa as a note name (default {DEFAULT_TONIC})")
    p.add_argument("--drone", action="store_true", help="add a tanpura drone")
    p.add_argument("--sr", type=_integer, default=SR, help="sample rate in Hz")
    p.add_argument("-o", "--output", help="output .wav, .flac or .ogg")
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("dataset", help="build (or load) the labelled segment dataset")
    p.add_argument("action", choices=["build"])
    p.add_argument("--quick", action="store_true", help="much less audio, for tests")
    p.add_argument("--force", action="store_true", help="rebuild even if the cache is valid")
    p.set_defaults(func=_cmd_dataset)

    p = sub.add_parser("songs", help="render the test songs (if missing) and list them")
    p.add_argument("--quick", action="store_true", help="two short songs per raga")
    p.add_argument("--set", choices=SETS, default="test",
                   help="test: the songs we report on; dev: other seeds, for choosing methods")
    p.set_defaults(func=_cmd_songs)

    p = sub.add_parser("train", help="train the CNN on the dataset and write a model bundle")
    p.add_argument("--epochs", type=_positive_int, help="default 75 (3 with --quick)")
    p.add_argument("--quick", action="store_true", help="small dataset, few epochs, for tests")
    p.add_argument("--out", type=Path, help="bundle folder (default data/models/<kind>, or "
                                            "data/models/<kind>-augmented with --augment)")
    p.add_argument("--batch-norm", action="store_true", help="BatchNormalization after each block")
    p.add_argument("--dropout", type=_dropout, default=0.0, help="dropout after the dense layer")
    p.add_argument("--augment", type=_non_negative_int, default=0, metavar="N",
                   help="N augmented copies of each training take: tuning, level, noise, "
                        "a varied voice (default 0)")
    p.add_argument("--normalize", action="store_true", help="standardise each coefficient")
    p.add_argument("--seed", type=_non_negative_int, default=0)
    p.add_argument("--kind", choices=KINDS, default="mfcc",
                   help="features: mfcc (the published 13), chroma, or chroma+mfcc")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("detect", help="which raga does each file carry?")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--model", type=Path, help="bundle folder (default data/models/default)")
    p.add_argument("--tonic", default="auto",
                   help="auto (estimate with the learned pitch model), catalogue (estimate "
                        "from the catalogue alone), none (no transposition) or a note such "
                        "as D4")
    p.add_argument("--no-separation", action="store_true",
                   help="keep the percussion (no harmonic/percussive separation)")
    p.add_argument("--judge", choices=JUDGES, default="both",
                   help="who decides: both (the CNN times the pitch model, default), pitch or "
                        "cnn alone; `report folder` shows which is best on your recordings")
    p.set_defaults(func=_cmd_detect)

    p = sub.add_parser("similar", help="songs in a catalogue that sound like FILE")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--catalog", type=Path, required=True, help="folder of songs to search")
    p.add_argument("-k", type=_positive_int, default=5, help="how many (default 5)")
    p.add_argument("--method", choices=["cnn", "mfcc-mean"], default="cnn",
                   help="cnn: the default model's embeddings; mfcc-mean: the baseline")
    p.add_argument("--model", type=Path, help="bundle folder (default data/models/default)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=_cmd_similar)

    p = sub.add_parser("report", help="measure quality figures and print them")
    p.add_argument("what", choices=["synth", "detect", "models", "similarity", "folder",
                                     "melody"],
                   help="synth: the synthesiser and the singing voice; detect: the default "
                        "pipeline's steps; models: every feature kind and the pitch-class "
                        "baseline (picks the default); similarity: precision at 5 of the "
                        "recommendations; folder DIR: the detector on your labelled "
                        "recordings, DIR/<raga_id>/<files>; melody: the f0 trackers on the "
                        "sung songs")
    p.add_argument("dir", nargs="?", type=Path, metavar="DIR",
                   help="for `report folder`: recordings in raga folders, and optionally "
                        "DIR/tonics.csv (file,tonic_hz)")
    p.add_argument("--model", type=Path,
                   help="bundle for `report detect`, `similarity` and `folder`")
    p.add_argument("--seconds", type=_seconds, default=60.0)
    p.add_argument("--seeds", type=_non_negative_int, nargs="+", default=[0, 1, 2])
    p.add_argument("--songs", choices=SETS,
                   help="song set for `report detect` (default test) and `report melody` "
                        "(default dev, where choices are made)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("bench", help="time a stage and print the ratio to real time")
    p.add_argument("what", choices=["synth", "features", "dataset", "train", "detect",
                                    "similarity"])
    p.add_argument("--seconds", type=_seconds, default=600.0)
    p.add_argument("--repeat", type=_positive_int, default=3)
    p.set_defaults(func=_cmd_bench)
    return parser


def main(argv=None):
    from .errors import one_line_warnings

    global _ARGV
    _ARGV = sys.argv[1:] if argv is None else list(argv)
    one_line_warnings()
    try:
        args = build_parser().parse_args(_ARGV)
        if getattr(args, "quick", False):  # before anything reads the data folders
            os.environ["RAGALIB_QUICK"] = "1"
        return args.func(args)
    except KeyboardInterrupt:       # Ctrl-C: every write is atomic, so nothing is half-written
        print("ragalib: interrupted", file=sys.stderr)
        return 130
    except RagalibError as exc:
        print(f"ragalib: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a folder that is a file, a full disk, no permission...
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"ragalib: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
