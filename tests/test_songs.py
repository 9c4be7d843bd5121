from collections import Counter

import numpy as np
import pytest

from ragalib import RagalibError, ragas
from ragalib.corpus import songs
from ragalib.melody import pitch
from ragalib.synth import recital


def test_the_plan_has_six_varied_songs_per_raga():
    plan = songs.song_plan(6)
    assert len(plan) == 60 and Counter(s.raga for s in plan) == {r: 6 for r in ragas.raga_ids()}
    assert all(s.instrument in songs.INSTRUMENTS and s.instrument != "harmonium" for s in plan)
    played = [s for s in plan if s.instrument != songs.SUNG]
    sung = [s for s in plan if s.instrument == songs.SUNG]
    assert sum(s.tonic_note != "C#4" for s in played) == len(played) - sum(
        s.number % 6 == 0 for s in played)                   # one song in six in C#
    assert sum(s.percussion for s in plan) == 30
    assert all(s.drone == (s.number % 3 == 2) and s.cents == 0 for s in played)
    assert sum(s.drone for s in sung) >= 0.75 * len(sung)       # a recital has a tanpura
    assert all(abs(s.cents) <= 30 for s in sung) and any(s.cents for s in sung)
    for s in sung:          # Sa in the singer's own range
        assert s.tonic_note in recital.SA_RANGES[songs.singer_of(s)]
    assert all(30 <= s.seconds <= 60 for s in plan)
    for raga in ragas.raga_ids():
        assert {s.instrument for s in plan if s.raga == raga} == set(songs.INSTRUMENTS)
    assert len({s.file for s in plan}) == 60
    assert plan == songs.song_plan(6)


def test_a_song_repeats_its_refrain_built_on_the_pakad():
    score = songs.compose_song("yaman", 40.0, tonic="D4", bpm=100, seed=5)
    pakad = [n.semitones for n in ragas.get_raga("yaman").pakad_notes]
    assert len(pitch.find_phrase(score.melody(), pakad)) >= 2
    assert abs(score.tonic_hz - 293.66) < 0.01


def test_songs_are_deterministic_and_the_tabla_is_loud():
    spec = songs.SongSpec("kafi", 1, "A3", "plucked", True, False, "keherwa", 90.0, 8.0, 3)
    y, _ = songs.render_song(spec)
    again, _ = songs.render_song(spec)
    assert y.dtype == np.float32 and y.shape == (8 * 22050,) and y.tobytes() == again.tobytes()
    quiet, _ = songs.render_song(spec.__class__(**{**spec.__dict__, "percussion": False}))

    def low_band(x):   # the bayan lives below 130 Hz, the melody above
        spectrum = np.abs(np.fft.rfft(x)) ** 2
        hz = np.fft.rfftfreq(len(x), 1 / 22050)
        return spectrum[hz < 130].sum() / spectrum.sum()

    assert low_band(y) > 5 * low_band(quiet)


def test_a_sung_song_is_a_recital_whose_contour_is_known_without_rendering():
    spec = songs.SongSpec("bhairav", 3, "D3", songs.SUNG, False, True, "dadra", 80.0, 6.0, 11,
                          cents=-20.0)
    y, score = songs.render_song(spec)
    again, _, sung = songs.render_sung_song(spec)
    assert y.tobytes() == again.tobytes() and len(y) == 6 * 22050
    assert score.tonic_hz == pytest.approx(spec.sa_hz)
    assert spec.sa_hz == pytest.approx(ragas.tonic_hz("D3") * 2 ** (-20 / 1200))
    known = songs.sung_contour(spec)
    np.testing.assert_array_equal(known.hz, sung.hz)
    assert songs.manifest_rows([spec])[0]["tonic_hz"] == round(spec.sa_hz, 3)


def test_ensure_songs_writes_files_and_a_manifest(tmp_path):
    rows = songs.ensure_songs(tmp_path, per_raga=1, seconds=(3.0, 3.0))
    assert len(rows) == 10 and all(row["path"].exists() for row in rows)
    assert list(rows[0])[:len(songs.MANIFEST_FIELDS)] == list(songs.MANIFEST_FIELDS)
    assert isinstance(rows[0]["percussion"], bool) and rows[0]["tonic_hz"] > 100
    before = rows[0]["path"].stat().st_mtime_ns
    songs.ensure_songs(tmp_path, per_raga=1, seconds=(3.0, 3.0))
    assert rows[0]["path"].stat().st_mtime_ns == before          # kept, not re-rendered
    longer = songs.ensure_songs(tmp_path, per_raga=1, seconds=(4.0, 4.0))
    assert longer[0]["file"] != rows[0]["file"]                  # another spec, another file
    import soundfile

    assert soundfile.info(longer[0]["path"]).duration == 4.0


def test_the_dayan_is_tuned_to_sa_moved_into_its_octave():
    from ragalib.synth.tabla import dayan_hz

    assert dayan_hz(138.59) == pytest.approx(277.18)     # C#3 up an octave
    assert dayan_hz(277.18) == pytest.approx(277.18)
    assert dayan_hz(932.33) == pytest.approx(932.33 / 4)    # A#5 down two octaves
    for bad in (0.0, -110.0, float("nan")):
        with pytest.raises(RagalibError, match="positive"):
            dayan_hz(bad)
