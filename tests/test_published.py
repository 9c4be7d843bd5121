import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
import soundfile

from ragalib import ragas, synth
from ragalib.corpus import published
from ragalib.corpus.takes import synth_take_seed
from ragalib.evaluation import reproduction
from ragalib.features import FeatureConfig
from ragalib.models import cnn
from ragalib.models.bundle import BUNDLE_JSON
from ragalib.ragas import raga_ids

SHORT = FeatureConfig(segment_seconds=2.0)


def test_take_seeds_are_not_chapter_04s_and_differ_per_raga():
    seeds = [published.take_seed(r) for r in raga_ids()]
    theirs = {synth_take_seed(r, k) for r in raga_ids() for k in range(1, 51)}
    assert len(set(seeds)) == len(seeds) and not set(seeds) & theirs


def test_recordings_render_one_take_per_raga_and_are_kept(tmp_path):
    root = published.ensure_recordings(tmp_path / "rec", seconds=1.0)
    files = sorted(root.glob("*/*.wav"))
    assert [f.parent.name for f in files] == raga_ids()
    assert all(soundfile.info(f).frames == synth.SR for f in files)
    stale = root / "yaman" / "published_v0_take1.wav"
    stale.write_bytes(b"")
    before = files[0].stat().st_mtime_ns
    published.ensure_recordings(root, seconds=1.0)
    assert not stale.exists() and files[0].stat().st_mtime_ns == before
    published.ensure_recordings(root, seconds=2.0)   # another length: rerendered
    assert soundfile.info(files[0]).frames == 2 * synth.SR


def test_each_take_has_its_own_session():
    from ragalib.synth.session import Session

    sessions = {Session.draw(published.take_seed(r)) for r in raga_ids()}
    assert len(sessions) == len(raga_ids())


def test_siblings_in_training():
    data = type("D", (), {})()
    data.take = np.array([0, 0, 1, 1])
    assert published.siblings_in_training(data, np.array(["train", "test", "train", "test"])) == 1
    assert published.siblings_in_training(data, np.array(["train", "train", "test", "test"])) == 0


def test_differing_degrees_and_closest_pairs():
    assert ragas.differing_degrees("yaman", "kafi") == ["Ga", "Ma", "Ni"]
    assert ragas.differing_degrees("kafi", "darbari") == ["Dha"]
    assert ragas.differing_degrees("khamaj", "kafi") == ["Ga", "Ni"]   # Khamaj has n and N
    pairs = ragas.closest_pairs()
    assert ("darbari", "kafi", ["Dha"]) in pairs and all(len(d) == 1 for _, _, d in pairs)


def test_figure_and_quoted_rows():
    row = reproduction.figure("s", "e", 57, 60, "songs")
    assert row["accuracy"] == "57/60 songs (95%; 95% interval 86-98%)"
    assert all("QUOTED" in r["setting"] for r in reproduction.QUOTED)


@pytest.mark.parametrize("shape", [(216, 13, 1), (87, 13, 1), (5, 3, 1)])
def test_layer_table_matches_the_formula(shape):
    net = cnn.build_model(shape, 10, cnn.TrainSettings())
    table = cnn.layer_table(net)
    assert [r["output shape"] for r in table] == [s for _, s in cnn.expected_shapes(shape, 10)]
    assert sum(r["parameters"] for r in table) == net.count_params()


def test_bundle_is_trained_once_then_reused(tmp_path):
    kw = dict(root=tmp_path / "rec", cache_dir=tmp_path / "ds", out=tmp_path / "model",
              seconds=6.0)
    settings = cnn.TrainSettings(epochs=1)
    from ragalib import features
    original = features.DEFAULT
    published_build = published.build

    def short_build(config=None, **k):     # tiny segments: three per take
        return published_build(SHORT, **k)

    published.build = short_build
    try:
        first = reproduction.published_bundle(settings, **kw)
        stamp = (tmp_path / "model" / BUNDLE_JSON).stat().st_mtime_ns
        second = reproduction.published_bundle(settings, **kw)
    finally:
        published.build = published_build
    assert features.DEFAULT is original
    assert (tmp_path / "model" / BUNDLE_JSON).stat().st_mtime_ns == stamp
    assert second.metrics == first.metrics and first.metrics["test_segments"] == 6
    assert first.info["trained_on"].startswith("random split")
    data = short_build(root=tmp_path / "rec", cache_dir=tmp_path / "ds", seconds=6.0)
    parts = published.split(data)
    assert published.siblings_in_training(data, parts) > 0
    mistakes = reproduction.confident_mistakes(second.model, data, parts, top=2)
    assert len(mistakes) <= 2 and all(t != p for _, _, t, p, _ in mistakes)
    clip = published.segment_audio(tmp_path / "rec", data.takes[0], 2.0, 2.0, sr=SHORT.sr)
    assert len(clip) == 2 * SHORT.sr


def test_verdict_places_the_quoted_figures():
    text = reproduction.verdict((200, 240), (47, 240), (6, 60))
    assert "200/240" in text and "clearly higher" in text and "not clearly" not in text
    assert "72% (before tuning) is below" in text and "92.7% (after tuning) above" in text
    assert "not clearly higher" in reproduction.verdict((10, 60), (9, 60), (6, 60))
    assert "72% (before tuning) is inside" in reproduction.verdict((43, 60), (9, 60), (6, 60))
