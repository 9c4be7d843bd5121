"""The published figures reproduced: the quoted accuracies beside the measured ones, each with
its interval, and what they say.

Taught in notebook 05_train_cnn (the published setting's data and model are
:mod:`ragalib.corpus.published`'s).
"""

from pathlib import Path

import numpy as np

from ..constants import PUBLISHED_AFTER, PUBLISHED_BEFORE

QUOTED = (
    {"setting": "published (QUOTED from the blog, not measured here)",
     "evaluation": "test segments, random split, before tuning",
     "accuracy": f"{PUBLISHED_BEFORE:.0%} (quoted; number of segments not stated)"},
    {"setting": "published (QUOTED from the blog, not measured here)",
     "evaluation": "test segments, random split, after tuning",
     "accuracy": f"{PUBLISHED_AFTER:.1%} (quoted; number of segments not stated)"},
)
"""The two published figures as table rows (:func:`figure` makes the measured ones)."""


def published_bundle(settings, *, out=None, root=None, cache_dir=None, seconds=None):
    """The published CNN trained on a random split of the published setting's segments
    (:mod:`ragalib.corpus.published`),
    saved as a bundle (``data/published/model``) and reused while its settings and dataset
    are unchanged.

    Taught in notebook 05_train_cnn.

    Returns
    -------
    ragalib.models.bundle.Bundle
        ``metrics``: ``test_accuracy`` and ``test_segments`` (the random split's test
        part), ``val_accuracy``, ``precision``, ``recall``, ``confusion``; ``info`` records the
        dataset key, the split seed and the minutes per take.
    """
    from ..corpus.published import SPLIT_SEED, build, split
    from ..models import cnn
    from ..models.bundle import Bundle, load_bundle, save_bundle
    from ..paths import published_dir

    data = build(root=root, cache_dir=cache_dir, seconds=seconds)
    folder = Path(out or published_dir() / "model")
    info = {"dataset_key": data.key, "split_seed": SPLIT_SEED,
            "trained_on": "random split of the segments of one take per raga",
            "minutes_per_take": float(np.sum(data.take == 0) * data.config.segment_seconds
                                      / 60.0)}
    try:
        found = load_bundle(folder, config=data.config)
        if found.settings == settings and found.info == info:
            return found
    except Exception:   # missing or unreadable: train
        pass
    parts = split(data)
    net, history = cnn.train(data, settings, split=parts)
    x_test, y_test = data.part("test", split=parts)
    report = cnn.evaluate(net, x_test, y_test, data.labels)
    metrics = {"test_accuracy": report.pop("accuracy"), "test_segments": int(len(y_test)),
               "val_accuracy": cnn.evaluate(net, *data.part("val", split=parts),
                                              data.labels)["accuracy"], **report}
    save_bundle(folder, net, labels=data.labels, config=data.config, settings=settings,
                metrics=metrics, history=history, info=info)
    return Bundle(model=net, labels=data.labels, config=data.config, settings=settings,
                  metrics=metrics, history=history, info=info, path=folder)


def song_counts(bundles, pitch_model, rows):
    """Songs right, per bundle, with the default pipeline only (auto tonic, separation):
    ``{name: (right, songs)}``.

    Taught in notebook 05_train_cnn; :func:`ragalib.evaluation.scoring.candidate_song_scores` does the
    work, so every bundle hears the same audio.
    """
    from .candidates import SONG_VARIANTS
    from .scoring import candidate_song_scores

    table, _ = candidate_song_scores(bundles, pitch_model, rows, variants=SONG_VARIANTS[:1])
    found = {row["model"]: row["song accuracy"] for row in table}
    return {name: (round(found[name] * len(rows)), len(rows)) for name in bundles}


def figure(setting, evaluation, k, n, what="segments"):
    """One measured row of the chapter's table: ``k`` right of ``n`` with a 95% interval
    (:func:`ragalib.util.stats.share`).

    Taught in notebook 05_train_cnn.
    """
    from ..util.stats import share

    return {"setting": setting, "evaluation": evaluation, "accuracy": share(k, n, what)}


def confident_mistakes(net, data, split=None, part="test", *, top=3):
    """The ``top`` wrong segments the model was surest of: ``[(take, start seconds, true
    raga, predicted raga, probability), ...]``.

    Taught in notebook 05_train_cnn, to listen to them (:func:`ragalib.corpus.published.segment_audio`).
    """
    from ..models.cnn import predict

    split = data.split if split is None else split
    index = np.flatnonzero(split == part)
    p = predict(net, data.X[index][..., None])
    said, sure = p.argmax(axis=1), p.max(axis=1)
    wrong = np.flatnonzero(said != data.y[index])
    order = wrong[np.argsort(-sure[wrong], kind="stable")][:top]
    return [(data.takes[data.take[index[i]]], float(data.start[index[i]]),
             data.labels[data.y[index[i]]], data.labels[said[i]], float(sure[i]))
            for i in order]


def _where(value, k, n):
    from ..util.stats import wilson_interval

    low, high = wilson_interval(k, n)
    return "inside" if low <= value <= high else ("below" if value < low else "above")


def verdict(published_setting, by_take, on_songs):
    """The chapter's conclusion, from its counts: each argument is ``(right, n)``. Says where
    the two quoted figures fall against the interval of the published setting, whether that
    setting scores clearly (intervals apart) above the split by take, and what it scores on
    songs.

    Taught in notebook 05_train_cnn.
    """
    from ..util.stats import share, wilson_interval

    apart = wilson_interval(*published_setting)[0] > wilson_interval(*by_take)[1]
    return (f"The same untuned network scores {share(*published_setting, 'test segments')} "
            f"in the published setting against {share(*by_take, 'test segments')} with the "
            f"split by take: {'clearly' if apart else 'not clearly'} higher, intervals "
            f"{'apart' if apart else 'overlapping'}. The quoted {PUBLISHED_BEFORE:.0%} (before "
            f"tuning) is {_where(PUBLISHED_BEFORE, *published_setting)} its interval, the "
            f"quoted {PUBLISHED_AFTER:.1%} (after tuning) "
            f"{_where(PUBLISHED_AFTER, *published_setting)} it. On the test songs it gets "
            f"{share(*on_songs, 'songs')}.")
