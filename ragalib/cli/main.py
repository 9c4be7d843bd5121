"""``python -m ragalib ...``: the series' command line.

Expected bad input prints one line, ``ragalib: <what was wrong>``, on stderr and exits 2 (a
usage error too, with where to find help); ``detect`` reports each bad file on one line,
goes on, and exits 1 if any file failed. Ctrl-C prints ``ragalib: interrupted`` and exits
130; SIGTERM (SIGHUP) stops the same way with ``ragalib: terminated`` and exits 143 (129).
A traceback means a bug.
"""

import os
import sys
from pathlib import Path

from ..constants import SR
from ..errors import RagalibError, say
from ..ragas import DEFAULT_TONIC
from ..util.progress import quiet
from . import arguments, commands
from .arguments import (Parser, add_scheduler, dropout, integer, non_negative_int, positive_int,
                        seconds)


def _add_reports(parser, sets):
    """``report synth|detect|models|similarity|folder|melody``, each with its own options."""
    from . import reports

    each = parser.add_subparsers(dest="what", required=True, metavar="REPORT")
    p = each.add_parser("synth", help="the synthesiser and the singing voice")
    p.add_argument("--seconds", type=seconds, default=60.0)
    p.add_argument("--seeds", type=non_negative_int, nargs="+", default=[0, 1, 2])
    p.set_defaults(func=lambda a: reports.synth(a.seconds, a.seeds) or 0)
    p = each.add_parser("detect", help="the default pipeline with each step switched off")
    p.add_argument("--songs", choices=sets, default="test")
    p.set_defaults(func=lambda a: reports.detect(a.model, a.songs) or 0)
    p = each.add_parser("models", help="every feature kind and the pitch-class baseline "
                                       "(picks the default)")
    p.set_defaults(func=lambda a: reports.models() or 0)
    p = each.add_parser("similarity", help="precision at 5 of the recommendations")
    p.set_defaults(func=lambda a: reports.similarity(a.model) or 0)
    p = each.add_parser("folder", help="the detector on your labelled recordings")
    p.add_argument("dir", nargs="?", type=Path, metavar="DIR",
                   help="recordings in raga folders, DIR/<raga_id>/<files>, and optionally "
                        "DIR/tonics.csv (file,tonic_hz)")
    p.add_argument("--index", type=Path, metavar="FILE",
                   help="a CSV naming the files instead (columns file, raga, sa_hz; files "
                        "relative to it)")
    p.add_argument("--excerpt", type=seconds, metavar="SECONDS",
                   help="judge pitch tracks in excerpts of this length, not whole")
    p.add_argument("--open-set", action="store_true",
                   help="also judge recordings of ragas outside the catalogue (folders or "
                        "index rows that name one) and print how many 'none of these' "
                        "flags, inside and outside, at every threshold")
    p.add_argument("--folds", type=int, metavar="K",
                   help="instead, cross-validate learning from these recordings: K folds by "
                        "recording, the note model learning from K-1 and judged on the one "
                        "left out, beside the grammar alone (nothing is written)")
    p.set_defaults(func=lambda a: reports.folder(a.dir, a.model, index=a.index,
                                                 excerpt=a.excerpt, open_set=a.open_set,
                                                 folds=a.folds) or 0)
    p = each.add_parser("judges", help="every judge (notes, both, pitch, cnn) on the same songs")
    p.add_argument("--songs", choices=sets, default="dev")
    p.set_defaults(func=lambda a: reports.judges(a.model, a.songs) or 0)
    p = each.add_parser("melody", help="the f0 trackers on the sung songs")
    p.add_argument("--songs", choices=sets, default="dev")
    p.set_defaults(func=lambda a: reports.melody(a.songs) or 0)
    for name in ("detect", "similarity", "folder", "judges"):
        each.choices[name].add_argument("--model", type=Path, help="bundle folder (default "
                                                                   "data/models/default)")


def build_parser():
    from ..corpus.songs import SETS
    from ..detection.pipeline import DEFAULT_JUDGE, JUDGES
    from ..features import KINDS
    from ..similarity import METHODS
    from .bench import BENCHES

    parser = Parser(prog="python -m ragalib", description="Raga detection tutorial helpers.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="render a harmonium improvisation in a raga")
    p.add_argument("raga", nargs="?", help="raga id (see --list)")
    p.add_argument("--list", action="store_true", help="list the ragas and exit")
    p.add_argument("--seconds", type=seconds, default=30.0)
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--tonic", default=DEFAULT_TONIC, help=f"Sa as a note name (default {DEFAULT_TONIC})")
    p.add_argument("--drone", action="store_true", help="add a tanpura drone")
    p.add_argument("--sr", type=integer, default=SR, help="sample rate in Hz")
    p.add_argument("-o", "--output", help="output .wav, .flac or .ogg")
    p.set_defaults(func=commands.synth)

    p = sub.add_parser("dataset", help="build (or load) the labelled segment dataset")
    p.add_argument("action", choices=["build"])
    p.add_argument("--quick", action="store_true", help="much less audio, for tests")
    p.add_argument("--force", action="store_true", help="rebuild even if the cache is valid")
    p.set_defaults(func=commands.dataset)

    p = sub.add_parser("songs", help="render the test songs (if missing) and list them")
    p.add_argument("--quick", action="store_true", help="two short songs per raga")
    p.add_argument("--set", choices=SETS, default="test",
                   help="test: the songs we report on; dev: other seeds, for choosing methods; "
                        "offgrid: dev songs with every Sa 10-45 cents off the A440 grid")
    p.set_defaults(func=commands.songs)

    p = sub.add_parser("train", help="train the CNN on the dataset and write a model bundle")
    p.add_argument("--epochs", type=positive_int, help="default 75 (3 with --quick)")
    p.add_argument("--quick", action="store_true", help="small dataset, few epochs, for tests")
    p.add_argument("--out", type=Path, help="bundle folder (default data/models/<kind>, or "
                                            "data/models/<kind>-augmented with --augment)")
    p.add_argument("--batch-norm", action="store_true", help="BatchNormalization after each block")
    p.add_argument("--dropout", type=dropout, default=0.0, help="dropout after the dense layer")
    p.add_argument("--augment", type=non_negative_int, default=0, metavar="N",
                   help="N augmented copies of each training take: tuning, level, noise, "
                        "a varied voice (default 0)")
    p.add_argument("--normalize", action="store_true", help="standardise each coefficient")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--kind", choices=KINDS, default="mfcc",
                   help="features: mfcc (the published 13) or " + ", ".join(KINDS[1:]))
    p.set_defaults(func=commands.train)

    p = sub.add_parser("tune", help="search the CNN's hyper-parameters: a chief and workers "
                                    "(KerasTuner's distributed mode)")
    p.add_argument("--quick", action="store_true", help="small dataset, 3 trials of 2 epochs")
    p.add_argument("--workers", type=non_negative_int, help="worker processes here (default "
                   "2; 0: the chief alone, for workers that join from other machines)")
    p.add_argument("--tuner", choices=("bayesian", "random", "hyperband"), default="bayesian")
    p.add_argument("--trials", type=positive_int, help="default 8 (3 with --quick)")
    p.add_argument("--epochs", type=positive_int, help="at most, a trial (default 15; 2 with "
                                                       "--quick)")
    p.add_argument("--port", type=positive_int, help="the chief's port (default: a free one)")
    p.add_argument("--host", help="the address the chief listens on (default 127.0.0.1; the "
                                  "machine's address on a trusted network for other machines)")
    p.add_argument("--oracle", metavar="HOST:PORT", help="join the chief at HOST:PORT as one "
                                                         "worker, instead of starting a search")
    p.add_argument("--worker-id", metavar="ID", help="with --oracle: this worker's id, unique "
                                                     "in the search")
    p.set_defaults(func=commands.tune)

    p = sub.add_parser("detect", help="which raga does each file (audio or pitch track) carry?")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--model", type=Path, help="bundle folder (default data/models/default)")
    p.add_argument("--tonic", default="auto",
                   help="auto (estimate with the learned pitch model), catalogue (estimate "
                        "from the catalogue alone), none (no transposition), a note such "
                        "as D4 or a frequency in Hz such as 146.8")
    p.add_argument("--no-separation", action="store_true",
                   help="keep the percussion (no harmonic/percussive separation)")
    p.add_argument("--judge", choices=JUDGES, default=DEFAULT_JUDGE,
                   help="who decides: notes (the note model, read from the catalogue: the "
                        "default, chosen on real recordings), both (the CNN times the pitch "
                        "model), pitch or cnn alone; `report folder` shows which is best on "
                        "your recordings")
    add_scheduler(p)
    p.set_defaults(func=commands.detect)

    p = sub.add_parser("similar", help="songs in a catalogue that sound like FILE")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--catalog", type=Path, required=True, help="folder of songs to search")
    p.add_argument("-k", type=positive_int, default=5, help="how many (default 5)")
    p.add_argument("--method", choices=METHODS, default="cnn",
                   help="cnn: the default model's embeddings; mfcc-mean: the baseline")
    p.add_argument("--model", type=Path, help="bundle folder (default data/models/default)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    add_scheduler(p)
    p.set_defaults(func=commands.similar)

    from .serve import add_arguments as serve_arguments

    serve_arguments(sub.add_parser("serve", help="answer detect and similar over HTTP, with a "
                                                 "page to try it in the browser"))
    _add_reports(sub.add_parser("report", help="measure quality figures and print them"),
                 SETS)
    p = sub.add_parser("bench", help="time a stage and print the ratio to real time")
    benches = p.add_subparsers(dest="what", required=True, metavar="STAGE")
    for name, bench in BENCHES.items():
        b = benches.add_parser(name, help=bench.__doc__.split("(")[0].strip())
        b.add_argument("--seconds", type=seconds, default=600.0,
                       help="audio for synth and features (default 600)")
        b.add_argument("--repeat", type=positive_int, default=3, help="timed runs (default 3)")
        b.set_defaults(func=lambda args, bench=bench: bench(args.seconds, args.repeat) or 0)
    _add_catalogue(parser)
    return parser


def _add_catalogue(parser):
    """``--catalogue FILE`` on every command that reaches the ragas (every leaf command)."""
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        for child in action.choices.values():
            if child._subparsers is not None:
                _add_catalogue(child)
            else:
                child.add_argument("--catalogue", metavar="FILE",
                                   help="raga catalogue: a JSON file, or ragas_more (the ten "
                                        "and six more); default the ten ragas")


LINE_BY_LINE = {"detect", "report", "bench"}
"""Commands whose output is lines or tables as they come: no progress bar breaks them up."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (what ``kill``, service managers and CI send) or SIGHUP (a closed terminal),
    raised where the program is, so that it stops as it does on Ctrl-C: the worker processes
    stopped, temporary files removed, one line."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, _frame):
    raise Terminated(signum)


def _stop_on_signals():
    """Treat SIGTERM and SIGHUP as Ctrl-C (:class:`Terminated`), in the main thread."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _terminate)


def _check_settings():
    """Read the ``RAGALIB_*`` settings once, before any work: a bad value is one line now, not
    after a model has loaded."""
    from ..paths import quick_mode
    from ..util.parallel import default_workers

    quick_mode()
    default_workers()


def main(argv=None):
    from ..errors import one_line_warnings

    argv = sys.argv[1:] if argv is None else list(argv)
    one_line_warnings()
    _stop_on_signals()
    try:
        args = build_parser().parse_args(arguments.given(argv))
        if getattr(args, "quick", False):  # before anything reads the data folders
            os.environ["RAGALIB_QUICK"] = "1"
        _check_settings()
        if getattr(args, "catalogue", None):
            from ..ragas import use_catalogue

            use_catalogue(args.catalogue)
        with quiet(args.command in LINE_BY_LINE or getattr(args, "json", False)):
            return args.func(args)
    except KeyboardInterrupt as exc:  # Ctrl-C: every write is atomic, nothing is half-written
        if isinstance(exc, Terminated):
            say("terminated")
            return 128 + exc.signum     # 143 for SIGTERM, 129 for SIGHUP
        say("interrupted")
        return 130
    except RagalibError as exc:
        say(f"{exc}")
        return 2
    except OSError as exc:  # a folder that is a file, a full disk, no permission...
        where = f"{exc.filename}: " if exc.filename else ""
        say(f"{where}{exc.strerror or exc}")
        return 2
