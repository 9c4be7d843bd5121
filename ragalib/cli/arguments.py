"""What the command line accepts: argparse types with one-line reasons, and a parser whose
usage errors are one ``ragalib:`` line with where to find help (``python -m ragalib``)."""

import argparse
import sys
from pathlib import Path

from ..errors import say


def dropout(text):
    """A dropout rate in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), not {value}")
    return value


def positive_int(text):
    """A whole number of at least 1."""
    return _int_at_least(text, 1)


def non_negative_int(text):
    """A whole number of at least 0 (a seed, a count)."""
    return _int_at_least(text, 0)


def integer(text):
    """A whole number."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None


def port(text):
    """A TCP port: 0 (a free one) to 65535."""
    value = _int_at_least(text, 0)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be a port from 0 to 65535, not {value}")
    return value


def _int_at_least(text, low):
    value = integer(text)
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
    return value


def seconds(text):
    """A duration on the command line: positive, finite, at most ``synth.MAX_SECONDS``."""
    from ..synth import MAX_SECONDS

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not 0.0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {MAX_SECONDS:g} s (one hour), not {text}")
    return value


def scheduler(text):
    """A Dask scheduler's address, ``tcp://HOST:PORT`` (or ``HOST:PORT``)."""
    address = text if "://" in text else f"tcp://{text}"
    host, _, port = address.split("://", 1)[1].rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"must be tcp://HOST:PORT, not {text!r}")
    return address


def add_scheduler(parser):
    """``--scheduler``: run the per-song work on a Dask cluster instead of this machine."""
    parser.add_argument("--scheduler", type=scheduler, metavar="tcp://HOST:PORT",
                        help="prepare the songs on this Dask cluster (its workers must see the "
                             "same files at the same paths); default: this machine's cores")


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error told on one ``ragalib:`` line and how to get help."""

    def error(self, message):
        hint = ""
        if any(arg.startswith("-") and len(arg) > 1 and Path(arg).exists()
               for arg in _ARGV):
            hint = "; use -- before a file name that starts with -"
        command = self.prog.removeprefix("python -m ragalib").strip()
        say(f"{command + ': ' if command else ''}{message}{hint} (see {self.prog} --help)")
        sys.exit(2)


_ARGV = []
"""The arguments being parsed, for :class:`Parser`'s hint (see :func:`given`)."""


def given(argv):
    """Remember ``argv`` for the hint of a usage error, and return it."""
    _ARGV[:] = argv
    return argv
