"""Raga recognition: what a song gives each judge (:mod:`.evidence`), the pipeline from a file
to its raga (:mod:`.pipeline`), the default detector (:mod:`.default`) and the raga of a pitch
track (:mod:`.track`).

Taught in notebook 07_song_detection. The pipeline's calls are also here, loaded on first
use: ``detection.detector()`` is the default detector (the one ``python -m ragalib detect``
uses; ``detector(current=True)`` as the chapters ask for it), ``detection.detect_file(path)``
names a file's raga with it.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["default", "evidence", "pipeline", "track"],
    submod_attrs={
        "default": ["detector"],
        "pipeline": ["Detection", "detect_file", "detect_files", "detect_signal"],
        "track": ["detect_track"],
    },
)
