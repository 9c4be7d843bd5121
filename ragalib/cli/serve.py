"""``python -m ragalib serve``: its options and what it does (the application itself is
:mod:`ragalib.serving.app`).
"""

from pathlib import Path

from ..errors import RagalibError
from ..serving.app import Limits
from .arguments import port, positive_int


def add_arguments(parser):
    """``python -m ragalib serve``'s options.

    Behind notebook 10_serving (not called there by name).
    """
    defaults = Limits()
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=port, default=8000, help="default 8000; 0: a free one")
    parser.add_argument("--model", type=Path, help="bundle folder (default data/models/default)")
    parser.add_argument("--catalog", type=Path, help="a folder of songs for POST /similar")
    parser.add_argument("--max-mb", type=float, default=defaults.max_mb,
                        help=f"the largest upload in MiB (default {defaults.max_mb:g})")
    parser.add_argument("--concurrent", type=positive_int, default=defaults.concurrent,
                        help=f"songs analysed at once (default {defaults.concurrent})")
    parser.add_argument("--queue", type=int, default=defaults.queue,
                        help=f"requests that may wait (default {defaults.queue}); more get 503")
    parser.add_argument("--timeout", type=float, default=defaults.timeout,
                        help=f"seconds a request may take (default {defaults.timeout:g}); "
                             "then 504")
    parser.add_argument("--upload-seconds", type=float, default=defaults.upload_seconds,
                        help=f"seconds a client may take to send its upload (default "
                             f"{defaults.upload_seconds:g}); then 408")
    parser.add_argument("--connections", type=positive_int, default=defaults.connections,
                        help=f"open connections kept (default {defaults.connections}); more "
                             "get 503")
    parser.set_defaults(func=command)


def command(args):
    """``python -m ragalib serve``: load the bundle (and index the catalogue) once, then
    answer until stopped.

    Behind notebook 10_serving (not called there by name).
    """
    import math
    import sys

    from .. import similarity
    from ..detection.default import detector
    from ..detection.evidence import pitch_model_for
    from ..serving.app import Service, listen, serve

    if not (0 < args.max_mb < math.inf and 0 < args.timeout < math.inf and args.queue >= 0
            and 0 < args.upload_seconds < math.inf):
        raise RagalibError("serve: --max-mb, --timeout and --upload-seconds must be finite "
                           "numbers above 0, --queue at least 0")
    limits = Limits(max_mb=args.max_mb, concurrent=args.concurrent, queue=args.queue,
                    timeout=args.timeout, upload_seconds=args.upload_seconds,
                    connections=args.connections)
    sock = listen(args.host, args.port)
    try:
        bundle = detector(args.model)
        tonic_model = pitch_model_for(bundle.pitch_model)
        index = None
        if args.catalog is not None:
            index = similarity.build_index(args.catalog, bundle, pitch_model=tonic_model)
            print(f"catalogue {args.catalog}: {len(index.files)} songs indexed", file=sys.stderr)
        service = Service(bundle, index=index, limits=limits, tonic_model=tonic_model)
        serve(service, sock, announce=lambda line: print(line, flush=True))
    finally:
        sock.close()
    return 0
