"""Every figure the notebooks show, with labelled axes and units.

Each function draws on a given matplotlib ``ax`` (or a new one) and returns the ``ax``.
"""

import numpy as np

from .pitch import find_phrase
from .ragas import SEMITONES, get_raga

_SWARA_OF = {v: k for k, v in SEMITONES.items()}


def _new_ax(ax, figsize):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def swara_label(semitones):
    """Sargam label of a pitch relative to middle Sa, e.g. -2 -> ',n', 14 -> "R'"."""
    octave, pc = divmod(semitones, 12)
    return "," * max(0, -octave) + _SWARA_OF[pc] + "'" * max(0, octave)


def sargam_roll(score, *, ax=None, show_pakad=True, title=None):
    """Draw a score as a "sargam roll": swara against time, one bar per note.

    Taught in notebook 00_meet_the_ragas. The y axis carries only the raga's own swaras;
    vadi and samvadi rows are shaded, ornaments are drawn thin, and every place where the
    pakad is played is shaded in the background.

    Parameters
    ----------
    score : ragalib.synth.Score
    show_pakad : bool
        Shade the pakad's occurrences.
    """
    raga = get_raga(score.raga_id)
    ax = _new_ax(ax, (11, 3.6))
    semis = [n.semitones for n in score.notes]
    lo, hi = (min(semis) - 1, max(semis) + 1) if semis else (-1, 13)
    rows = [p for p in range(lo, hi + 1) if p % 12 in raga.pitch_classes]
    strong = {SEMITONES[raga.vadi], SEMITONES[raga.samvadi]}
    for p in rows:
        if p % 12 in strong:
            ax.axhspan(p - 0.5, p + 0.5, color="gold", alpha=0.15, lw=0)
    if show_pakad:
        spans = score.melody_spans()
        line = [p for p, _, _ in spans]
        target = [n.semitones for n in raga.pakad_notes]
        merged = [p for i, p in enumerate(target) if i == 0 or target[i - 1] != p]
        for k, i in enumerate(find_phrase(line, target)):
            ax.axvspan(spans[i][1], spans[i + len(merged) - 1][2], color="tab:green",
                       alpha=0.12, lw=0, label="pakad" if k == 0 else None)
    for note in score.notes:
        ax.barh(note.semitones, note.duration, left=note.start,
                height=0.3 if note.ornament else 0.75,
                color="tab:gray" if note.ornament else "tab:blue", edgecolor="none")
    ax.set_yticks(rows, [swara_label(p) for p in rows])
    ax.set_ylim(lo - 0.5, hi + 0.5)
    ax.set_xlim(0, score.seconds)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("swara")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title or f"{raga.name}: sargam roll (vadi/samvadi rows shaded)")
    if show_pakad and ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper right")
    return ax
