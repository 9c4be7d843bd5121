from dataclasses import replace

import numpy as np
import pytest
import soundfile

from ragalib import RagalibError, synth
from ragalib.corpus import augment, dataset
from ragalib.corpus.takes import synth_take_name, synth_take_seed, synthesised_take
from ragalib.features import FeatureConfig
from ragalib.models import cnn
from ragalib.models.bundle import _augmented_key

SHORT = FeatureConfig(segment_seconds=2.0, kind="melody")
SR = synth.SR


@pytest.fixture()
def recordings(tmp_path):
    """Three 5-s takes of yaman and kafi: two synthesised by ragalib's own recipe (their score
    can be replayed) and one of "your own" per raga."""
    root = tmp_path / "recordings"
    for raga in ("yaman", "kafi"):
        (root / raga).mkdir(parents=True)
        for k in (1, 2):
            y = synth.improvise(raga, 5.0, seed=synth_take_seed(raga, k))
            soundfile.write(root / raga / synth_take_name(k), y, SR)
        soundfile.write(root / raga / "mine.wav", synth.improvise(raga, 5.0, seed=7), SR)
    return root


def build(root, tmp_path):
    return dataset.build(SHORT, root=root, cache_dir=tmp_path / "cache", synthesise=False)


def test_only_ragalibs_own_synthesised_takes_can_be_replayed():
    name = synth_take_name(3)
    assert synthesised_take(f"yaman/{name}") == ("yaman",
                                                         synth_take_seed("yaman", 3))
    for other in ("yaman/mine.wav", "yaman/synth_v0_take3.wav", "yaman/synth_v1_takeX.wav",
                  f"yaman/{name}.bak"):
        assert synthesised_take(other) is None


def test_changes_are_deterministic_within_their_ranges_and_voices_need_a_score():
    take = f"yaman/{synth_take_name(1)}"
    changes = [augment.draw_change(take, copy) for copy in range(1, 30)]
    assert augment.draw_change(take, 5) == changes[4]
    assert len({c.cents for c in changes}) == len(changes)       # copies differ
    for c in changes:
        assert abs(c.cents) <= augment.RANGES.cents and abs(c.gain_db) <= augment.RANGES.gain_db
        assert augment.RANGES.snr_db[0] <= c.snr_db <= augment.RANGES.snr_db[1]
        assert c.voice is not None and c.voice.name == "varied reed"
        assert all(replace(c.voice, name=v.name) != v for v in synth.VOICES.values())
    assert augment.draw_change("yaman/mine.wav", 1).voice is None
    assert augment.draw_change(take, 1, timbre=False).voice is None
    wide = augment.Ranges(cents=100.0, gain_db=0.0, snr_db=(60.0, 60.0))
    changes = [augment.draw_change(take, copy, ranges=wide) for copy in range(1, 30)]
    assert max(abs(c.cents) for c in changes) > augment.RANGES.cents
    assert all(c.gain_db == 0.0 and c.snr_db == 60.0 for c in changes)


def test_detuning_moves_the_pitch_by_the_cents_asked():
    t = np.arange(2 * SR) / SR
    y = np.sin(2 * np.pi * 440.0 * t).astype(np.float32)
    sharp = augment.detune(y, 30.0, sr=SR)
    spectrum = np.abs(np.fft.rfft(sharp * np.hanning(len(sharp))))
    peak = np.argmax(spectrum) * SR / len(sharp)
    assert peak == pytest.approx(440.0 * 2 ** (30 / 1200), abs=1.0)
    assert len(sharp) == pytest.approx(len(y) / 2 ** (30 / 1200), abs=2)


def test_a_change_adds_noise_at_its_snr_and_changes_the_level_by_its_gain():
    y = (0.3 * np.sin(np.linspace(0, 2000, 3 * SR))).astype(np.float32)
    out = augment.apply_change(y, augment.Change(cents=0.0, gain_db=0.0, snr_db=20.0,
                                                     voice=None, seed=1), sr=SR)
    assert out.dtype == np.float32 and len(out) == len(y)
    snr = 10 * np.log10(np.mean(y.astype(float) ** 2) / np.mean((out - y).astype(float) ** 2))
    assert snr == pytest.approx(20.0, abs=0.3)
    louder = augment.apply_change(3 * y, augment.Change(0.0, 6.0, 80.0, None, 1), sr=SR)
    gain = 20 * np.log10(np.std(louder) / np.std(3 * y))
    assert gain == pytest.approx(6.0, abs=0.01)        # even past full scale: not scaled back


def test_only_training_takes_get_copies_and_the_copies_are_cached(recordings, tmp_path,
                                                                  monkeypatch):
    plain = build(recordings, tmp_path)
    more = augment.augmented(plain, 2, root=recordings, cache_dir=tmp_path / "cache", workers=1)
    roles = plain.take_roles()
    train_takes = [t for t, role in roles.items() if role == "train"]
    assert len(more.takes) == len(plain.takes) + 2 * len(train_takes)
    assert all(t.split(augment.TAG)[0] in train_takes for t in more.takes[len(plain.takes):])
    for part in ("val", "test"):
        np.testing.assert_array_equal(more.part(part)[0], plain.part(part)[0])
    added = slice(len(plain.y), None)
    assert (more.split[added] == "train").all()
    assert [more.labels[i] for i in more.y[added]] == \
        [more.takes[t].split("/")[0] for t in more.take[added]]
    assert len(more.y) > len(plain.y)
    # A copy is not the take again: its features differ from the original's.
    first = more.takes.index(f"{train_takes[0]}{augment.TAG}1")
    original = plain.X[plain.take == plain.takes.index(train_takes[0])]
    copy = more.X[more.take == first]
    assert not np.allclose(copy[:len(original)], original[:len(copy)])

    def fail(*args, **kwargs):
        raise AssertionError("augmented again although nothing changed")

    monkeypatch.setattr(augment, "_copy_features", fail)
    again = augment.augmented(plain, 2, root=recordings, cache_dir=tmp_path / "cache", workers=1)
    np.testing.assert_array_equal(again.X, more.X)
    assert again.takes == more.takes
    assert augment.augmented(plain, 0) is plain


def test_augmentation_refuses_a_split_other_than_by_take(recordings, tmp_path):
    plain = build(recordings, tmp_path)
    split = dataset.random_segment_split(len(plain.y))
    with pytest.raises(RagalibError, match="by-take split"):
        cnn.train(plain, cnn.TrainSettings(epochs=1, augment=1), split=split)
    with pytest.raises(RagalibError, match="0 or more"):
        augment.augmented(plain, -1)


def test_a_copy_too_short_for_a_segment_adds_nothing(recordings, tmp_path):
    take = "yaman/mine.wav"          # 5.0 s: one 2-s segment fewer once it is played sharp
    short = recordings / "yaman" / "short.wav"
    soundfile.write(short, synth.improvise("yaman", 2.01, seed=3), SR)
    copy = next(c for c in range(1, 50)
                if augment.draw_change("yaman/short.wav", c, timbre=False).cents > 10)
    features = augment._copy_features(("yaman/short.wav", copy), root=recordings,
                                      config=SHORT, seed=0, timbre=False)
    assert features.shape == (0, SHORT.segment_frames, SHORT.n_features)
    assert len(augment._copy_features((take, 1), root=recordings, config=SHORT, seed=0,
                                      timbre=False)) == 2


def test_a_bundle_is_retrained_when_the_augmented_copies_would_change(recordings, tmp_path,
                                                                      monkeypatch):
    plain = build(recordings, tmp_path)
    settings = cnn.TrainSettings(augment=2)
    key = _augmented_key(plain, settings)
    assert _augmented_key(plain, cnn.TrainSettings()) is None
    assert _augmented_key(plain, cnn.TrainSettings(augment=3)) != key
    assert augment.augmented_key(plain, 2, root=tmp_path) != key        # another folder
    assert augment.augmented_key(plain, 2, ranges=augment.Ranges(cents=50.0)) != key
    monkeypatch.setattr(augment, "VERSION", augment.VERSION + 1)
    assert _augmented_key(plain, settings) != key


def test_an_example_pairs_the_start_of_a_take_with_its_copy(recordings):
    take = f"kafi/{synth_take_name(1)}"
    change, original, copy = augment.example(take, 2, seconds=1.5, root=recordings, sr=SR)
    assert change == augment.draw_change(take, 2)
    assert len(original) == len(copy) == int(1.5 * SR)
    np.testing.assert_allclose(original, soundfile.read(recordings / take)[0][:len(original)],
                               atol=1e-4)
    assert not np.allclose(original, copy, atol=1e-3)
