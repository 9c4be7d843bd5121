import numpy as np
import pytest

from ragalib import RagalibError, ragas, synth
from ragalib.synth import improviser, voices
from ragalib.synth.quality import assess
from ragalib.synth.score import Note, Score

SR = 22050


def test_same_seed_same_bytes_other_seed_other_music():
    a = synth.improvise("kafi", 6.0, seed=7)
    b = synth.improvise("kafi", 6.0, seed=7)
    c = synth.improvise("kafi", 6.0, seed=8)
    assert a.tobytes() == b.tobytes()
    assert a.shape == c.shape and not np.array_equal(a, c)


def test_output_is_float32_mono_at_22050_with_headroom():
    y = synth.improvise("yaman", 3.5, seed=0, drone=True)
    assert y.dtype == np.float32 and y.shape == (int(3.5 * SR),)
    assert 0.8 < np.max(np.abs(y)) <= 0.9
    assert synth.improvise("yaman", 1.0, sr=16000).shape == (16000,)


@pytest.mark.parametrize("raga_id", ragas.raga_ids())
def test_a_minute_is_in_tune_and_in_the_raga(raga_id):
    """The issue's figures: every note within 5 cents; >= 95% of the pitch-class energy on
    the raga's swaras; every swara and the pakad occur."""
    result = assess(raga_id, 60.0, seed=0)
    assert result["notes"] > 30
    assert result["max_cents"] < 5.0
    assert result["in_raga"] >= 0.95
    assert result["missing"] == []
    assert result["pakad"]


def test_harmonium_tone_is_rich_and_on_pitch():
    freq = 277.18
    score = Score("yaman", freq, 1.2, (Note(0.1, 1.0, 0, 0),))
    y = voices.render(score, sr=SR)
    steady = y[int(0.3 * SR):int(1.0 * SR)]
    spectrum = np.abs(np.fft.rfft(steady * np.hanning(len(steady))))
    hz = np.fft.rfftfreq(len(steady), 1 / SR)
    partials = [spectrum[np.abs(hz - k * freq) < 5].max() for k in range(1, 31)]
    assert sum(p > max(partials) * 0.01 for p in partials) >= 15      # within 40 dB
    assert np.max(spectrum[hz > 0.5 * SR - 500]) < max(partials) * 1e-4  # nothing aliases


def test_notes_start_and_end_without_clicks():
    env = voices.envelope(2000, 3000, SR)
    assert env[0] == 0.0 and env[-1] == pytest.approx(0.0, abs=1e-12)
    assert np.max(np.abs(np.diff(env))) < 2.0 / (voices.HARMONIUM.attack * SR)
    score = Score("yaman", 277.18, 1.0, (Note(0.2, 0.5, 0, 0),))
    y = voices.render(score, sr=SR)
    onset, offset = int(0.2 * SR), int((0.7 + voices.HARMONIUM.release) * SR) + 1
    assert np.all(y[:onset] == 0) and np.all(y[offset:] == 0)
    assert abs(y[onset + 1]) < 0.01 * np.max(np.abs(y))


def test_ladders_follow_aroha_across_octaves_and_vakra_avaroha():
    yaman = improviser.Grammar(ragas.get_raga("yaman"), np.random.default_rng(0))
    assert yaman.up[yaman.up.index(9):yaman.up.index(9) + 5] == [9, 11, 12, 14, 16]
    darbari = improviser.Grammar(ragas.get_raga("darbari"), np.random.default_rng(0))
    path = improviser._walk(darbari.down, 12, 0, -1)
    assert path == [8, 10, 7, 5, 7, 3, 5, 2, 0]        # d n P m P g m R S


def test_improvisation_opens_with_alap_then_pakad_and_stays_in_range():
    score = synth.improvise_score("bhupali", 120.0, seed=3)
    pakad = [n.semitones for n in ragas.get_raga("bhupali").pakad_notes]
    phrase1 = [n.semitones for n in score.notes if n.phrase == 1 and not n.ornament]
    assert phrase1[-len(pakad):] == pakad
    semis = [n.semitones for n in score.notes]
    assert min(semis) >= improviser.LOW and max(semis) <= improviser.HIGH
    assert max(semis) - min(semis) >= 17
    assert all(b.start >= a.start for a, b in zip(score.notes, score.notes[1:]))


def test_darbari_andolan_swings_to_the_note_below():
    score = synth.improvise_score("darbari", 60.0, seed=1)
    swings = [(a.semitones, b.semitones) for a, b in zip(score.notes, score.notes[1:])
              if b.ornament and b.phrase == a.phrase and b.semitones < a.semitones]
    assert (3, 2) in swings            # g swings to R


@pytest.mark.parametrize("raga_id, first", [("yaman", "P"), ("malkauns", "m"), ("marwa", "N")])
def test_drone_tunes_its_first_string_to_a_note_of_the_raga(raga_id, first):
    assert synth.drone_swara(raga_id) == first


def test_tanpura_sounds_sa_and_pa():
    sa = 277.18
    y = synth.tanpura(sa, 6.0, sr=SR)
    assert y.shape == (6 * SR,) and np.max(np.abs(y)) == pytest.approx(1.0)
    spectrum = np.abs(np.fft.rfft(y))
    hz = np.fft.rfftfreq(len(y), 1 / SR)

    def level(f):
        return spectrum[np.abs(hz - f) < 3].max()

    for f in (sa, sa / 2, sa * 2 ** (-5 / 12)):
        assert level(f) > 20 * level(f * 2 ** (1 / 12))      # louder than the semitone above


@pytest.mark.parametrize("kwargs, message", [
    (dict(raga_id="nope", seconds=5), "unknown raga"),
    (dict(raga_id="yaman", seconds=0), "positive"),
    (dict(raga_id="yaman", seconds=-3), "positive"),
    (dict(raga_id="yaman", seconds=float("nan")), "positive"),
    (dict(raga_id="yaman", seconds=5, tonic="Q#4"), "unknown tonic"),
])
def test_bad_arguments_are_clear_errors(kwargs, message):
    with pytest.raises(RagalibError, match=message):
        synth.improvise(**kwargs)


def test_the_flute_is_a_different_timbre_on_the_same_pitch():
    score = Score("yaman", 277.18, 1.2, (Note(0.1, 1.0, 0, 0),))
    harmonium, flute = (voices.render(score, voice=v, sr=SR) for v in ("harmonium", "flute"))
    steady = slice(int(0.4 * SR), int(1.0 * SR))

    def centroid(y):
        spectrum = np.abs(np.fft.rfft(y[steady])) ** 2
        return np.sum(spectrum * np.fft.rfftfreq(len(y[steady]), 1 / SR)) / np.sum(spectrum)

    assert centroid(flute) < 0.6 * centroid(harmonium)
    with pytest.raises(RagalibError, match="unknown voice 'kazoo'.*harmonium, flute"):
        synth.improvise("yaman", 1.0, voice="kazoo")


def test_each_session_colours_a_take_its_own_way():
    from ragalib.synth.session import Session, record

    y = synth.improvise("yaman", 4.0, seed=1)
    a, b = record(y, SR, seed=1), record(y, SR, seed=2)
    assert a.dtype == np.float32 and a.shape == y.shape
    assert a.tobytes() == record(y, SR, seed=1).tobytes()
    assert Session.draw(1) != Session.draw(2)

    def band_ratio(x):   # energy above 2 kHz against below: the session's colour
        spectrum = np.abs(np.fft.rfft(x)) ** 2
        hz = np.fft.rfftfreq(len(x), 1 / SR)
        return spectrum[hz > 2000].sum() / spectrum[hz < 2000].sum()

    assert not np.isclose(band_ratio(a), band_ratio(b), rtol=0.05)
    quiet = np.abs(a[:int(0.2 * SR)])             # before the first note: the noise floor
    assert 0 < quiet.max() < 0.05
