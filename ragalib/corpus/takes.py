"""The synthesised training takes: which there are, their names and seeds, and rendering
the missing ones.

Taught in notebook 04_dataset. Each raga gets :data:`TAKES` harmonium improvisations on C#,
each through its own recording session, and :data:`SUNG_TAKES` sung recitals, under
``data/recordings/<raga>/``; :mod:`ragalib.corpus.dataset` turns them (and your own recordings beside
them) into the labelled segments, and :mod:`ragalib.corpus.augment` plays a take's score again.
"""

import zlib
from functools import partial
from pathlib import Path

from ..paths import quick_mode, recordings_dir
from ..ragas import raga_ids

TAKES = {"full": (5, 120.0), "quick": (4, 15.0)}
"""Synthesised harmonium takes per raga and seconds per take: 5 x 2 min = 10 min, as in the
method."""
SUNG_TAKES = {"full": 2, "quick": 1}
"""Sung recitals per raga beside them (as long as a harmonium take), so that the models also
learn how a singer carries a raga: one male voice on C#3, one female voice on C#4."""
SUNG_PREFIX = "sung"


def ensure_recordings(root=None, *, takes=None, seconds=None, prefix="synth",
                      seed_of=None, sung=None):
    """Render the synthesised takes that are missing under ``root``.

    Taught in notebook 04_dataset. Each raga gets ``takes`` harmonium improvisations of
    ``seconds`` on C#, each with its own seed and its own recording session (microphone
    colour, room, noise, level: see :mod:`ragalib.synth.session`), as
    ``<root>/<raga>/synth_v<V>_take<N>.wav``, and ``sung`` sung recitals on C# (default
    :data:`SUNG_TAKES`; :mod:`ragalib.synth.recital`) as ``sung_v<V>_take<N>.wav``.
    Takes already there are kept; ``synth_*`` and ``sung_*`` files from an older synthesiser
    version (or beyond the counts) are removed; your own recordings beside them are never
    touched. ``prefix`` and ``seed_of(raga, k)`` (default :func:`synth_take_seed`) name and
    seed another family of harmonium takes, with no sung ones unless ``sung`` says so
    (chapter 05's published setting, :mod:`ragalib.corpus.published`).

    Returns
    -------
    pathlib.Path
        ``root``.
    """
    from .. import synth

    root = Path(root or recordings_dir())
    root.mkdir(parents=True, exist_ok=True)   # fails here, before any progress bar, if it can't
    default_takes, default_seconds = TAKES["quick" if quick_mode() else "full"]
    takes, seconds = takes or default_takes, seconds or default_seconds
    seed_of = seed_of or synth_take_seed
    if sung is None:
        sung = SUNG_TAKES["quick" if quick_mode() else "full"] if prefix == "synth" else 0
    families = {prefix: takes, **({SUNG_PREFIX: sung} if prefix == "synth" or sung else {})}

    def missing(path):  # absent, or rendered for another length
        import soundfile

        try:
            return soundfile.info(path).frames != int(round(seconds * synth.SR))
        except Exception:
            return True

    for raga in raga_ids():  # takes of an older synthesiser, or beyond the counts: ours to remove
        for family, count in families.items():
            wanted = {synth_take_name(k, family) for k in range(1, count + 1)}
            for old in (root / raga).glob(f"{family}_*.wav") if (root / raga).is_dir() else ():
                if old.name not in wanted:
                    old.unlink()
    jobs = [(raga, family, k) for family, count in families.items() for raga in raga_ids()
            for k in range(1, count + 1) if missing(root / raga / synth_take_name(k, family))]
    if jobs:
        from ..util.parallel import map_in_workers

        for raga in {raga for raga, _, _ in jobs}:
            (root / raga).mkdir(parents=True, exist_ok=True)
        n_sung = sum(family == SUNG_PREFIX for _, family, _ in jobs)
        what = ", ".join(f"{n} {kind}" for n, kind in ((len(jobs) - n_sung, "harmonium"),
                                                        (n_sung, "sung")) if n)
        for _ in map_in_workers(partial(_render_and_save, root=root, seconds=seconds,
                                        seed_of=seed_of), jobs,
                                desc=f"rendering {what} takes of {seconds:.0f} s"):
            pass
    return root


def _render_and_save(job, *, root, seconds, seed_of):
    """Render the ``k``-th synthesised take of ``raga`` in one family and save it
    (atomically) under ``root``; a worker's share of :func:`ensure_recordings`."""
    from .. import synth
    from ..audio import save

    raga, family, k = job
    y = (render_sung_take(raga, seconds, k) if family == SUNG_PREFIX else
         render_take(raga, seconds, seed=seed_of(raga, k)))
    save(root / raga / synth_take_name(k, family), y, sr=synth.SR)


def render_sung_take(raga, seconds, k):
    """The ``k``-th sung training take of ``raga``: a recital on C#, a male voice (C#3) for
    odd ``k``, a female one (C#4) for even (:func:`ragalib.synth.recital.improvised_recital`).

    Behind notebook 04_dataset (not called there by name).
    """
    from ..synth.recital import improvised_recital

    male = k % 2 == 1
    return improvised_recital(raga, seconds, seed=synth_take_seed(raga, k, SUNG_PREFIX),
                              tonic="C#3" if male else "C#4",
                              singer="male" if male else "female")[0]


def render_take(raga, seconds, *, seed, voice="harmonium", session_seed=None, sr=None):
    """One synthesised take: an improvisation with ``seed`` on ``voice``, heard through the
    recording session ``session_seed`` (default ``seed``), at ``sr`` (default the
    synthesiser's rate).

    Behind notebook 04_dataset (not called there by name); :mod:`ragalib.corpus.augment`
    replays a take's score on another voice with it.
    """
    from .. import synth
    from ..synth.session import record

    sr = sr or synth.SR
    return record(synth.improvise(raga, seconds, seed=seed, voice=voice, sr=sr), sr,
                  seed=seed if session_seed is None else session_seed)


def synth_take_name(k, prefix="synth"):
    """The file name of the ``k``-th synthesised take of a raga (this synthesiser version).

    Behind notebook 04_dataset (not called there by name).
    """
    from ..synth import GENERATOR_VERSION

    return f"{prefix}_v{GENERATOR_VERSION}_take{k}.wav"


def synth_take_seed(raga, k, family="synth"):
    """The seed that improvised (and recorded) the ``k``-th synthesised take of ``raga``.

    Behind notebook 04_dataset (not called there by name).
    """
    return zlib.crc32(f"take/{raga}/{k}".encode() if family == "synth" else
                      f"take/{family}/{raga}/{k}".encode())


def is_rendered_take(path):
    """True for a take this library rendered (``synth_``, ``sung_`` or
    ``published_v<N>_take<K>.wav``, of any synthesiser version), False for your own recordings
    beside them.

    Behind notebook 11_real_singing (not called there by name).
    """
    import re

    return re.fullmatch(r"(synth|sung|published)_v\d+_take\d+\.wav", Path(path).name) is not None


def synthesised_take(take):
    """``(raga, seed)`` if ``take`` (``"raga/file.wav"``) is one of this synthesiser's takes,
    so that its score can be played again; None for anything else (your own recordings).

    Taught in notebook 09_robust_features (a take whose augmented copy is re-voiced).
    """
    raga, _, name = take.partition("/")
    k = name.removeprefix(synth_take_name(0).removesuffix("0.wav")).removesuffix(".wav")
    if not k.isdigit() or synth_take_name(int(k)) != name:
        return None
    return raga, synth_take_seed(raga, int(k))
