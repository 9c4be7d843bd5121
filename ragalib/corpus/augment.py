"""More training examples from the same takes: data augmentation for the CNN.

Taught in notebook 09_robust_features. A model trained on one harmonium in one tuning, at
a few recording levels, can learn those accidents along with the raga. Each augmented copy
of a training take changes what should not matter and keeps what should (the notes, their
order, the raga):

* its tuning, by up to ``Ranges.cents`` cents: a harmonium a little sharp or flat
  (resampled, so the notes move together, as a retuned instrument would);
* its level, by up to ``Ranges.gain_db`` dB;
* its noise floor: white noise at a signal-to-noise ratio within ``Ranges.snr_db``;
* its timbre: a synthesised take is played again from its own score on a *varied voice*, a
  reed instrument drawn at random around the harmonium (brighter or darker, other formant,
  with or without the second reed, some vibrato or breath), and heard through a new
  recording session. The instruments of the test songs are never used. Your own recordings
  have no score, so they get the first three changes only.

Only takes of the training split are augmented; validation and test takes stay untouched, so
the figures measure recognition of real (unaugmented) takes.
"""

import zlib
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from ..constants import SR
from ..errors import RagalibError

VERSION = 2
"""Part of the cache key: bump it when an augmented copy is made differently."""
TAG = "~augmented"
"""Marks an augmented copy's take name: ``"yaman/synth_v1_take1.wav~augmented2"``."""


@dataclass(frozen=True)
class Ranges:
    """How far an augmented copy may move from its take; part of the cache key.

    Behind notebook 09_robust_features (not called there by name).
    """

    cents: float = 30.0                 # detuning, either way
    gain_db: float = 6.0                # level, either way
    snr_db: tuple = (20.0, 40.0)        # added white noise, below the music


RANGES = Ranges()


@dataclass(frozen=True)
class Change:
    """What one augmented copy of a take does.

    Behind notebook 09_robust_features (not called there by name).
    """

    cents: float
    gain_db: float
    snr_db: float
    voice: object          # a ragalib.synth.Voice, or None to keep the recording's sound
    seed: int              # noise, and the recording session of a re-rendered take


def varied_voice(rng):
    """A reed instrument drawn around the harmonium (see the module docstring).

    Behind notebook 09_robust_features (not called there by name).
    """
    from ..synth.voices import HARMONIUM

    return replace(
        HARMONIUM, name="varied reed", slope=rng.uniform(0.5, 1.6),
        formants=((float(np.exp(rng.uniform(np.log(500), np.log(3000)))),
                   rng.uniform(300, 1200), rng.uniform(0.0, 2.0)),),
        max_hz=rng.uniform(5000, 9000), musette_cents=rng.uniform(2.0, 8.0),
        musette_gain=float(rng.choice([0.0, rng.uniform(0.2, 0.5)])),
        attack=rng.uniform(0.01, 0.06), release=rng.uniform(0.04, 0.1),
        breath=float(rng.choice([0.0, rng.uniform(0.005, 0.03)])),
        vibrato_cents=float(rng.choice([0.0, rng.uniform(3.0, 12.0)])),
        pumping=rng.uniform(0.02, 0.12))


def draw_change(take, copy, *, seed=0, timbre=True, ranges=RANGES):
    """The change made to augmented copy number ``copy`` of ``take``, within ``ranges``: the
    same arguments always give the same change.

    Behind notebook 09_robust_features (not called there by name).
    """
    from .takes import synthesised_take

    rng = np.random.default_rng(zlib.crc32(f"augment/{take}/{copy}/{seed}".encode()))
    cents = rng.uniform(-ranges.cents, ranges.cents)
    gain_db = rng.uniform(-ranges.gain_db, ranges.gain_db)
    snr_db = rng.uniform(*ranges.snr_db)
    voice = varied_voice(rng) if timbre and synthesised_take(take) is not None else None
    return Change(cents=float(cents), gain_db=float(gain_db), snr_db=float(snr_db),
                  voice=voice, seed=int(rng.integers(2 ** 31)))


def describe(change):
    """One line that says what a :class:`Change` does, for a notebook or a log.

    Taught in notebook 09_robust_features.
    """
    voice = "the recording's own sound" if change.voice is None else (
        f"a varied reed (slope {change.voice.slope:.2f}, formant "
        f"{change.voice.formants[0][0]:.0f} Hz, second reed "
        f"{'on' if change.voice.musette_gain else 'off'}, vibrato "
        f"{change.voice.vibrato_cents:.0f} cents) in a new recording session")
    return (f"{change.cents:+.1f} cents, {change.gain_db:+.1f} dB, noise at "
            f"{change.snr_db:.0f} dB SNR, {voice}")


def detune(y, cents, *, sr):
    """``y`` played ``cents`` sharp (flat if negative), by resampling: every note moves
    together, and the take becomes that much shorter (longer).

    Behind notebook 09_robust_features (not called there by name).
    """
    import librosa

    if cents == 0:
        return np.asarray(y, dtype=np.float32)
    ratio = 2.0 ** (cents / 1200.0)
    return librosa.resample(np.asarray(y, dtype=np.float32), orig_sr=sr, target_sr=sr / ratio,
                            res_type="soxr_hq").astype(np.float32)


def apply_change(y, change, *, sr):
    """Detune, change the level and add noise (the voice is applied by re-rendering, see
    :func:`augmented_audio`).

    Behind notebook 09_robust_features (not called there by name).

    The level changes by exactly ``change.gain_db``, so a copy may peak above full scale: it
    is only analysed, never written to a file (scaling it back down would quietly undo most
    of the louder copies)."""
    y = detune(y, change.cents, sr=sr) * 10.0 ** (change.gain_db / 20.0)
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    noise = np.random.default_rng(change.seed).standard_normal(len(y))
    return (y + rms * 10.0 ** (-change.snr_db / 20.0) * noise).astype(np.float32)


def augmented_audio(take, change, *, root, sr):
    """The audio of one augmented copy of ``take`` (``"raga/file.wav"`` under ``root``).

    Behind notebook 09_robust_features (not called there by name).
    """
    import soundfile

    from ..audio import load
    from .takes import synthesised_take

    path = Path(root) / take
    source = synthesised_take(take)
    if change.voice is not None and source is not None:
        from .takes import render_take

        raga, take_seed = source
        try:
            seconds = soundfile.info(path).duration
        except Exception as exc:
            raise RagalibError(f"{path}: cannot read the take to augment ({exc})") from None
        y = render_take(raga, seconds, seed=take_seed, voice=change.voice,
                        session_seed=change.seed, sr=sr)
    else:
        y = load(path, sr=sr)
    return apply_change(y, change, sr=sr)


def example(take, copy=1, *, seconds=5.0, seed=0, timbre=True, ranges=RANGES, root=None,
            sr=SR):
    """The first ``seconds`` of a take and of one augmented copy of it, for listening.

    Taught in notebook 09_robust_features.

    Returns
    -------
    change : Change
    original, augmented_copy : np.ndarray
        Mono signals at ``sr``.
    """
    from ..audio import load
    from .dataset import recordings_dir

    root = Path(root or recordings_dir())
    change = draw_change(take, copy, seed=seed, timbre=timbre, ranges=ranges)
    n = int(round(seconds * sr))
    return (change, load(root / take, sr=sr)[:n],
            augmented_audio(take, change, root=root, sr=sr)[:n])


def _copy_features(job, *, root, config, seed, timbre, ranges=RANGES):
    """The features of one augmented copy; none if retuning left it shorter than a segment
    (a take only just long enough, played sharp)."""
    from ..audio import segments
    from ..features import extract

    take, copy = job
    y = augmented_audio(take, draw_change(take, copy, seed=seed, timbre=timbre, ranges=ranges),
                        root=root, sr=config.sr)
    if len(y) < config.segment_samples:
        return np.zeros((0, config.segment_frames, config.n_features), np.float32)
    return extract(segments(y, config=config, source=take), config=config)


def augmented_key(dataset, copies, *, seed=0, timbre=True, ranges=RANGES, root=None):
    """What an augmented training set depends on: the dataset, the recordings folder, every
    argument of :func:`augmented` and :data:`VERSION`.

    Behind notebook 09_robust_features (not called there by name).
    """
    from ..paths import content_key
    from ..synth import GENERATOR_VERSION
    from .dataset import recordings_dir

    where = Path(root or recordings_dir()).resolve()
    return content_key("augment", VERSION, GENERATOR_VERSION, dataset.key, str(where), copies,
                       seed, timbre, ranges)


def augmented(dataset, copies, *, seed=0, timbre=True, ranges=RANGES, root=None,
              cache_dir=None, workers=None):
    """``dataset`` with ``copies`` augmented copies of every training take added to its
    training split.

    Taught in notebook 09_robust_features. The copies are computed in worker processes (see
    :mod:`ragalib.util.parallel`) and cached beside the dataset, keyed by its key and by every
    argument here; the validation and test takes are left as they are.

    Returns
    -------
    ragalib.corpus.dataset.Dataset
    """
    from ..util.parallel import map_in_workers
    from . import dataset as datasets
    from .dataset import Dataset

    if copies < 0:
        raise RagalibError(f"augmented copies must be 0 or more, not {copies}")
    if copies == 0:
        return dataset
    config = dataset.config
    root = Path(root or datasets.recordings_dir())
    key = augmented_key(dataset, copies, seed=seed, timbre=timbre, ranges=ranges, root=root)
    plain = datasets.cache_paths(config, cache_dir)[0]
    npz_path = plain.with_name(f"{plain.stem}-augmented-{key[:12]}.npz")
    cached = datasets.load_cache(npz_path, key)
    if cached is not None:
        return cached
    roles = dataset.take_roles()
    jobs = [(take, copy) for take in dataset.takes if roles.get(take) == "train"
            for copy in range(1, copies + 1)]
    features = list(map_in_workers(partial(_copy_features, root=root, config=config, seed=seed,
                                           timbre=timbre, ranges=ranges), jobs, workers=workers,
                                   desc="augmenting takes"))
    kept = [(job, f) for job, f in zip(jobs, features) if len(f)]   # too short: no copy
    jobs, features = [job for job, _ in kept], [f for _, f in kept]
    labels = dataset.labels
    sizes = [len(f) for f in features]
    out = Dataset(
        X=np.concatenate([dataset.X, *features]),
        y=np.concatenate([dataset.y, np.repeat([labels.index(t.split("/")[0]) for t, _ in jobs],
                                               sizes)]).astype(np.int64),
        labels=labels,
        take=np.concatenate([dataset.take, np.repeat(len(dataset.takes) + np.arange(len(jobs)),
                                                     sizes)]).astype(np.int64),
        takes=list(dataset.takes) + [f"{t}{TAG}{c}" for t, c in jobs],
        split=np.concatenate([dataset.split, np.full(sum(sizes), "train")]).astype(str),
        start=np.concatenate([dataset.start, *[np.arange(n) * config.segment_seconds
                                               for n in sizes]]),
        config=config, key=key)
    datasets.save_cache(out, npz_path)
    for old in plain.parent.glob(f"{plain.stem}-augmented-*.npz"):   # other settings' copies
        if old != npz_path:
            old.unlink(missing_ok=True)
    return out
