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


def test_a_sargam_roll_names_every_mark_in_its_legend_and_says_when_the_pakad_is_missing():
    from ragalib import synth

    score = synth.improvise_score("yaman", 90.0, seed=2)
    ax = plots.sargam_roll(score, ax=Figure().add_subplot())
    labels = ax.get_legend_handles_labels()[1]
    assert {"vadi and samvadi", "note", "pakad"} <= set(labels)
    assert "not played" not in ax.get_title()
    short = synth.improvise_score("yaman", 3.0, seed=2)              # too short for the pakad
    ax = plots.sargam_roll(short, ax=Figure().add_subplot(), title="Yaman")
    assert ax.get_title() == "Yaman (the pakad is not played in full here)"


def test_an_embedding_map_says_how_much_of_the_variance_each_axis_holds():
    rng = np.random.default_rng(0)
    points = np.c_[3 * rng.normal(size=40), rng.normal(size=40), 0.1 * rng.normal(size=40)]
    ax = plots.embedding_map(points, ["yaman"] * 20 + ["kafi"] * 20, ["flute"] * 40,
                             ax=Figure().add_subplot())
    first = int(ax.get_xlabel().split("(")[1].split("%")[0])
    second = int(ax.get_ylabel().split("(")[1].split("%")[0])
    assert first > second > 0 and first + second <= 100


def test_figures_keep_one_size_after_music21_spells_a_note_in_a_notebook():
    import base64
    import struct

    import nbformat
    from nbclient import NotebookClient

    figure = "plt.figure(figsize=(4, 2)); plt.plot([0, 1]); plt.show()\n"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import time\nimport matplotlib.pyplot as plt\nfrom ragalib import ragas\n" + figure
        + "print(ragas.swara_pitch('G'))\ntime.sleep(1.5)\n" + figure)])   # music21's timer: 1 s
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    widths = [struct.unpack(">I", base64.b64decode(o["data"]["image/png"])[16:20])[0]
              for o in nb.cells[0].outputs if "image/png" in o.get("data", {})]
    assert len(widths) == 2 and widths[0] == widths[1]


def test_a_waveform_zoomed_to_a_few_periods_reads_in_milliseconds_from_its_start():
    y = np.sin(2 * np.pi * 277.18 * np.arange(22050) / 22050)
    ax = plots.waveform(y, sr=22050, start=0.5, end=0.5 + 4 / 277.18, show_samples=True,
                        ax=Figure().add_subplot())
    assert ax.get_xlabel() == "time (ms from 0.500 s)" and ax.get_xlim()[0] == 0
    assert abs(ax.get_xlim()[1] - 4000 / 277.18) < 0.1
    assert plots.waveform(y, sr=22050, ax=Figure().add_subplot()).get_xlabel() == "time (s)"


def test_the_learning_rate_panel_has_a_few_plain_ticks():
    rows = [{"trial": i, "proposed_by": "random", "val_accuracy": 0.1 + i / 100,
             "learning_rate": lr, "batch_size": 32, "filters": 32, "kernel": 3, "dense": 64,
             "dropout": 0.0, "batch_norm": False, "normalize": False}
            for i, lr in enumerate((1.4e-4, 5e-4, 2.1e-3))]
    fig = Figure(figsize=(12, 5))
    axes = fig.subplots(2, 4).ravel()
    plots.trials_scatter(rows, axes=axes)
    labels = [t.get_text() for t in axes[0].get_xticklabels()]
    assert 2 <= len(labels) <= 5 and "0.001" in labels


def test_the_hann_window_leaks_far_less_than_the_rectangular_one():
    ax = plots.window_leakage(ax=Figure().add_subplot())
    rectangular, hann = (line.get_ydata() for line in ax.lines[:2])
    far = slice(0, 10)                                     # 15-24 bins below the tone
    assert np.max(hann[far]) < np.max(rectangular[far]) - 30
