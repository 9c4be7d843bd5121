"""The one error type that ragalib raises for bad input, and the one warning it gives."""


class RagalibError(ValueError):
    """Bad input or an unusable file: the message says what was wrong and what is allowed.

    The command line prints it as one line, ``ragalib: <message>``, with no traceback.
    """


class NoMelody(RagalibError):
    """The sound has no melody to read a raga from (noise, hum, a click track): the answer
    is "no raga", which ``detect --json`` reports as ``"raga": null`` with the reason."""


class RagalibWarning(UserWarning):
    """Input that can be used but is not what it claims (a WAV whose data is shorter than its
    header says). The command line prints it as one line, ``ragalib: warning: <message>``.
    """


def one_line_warnings():
    """Print every :class:`RagalibWarning` as ``ragalib: warning: <message>`` from now on
    (the command line and its worker processes); other warnings keep Python's format."""
    import sys
    import warnings

    python = warnings.showwarning
    if getattr(python, "ragalib", False):
        return

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, RagalibWarning):
            print(f"ragalib: warning: {message}", file=sys.stderr)
        else:
            python(message, category, filename, lineno, file, line)

    show.ragalib = True
    warnings.showwarning = show
