"""Does the synthesiser play in tune and in the raga? Measured on the rendered audio.

Taught in notebook 00_meet_the_ragas; ``python -m ragalib report synth`` prints it for all ten
ragas.
"""

import numpy as np

from ..constants import OUTPUT_PEAK
from ..melody.pitch import contains_phrase, note_errors, pitch_class_energy
from ..ragas import SEMITONES, get_raga
from . import SR, improvise

MIN_SWARA_SHARE = 0.002
"""A swara "occurs" when it carries at least this share of the melody's energy."""


def assess(raga_id, seconds=60.0, *, seed=0, sr=SR):
    """Render an improvisation and measure it.

    Taught in notebook 00_meet_the_ragas.

    Returns
    -------
    dict
        ``notes`` measured, ``max_cents`` and ``median_cents`` (absolute pitch error of held
        notes), ``in_raga`` (share of pitch-class energy on the raga's swaras),
        ``swara_share`` (per swara), ``missing`` (swaras below :data:`MIN_SWARA_SHARE`),
        ``pakad`` (whether the catch phrase is played).
    """
    raga = get_raga(raga_id)
    y, score = improvise(raga.id, seconds, seed=seed, sr=sr, return_score=True)
    errors = np.abs(note_errors(y, score, sr=sr))
    share = pitch_class_energy(y, score.tonic_hz, sr=sr)
    swara_share = {s: float(share[SEMITONES[s]]) for s in raga.swaras}
    return {
        "raga": raga.id, "seed": seed, "seconds": seconds,
        "notes": len(errors),
        "max_cents": float(errors.max()) if len(errors) else float("nan"),
        "median_cents": float(np.median(errors)) if len(errors) else float("nan"),
        "in_raga": float(share[list(raga.pitch_classes)].sum()),
        "swara_share": swara_share,
        "missing": [s for s, v in swara_share.items() if v < MIN_SWARA_SHARE],
        "pakad": contains_phrase(score.melody(), [n.semitones for n in raga.pakad_notes]),
    }


def assess_singer(raga_id, seconds=60.0, *, seed=0, singer="male", sr=SR):
    """Sing an improvisation (no accompaniment) and measure it as :func:`assess` measures the
    harmonium, with the ornaments counted.

    Behind notebook 00_meet_the_ragas (not called there by name).

    A voice glides and swings, so its notes are not steady enough for a per-note peak: its
    tuning is measured frame by frame instead, YIN's pitch against the contour the singer was
    given (where both are voiced).

    Returns
    -------
    dict
        ``in_tune`` (share of voiced frames within 50 cents of the contour), ``median_cents``,
        ``in_raga``, ``swara_share``, ``missing``, ``pakad`` as in :func:`assess`, and
        ``ornaments`` (``meend``, ``andolan``, ``kan``, ``gamak`` counts).
    """
    from ..melody.pitch import cents, f0_track
    from ..ragas import tonic_hz
    from .improviser import improvise_score
    from .singer import sing

    raga = get_raga(raga_id)
    sa = tonic_hz("C#3" if singer == "male" else "C#4")
    score = improvise_score(raga.id, seconds, tonic=sa, seed=seed, sung=True)
    y, sung = sing(score, singer=singer, sr=sr, seed=seed)
    y = (OUTPUT_PEAK * y / max(np.max(np.abs(y)), 1e-9)).astype(np.float32)
    f0, rms = f0_track(y, sr=sr)
    times = np.arange(len(f0)) * 256 / sr
    truth = np.interp(times, sung.times, sung.hz)   # NaN spreads to the frames around a rest
    both = np.isfinite(truth) & (rms > 0.05 * rms.max())
    error = np.abs(cents(f0[both], truth[both]))
    share = pitch_class_energy(y, sa, sr=sr)
    swara_share = {s: float(share[SEMITONES[s]]) for s in raga.swaras}
    return {
        "raga": raga.id, "seed": seed, "singer": singer, "seconds": seconds,
        "in_tune": float(np.mean(error < 50)), "median_cents": float(np.median(error)),
        "in_raga": float(share[list(raga.pitch_classes)].sum()),
        "swara_share": swara_share,
        "missing": [s for s, v in swara_share.items() if v < MIN_SWARA_SHARE],
        "pakad": contains_phrase(score.melody(), [n.semitones for n in raga.pakad_notes]),
        "ornaments": dict(sung.ornaments),
    }
