"""The sentences chapter 09 says about its results, each computed from the table and checked.

Taught in notebook 09_robust_features. A markdown cell cannot compute, so the chapter prints
these sentences under its table: every figure in them is a count with its 95% interval
(:mod:`ragalib.util.stats`), and each comes with whether it holds on this run, so a sentence can
never outlive the result it describes. "Within one song" and "at most three songs" are the
resolution of 60 songs (one song is 1.7%; a 95% interval is about +-8%), not thresholds read
off a run.
"""

from ..util.stats import count, share, wilson_interval
from .candidates import AUGMENT_COPIES, PCD, SONG_VARIANTS, Candidate
from .scoring import most_confused

CHANCE = 0.1
"""Ten ragas: a guess is right one time in ten."""


def song_claims(table, n, cnns=(Candidate("melody").name,
                                Candidate("melody", AUGMENT_COPIES).name), published="mfcc"):
    """``[(sentence, holds), ...]`` about the song columns of :func:`ragalib.evaluation.scoring.candidate_song_scores`.

    Taught in notebook 09_robust_features.

    Parameters
    ----------
    table : list of dict
        Rows with ``model``, ``pipeline`` and ``song accuracy``.
    n : int
        The number of songs each accuracy was measured on.
    cnns : tuple of str
        The pitch-aware CNNs the sentences are about.
    published : str
        The published MFCC model's name in the table.
    """
    auto, flat, given = SONG_VARIANTS
    right = {(r["model"], r["pipeline"]): count(r["song accuracy"], n) for r in table}

    def said(model, pipeline=auto):
        return share(right[model, pipeline], n, "songs")

    def hybrid(cnn):
        return Candidate.named(cnn).hybrid.name

    low, high = wilson_interval(right[published, auto], n)
    claims = [(f"The published {published.upper()} model is at chance on the songs: "
               f"{said(published)}, an interval that contains the 10% of a guess.",
               low <= CHANCE <= high)]
    for cnn in cnns:
        claims += [
            (f"{cnn}: without the transposition {said(cnn, flat)}, against {said(cnn)} with it: "
             f"less than half.", right[cnn, flat] < 0.5 * right[cnn, auto]),
            (f"{cnn}: given the true Sa {said(cnn, given)}, against {said(cnn)} with the "
             f"estimate: at most three songs more.", right[cnn, given] - right[cnn, auto] <= 3),
            (f"{hybrid(cnn)}: {said(hybrid(cnn))}, as good as the baseline alone "
             f"({said(PCD)}) within one song.", right[hybrid(cnn), auto] >= right[PCD, auto] - 1)]
    best_cnn = max((published, *cnns), key=lambda c: right[c, auto])
    claims += [
        (f"The baseline ({PCD}) scores {said(PCD)}; no CNN alone scores more (the best, "
         f"{best_cnn}, {said(best_cnn)}).", right[PCD, auto] >= right[best_cnn, auto]),
        (f"The baseline needs no transposition: {said(PCD, flat)} without it, within one song "
         f"of {said(PCD)}.", right[PCD, flat] >= right[PCD, auto] - 1),
        (f"A weak CNN drags the product down: {hybrid(published)} {said(hybrid(published))}, "
         f"below the baseline alone.", right[hybrid(published), auto] < right[PCD, auto])]
    return claims


def confusion_lines(rows, answers, models):
    """For each model, how many songs it gets wrong and its most frequent confusions, with
    the swaras each confused pair shares and the degrees in which it differs.

    Taught in notebook 09_robust_features.

    Parameters
    ----------
    rows : list of dict
        The songs (``raga`` is the truth).
    answers : dict
        ``(model, pipeline)`` -> detected ragas, as :func:`ragalib.evaluation.scoring.candidate_song_scores` returns.
    models : iterable of str
    """
    from ..ragas import differing_degrees

    lines = []
    for model in dict.fromkeys(models):
        said = answers[model, SONG_VARIANTS[0]]
        wrong = sum(a != row["raga"] for a, row in zip(said, rows))
        lines.append(f"{model}: {wrong} of {len(rows)} songs wrong"
                     + ("; the most frequent confusions:" if wrong else ""))
        for true, other, k, shared in most_confused(rows, said):
            lines.append(f"   {true} heard as {other} ({k}x); they share {len(shared)} swaras "
                         f"({' '.join(shared)}) and differ in "
                         f"{', '.join(differing_degrees(true, other)) or 'no degree'}")
    return lines
