"""The one error type that ragalib raises for bad input, and the one warning it gives.

Met in notebook 01_amplitude (a file that is missing, not audio or silent) and notebook
09_robust_features.
"""

import sys


class RagalibError(ValueError):
    """Bad input or an unusable file: the message says what was wrong and what is allowed.

    Met in notebook 01_amplitude; caught by name in notebook 09_robust_features.

    The command line prints it as one line, ``ragalib: <message>``, with no traceback.
    """


class NoMelody(RagalibError):
    """The sound has no melody to read a raga from (noise, hum, a click track): the answer
    is "no raga", which ``detect --json`` reports as ``"raga": null`` with the reason.

    Behind notebooks 01_amplitude and 09_robust_features (not called there by name).
    """


class RagalibWarning(UserWarning):
    """Input that can be used but is not what it claims (a WAV whose data is shorter than its
    header says). The command line prints it as one line, ``ragalib: warning: <message>``.

    Behind notebooks 01_amplitude and 09_robust_features (not called there by name).
    """


def one_line_warnings():
    """Print every :class:`RagalibWarning` as ``ragalib: warning: <message>`` from now on
    (the command line and its worker processes); other warnings keep Python's format.

    Behind notebooks 01_amplitude and 09_robust_features (not called there by name).
    """
    import warnings

    python = warnings.showwarning
    if getattr(python, "ragalib", False):
        return

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, RagalibWarning):
            say(f"warning: {message}")
        else:
            python(message, category, filename, lineno, file, line)

    show.ragalib = True
    warnings.showwarning = show


def with_warnings(function, *args, **kwargs):
    """``(function(*args, **kwargs), heard)``: its result and the warnings it gave (every
    :class:`RagalibWarning`, and others as Python's filters let them through), as
    ``(category, message)`` pairs, so that they can be said again
    where the result is used: by the caller of a worker process or a cluster, or when the
    result comes back from a cache (:func:`say_again`).

    Behind notebooks 07_song_detection and 08_similarity (not called there by name).
    """
    import warnings

    with warnings.catch_warnings(record=True) as heard:
        warnings.simplefilter("always", RagalibWarning)
        result = function(*args, **kwargs)
    return result, [(w.category, str(w.message)) for w in heard]


def printable(text):
    """``text`` with what a terminal would act on written out: control characters (a newline
    that would split the line, an escape that would clear the screen) and the undecodable
    bytes of a file name as Python writes them in a string (``\\n``, ``\\x1b``, ``\\udcff``).

    Behind notebook 04_dataset (not called there by name).
    """
    return "".join(c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF
                   else repr(c)[1:-1] for c in str(text))


def say(message):
    """Tell the user one thing on one line of stderr: ``ragalib: <message>``.

    Behind notebook 04_dataset (the recordings it skips say why so); every command's one-line
    failures and notices go through it.
    """
    print(f"ragalib: {printable(message)}", file=sys.stderr)


def say_again(heard):
    """Give again the warnings :func:`with_warnings` recorded.

    Behind notebooks 07_song_detection and 08_similarity (not called there by name).
    """
    import warnings

    for category, message in heard:
        warnings.warn(message, category, stacklevel=3)
