import json

import numpy as np
import pytest
import soundfile

from ragalib import RagalibError, ragas, synth
from ragalib.corpus import dataset
from ragalib.corpus.takes import ensure_recordings
from ragalib.features import FeatureConfig

SHORT = FeatureConfig(segment_seconds=2.0)   # small segments keep these tests fast


@pytest.fixture()
def recordings(tmp_path):
    """Three takes each of kafi and yaman (5 s: two 2-s segments), made in reverse order."""
    root = tmp_path / "recordings"
    for raga in ("yaman", "kafi"):
        (root / raga).mkdir(parents=True)
        for k in (3, 2, 1):
            y = synth.improvise(raga, 5.0, seed=10 * k + len(raga))
            soundfile.write(root / raga / f"take{k}.wav", y, synth.SR)
    return root


def build(recordings, tmp_path, config=SHORT, messages=None, **kwargs):
    report = (messages.append if messages is not None else lambda m: None)
    return dataset.build(config, root=recordings, cache_dir=tmp_path / "cache",
                         synthesise=False, report=report, **kwargs)


def test_labels_are_the_sorted_ids_and_each_segment_has_its_folders_label(recordings, tmp_path):
    ds = build(recordings, tmp_path)
    assert ds.labels == ragas.raga_ids()
    assert ds.X.shape == (12, SHORT.segment_frames, 13)
    for take, label in zip(ds.take, ds.y):
        assert ds.takes[take].split("/")[0] == ds.labels[label]
    x, y = ds.part("train")
    assert x.shape[1:] == (SHORT.segment_frames, 13, 1) and len(x) == len(y) == 4


def test_no_take_crosses_splits(recordings, tmp_path):
    ds = build(recordings, tmp_path)
    for take in range(len(ds.takes)):
        assert len(set(ds.split[ds.take == take])) == 1
    for raga in ("kafi", "yaman"):
        assert {s for s in ds.counts()[raga] if s != "takes" and ds.counts()[raga][s]} == \
            {"train", "val", "test"}


@pytest.mark.parametrize("n, expected", [(1, {"train": 1}), (2, {"train": 1, "test": 1}),
                                         (3, {"train": 1, "val": 1, "test": 1}),
                                         (5, {"train": 3, "val": 1, "test": 1}),
                                         (10, {"train": 6, "val": 2, "test": 2})])
def test_split_sizes_by_number_of_takes(n, expected):
    roles = dataset.assign_splits([f"t{i}" for i in range(n)])
    assert {r: list(roles.values()).count(r) for r in set(roles.values())} == expected
    assert roles == dataset.assign_splits([f"t{i}" for i in reversed(range(n))])


def test_random_segment_split_has_the_requested_fractions():
    split = dataset.random_segment_split(100, seed=1)
    assert [int(np.sum(split == s)) for s in dataset.SPLITS] == [60, 20, 20]


def test_second_build_comes_from_the_cache(recordings, tmp_path, monkeypatch):
    first = build(recordings, tmp_path)
    monkeypatch.setattr(dataset, "extract", lambda *a, **k: pytest.fail("re-extracted"))
    again = build(recordings, tmp_path)
    np.testing.assert_array_equal(again.X, first.X)
    assert again.takes == first.takes and again.key == first.key


def test_a_changed_config_or_recording_rebuilds(recordings, tmp_path):
    first = build(recordings, tmp_path)
    other = build(recordings, tmp_path, config=FeatureConfig(segment_seconds=2.0, n_mfcc=20))
    assert other.X.shape[-1] == 20 and other.key != first.key
    soundfile.write(recordings / "kafi" / "take1.wav",
                    synth.improvise("kafi", 5.0, seed=99), synth.SR)
    changed = build(recordings, tmp_path)
    assert changed.key != first.key and not np.array_equal(changed.X, first.X)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_cache_is_detected_and_rebuilt(recordings, tmp_path, damage):
    first = build(recordings, tmp_path)
    npz, _ = dataset.cache_paths(SHORT, tmp_path / "cache")
    raw = bytearray(npz.read_bytes())
    if damage == "truncate":
        raw = raw[:len(raw) // 2]
    else:  # flip bytes inside the stored feature array, keeping the file a valid zip
        raw[2000:2008] = bytes(b ^ 0xFF for b in raw[2000:2008])
    npz.write_bytes(bytes(raw))
    messages = []
    again = build(recordings, tmp_path, messages=messages)
    assert any("damaged cache" in m for m in messages)
    np.testing.assert_array_equal(again.X, first.X)


def test_a_cache_whose_arrays_changed_fails_its_checksum(recordings, tmp_path):
    """A well-formed file with altered numbers (not a zip error) is caught by the digest."""
    first = build(recordings, tmp_path)
    npz, _ = dataset.cache_paths(SHORT, tmp_path / "cache")
    with np.load(npz) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["X"] = arrays["X"] + 1.0
    with open(npz, "wb") as f:
        np.savez(f, **arrays)
    messages = []
    again = build(recordings, tmp_path, messages=messages)
    assert any("checksum mismatch" in m for m in messages)
    np.testing.assert_array_equal(again.X, first.X)


def test_a_failed_write_leaves_the_old_cache_intact(recordings, tmp_path, monkeypatch):
    build(recordings, tmp_path)
    npz, _ = dataset.cache_paths(SHORT, tmp_path / "cache")
    before = npz.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(RagalibError, match="cannot write: disk full") as caught:
        build(recordings, tmp_path, force=True)
    assert str(caught.value).startswith(f"{npz}: ")          # the target, not a temporary
    assert npz.read_bytes() == before
    assert not [p for p in npz.parent.iterdir() if p.name.startswith(".")]


def test_bad_recordings_are_reported_and_skipped(recordings, tmp_path):
    (recordings / "jazz").mkdir()
    (recordings / "yaman" / "notes.txt").write_text("my notes")
    (recordings / "yaman" / "broken.wav").write_text("not audio")
    soundfile.write(recordings / "kafi" / "short.wav", synth.improvise("kafi", 1.0), synth.SR)
    messages = []
    ds = build(recordings, tmp_path, messages=messages)
    text = "\n".join(messages)
    assert "jazz: skipped: not a raga folder" in text
    assert "notes.txt: skipped: not an audio file" in text
    assert "broken.wav: not an audio file that can be read" in text
    assert "short.wav: 1.0 s of audio, but one segment needs 2.0 s; skipped" in text
    assert len(ds.takes) == 6 and not any("broken" in t or "short" in t for t in ds.takes)


def test_published_json_structure(recordings, tmp_path):
    ds = build(recordings, tmp_path)
    _, json_path = dataset.cache_paths(SHORT, tmp_path / "cache")
    data = json.loads(json_path.read_text())
    assert data["mapping"] == ds.labels and data["labels"] == ds.y.tolist()
    assert np.array(data["mfcc"]).shape == ds.X.shape
    melody = FeatureConfig(segment_seconds=2.0, kind="melody")
    build(recordings, tmp_path, config=melody)               # the published structure is MFCCs'
    npz, json_path = dataset.cache_paths(melody, tmp_path / "cache")
    assert npz.exists() and not json_path.exists()


def test_an_empty_recordings_folder_is_an_error(tmp_path):
    (tmp_path / "recordings" / "jazz").mkdir(parents=True)
    with pytest.raises(RagalibError, match="no recordings in any raga folder"):
        dataset.scan_recordings(tmp_path / "recordings", report=lambda m: None)


def test_leakage_report_sees_take_signatures_only_through_a_random_split():
    """Eight takes of two labels; each take has its own offset (its 'session')."""
    rng = np.random.default_rng(0)
    take = np.repeat(np.arange(8), 10)
    X = (rng.normal(size=(8, 1, 13))[take] * 5 + rng.normal(size=(80, 4, 13))).astype(np.float32)
    split = np.repeat(np.array(["train"] * 4 + ["val", "val", "test", "test"]), 10)
    ds = dataset.Dataset(X=X, y=take % 2, labels=["a", "b"], take=take,
                         takes=[f"t{i}" for i in range(8)], split=split,
                         start=np.zeros(80), config=SHORT, key="k")
    assert dataset.leakage_report(ds)["same_take"] == 0.0
    shuffled = dataset.leakage_report(ds, dataset.random_segment_split(80, seed=0))
    assert shuffled["same_take"] > 0.9 and shuffled["accuracy"] > 0.9


def test_ensure_recordings_renews_old_synth_takes_and_never_touches_yours(tmp_path):
    root = tmp_path / "recordings"
    (root / "yaman").mkdir(parents=True)
    (root / "yaman" / "synth_take1.wav").write_bytes(b"from an older synthesiser")
    (root / "yaman" / "sung_v0_take1.wav").write_bytes(b"sung by an older synthesiser")
    mine = root / "yaman" / "my_take.wav"
    soundfile.write(mine, synth.improvise("yaman", 1.0, seed=3), synth.SR)
    ensure_recordings(root, takes=1, seconds=1.0, sung=1)
    names = sorted(p.name for p in (root / "yaman").iterdir())
    version = synth.GENERATOR_VERSION
    assert names == ["my_take.wav", f"sung_v{version}_take1.wav", f"synth_v{version}_take1.wav"]
    assert all((root / raga / name).exists() for raga in ragas.raga_ids() for name in names[1:])
    assert soundfile.info(root / "yaman" / names[1]).frames == synth.SR


def test_the_takes_are_split_family_by_family():
    names = [f"synth_v1_take{k}.wav" for k in range(1, 6)] + ["sung_v1_take1.wav",
                                                             "sung_v1_take2.wav", "mine.wav"]
    roles = dataset.assign_splits(names)
    assert sorted(roles[n] for n in names[5:7]) == ["test", "train"]
    assert roles["mine.wav"] == "train"
    assert {n: roles[n] for n in names[:5]} == dataset.assign_splits(names[:5])
