"""Pitch tracks as input, held notes, the note model, another catalogue, and (when
``shared/real-dev`` is beside the checkout) the figures on real dev tracks."""

import json
from pathlib import Path

import numpy as np
import pytest

from ragalib import RagalibError, ragas
from ragalib.melody import note_model, notes, pitch_track

REAL_DEV = Path(__file__).resolve().parents[2] / "shared" / "real-dev"


def write_csv(path, hz, hop=0.01, header="time,f0"):
    rows = [header] + [f"{i * hop:.3f},{h:g}" for i, h in enumerate(hz)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_csv_track_reads_time_and_f0_with_zero_for_silence(tmp_path):
    track = pitch_track.read_pitch_track(write_csv(tmp_path / "t.csv", [0, 220, 221, 0, 330]))
    assert track.hop_s == pytest.approx(0.01)
    assert np.isnan(track.hz[[0, 3]]).all() and track.hz[4] == 330
    assert track.voiced_seconds == pytest.approx(0.03)


def test_an_npz_in_cents_above_sa_comes_back_in_hz(tmp_path):
    path = tmp_path / "t.npz"
    np.savez(path, cents=np.array([0.0, 1200.0, np.nan]), sa_hz=150.0, hop_s=0.01, raga="jog")
    track = pitch_track.read_pitch_track(path)
    assert track.hz[:2] == pytest.approx([150.0, 300.0]) and np.isnan(track.hz[2])
    assert (track.sa_hz, track.raga) == (150.0, "jog")


@pytest.mark.parametrize("body, reason", [
    ("time,f0\n0,0\n0.01,0\n", "no voiced frame"),
    ("time,f0\n-0.01,220\n0,220\n", "negative"),
    ("time,f0\n0,220\n0.01,loud\n", "line 3"),
    ("time,f0\n0,220\n0.02,220\n0.01,220\n", "do not increase"),
    ("time,f0\n0,220\n0.01,-5\n", "negative f0"),
])
def test_a_bad_track_is_one_line_naming_the_file_and_the_reason(tmp_path, body, reason):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(RagalibError, match=reason) as caught:
        pitch_track.read_pitch_track(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_held_notes_keep_the_notes_and_leave_the_glide_out():
    hop = 0.01
    glide = np.linspace(0, 200, 15)                    # a quick 0.15-s slide
    cents = np.concatenate([np.zeros(50), glide, np.full(50, 200.0), [np.nan] * 5,
                            np.full(5, 700.0)])
    found = notes.held_notes(cents, hop)
    assert list(found.step) == [0, 2]                  # the 50-ms Pa is too short to hold
    assert notes.held_profile(found)[[0, 2]].sum() == pytest.approx(notes.held_profile(found).sum())
    assert found.seconds.sum() < 1.15                  # the slide is transit
    moves = notes.note_moves(found)
    assert moves[1, 0, 2] > 0 and moves.sum() == moves[1, 0, 2]     # one move, upward


def test_a_turn_shorter_than_half_a_second_is_an_ornament_not_two_moves():
    hop = 0.01
    cents = np.concatenate([np.zeros(60), np.full(20, 200.0), np.zeros(60), np.full(60, 400.0)])
    moves = notes.note_moves(notes.held_notes(cents, hop))
    assert moves[:, 0, 2].sum() == 0 and moves[:, 2, 0].sum() == 0 and moves[1, 0, 4] > 0


def test_held_straying_tells_a_plain_sa_from_an_oscillating_ga():
    hop = 0.01
    t = np.arange(100) * hop
    andolan = 300.0 + 25.0 * np.sin(2 * np.pi * 1.5 * t)    # komal Ga swung 25 cents
    cents = np.concatenate([np.full(100, 4.0), [np.nan] * 5, andolan])
    found = notes.held_notes(cents, hop)
    stray = notes.held_straying(found, cents)
    assert stray[0] == pytest.approx(4.0)
    assert stray[3] > 10.0 and stray[[1, 2, 4, 5, 6, 7, 8, 9, 10, 11]].sum() == 0


def test_the_steadiness_cue_favours_a_plain_sa_and_pa_over_swung_notes():
    hop = 0.01
    t = np.arange(80) * hop
    plain = [np.full(80, 100.0 * s) for s in (0, 7)]
    swung = [100.0 * s + 30.0 * np.sin(2 * np.pi * 2.0 * t) for s in (2, 4, 9)]
    cents = np.concatenate([np.concatenate([n, [np.nan] * 5]) for n in plain + swung] * 3)
    steady = note_model._steadiness(notes.held_notes(cents, hop), cents)
    assert int(np.argmax(steady)) in (0, 7) and steady[0] > 0 > steady[2]


@pytest.fixture(scope="module")
def small_model():
    return note_model.NoteModel.from_ragas(ragas.get_raga(r) for r in ("bhupali", "yaman", "kafi"))


@pytest.mark.parametrize("raga", ["bhupali", "yaman", "kafi"])
def test_the_note_model_names_an_unseen_improvisation_at_its_sa(small_model, raga):
    cents = note_model.sung_contour(raga, 40.0, seed=77, singer="female")
    hz = 180.0 * 2.0 ** (cents / 1200.0)
    probabilities, sa = small_model.judge(hz, note_model.HOP_S, sa_hz=180.0)
    assert max(probabilities, key=probabilities.get) == raga and sa == 180.0
    assert sum(probabilities.values()) == pytest.approx(1.0)


def test_the_note_model_finds_a_sa_off_the_a440_grid(small_model):
    sa = 180.0 * 2.0 ** (37 / 1200)                    # 37 cents above F#3
    hz = sa * 2.0 ** (note_model.sung_contour("bhupali", 40.0, seed=5, singer="male") / 1200)
    probabilities, found = small_model.judge(hz, note_model.HOP_S)
    cents = 1200 * np.log2(found / sa)
    assert abs((cents + 600) % 1200 - 600) < 50
    assert max(probabilities, key=probabilities.get) == "bhupali"


def test_the_grammar_allows_bhimpalasis_climb_and_not_kafis():
    with ragas.use_catalogue("ragas_more"):
        bhimpalasi, kafi = (note_model.allowed_moves(ragas.get_raga(r))
                            for r in ("bhimpalasi", "kafi"))
    up = 1
    assert bhimpalasi[up, 0, 3] and not kafi[up, 0, 3]         # S -> g upward
    assert kafi[up, 0, 2] and not bhimpalasi[up, 0, 2]         # S -> R upward
    profile = np.exp(note_model.profile_template(ragas.get_raga("yaman")))
    outside = [1, 3, 5, 8, 10]                                  # r g m d n: not Yaman's
    assert np.allclose(profile[outside], note_model.PROFILE_FLOOR / 12)
    assert profile[4] > profile[9]                              # Ga (vadi) over Dha


def test_the_second_catalogue_adds_six_ragas_to_the_ten():
    sixteen = ragas.load_catalogue("ragas_more")
    assert len(sixteen) == 16 and set(ragas.load_catalogue()) < set(sixteen)
    assert set(sixteen["deshkar"].swaras) == set(sixteen["bhupali"].swaras)
    with ragas.use_catalogue("ragas_more"):
        assert ragas.get_raga("deskar").id == "deshkar"     # the corpus's spelling
        assert len(ragas.raga_ids()) == 16
    assert len(ragas.raga_ids()) == 10


def test_another_catalogue_keeps_its_generated_files_apart(monkeypatch, tmp_path):
    from ragalib import paths

    monkeypatch.setenv("RAGALIB_DATA", str(tmp_path))
    monkeypatch.delenv("RAGALIB_QUICK", raising=False)
    ten = paths.models_dir()
    with ragas.use_catalogue("ragas_more"):
        sixteen = paths.models_dir()
    assert ten == tmp_path / "models"
    assert sixteen.parent.parent == tmp_path / "catalogues" and sixteen.name == "models"


def entry(**change):
    base = {"id": "new", "name": "New", "thaat": "Bilawal", "time": "any", "swaras": ["S", "R"],
            "aroha": "S R S'", "avaroha": "S' R S", "pakad": "S R S", "vadi": "S",
            "samvadi": "R", "nyas": ["S"], "andolan": [], "movements": []}
    return {**base, **change}


@pytest.mark.parametrize("ragas_list, reason", [
    ([entry(swaras=["S", "X"])], "unknown swara 'X'"),
    ([entry(aroha="")], "its aroha is empty"),
    ([entry(), entry()], "'new' is given twice"),
    ([entry(id="yaman")], "'yaman' is given twice"),
])
def test_a_bad_catalogue_entry_is_one_line_naming_the_file(tmp_path, ragas_list, reason):
    path = tmp_path / "mine.json"
    (tmp_path / "ragas.json").write_text(ragas.CATALOGUE_PATH.read_text())
    path.write_text(json.dumps({"extends": "ragas.json", "ragas": ragas_list}))
    with pytest.raises(RagalibError, match=reason) as caught:
        ragas.load_catalogue(path)
    assert "mine.json" in str(caught.value) and "\n" not in str(caught.value)


def test_a_tonic_in_hz_is_accepted_as_text():
    from ragalib.melody.tonic import Tonic

    assert Tonic.parse("176.6").hz == pytest.approx(176.6)
    assert Tonic.parse("146.8 Hz").note == "146.8 Hz"
    with pytest.raises(RagalibError):
        Tonic.parse("nan")


def test_detect_and_report_folder_read_pitch_tracks(tmp_path):
    env_data = tmp_path / "data"
    folder = tmp_path / "tracks"
    folder.mkdir()
    for raga, seed in (("bhupali", 3), ("kafi", 4)):
        cents = note_model.sung_contour(raga, 30.0, seed=seed, singer="male")
        hz = np.nan_to_num(200.0 * 2.0 ** (cents / 1200), nan=0.0)
        write_csv(folder / f"{raga}.csv", hz)
    (folder / "index.csv").write_text("file,raga,sa_hz\nbhupali.csv,bhupali,200\n"
                                      "kafi.csv,kafi,200\nmissing.csv,kafi,200\n")
    import os
    import subprocess
    import sys

    env = {**os.environ, "RAGALIB_DATA": str(env_data)}
    detect = subprocess.run([sys.executable, "-m", "ragalib", "detect", str(folder / "bhupali.csv"),
                             "--tonic", "200", "--json"], capture_output=True, text=True,
                            timeout=120, env=env)
    assert detect.returncode == 0, detect.stderr
    answer = json.loads(detect.stdout)
    assert answer["raga"] == "bhupali" and answer["tonic_hz"] == 200.0
    report = subprocess.run([sys.executable, "-m", "ragalib", "report", "folder", "--index",
                             str(folder / "index.csv"), "--excerpt", "10"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert report.returncode == 0, report.stderr
    assert "missing.csv: no such file" in report.stderr
    assert "6 items judged" in report.stdout and "note model, Sa given" in report.stdout
    assert "calibration: expected calibration error" in report.stdout
    assert not (env_data / "models" / "default").exists()    # no CNN built for tracks


def test_a_bundle_refuses_to_judge_with_another_catalogue(tmp_path):
    from ragalib.features import DEFAULT
    from ragalib.models import cnn
    from ragalib.models.bundle import load_bundle, save_bundle
    from tests.test_cnn import FAST, separable

    net, _ = cnn.train(separable(), FAST)
    save_bundle(tmp_path / "b", net, labels=["bhupali", "yaman"], config=DEFAULT, settings=FAST)
    assert load_bundle(tmp_path / "b").labels == ["bhupali", "yaman"]
    with ragas.use_catalogue("ragas_more"), pytest.raises(RagalibError,
                                                          match="catalogue 'ragas'"):
        load_bundle(tmp_path / "b")


@pytest.mark.skipif(not REAL_DEV.is_dir(), reason="shared/real-dev is not beside the checkout")
def test_every_real_dev_track_judged_whole_is_right_among_sixteen():
    with ragas.use_catalogue("ragas_more"):
        model = note_model.ensure_note_model()
        wrong = []
        for path in sorted((REAL_DEV / "pitch").glob("*.npz")):
            track = pitch_track.read_pitch_track(path)
            probabilities, _ = model.judge(track.hz, track.hop_s, sa_hz=track.sa_hz)
            if max(probabilities, key=probabilities.get) != ragas.get_raga(track.raga).id:
                wrong.append(path.name)
    assert wrong == []


def test_an_index_names_its_problems_one_line_each(tmp_path):
    from ragalib.evaluation.folder import read_index

    write_csv(tmp_path / "a.csv", [220.0] * 30)
    (tmp_path / "index.csv").write_text("file,raga,sa_hz\na.csv,yaman,220\na.csv,durga,220\n"
                                        ",,\ndrone.mp3,,138\n")
    said = []
    rows = read_index(tmp_path / "index.csv", report=said.append)
    assert [(r["path"].name, r["raga"], r["tonic_hz"]) for r in rows] == [("a.csv", "yaman", 220.0)]
    assert len(said) == 1 and "line 3: raga 'durga' is not in the catalogue" in said[0]
    (tmp_path / "index.csv").write_text("file,raga,sa_hz\na.csv,yaman,high\n")
    with pytest.raises(RagalibError, match="index.csv: line 2: sa_hz 'high'"):
        read_index(tmp_path / "index.csv")
    (tmp_path / "index.csv").write_text("name,label\n")
    with pytest.raises(RagalibError, match="needs the columns file, raga"):
        read_index(tmp_path / "index.csv")


def test_a_melody_off_every_step_holds_no_note_and_says_so(small_model):
    assert len(notes.held_notes(np.full(100, 50.0), 0.01)) == 0     # a quarter-tone off Sa
    assert len(notes.held_notes(np.full(100, np.nan), 0.01)) == 0
    sparse = notes.held_notes(np.array([700.0, np.nan, np.nan] * 100), 0.01)
    assert set(sparse.step) == {7}                                   # Pa, not a made-up Sa
    with pytest.raises(RagalibError, match="holds no note"):
        small_model.judge(np.full(300, 150.0 * 2 ** (50 / 1200)), 0.01, sa_hz=150.0)


def test_a_track_whose_times_jump_is_one_line_not_all_the_memory(tmp_path):
    path = tmp_path / "gap.csv"
    path.write_text("0 150\n0.01 150\n0.02 150\n1e9 150\n")
    with pytest.raises(RagalibError, match="gap.csv: the times jump by 1e\\+09 s at row 4"):
        pitch_track.read_pitch_track(path)


@pytest.mark.parametrize("ragas_list, reason", [
    ([1], "a raga entry must be an object"),
    ([entry(aliases="kalyan")], "aliases must be a list"),
])
def test_a_malformed_entry_is_one_line_too(tmp_path, ragas_list, reason):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"ragas": ragas_list}))
    with pytest.raises(RagalibError, match=reason):
        ragas.load_catalogue(path)


def test_an_alias_equal_to_the_id_is_no_second_raga_and_a_parent_edit_is_seen(tmp_path):
    parent, child = tmp_path / "base.json", tmp_path / "child.json"
    parent.write_text(json.dumps({"ragas": [entry(id="p1")]}))
    child.write_text(json.dumps({"extends": "base.json", "ragas": [entry(id="c1",
                                                                         aliases=["C1", "x"])]}))
    assert list(ragas.load_catalogue(child)) == ["c1", "p1"]
    assert ragas.load_catalogue(child)["c1"].aliases == ("x",)
    import os
    import time

    parent.write_text(json.dumps({"ragas": [entry(id="p2")]}))
    later = time.time_ns() + 10**9
    os.utime(parent, ns=(later, later))
    assert list(ragas.load_catalogue(child)) == ["c1", "p2"]


def test_read_melody_takes_a_track_as_written_and_follows_an_audio_files_melody(tmp_path):
    import soundfile

    track = pitch_track.read_melody(write_csv(tmp_path / "t.csv", [0, 220, 221, 0]))
    assert track.hz[1] == 220
    t = np.arange(2 * 22050) / 22050
    soundfile.write(tmp_path / "a.wav", sum(0.3 / k * np.sin(2 * np.pi * 220 * k * t)
                                            for k in (1, 2, 3)), 22050)
    heard = pitch_track.read_melody(tmp_path / "a.wav")
    assert abs(np.nanmedian(1200 * np.log2(heard.hz / 220.0))) < 50     # 20-cent salience bins
    assert heard.hop_s == pytest.approx(512 / 22050)
