"""ragalib: the package behind the raga detection notebook series.

The package is laid out by task (README, "Layout of the code"): ``synth`` makes the music,
``corpus`` the takes, songs and datasets, ``features`` and ``melody`` analyse a signal,
``models`` trains the network, ``detection`` names a song's raga, ``evaluation`` says how
good each choice is, ``similarity`` recommends, ``tuning`` searches, ``serving`` answers over
HTTP, ``display`` draws and plays, ``cli`` is the command line.

Everything is loaded on first use (``lazy_loader``), so ``import ragalib`` stays fast and a
learner's first cell can be::

    import ragalib as rl
    found = rl.detect_file("song.wav")          # the default detector, built on first use
    print(found.raga, found.tonic_note)

A chapter imports the module it teaches (``from ragalib.melody import tonic``).
"""

import lazy_loader as lazy

from .errors import NoMelody, RagalibError, RagalibWarning

__version__ = "0.1.0"

__getattr__, __dir__, _lazy_names = lazy.attach(
    __name__,
    submodules=["audio", "cli", "constants", "corpus", "detection", "display", "evaluation",
                "features", "melody", "models", "paths", "ragas", "serving", "similarity",
                "synth", "tuning", "util"],
    submod_attrs={
        "audio": ["load", "save"],
        "detection": ["Detection", "detect_file", "detect_files", "detect_signal", "detect_track",
                      "detector"],
        "ragas": ["get_raga", "load_catalogue", "raga_ids", "use_catalogue"],
        "similarity": ["build_index", "recommend"],
        "synth": ["improvise"],
    },
)
__all__ = ["NoMelody", "RagalibError", "RagalibWarning", "__version__", *_lazy_names]
