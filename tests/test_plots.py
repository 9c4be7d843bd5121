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
        assert mesh.get_array().size == 40 * n
        assert ax.get_ylim() == (-0.5, n - 0.5)               # row i centred on i
        ticks = ax.get_yticks()
        assert ticks[0] == 0 and np.all(ticks == np.round(ticks)) and len(ticks) <= 16


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
