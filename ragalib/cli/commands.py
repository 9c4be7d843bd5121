"""What each command of ``python -m ragalib`` does and prints, once :mod:`ragalib.cli.main` has
parsed its arguments: ``synth``, ``dataset``, ``songs``, ``train``, ``tune``, ``detect`` and
``similar`` (``report``, ``bench`` and ``serve`` live in :mod:`ragalib.cli.reports`,
:mod:`ragalib.cli.bench` and :mod:`ragalib.cli.serve`).

Each returns the exit status: 0, or 1 when some of the work failed (each failure already told on
one ``ragalib:`` line); bad input raises :class:`ragalib.RagalibError`, which the command line
prints on one line.
"""


from ..errors import RagalibError, printable, say
from ..util.tables import text_table


def synth(args):
    """``python -m ragalib synth``: render an improvisation in a raga (or list the ragas).

    Taught by use in notebook 00_meet_the_ragas.
    """
    from .. import audio, ragas, synth

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
    audio.save(args.output, y, sr=args.sr)
    print(f"wrote {args.output}: {raga.name}, {args.seconds:g} s, seed {args.seed}, "
          f"tonic {args.tonic} ({sa_hz:.2f} Hz){', with drone' if args.drone else ''}")
    return 0


def dataset(args):
    """``python -m ragalib dataset build``: the labelled segments, counted per raga and split.

    Taught by use in notebook 04_dataset.
    """
    from ..corpus import dataset

    ds = dataset.build(force=args.force)
    npz, json_path = dataset.cache_paths(ds.config)
    print(f"dataset {npz.stem}: {len(ds.y)} segments of {ds.X.shape[1]} x {ds.X.shape[2]} "
          f"from {len(ds.takes)} takes ({dataset.recordings_dir()})")
    counts = [{"raga": raga, **row} for raga, row in ds.counts().items()]
    counts.append({"raga": "total", **{k: sum(row[k] for row in counts)
                                       for k in ("takes", *dataset.SPLITS)}})
    print(text_table(counts, columns=["raga", "takes", *dataset.SPLITS]))
    print(f"cached in {npz} (published JSON structure beside it: {json_path.name})")
    return 0


def songs(args):
    """``python -m ragalib songs``: render the test (or dev) songs if missing, and list them.

    Taught by use in notebook 04_dataset.
    """
    from ..corpus import songs

    rows = songs.ensure_songs(kind=args.set)
    print(f"{len(rows)} {args.set} songs in {songs.songs_dir(args.set)} "
          f"(manifest: {songs.MANIFEST})")
    for row in rows:
        print(f"{row['file']:32s} {row['raga']:9s} {row['tonic_note']:4s} "
              f"{row['instrument']:8s} {row['seconds']:4.0f} s"
              f"{'  tabla' if row['percussion'] else ''}{'  drone' if row['drone'] else ''}")
    return 0


def train(args):
    """``python -m ragalib train``: train the CNN and write its bundle.

    Taught by use in notebook 05_train_cnn.
    """
    from ..features import FeatureConfig
    from ..models.bundle import train_bundle
    from ..models.cnn import TrainSettings
    from ..paths import quick_mode

    settings = TrainSettings(
        epochs=args.epochs or (3 if quick_mode() else 75), batch_norm=args.batch_norm,
        dropout=args.dropout, normalize=args.normalize, augment=args.augment, seed=args.seed)
    bundle = train_bundle(settings, config=FeatureConfig(kind=args.kind), out=args.out)
    m = bundle.metrics
    print(f"trained {m['epochs_trained']} epochs (seed {settings.seed}); validation accuracy "
          f"{m['val_accuracy']:.3f}")
    print(f"test accuracy on the held-out takes: {m['test_accuracy']:.3f} of "
          f"{m['test_segments']} segments; whole takes: {m['test_take_accuracy']:.3f}")
    print(f"bundle written to {bundle.path}")
    return 0


def tune(args):
    """``python -m ragalib tune``: the search on a chief and workers, or one worker joining one.

    Taught by use in notebook 06_tuning.
    """
    run = _run_tune(args)
    if args.oracle is not None:
        print(f"worker {args.worker_id}: ran {run} trial(s) for the chief at {args.oracle}")
        return 0
    print(text_table(run.table(), floatfmt=".4g"))
    print(run.best_line())
    for line in run.problems:
        say(f"{line}")
    return 0 if run.ok else 1


def _tune_search(args):
    """The search options of ``tune``'s arguments: 3 trials (2 of them random) of at most 2
    epochs with ``--quick``, else 8 (3) of at most 15, as in chapter 06."""
    from ..paths import quick_mode

    quick = quick_mode()
    trials = args.trials or (3 if quick else 8)
    return {"tuner": args.tuner, "max_trials": trials,
            "initial_points": min(2 if quick else 3, trials),
            "epochs": args.epochs or (2 if quick else 15)}


def _run_tune(args):
    """Start a chief and ``--workers`` workers here, or with ``--oracle HOST:PORT --worker-id
    ID`` join a chief elsewhere as one worker: the
    :class:`ragalib.tuning.cluster.ClusterRun`, or for a worker the number of trials it ran.
    The options are checked (and the port) before the dataset is loaded.
    """
    from ..corpus import dataset
    from ..tuning.chief import check_worker_id
    from ..tuning.cluster import check_port, join_search, parse_address, run_local

    search = _tune_search(args)
    if args.oracle is not None:
        if args.workers is not None or args.port is not None or args.host is not None:
            raise RagalibError("--oracle joins a search running elsewhere: --workers, --port "
                               "and --host are for starting one")
        if args.worker_id is None:
            raise RagalibError("--oracle needs --worker-id ID, unique in the search (such as "
                               "the machine's name)")
        address = parse_address(args.oracle)
        check_worker_id(args.worker_id)
        return join_search(dataset.build(), address, args.worker_id, **search)
    if args.worker_id is not None:
        raise RagalibError("--worker-id names the worker that joins with --oracle HOST:PORT")
    host = args.host or "127.0.0.1"
    port = check_port(host, args.port) if args.port is not None else None
    return run_local(dataset.build(), workers=2 if args.workers is None else args.workers,
                     port=port, host=host, **search)


def detect(args):
    """``python -m ragalib detect``: the raga of each file (or folder of files), a line or a JSON
    object each, in order.

    Taught by use in notebook 07_song_detection.
    """
    import json

    from ..audio import audio_files, check_readable
    from ..detection import pipeline
    from ..detection.default import detector
    from ..detection.track import detect_track
    from ..errors import NoMelody
    from ..melody.pitch_track import is_pitch_track, pitch_tracks
    from ..melody.tonic import Tonic

    tonic = Tonic.parse(args.tonic)   # a bad tonic is one error, not one per file
    if tonic.how == "true":
        raise RagalibError("--tonic true: a file has no manifest to read its Sa from; "
                           "give the note, such as D4")
    files, failed = [], 0
    for path in args.files:           # before the model's 6-9 s: a wrong path costs nothing
        try:
            if path.is_dir():
                found = audio_files(path) + pitch_tracks(path)
                files += found or [RagalibError(f"{path}: a folder with no audio files or "
                                                f"pitch tracks in it")]
                continue
            if not is_pitch_track(path):
                check_readable(path)
            files.append(path)
        except RagalibError as exc:
            files.append(exc)
    if all(isinstance(f, Exception) for f in files):
        for exc in files:
            say(f"{exc}")
        return 1
    tracks = {f for f in files if not isinstance(f, Exception) and is_pitch_track(f)}
    sounds = [f for f in files if not isinstance(f, Exception) and f not in tracks]
    bundle = detector(args.model) if sounds else None
    if not args.json:
        if bundle is not None:
            choice = bundle.info.get("chosen_as_default")
            print(f"model {bundle.path} ({len(bundle.labels)} ragas"
                  f"{'; ' + choice if choice else ''})")
        if tracks:
            print("pitch tracks: the note model of the catalogue's ragas (no audio, no CNN)")
        print(f"{'file':40s} {'raga':10s} {'conf':>5s} {'tonic':>7s} {'shift':>5s}  traces")
    answers = pipeline.detect_files(         # in order, each as soon as it is ready
        sounds, bundle, tonic=tonic, separation=not args.no_separation, judge=args.judge,
        scheduler=args.scheduler) if sounds else iter(())
    for path in files:
        if path in tracks:
            found = _track_answer(detect_track, path, tonic)
        else:
            found = path if isinstance(path, Exception) else next(answers)[1]
        if isinstance(found, NoMelody):   # an answer, not a failure: there is no raga to name
            answer = pipeline.no_raga_json(str(path), found)
            print(json.dumps(answer) if args.json
                  else f"{printable(path.name)[:40]:40s} {'-':10s}  {answer['reason']}", flush=True)
        elif isinstance(found, Exception):
            where = "" if str(path) in str(found) or path is found else f"{path}: "
            say(f"{where}{found}")
            failed += 1
        elif args.json:
            print(json.dumps(found.to_json()), flush=True)
        else:
            runs = ", ".join(f"{r} {pipeline.clock(a)}-{pipeline.clock(b)}"
                             for r, a, b in pipeline.traces(found)) or "-"
            if found.raga is None:     # none of the catalogue's ragas fits
                print(f"{printable(path.name)[:40]:40s} {'-':10s}  {found.reason}")
                continue
            print(f"{printable(path.name)[:40]:40s} {found.raga:10s} {found.confidence:5.2f} "
                  f"{found.tonic_note or '-':>7s} {found.shift:+5d}  {runs}")
            if found.skipped:
                print(f"{'':40s} ({len(found.skipped)} quiet segment(s) left out)")
    return 1 if failed else 0


def _track_answer(detect_track, path, tonic):
    """``detect_track(path, tonic=tonic)``, or the error that stops it (one file's answer)."""
    try:
        return detect_track(path, tonic=tonic)
    except RagalibError as exc:
        return exc


def similar(args):
    """``python -m ragalib similar``: the catalogue songs most like a file.

    Taught by use in notebook 08_similarity.
    """
    import json

    from .. import audio, similarity
    from ..detection.default import detector

    audio.check_readable(args.file)    # a bad query fails before the model and the index
    bundle = detector(args.model)
    index = similarity.build_index(args.catalog, bundle, method=args.method,
                                   scheduler=args.scheduler)
    try:
        found = similarity.recommend(args.file, index, bundle, k=args.k)
    except RagalibError as exc:
        where = "" if str(args.file) in str(exc) else f"{args.file}: "
        raise RagalibError(f"{where}{exc}") from None
    if args.json:
        print(json.dumps(similarity.recommendations_json(args.file, index, found)))
        return 0
    print(f"songs like {args.file.name} in {args.catalog} ({args.method} embeddings):")
    for rank, (name, raga, score) in enumerate(found, 1):
        print(f"{rank:2d}. {name:40s} {raga or '-':10s} similarity {score:.3f}")
    return 0
