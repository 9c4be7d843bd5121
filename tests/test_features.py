import json

import numpy as np
import pytest

from ragalib import RagalibError, features
from ragalib.features import DEFAULT, FeatureConfig

SR = 22050


def sine(freq, seconds=5.0, sr=SR):
    return np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr).astype(np.float32)


def test_defaults_mirror_the_published_method():
    assert (DEFAULT.sr, DEFAULT.n_fft, DEFAULT.hop_length, DEFAULT.n_mfcc,
            DEFAULT.segment_seconds) == (22050, 2048, 512, 13, 5.0)
    assert DEFAULT.segment_samples == 110250
    assert DEFAULT.segment_frames == 216 and DEFAULT.input_shape == (216, 13, 1)


@pytest.mark.parametrize("freq", [440.0, 1000.0, 3150.0])
def test_stft_peaks_in_the_bin_of_a_pure_tone(freq):
    mag = features.stft_magnitude(sine(freq))
    assert mag.shape == (1025, 216)
    assert np.argmax(mag[:, 100]) == round(freq * DEFAULT.n_fft / SR)


def test_log_spectrogram_is_in_db_below_its_peak():
    S = features.log_spectrogram(sine(440.0))
    assert S.max() == pytest.approx(0.0) and S.min() == pytest.approx(-80.0)


def test_mfcc_of_five_seconds_is_216_by_13_and_equals_librosa():
    import librosa

    y = sine(300.0) * np.linspace(0, 1, 110250, dtype=np.float32)
    one = features.mfcc(y)
    assert one.shape == (216, 13) and one.dtype == np.float32
    reference = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13, n_fft=2048, hop_length=512).T
    np.testing.assert_allclose(one, reference, rtol=1e-4, atol=1e-3)


def test_a_segment_has_the_same_mfcc_in_any_batch():
    """librosa's top_db floor is per array; ours is per segment, so neighbours never leak."""
    quiet, loud = 0.001 * sine(300.0), sine(600.0)
    batch = features.extract(np.stack([quiet, loud]))
    assert batch.shape == (2, 216, 13)
    np.testing.assert_allclose(batch[0], features.mfcc(quiet), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(batch[1], features.mfcc(loud), rtol=1e-4, atol=1e-3)


def test_mel_spectrogram_shape_and_extract_rejects_wrong_lengths():
    assert features.mel_spectrogram(sine(300.0, 1.0)).shape == (128, 44)
    with pytest.raises(RagalibError, match="segments of 110250 samples"):
        features.extract(np.zeros((2, 1000), np.float32))


def test_config_round_trips_and_its_id_tracks_every_field():
    config = FeatureConfig(n_mfcc=20)
    again = FeatureConfig.from_dict(json.loads(config.to_json()))
    assert again == config and hash(again) == hash(config) and again.id == config.id
    assert len(config.id) == 10 and config.id != DEFAULT.id
    assert FeatureConfig(hop_length=256).id != DEFAULT.id
    assert FeatureConfig(hop_length=256).segment_frames == 431


@pytest.mark.parametrize("kwargs, message", [
    (dict(sr=100), "sr must be"), (dict(n_fft=8), "n_fft must be"),
    (dict(hop_length=4096), "hop_length must be"), (dict(n_mfcc=0), "n_mfcc must be"),
    (dict(n_mfcc=200), "n_mfcc must be"), (dict(segment_seconds=0.01), "segment_seconds"),
    (dict(kind="wavelets"), "kind must be one of mfcc"), (dict(sr=22050.0), "sr must be"),
])
def test_bad_configs_are_refused_on_creation(kwargs, message):
    with pytest.raises(RagalibError, match=message):
        FeatureConfig(**kwargs)


def test_equal_configs_have_one_id_and_odd_numbers_are_refused():
    assert FeatureConfig(segment_seconds=5) == DEFAULT
    assert FeatureConfig(segment_seconds=5).id == DEFAULT.id
    for bad in (float("inf"), float("nan"), True, "5"):
        with pytest.raises(RagalibError, match="segment_seconds"):
            FeatureConfig(segment_seconds=bad)
    with pytest.raises(RagalibError, match="n_mfcc must be"):
        FeatureConfig(n_mfcc=True)


def test_a_config_with_unknown_fields_is_refused():
    with pytest.raises(RagalibError, match="unknown field.*colour"):
        FeatureConfig.from_dict({**DEFAULT.to_dict(), "colour": "blue"})


def test_cepstral_envelope_is_exact_with_all_coefficients_and_smooth_with_few():
    from ragalib import synth

    y = synth.improvise("yaman", 3.0, seed=0)
    log_mel, exact = features.cepstral_envelope(y, n_keep=DEFAULT.n_mels)
    np.testing.assert_allclose(exact, log_mel, atol=1e-3)
    _, smooth = features.cepstral_envelope(y, n_keep=13)
    assert np.sum(np.diff(smooth) ** 2) < 0.2 * np.sum(np.diff(log_mel) ** 2)


def test_timbre_moves_mfccs_more_than_the_raga_does():
    """Notebook 03's experiment: MFCCs capture the instrument, and blur the melody."""
    from ragalib import synth

    def profile(raga, voice):
        return features.mfcc_profile(synth.improvise(raga, 20.0, seed=3, voice=voice))

    same_timbre = np.linalg.norm(profile("yaman", "harmonium") - profile("bhairavi", "harmonium"))
    same_raga = np.linalg.norm(profile("yaman", "harmonium") - profile("yaman", "flute"))
    assert same_raga > 2 * same_timbre


@pytest.mark.parametrize("note, hz", [("A", 220.0), ("C#", 277.18), ("F", 349.23)])
def test_chroma_of_a_harmonic_tone_peaks_on_its_pitch_class(note, hz):
    sr = DEFAULT.sr
    t = np.arange(DEFAULT.segment_samples) / sr
    y = sum(np.sin(2 * np.pi * k * hz * t) / k for k in range(1, 6)).astype(np.float32)
    config = FeatureConfig(kind="chroma")
    values = features.extract(y[None], config=config)[0]
    assert values.shape == (216, features.CHROMA_BINS) == config.input_shape[:2]
    semitone = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"].index(note)
    assert int(np.argmax(values.mean(axis=0))) == 3 * semitone


def test_chroma_plus_mfcc_stacks_both_and_each_kind_has_its_own_id():
    y = np.random.default_rng(0).normal(size=(2, DEFAULT.segment_samples)).astype(np.float32)
    both = FeatureConfig(kind="chroma+mfcc")
    stacked = features.extract(y, config=both)
    assert stacked.shape == (2, 216, features.CHROMA_BINS + 13) == (2, *both.input_shape[:2])
    np.testing.assert_allclose(stacked[..., :features.CHROMA_BINS],
                               features.extract(y, config=FeatureConfig(kind="chroma")))
    np.testing.assert_allclose(stacked[..., features.CHROMA_BINS:], features.extract(y))
    assert len({FeatureConfig(kind=k).id for k in features.KINDS}) == len(features.KINDS)
    with pytest.raises(RagalibError, match="kind must be one of"):
        FeatureConfig(kind="cqt")


def test_the_melody_roll_keeps_one_pitch_class_per_frame_whatever_the_batch():
    sr = DEFAULT.sr
    t = np.arange(DEFAULT.segment_samples) / sr
    tone = sum(np.sin(2 * np.pi * k * 220.0 * t) / k for k in range(1, 8)).astype(np.float32)
    tone[: sr] = 0.0                                              # one silent second first
    config = FeatureConfig(kind="melody")
    noise = np.random.default_rng(1).normal(size=DEFAULT.segment_samples).astype(np.float32)
    roll = features.extract(np.stack([tone, noise]), config=config)
    assert roll.shape == (2, 216, features.CHROMA_BINS)
    assert ((roll[0] > 0).sum(axis=1) <= 1).all()                 # at most one bin per frame
    sounding = roll[0, 60:200]
    assert (sounding.argmax(axis=1) == 27).all() and roll[0].max() == pytest.approx(1.0)
    assert np.abs(roll[0, :30]).max() < 0.01                      # silence stays (nearly) dark
    np.testing.assert_array_equal(features.extract(tone[None], config=config)[0], roll[0])


def test_sound_rebuilt_from_mfccs_has_the_same_mfccs_and_is_the_same_every_time():
    t = np.arange(DEFAULT.segment_samples) / DEFAULT.sr
    tone = sum(0.5 ** k * np.sin(2 * np.pi * 277.18 * k * t) for k in range(1, 9))
    M = features.mfcc(tone.astype(np.float32))
    rebuilt = features.mfcc_to_audio(M)
    assert np.array_equal(rebuilt, features.mfcc_to_audio(M))          # seeded phase
    assert np.abs(rebuilt).max() == pytest.approx(0.9)
    again = features.mfcc(rebuilt)
    n = min(len(M), len(again))
    # the envelope survives (coefficient 0, the level, moves with the normalisation)
    assert np.abs(M[:n, 1:].mean(axis=0) - again[:n, 1:].mean(axis=0)).max() < 3.0


def test_sound_made_from_a_melody_roll_has_the_same_melody_roll():
    config = FeatureConfig(kind="melody")
    t = np.arange(config.segment_samples) / config.sr
    f0 = np.where(t < 2.5, 277.18, 415.3)                  # C#4, then G#4 (its Pa)
    tone = sum(0.6 ** k * np.sin(2 * np.pi * np.cumsum(k * f0) / config.sr) for k in range(1, 6))
    roll = features.melody_roll(tone.astype(np.float32), config=config)
    sound = features.melody_roll_to_audio(roll, config=config)
    assert np.abs(sound).max() == pytest.approx(0.9)
    sound = np.pad(sound, (0, config.segment_samples - len(sound)))
    again = features.melody_roll(sound, config=config)
    classes = roll.argmax(axis=1) // 3, again.argmax(axis=1) // 3     # semitone classes
    assert np.mean(classes[0][5:-5] == classes[1][5:-5]) > 0.95
    assert set(classes[0][5:-5]) == {1, 8}                              # C# and G#
