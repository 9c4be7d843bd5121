"""The published setting: one ten-minute take per raga, its 5-second segments split at random.

Taught in notebook 05_train_cnn, to show where the published figures (72% before tuning,
92.7% after) can come from. The published data were ten harmonium pieces of about ten
minutes, one recording per raga; as far as one can tell the segments were dealt into
train and test at random, so almost every test segment had neighbours *from the same
recording session* in training. Here each raga gets one synthesised take of that length,
each with its own seed and its own recording session (:mod:`ragalib.synth.session`), in a
folder of its own (``data/published/``), so chapter 04's recordings and dataset are
untouched. The same network is trained on a random split of those segments and scored on its
test segments, then on the test songs, beside the chapter 05 bundle (split by take): the
figures and the verdict are :mod:`ragalib.evaluation.reproduction`'s.
"""

import zlib
from pathlib import Path

import numpy as np

from ..paths import published_dir, quick_mode

SECONDS = {"full": 600.0, "quick": 30.0}
"""Seconds of the one take per raga: ten minutes, as published; 30 s in quick mode."""
SPLIT_SEED = 0
"""Seed of the random segment split (:func:`ragalib.corpus.dataset.random_segment_split`)."""


def take_name():
    """The file name of a raga's one take (this synthesiser version).

    Behind notebook 05_train_cnn (not called there by name).
    """
    from .takes import synth_take_name

    return synth_take_name(1, "published")


def take_seed(raga, k=1):
    """The seed that improvises (and records) ``raga``'s one take: not one of chapter 04's
    seeds (:func:`ragalib.corpus.takes.synth_take_seed`), so these are other performances in
    other sessions. ``k`` is always 1: there is one take per raga.

    Behind notebook 05_train_cnn (not called there by name).
    """
    return zlib.crc32(f"published-take/{raga}".encode())


def ensure_recordings(root=None, *, seconds=None):
    """Render, atomically, each raga's one take that is missing (or of another length)
    under ``root`` (default ``data/published/recordings``), as
    ``<root>/<raga>/published_v<V>_take1.wav``; older ``published_*`` files are removed.

    Behind notebook 05_train_cnn (not called there by name). The rendering is chapter 04's
    (:func:`ragalib.corpus.takes.ensure_recordings`), with one take per raga, its own names and
    its own seeds.

    Returns
    -------
    pathlib.Path
        ``root``.
    """
    from . import takes

    seconds = seconds or SECONDS["quick" if quick_mode() else "full"]
    return takes.ensure_recordings(Path(root or published_dir() / "recordings"), takes=1,
                                   seconds=seconds, prefix="published",
                                   seed_of=take_seed)


def build(config=None, *, root=None, cache_dir=None, seconds=None):
    """The published setting's dataset (one take per raga), cached like chapter 04's
    (:func:`ragalib.corpus.dataset.build`) but in ``data/published/datasets``.

    Taught in notebook 05_train_cnn. With one take per raga, the dataset's own by-take split
    puts everything in training: :func:`split` deals the segments at random instead.
    """
    from ..features import DEFAULT
    from . import dataset

    root = ensure_recordings(root, seconds=seconds)
    return dataset.build(config or DEFAULT, root=root,
                         cache_dir=cache_dir or published_dir() / "datasets",
                         synthesise=False)


def split(data, seed=SPLIT_SEED):
    """The published-style split: 60/20/20 of the segments at random, ignoring takes.

    Taught in notebook 05_train_cnn.
    """
    from .dataset import random_segment_split

    return random_segment_split(len(data.y), seed=seed)


def siblings_in_training(data, split, part="test"):
    """The share of ``part``'s segments whose take also has segments in training: the
    neighbours from the same session a model can remember (1.0 for a random split of long
    takes, 0.0 for a split by take).

    Taught in notebook 05_train_cnn.
    """
    trained = set(data.take[split == "train"].tolist())
    mine = data.take[split == part]
    return float(np.mean([t in trained for t in mine.tolist()])) if len(mine) else float("nan")


def segment_audio(root, take, start, seconds, *, sr):
    """``seconds`` of the recording ``root / take`` from ``start``, at ``sr``.

    Taught in notebook 05_train_cnn. Read by :func:`ragalib.audio.load`, which reads only
    that part of the file.
    """
    from ..audio import load

    return load(Path(root) / take, sr=sr, offset=start, duration=seconds)


