"""How sure a share is: counts with a 95% interval, for every accuracy the chapters state.

Taught in notebooks 05_train_cnn, 07_song_detection and 09_robust_features. On 60 songs one
song is 1.7%, so a difference of two or three songs between two detectors is well inside the
noise; the interval makes that visible.
"""

from scipy.stats import binomtest


def wilson_interval(k, n, confidence=0.95):
    """The Wilson score interval of the share ``k / n`` (``scipy.stats.binomtest``).

    Taught in notebook 05_train_cnn.

    Examples
    --------
    >>> low, high = wilson_interval(57, 60)
    >>> round(low, 3), round(high, 3)
    (0.863, 0.983)
    """
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"a share needs 0 <= k <= n and n >= 1, got {k} of {n}")
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def share(k, n, what=""):
    """``k/n`` with its percentage and 95% Wilson interval, as a sentence fragment.

    Taught in notebooks 05_train_cnn, 07_song_detection and 09_robust_features.

    Examples
    --------
    >>> share(57, 60, "songs")
    '57/60 songs (95%; 95% interval 86-98%)'
    """
    low, high = wilson_interval(k, n)
    noun = f" {what}" if what else ""
    return f"{k}/{n}{noun} ({k / n:.0%}; 95% interval {100 * low:.0f}-{100 * high:.0f}%)"


def share_of(accuracy, n, what=""):
    """:func:`share` of an ``accuracy`` measured over ``n`` items.

    Taught in notebooks 07_song_detection and 09_robust_features.
    """
    return share(count(accuracy, n), n, what)


def count(accuracy, n):
    """The number of right answers an ``accuracy`` over ``n`` items stands for.

    Taught in notebooks 05_train_cnn and 09_robust_features.
    """
    k = round(accuracy * n)
    if abs(k - accuracy * n) > 1e-6 * n:
        raise ValueError(f"{accuracy} of {n} is not a whole number of items")
    return k


def reliability(confidence, correct, bins=10):
    """How far a detector's confidence is from how often it is right: the expected
    calibration error and the reliability table behind it.

    Behind notebook 11_real_singing (not called there by name); ``report folder`` prints it.

    Confidences are put in ``bins`` equal bins over [0, 1]; the error is the mean, weighted
    by how many answers each bin holds, of |accuracy - mean confidence| (Guo et al. 2017).

    Returns
    -------
    ece : float
    rows : list of dict
        ``{"confidence": "0.9-1.0", "answers": n, "mean confidence": c, "accuracy": a}``
        for each bin that holds an answer.
    """
    import numpy as np

    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if not len(confidence) or confidence.shape != correct.shape:
        raise ValueError("reliability needs one correctness per confidence, and at least one")
    which = np.clip((confidence * bins).astype(int), 0, bins - 1)
    ece, rows = 0.0, []
    for b in range(bins):
        inside = which == b
        if not inside.any():
            continue
        mean, accuracy = confidence[inside].mean(), correct[inside].mean()
        ece += inside.mean() * abs(accuracy - mean)
        rows.append({"confidence": f"{b / bins:.1f}-{(b + 1) / bins:.1f}",
                     "answers": int(inside.sum()), "mean confidence": round(float(mean), 3),
                     "accuracy": round(float(accuracy), 3)})
    return float(ece), rows


def mcnemar(first, second):
    """McNemar's exact test of two judges on the same items: ``(only first right, only
    second right, p)``, p two-sided from the binomial test on the items where they disagree
    (``scipy.stats.binomtest``); 1.0 when they never disagree.

    Behind notebooks 06_tuning and 11_real_singing (not called there by name). Two intervals
    that overlap say little when both judges answered the same items: what counts is how
    often one is right where the other is wrong.

    Examples
    --------
    >>> mcnemar([True, True, False, True], [True, False, False, False])
    (2, 0, 0.5)
    """
    only_first = sum(bool(a) and not bool(b) for a, b in zip(first, second, strict=True))
    only_second = sum(bool(b) and not bool(a) for a, b in zip(first, second, strict=True))
    if only_first + only_second == 0:
        return 0, 0, 1.0
    return only_first, only_second, float(binomtest(only_first, only_first + only_second).pvalue)
