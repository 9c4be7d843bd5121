import pytest

from ragalib.util import stats


def test_the_wilson_interval_matches_the_textbook_formula():
    k, n, z = 57, 60, 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5
    low, high = stats.wilson_interval(k, n)
    assert low == pytest.approx(centre - half, abs=1e-9)
    assert high == pytest.approx(centre + half, abs=1e-9)


def test_two_songs_apart_on_sixty_overlap_and_the_edges_stay_inside_zero_and_one():
    assert stats.wilson_interval(55, 60)[0] < 53 / 60 < stats.wilson_interval(55, 60)[1]
    assert stats.wilson_interval(0, 60)[0] == 0 and stats.wilson_interval(60, 60)[1] == 1
    assert stats.share(57, 60, "songs") == "57/60 songs (95%; 95% interval 86-98%)"


def test_a_share_refuses_impossible_counts_and_count_recovers_whole_items():
    with pytest.raises(ValueError, match="0 <= k <= n"):
        stats.wilson_interval(61, 60)
    assert stats.count(57 / 60, 60) == 57
    with pytest.raises(ValueError, match="not a whole number"):
        stats.count(0.5, 61)
