import numpy as np
import pytest

from ragalib.errors import RagalibError
from ragalib.melody import pitch

SR = 22050


def tone(freq, seconds=0.5, harmonics=1):
    t = np.arange(int(seconds * SR)) / SR
    return sum(np.sin(2 * np.pi * k * freq * t) / k for k in range(1, harmonics + 1))


@pytest.mark.parametrize("freq", [140.0, 277.18, 415.3, 1108.7])
def test_peak_frequency_finds_a_tone_to_a_fraction_of_a_cent(freq):
    measured = pitch.peak_frequency(tone(freq, 0.2, harmonics=8), freq, sr=SR)
    assert abs(pitch.cents(measured, freq)) < 0.2


def test_a_mistuned_tone_is_measured_as_mistuned():
    target = 277.18
    off = target * 2 ** (10 / 1200)
    assert pitch.cents(pitch.peak_frequency(tone(off), target, sr=SR), target) == \
        pytest.approx(10, abs=0.3)


def test_pitch_class_energy_puts_a_tone_on_its_pitch_class():
    sa = 277.18
    y = np.concatenate([tone(sa * 2 ** (7 / 12), 1.0, 6), tone(sa * 2, 0.5, 6)])
    share = pitch.pitch_class_energy(y, sa, sr=SR)
    assert share.sum() == pytest.approx(1.0)
    assert share[7] > 0.6 and share[0] > 0.25 and share[[1, 2, 3, 4, 5, 6, 8, 9, 10, 11]].sum() < 0.05


def test_pitch_class_energy_refuses_silence():
    with pytest.raises(pitch.RagalibError, match="silent"):
        pitch.pitch_class_energy(np.zeros(SR), 277.18, sr=SR)


def test_find_phrase_matches_in_any_octave_and_merges_repeats():
    melody = [0, 2, 4, 2, 0, 14, 16, 14, 12, 7]
    assert pitch.find_phrase(melody, [2, 4, 2]) == [1, 5]
    assert pitch.find_phrase(melody, [2, 2, 4, 4, 2]) == [1, 5]
    assert pitch.find_phrase(melody, [4, 2, 4]) == []
    assert not pitch.contains_phrase(melody, [3, 5, 3])


def test_held_note_without_a_score_finds_the_longest_steady_tone():
    y = np.concatenate([tone(220, 0.5), tone(330, 1.0), np.zeros(SR // 3)]).astype(np.float32)
    held = pitch.held_note(y, sr=SR)
    assert abs(pitch.cents(held.hz, 330)) < 10
    assert 0.45 < held.start < 0.6 and 1.4 < held.end < 1.6
    with pytest.raises(RagalibError, match="no steady note"):
        pitch.held_note(np.random.default_rng(0).standard_normal(SR).astype(np.float32), sr=SR)
