"""ragalib: the helper package behind the raga detection notebook series.

Each module owns one stage of the series (README, "Layout of the code"); heavy libraries
(librosa, music21, TensorFlow) are imported only where they are used, so ``import ragalib``
stays fast.
"""

from .errors import RagalibError

__version__ = "0.1.0"
__all__ = ["RagalibError", "__version__"]
