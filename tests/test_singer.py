"""The singing voice and the sung recital: a known score gives a known contour and sound."""

import numpy as np
import pytest

from ragalib import RagalibError, ragas
from ragalib.melody import pitch
from ragalib.synth import recital, singer
from ragalib.synth.improviser import improvise_score
from ragalib.synth.score import Note, Score

SR = 22050


def held(raga, semitones, *, sa="C#3", seconds=2.0, andolan=False):
    """One held note, alone in a score."""
    return Score(raga, ragas.tonic_hz(sa), seconds + 0.2,
                 (Note(0.1, seconds, semitones, 0, andolan=andolan),))


def test_a_held_note_sits_where_the_catalogue_places_it():
    plain = singer.Singer("steady", vibrato_cents=0.0, drift_cents=0.0, spread_cents=0.0)
    sa = ragas.tonic_hz("C#3")
    ga = dict(ragas.get_raga("darbari").intonation)["g"]     # ati-komal: below the grid
    assert ga < 0
    sung, _ = singer.contour(held("darbari", 3), singer=plain)
    middle = sung.hz[~np.isnan(sung.hz)][50:-50]
    assert np.allclose(pitch.cents(middle, sa * 2 ** (3 / 12)), ga, atol=0.5)
    y, _ = singer.sing(held("darbari", 3), singer=plain, sr=SR)
    measured = pitch.peak_frequency(y[int(0.5 * SR):int(1.8 * SR)], sa * 2 ** (3 / 12), sr=SR)
    assert abs(pitch.cents(measured, sa * 2 ** (3 / 12)) - ga) < 3


def test_andolan_swings_below_the_note_and_back():
    plain = singer.Singer("steady", vibrato_cents=0.0, drift_cents=0.0, spread_cents=0.0)
    sung, _ = singer.contour(held("bhairav", 1, andolan=True), singer=plain, seed=2)
    offset = pitch.cents(sung.hz[~np.isnan(sung.hz)], ragas.tonic_hz("C#3") * 2 ** (1 / 12))
    r = dict(ragas.get_raga("bhairav").intonation)["r"]
    assert offset.max() == pytest.approx(r, abs=0.5)      # back on the note ...
    assert offset.min() < r - 30                          # ... from at least 30 cents below
    assert sung.ornaments["andolan"] == 1


def test_meend_glides_through_the_pitches_between_two_notes():
    notes = (Note(0.1, 1.0, 0, 0), Note(1.1, 1.0, 7, 0))
    score = Score("yaman", ragas.tonic_hz("C#3"), 2.3, notes)
    glider = singer.Singer("glider", meend_share=1.0, vibrato_cents=0.0, drift_cents=0.0,
                           spread_cents=0.0)
    sung, _ = singer.contour(score, singer=glider)
    steps = pitch.cents(sung.hz[~np.isnan(sung.hz)], ragas.tonic_hz("C#3")) / 100
    between = (steps > 1) & (steps < 6)
    assert sung.ornaments["meend"] == 1
    assert between.sum() * sung.hop / SR > 0.1     # at least 0.1 s on the way from Sa to Pa


def test_a_sung_improvisation_is_deterministic_in_range_and_silent_between_phrases():
    score = improvise_score("darbari", 8.0, tonic="C#4", seed=5, sung=True)
    a, sung = singer.sing(score, singer="female", seed=5)
    b, _ = singer.sing(score, singer="female", seed=5)
    assert np.array_equal(a, b) and len(a) == int(round(8.0 * SR))
    voiced = sung.hz[~np.isnan(sung.hz)]
    sa = ragas.tonic_hz("C#4")
    assert voiced.min() > sa * 2 ** (-6 / 12) and voiced.max() < sa * 2 ** (20 / 12)
    assert np.isnan(sung.hz).any()
    assert np.max(np.abs(a)) > 0 and np.all(np.isfinite(a))


def test_the_sung_score_marks_andolan_where_the_instrument_alternates_notes():
    sung = improvise_score("darbari", 40.0, seed=1, sung=True)
    played = improvise_score("darbari", 40.0, seed=1)
    assert any(n.andolan for n in sung.notes) and not any(n.andolan for n in played.notes)
    assert sung.melody() == played.melody()


def test_a_recital_is_drawn_from_its_seed_and_keeps_the_singer_in_range():
    a, b = recital.draw_recital(3), recital.draw_recital(3)
    assert a == b
    male = recital.draw_recital(4, singer="male")
    low, high = (ragas.tonic_hz(n) for n in (recital.SA_RANGES["male"][0],
                                             recital.SA_RANGES["male"][-1]))
    assert low * 0.98 < male.tonic_hz < high * 1.02
    fixed = recital.draw_recital(4, tonic="D3")
    assert fixed.tonic_hz == pytest.approx(ragas.tonic_hz("D3"))


def test_the_harmonium_shadows_the_melody_late_and_without_ornaments():
    score = improvise_score("bhairav", 10.0, seed=2)
    shadow = recital.shadow(score, 0.2)
    spans = score.melody_spans()
    assert [n.semitones for n in shadow.notes] == [p for p, _, _ in spans][:len(shadow.notes)]
    assert shadow.notes[0].start == pytest.approx(spans[0][1] + 0.2)
    assert not any(n.ornament for n in shadow.notes)


def test_a_rendered_recital_has_its_length_and_its_contour():
    y, score, sung, drawn = recital.improvised_recital("yaman", 4.0, seed=7)
    assert y.dtype == np.float32 and len(y) == int(round(4.0 * SR))
    assert 0.5 < np.max(np.abs(y)) <= 0.9
    assert len(sung.times) == len(sung.hz) and sung.times[-1] >= 3.9
    assert score.tonic_hz == pytest.approx(drawn.tonic_hz)


def test_a_bad_intonation_in_the_catalogue_is_one_line(tmp_path):
    import json

    data = json.loads(ragas.CATALOGUE_PATH.read_text(encoding="utf-8"))
    data["ragas"][0]["intonation"] = {"G": 80}
    bad = tmp_path / "ragas.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RagalibError, match="within 50 of the grid"):
        ragas.load_catalogue(bad)
