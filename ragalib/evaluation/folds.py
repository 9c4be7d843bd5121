"""What a detector that learns from your recordings would do on the next one:
``python -m ragalib report folder DIR --folds K``.

Taught in notebook 11_real_singing. The protocol of the raga recognition literature (Gulati et
al. 2016: 10-fold by recording on the CompMusic raga dataset): the recordings are dealt into
``K`` folds by recording (every excerpt of a recording on one side of the split), stratified
by raga; the note model learns (:mod:`ragalib.melody.note_learning`) from ``K - 1`` folds and
is judged on the fold left out, beside the grammar alone on the same excerpts. Nothing is
written: no model, no cache, nothing a later ``detect`` could trust.
"""

from dataclasses import dataclass

from ..errors import RagalibError, say


def deal_folds(rows, k):
    """The fold (0 to ``k - 1``) of each row: each raga's recordings, sorted by path, dealt in
    turn into the folds, one raga after another, so that every fold holds its share of each.

    Behind notebook 11_real_singing (not called there by name).

    Raises
    ------
    RagalibError
        In one line: fewer than 2 folds, fewer recordings than folds, recordings of one raga
        only, or one recording (the same bytes) filed twice.
    """
    from ..util.files import file_digest

    if k < 2:
        raise RagalibError(f"--folds {k}: cross-validation needs at least 2 folds")
    if len(rows) < k:
        raise RagalibError(f"{len(rows)} recording(s), fewer than the {k} folds: use --folds "
                           f"{max(2, len(rows))} or fewer" if len(rows) >= 2 else
                           f"{len(rows)} recording: cross-validation needs two or more")
    ragas = sorted({row["raga"] for row in rows})
    if len(ragas) < 2:
        raise RagalibError(f"recordings of one raga only ({ragas[0]}): cross-validation "
                           "needs recordings of two ragas or more")
    seen = {}
    for row in rows:
        digest = file_digest(row["path"])
        if digest in seen:
            other = seen[digest]
            where = (f"filed as {other['raga']} and as {row['raga']}"
                     if other["raga"] != row["raga"] else "filed twice")
            raise RagalibError(f"{other['path']} and {row['path']} are the same recording, "
                               f"{where}: keep one")
        seen[digest] = row
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["raga"], str(rows[i]["path"])))
    folds = [0] * len(rows)
    for n, i in enumerate(order):
        folds[i] = n % k
    return folds


@dataclass
class FoldResult:
    """One judged excerpt: its recording's ``source`` and ``raga``, the ``fold``, and whether
    the grammar alone and the learned model named it right at the Sa found (``grammar``,
    ``learned``) and, where the Sa was given, at that Sa (``grammar_given``,
    ``learned_given``, else None).

    Behind notebook 11_real_singing (not called there by name).
    """

    source: str
    raga: str
    fold: int
    grammar: bool
    learned: bool
    grammar_given: bool | None
    learned_given: bool | None


def cross_validate(rows, k, *, model=None, excerpt=None, report=say):
    """Cross-validate learning from ``rows`` (``path``, ``raga``, ``tonic_hz``: what
    :func:`ragalib.evaluation.folder.read_index` gives) in ``k`` folds.

    Taught in notebook 11_real_singing.

    Returns
    -------
    results : list of FoldResult
    priors : list
        The strength each fold learned with (None: the grammar alone).
    """
    from ..melody.note_learning import EXCERPT_S, learn, recording_notes
    from ..melody.note_model import ensure_note_model
    from ..util.progress import bar

    from .folder import check_excerpt

    check_excerpt(excerpt)
    model = ensure_note_model(own_recordings=False) if model is None else model
    outside = sorted({row["raga"] for row in rows} - set(model.labels))
    if outside:
        raise RagalibError(f"raga(s) not in the catalogue: {', '.join(outside)}")
    folds = deal_folds(rows, k)
    recordings, kept = [], []
    # the bar wraps the pairs, not one side of a zip: zip stops before it asks the bar for
    # the end, and a bar closed short of its total is drawn red
    for row, fold in bar(list(zip(rows, folds)), desc=f"reading {len(rows)} recordings"):
        try:
            recordings.append(recording_notes(row["path"], row["raga"], row["tonic_hz"],
                                              model=model, excerpt=excerpt or EXCERPT_S))
            kept.append(fold)
        except RagalibError as exc:
            report(f"{exc}; left out")
    results, priors = [], []
    for fold in range(k):
        train = [rec for rec, f in zip(recordings, kept) if f != fold]
        learned, prior = learn(model, train)
        priors.append(prior)
        for rec in (rec for rec, f in zip(recordings, kept) if f == fold):
            results += _judged(rec, fold, model, learned)
    return results, priors


def _judged(rec, fold, grammar, learned):
    """The :class:`FoldResult` of each excerpt of one recording left out."""
    out = []
    for part, counts in zip(rec.excerpts, rec.counts):
        by_grammar = _right_of(grammar, rec, part, counts)
        by_learned = by_grammar if learned is grammar else _right_of(learned, rec, part, counts)
        out.append(FoldResult(rec.source, rec.raga, fold, by_grammar[0], by_learned[0],
                              by_grammar[1], by_learned[1]))
    return out


def _right_of(model, rec, part, counts):
    """Whether ``model`` names an excerpt's raga right at the Sa it finds, and (None unless
    the recording's Sa was given) at that Sa."""
    from ..melody.note_learning import named

    try:
        probabilities, _ = model.judge(part.hz, part.hop_s)
        found = max(probabilities, key=probabilities.get) == rec.raga
    except RagalibError:            # holds no note: wrong, as detect would fail on it
        found = False
    given = named(model, counts) == model.labels.index(rec.raga) if rec.sa_given else None
    return found, given


def report_lines(results, priors, k):
    """The text ``report folder --folds`` prints: accuracy with its interval for the grammar
    alone and with the recordings learned, at the Sa found and given, McNemar's test of the
    two, per raga, and what each fold learned with.

    Taught in notebook 11_real_singing.
    """
    from ..util.stats import mcnemar, share
    from ..util.tables import text_table

    if not results:
        raise RagalibError("no recording could be read (see the messages above)")
    sources = {r.source for r in results}
    lines = [f"cross-validation: {k} folds by recording, stratified by raga; "
             f"{len(sources)} recordings, {len(results)} excerpts judged, each by a model "
             "that never heard its recording"]
    rows = []
    for name, label in (("grammar", "the grammar alone"),
                        ("learned", "the grammar + your recordings")):
        row = {"note model": label, "Sa found": share(sum(getattr(r, name) for r in results),
                                                     len(results))}
        given = [getattr(r, name + "_given") for r in results
                 if getattr(r, name + "_given") is not None]
        if given:
            row["Sa given"] = share(sum(given), len(given))
        rows.append(row)
    lines.append(text_table(rows))
    only_grammar, only_learned, p = mcnemar([r.grammar for r in results],
                                            [r.learned for r in results])
    lines.append(f"where they differ (Sa found): the grammar alone right on {only_grammar}, "
                 f"with your recordings on {only_learned} (McNemar's exact test p = {p:.2g}; "
                 "excerpts of one recording are not independent, so read p as a lower bound)")
    per = {}
    for r in results:
        per.setdefault(r.raga, []).append(r)
    lines.append(text_table([{"raga": raga, "recordings": len({r.source for r in rs}),
                              "excerpts": len(rs),
                              "grammar alone": f"{sum(r.grammar for r in rs)}/{len(rs)}",
                              "with recordings": f"{sum(r.learned for r in rs)}/{len(rs)}"}
                             for raga, rs in sorted(per.items())]))
    few = sorted(raga for raga, rs in per.items() if len({r.source for r in rs}) < k)
    if few:
        lines.append(f"fewer recordings than folds ({', '.join(few)}): leave-one-recording-"
                     "out for those; the folds without them learn nothing of them")
    lines.append("learned per fold: " + ", ".join(
        "grammar alone" if prior is None else f"grammar weighted {prior:g} s"
        for prior in priors))
    return lines
