"""The widgets draw complete plots without pyplot, and their controls keep their promises."""

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from ragalib import synth
from ragalib.display import widgets

SR = synth.SR


def images(box):
    """Every ``ipywidgets.Image`` inside a widget tree."""
    import ipywidgets as w

    found = []

    def walk(node):
        if isinstance(node, w.Image):
            found.append(node)
        for child in getattr(node, "children", ()):
            walk(child)

    walk(box)
    return found


def assert_complete(png, width):
    """A decodable PNG of the expected width, opaque, with more than one colour (a frame and
    ticks, not a blank)."""
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG" and picture.size[0] == width
    pixels = np.asarray(picture.convert("RGBA"))
    assert pixels[..., 3].min() == 255                      # nothing transparent
    dark = (pixels[..., :3].mean(axis=-1) < 100).mean()     # axes, ticks, labels, data
    assert 0.002 < dark < 0.9


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == []        # no widget draws through pyplot
    plt.close("all")


def test_the_raga_explorer_redraws_completely_as_it_is_moved():
    box = widgets.raga_explorer(seconds=3.0)
    [image] = images(box)
    assert_complete(image.value, 1100)
    first = image.value
    raga, seed, drone = box.children[0].children
    for value in ("bhairavi", "todi", "yaman"):
        raga.value = value
        assert_complete(image.value, 1100)
    seed.value = 3
    assert image.value != first


def test_the_stft_explorer_never_offers_a_hop_longer_than_its_window():
    y = synth.improvise("yaman", 4.0, seed=1)
    box = widgets.stft_explorer(y, sr=SR)
    n_fft, hop = box.children[0].children
    [image] = images(box)
    hop.value = 2048
    n_fft.value = 256
    assert max(hop.options) == 256 and hop.value == 256
    assert "hop 12 ms" in box.children[1].value              # 256 samples at 22050 Hz
    assert_complete(image.value, 1100)
    n_fft.value = 8192
    assert max(hop.options) == 2048 and hop.value == 256
    assert widgets.hop_choices(512) == [128, 256, 512]


def test_the_mfcc_and_instrument_explorers_draw_complete_plots():
    y = synth.improvise("yaman", 5.0, seed=1)
    box = widgets.mfcc_explorer(y, sr=SR)
    [image] = images(box)
    for n in (1, 13, 64):
        box.children[0].value = n
        assert_complete(image.value, 1100)
    box = widgets.instrument_explorer(seconds=5.0)
    [image] = images(box)
    assert_complete(image.value, 1590)


def test_the_waveform_zoom_starts_on_a_visible_window_and_never_collapses():
    y = synth.improvise("yaman", 10.0, seed=1)
    box = widgets.waveform_zoom(y, sr=SR)
    start, end = box.children[0].value
    assert end - start == pytest.approx(1.0)
    box.children[0].value = (5.02, 5.02)
    assert_complete(images(box)[0].value, 1100)
    assert widgets.zoom_window(5.02, 5.02, 10.0) == pytest.approx((5.02, 5.025))
    assert widgets.zoom_window(9.999, 10.0, 10.0) == pytest.approx((9.995, 10.0))
