"""Plots a learner can read: no empty heat map, no labels on top of each other."""

import numpy as np
from matplotlib.figure import Figure

from ragalib.display import plots
from ragalib.features import DEFAULT


def test_an_mfcc_heat_map_of_one_coefficient_has_a_visible_row_and_labels_on_rows():
    for n in (1, 13, 64):
        ax = Figure().add_subplot()
        plots.mfcc_heatmap(np.random.default_rng(0).normal(size=(40, n)), ax=ax)
        mesh = ax.collections[0]
        first = 0 if n == 1 else 1                            # c0 is left out when others exist
        assert mesh.get_array().size == 40 * (n - first)
        assert ax.get_ylim() == (first - 0.5, n - 0.5)        # row i centred on i
        ticks = ax.get_yticks()
        assert ticks[0] == first and np.all(ticks == np.round(ticks)) and len(ticks) <= 16


def test_an_mfcc_heat_map_is_centred_on_zero_and_not_drowned_by_c0():
    M = np.random.default_rng(0).normal(size=(40, 13))
    M[:, 0] = -300.0                                          # c0: the overall level
    ax = Figure().add_subplot()
    plots.mfcc_heatmap(M, ax=ax)
    low, high = ax.collections[0].get_clim()
    assert low == -high and high == np.abs(M[:, 1:]).max()
    ax = Figure().add_subplot()
    plots.mfcc_heatmap(M, ax=ax, limit=10.0)                  # a scale shared with other panels
    assert ax.collections[0].get_clim() == (-10.0, 10.0)


def test_the_mfcc_panels_of_a_feature_grid_share_one_scale():
    rng = np.random.default_rng(0)
    samples = DEFAULT.segment_samples
    fig = plots.feature_grid({"soft": 0.01 * rng.normal(size=samples),
                              "loud": 0.5 * rng.normal(size=samples)}, kinds=("mfcc",),
                             fig=Figure())
    panels = [ax for ax in fig.axes if ax.get_title()]          # not the colour bars
    assert len(panels) == 2 and len({ax.collections[0].get_clim() for ax in panels}) == 1


def test_swara_labels_on_a_spectrogram_never_crowd_each_other():
    ax = Figure(figsize=(11, 4)).add_subplot()
    S = np.full((1 + DEFAULT.n_fft // 2, 100), -80.0)
    marks = {f"s{i}": 277.18 * 2 ** (i / 12) for i in range(13)}    # every semitone of an octave
    plots.spectrogram(S, marks=marks, fmax=4000, ax=ax)
    lines = [line for line in ax.lines if line.get_color() == "cyan"]
    labels = [t for t in ax.texts if t.get_text() in marks]
    assert len(lines) == 13 and 2 <= len(labels) < 13
    for column in {t.get_position()[0] for t in labels}:
        heights = sorted(ax.transData.transform((0, t.get_position()[1]))[1]
                         for t in labels if t.get_position()[0] == column)
        bottom, top = (ax.transData.transform((0, v))[1] for v in ax.get_ylim())
        assert np.all(np.diff(heights) / (top - bottom) >= plots.MIN_LABEL_GAP - 1e-9)


def test_chroma_rows_are_named_as_swaras_of_the_model_sa():
    values = np.zeros((20, 36))
    values[:, 3] = 1.0                        # pitch class C# (3 bins per semitone, bin 0 = C)
    values[:, 3 + 3 * 6] = 1.0                # G: tivra Ma above C#
    ax = Figure().add_subplot()
    plots.chroma(values, ax=ax)
    mesh = ax.collections[0]
    rows = np.flatnonzero(np.asarray(mesh.get_array()).reshape(36, 20)[:, 0])
    names = {round(t, 3): label.get_text()
             for t, label in zip(ax.get_yticks(), ax.get_yticklabels())}
    assert [names[round(r / 3, 3)] for r in rows] == ["S", "M"]
    assert names[0] == "N" and ax.get_ylabel() == "swara (Sa = C#)"


def test_a_reliability_diagram_has_a_bar_per_band_and_the_error_in_its_title():
    confidence = np.array([0.95, 0.95, 0.95, 0.95, 0.55, 0.55])
    correct = np.array([1, 1, 0, 0, 1, 0])          # 0.95 said, half right: overconfident
    ax = plots.reliability(confidence, correct, ax=Figure().add_subplot(), what="songs")
    assert len(ax.patches) == 2 and sorted(p.get_height() for p in ax.patches) == [0.5, 0.5]
    assert "expected calibration error 0.317, 6 songs" in ax.get_title()   # 4/6 x 0.45 + 2/6 x 0.05
