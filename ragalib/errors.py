"""The one error type that ragalib raises for bad input."""


class RagalibError(ValueError):
    """Bad input or an unusable file: the message says what was wrong and what is allowed.

    The command line prints it as one line, ``ragalib: <message>``, with no traceback.
    """
