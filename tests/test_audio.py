import numpy as np
import pytest
import soundfile

from ragalib import RagalibError, audio
from ragalib.features import FeatureConfig

SR = 22050


def tone(seconds, sr=SR, channels=1):
    t = np.arange(int(seconds * sr)) / sr
    y = 0.5 * np.sin(2 * np.pi * 440 * t)
    return np.stack([y] * channels, axis=1) if channels > 1 else y


@pytest.mark.parametrize("ext, sr, channels", [(".wav", 44100, 2), (".flac", 16000, 1),
                                               (".ogg", 48000, 2), (".mp3", 44100, 2),
                                               (".wav", 22050, 1)])
def test_any_rate_and_channel_count_loads_as_mono_at_22050(tmp_path, ext, sr, channels):
    path = tmp_path / f"clip{ext}"
    soundfile.write(path, tone(2.0, sr, channels), sr)
    y = audio.load(path)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 2 * SR) <= 0.06 * SR          # mp3 adds encoder padding
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * SR / len(y) - 440) < 2


def test_stereo_channels_are_averaged(tmp_path):
    path = tmp_path / "lr.wav"
    stereo = np.stack([tone(1.0), np.zeros(SR)], axis=1)
    soundfile.write(path, stereo, SR, subtype="FLOAT")
    np.testing.assert_allclose(audio.load(path), stereo.mean(axis=1), atol=1e-6)


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such file"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_text("not audio at all"), "not an audio file"),
    (lambda p: soundfile.write(p, np.zeros(0), SR), "no audio samples"),
    (lambda p: soundfile.write(p, np.zeros(SR), SR), "is silent"),
])
def test_bad_files_give_an_error_naming_the_file(tmp_path, make, message):
    path = tmp_path / "input.wav"
    make(path)
    with pytest.raises(RagalibError, match=message) as info:
        audio.load(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_offset_and_duration_read_only_that_part(tmp_path):
    path = tmp_path / "ramp.wav"
    ramp = (np.arange(3 * SR) / (3 * SR)).astype(np.float32)
    soundfile.write(path, ramp, SR, subtype="FLOAT")
    np.testing.assert_array_equal(audio.load(path, offset=1.0, duration=0.5),
                                  ramp[SR:SR + SR // 2])
    np.testing.assert_array_equal(audio.load(path, offset=2.5), ramp[5 * SR // 2:])
    assert len(audio.load(path, sr=SR // 2, offset=1.0, duration=1.0)) == SR // 2
    with pytest.raises(RagalibError, match=r"no audio samples from 4 s for 1 s"):
        audio.load(path, offset=4.0, duration=1.0)
    with pytest.raises(RagalibError, match="must not be negative"):
        audio.load(path, offset=-1.0)


@pytest.mark.parametrize("seconds, count", [(5.0, 1), (10.0, 2), (12.3, 2), (14.99, 2),
                                            (600.0, 120)])
def test_segment_counts_for_exact_and_inexact_lengths(seconds, count):
    y = np.arange(int(round(seconds * SR)), dtype=np.float32)
    parts = audio.segments(y)
    assert parts.shape == (count, 110250)
    assert parts[-1, -1] == count * 110250 - 1          # the tail is what gets dropped


def test_segment_length_follows_the_config():
    assert audio.segments(np.zeros(SR * 7), config=FeatureConfig(segment_seconds=2.0)).shape \
        == (3, 44100)


def test_too_short_for_one_segment_says_how_long_it_must_be():
    with pytest.raises(RagalibError, match=r"song.mp3: 3.2 s of audio, but one segment needs 5.0 s"):
        audio.segments(np.zeros(int(3.2 * SR)), source="song.mp3")


def test_save_is_atomic_and_round_trips(tmp_path):
    path = tmp_path / "out.wav"
    audio.save(path, tone(1.0), sr=SR)
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]
    np.testing.assert_allclose(audio.load(path), tone(1.0), atol=1e-4)


def test_percussion_suppression_matches_librosa_hpss_exactly_and_removes_clicks():
    import librosa

    y = tone(3.0).astype(np.float32)
    clicks = np.zeros_like(y)
    clicks[::SR // 4] = 1.0                      # four broadband clicks a second
    mixed = y + clicks
    kept = audio.suppress_percussion(mixed)
    np.testing.assert_array_equal(kept, librosa.effects.harmonic(mixed, margin=2.0))
    assert kept.dtype == np.float32 and len(kept) == len(mixed)
    at_clicks = np.arange(2, 10) * (SR // 4)      # away from the edges
    assert np.abs(kept - y)[at_clicks].mean() < 0.5          # the clicks were 1.0
    middle = slice(SR // 2, -SR // 2)
    assert np.corrcoef(kept[middle], y[middle])[0, 1] > 0.9  # the tone stays


def test_quantising_loses_about_six_db_per_bit():
    y = 0.5 * np.sin(2 * np.pi * 441 * np.arange(22050) / 22050 + 0.1)
    (_, at16), (_, at8), (q4, at4) = (audio.quantise(y, b) for b in (16, 8, 4))
    assert 5.5 < (at8 - at16) / 8 < 6.5 and 5.5 < (at4 - at8) / 4 < 6.5
    assert len(np.unique(q4)) <= 16 and q4.dtype == np.float32
