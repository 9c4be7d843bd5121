import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from ragalib import RagalibError, audio
from ragalib.detection import pipeline
from ragalib.evaluation import scoring
from ragalib.features import DEFAULT
from ragalib.melody import note_model, pitch, salience, tonic
from ragalib.models import cnn as model
from ragalib.models.bundle import load_bundle, save_bundle
from tests.test_cnn import FAST, separable

SR = 22050


def melody(sa_hz, steps=(0, 2, 4, 0, 7, 0, 4, 2, 0, 9, 7, 0), note=0.5):
    """A harmonic melody that rests on Sa, like a song in Bhupali."""
    t = np.arange(int(note * SR)) / SR
    env = np.minimum(1, np.minimum(t, t[::-1]) / 0.02)
    tones = [env * sum(np.sin(2 * np.pi * k * sa_hz * 2 ** (s / 12) * t) / k for k in range(1, 6))
             for s in steps]
    return np.concatenate(tones * 3).astype(np.float32)


@pytest.mark.parametrize("note, hz", [("D3", 146.83), ("F#3", 185.0), ("A3", 220.0),
                                      ("C4", 261.63), ("E4", 329.63)])
def test_the_tonic_of_a_melody_is_found_in_several_keys(note, hz):
    estimate = tonic.estimate_tonic(melody(hz), sr=SR)
    assert tonic.semitones_to(estimate.hz, note) == 0
    assert estimate.note[:-1] in (note[:-1], {"F#": "Gb"}.get(note[:-1]))


@pytest.mark.parametrize("cents", [-40, -15, 10, 15, 35])
def test_a_tonic_between_the_keys_is_found_within_a_few_cents(cents):
    true = 220.0 * 2 ** (cents / 1200)
    estimate = tonic.estimate_tonic(melody(true), sr=SR)
    assert abs(pitch.cents(estimate.hz, true)) <= 12          # the bins are 20 cents wide


def test_traces_join_agreeing_neighbours():
    found = pipeline.Detection(file="x", raga="a", confidence=1.0, probabilities={}, tonic_hz=None,
                             tonic_note=None, shift=0, segments=[
                                 {"start": s, "end": s + 5.0, "raga": r, "confidence": 0.9}
                                 for s, r in [(0, "a"), (5, "a"), (10, "b"), (20, "a"), (25, "a"),
                                              (30, "a")]])
    assert pipeline.traces(found) == [("a", 0, 10.0), ("a", 20, 35.0)]
    assert pipeline.clock(95) == "1:35"


@pytest.mark.parametrize("note, shift", [("C#4", 0), ("D4", -1), ("C4", 1), ("G3", -6),
                                         ("F#3", -5), ("A#3", 3), ("C#2", 0)])
def test_shift_to_c_sharp_is_the_smallest_in_semitones(note, shift):
    from ragalib.ragas import tonic_hz

    assert tonic.semitones_to(tonic_hz(note)) == shift


def test_transposition_lands_the_tonic_on_c_sharp():
    y = melody(293.66)                               # Sa on D4
    moved = audio.pitch_shift(y, tonic.semitones_to(293.66), sr=SR)
    first = moved[int(0.1 * SR):int(0.4 * SR)]       # the first Sa
    measured = pitch.peak_frequency(first, 277.18, sr=SR, search_cents=150)
    assert abs(pitch.cents(measured, 277.18)) < 10


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    ds = separable()
    net, history = model.train(ds, FAST)
    folder = tmp_path_factory.mktemp("bundle") / "b"
    save_bundle(folder, net, labels=ds.labels, config=DEFAULT, settings=FAST,
                      history=history)
    return folder


def test_detection_follows_the_json_contract(bundle_dir):
    bundle = load_bundle(bundle_dir)
    found = pipeline.detect_signal(np.tile(melody(220.0), 2), bundle, name="x.wav")
    out = found.to_json()
    assert list(out) == ["file", "raga", "confidence", "probabilities", "tonic_hz", "fit",
                         "segments"]                          # fit: the note model's, the default
    assert out["file"] == "x.wav" and out["raga"] in ("bhupali", "yaman")
    assert out["fit"] > note_model.OPEN_SET_FIT
    assert abs(sum(out["probabilities"].values()) - 1) < 1e-3
    assert out["confidence"] == out["probabilities"][out["raga"]]
    assert [list(s) for s in out["segments"]][0] == ["start", "end", "raga", "confidence"]
    assert out["segments"][0]["start"] == 0.0 and out["segments"][0]["end"] == 5.0
    assert abs(tonic.semitones_to(out["tonic_hz"], "A3")) == 0
    json.dumps(out)                                             # serialisable as it is
    plain = pipeline.detect_signal(np.tile(melody(220.0), 2), bundle, tonic=None)
    assert plain.to_json()["tonic_hz"] is None and plain.shift == 0


def test_the_face_detects_a_file_with_the_default_detector(bundle_dir, tmp_path, monkeypatch):
    import ragalib as rl
    from ragalib.detection import default

    bundle = load_bundle(bundle_dir)
    monkeypatch.setattr(default, "detector", lambda folder=None: bundle)   # no minutes of build
    song = tmp_path / "song.wav"
    soundfile.write(song, np.tile(melody(220.0), 2), SR)
    found = rl.detect_file(song)
    assert found.to_json() == pipeline.detect_file(song, bundle).to_json()
    assert rl.detector is default.detector and rl.Detection is pipeline.Detection
    assert {"detect_file", "detector", "load", "get_raga", "melody", "cli"} <= set(dir(rl))


def test_quiet_segments_are_left_out_and_said_so(bundle_dir):
    bundle = load_bundle(bundle_dir)
    y = np.concatenate([melody(220.0)[:5 * SR], np.zeros(5 * SR, np.float32),
                        melody(220.0)[:5 * SR]])
    found = pipeline.detect_signal(y, bundle, tonic=None, separation=False)
    assert found.skipped == [(5.0, 10.0)] and [s["start"] for s in found.segments] == [0.0, 10.0]


def test_the_cli_reports_bad_files_and_goes_on(bundle_dir, tmp_path):
    good = tmp_path / "good.wav"
    soundfile.write(good, np.tile(melody(220.0), 1)[:6 * SR], SR)
    (tmp_path / "text.wav").write_text("not audio")
    soundfile.write(tmp_path / "silent.wav", np.zeros(6 * SR), SR)
    soundfile.write(tmp_path / "short.wav", melody(220.0)[:2 * SR], SR)
    (tmp_path / "empty").mkdir()
    files = [good, tmp_path / "missing.wav", tmp_path / "text.wav", tmp_path / "silent.wav",
             tmp_path / "short.wav", tmp_path / "empty"]
    result = subprocess.run([sys.executable, "-m", "ragalib", "detect", "--json", "--model",
                             str(bundle_dir), *map(str, files)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(good)]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 5 and all(e.startswith("ragalib: ") for e in errors)
    for fragment in ("missing.wav: no such file", "text.wav: not an audio file",
                     "silent.wav: is silent", "short.wav: 2.0 s of audio, but one segment needs 5.0 s",
                     "empty: a folder with no audio files or pitch tracks in it"):
        assert any(fragment in e for e in errors), fragment


def test_a_folder_is_detected_song_by_song_in_name_order(bundle_dir, tmp_path):
    for name, hz in (("b.wav", 220.0), ("a.flac", 261.63)):
        soundfile.write(tmp_path / name, np.tile(melody(hz), 1)[:6 * SR], SR)
    (tmp_path / "notes.txt").write_text("not a song")
    result = subprocess.run([sys.executable, "-m", "ragalib", "detect", "--json", "--model",
                             str(bundle_dir), str(tmp_path)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["file"] for line in result.stdout.splitlines()] == \
        [str(tmp_path / "a.flac"), str(tmp_path / "b.wav")]


def test_sound_that_is_not_music_gets_no_raga_and_a_truncated_file_a_warning(bundle_dir,
                                                                             tmp_path):
    noise = 10 ** (-70 / 20) * np.random.default_rng(0).standard_normal(8 * SR)
    soundfile.write(tmp_path / "noise.wav", noise, SR)
    soundfile.write(tmp_path / "dc.wav", np.full(8 * SR, 0.3), SR)
    soundfile.write(tmp_path / "good.wav", melody(220.0)[:12 * SR], SR, subtype="PCM_16")
    whole = (tmp_path / "good.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(whole[:len(whole) * 2 // 3])   # header still says 12 s
    files = [tmp_path / name for name in ("noise.wav", "dc.wav", "good.wav", "cut.wav")]
    result = subprocess.run([sys.executable, "-m", "ragalib", "detect", "--json", "--model",
                             str(bundle_dir), *map(str, files)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1                                      # dc.wav failed
    noise_line, good, cut = [json.loads(line) for line in result.stdout.splitlines()]
    assert noise_line["raga"] is None and "no melody here" in noise_line["reason"]
    assert good["raga"] is not None and cut["raga"] == good["raga"]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2 and "dc.wav: is silent" in errors[0]
    assert errors[1].startswith("ragalib: warning: ") and "cut.wav: truncated" in errors[1]


def test_music_however_noisy_has_a_pitch_and_noise_has_none():
    rng = np.random.default_rng(1)
    song = np.tile(melody(220.0), 2)
    noisy = song + 2 * np.sqrt(np.mean(song ** 2)) * rng.standard_normal(len(song))
    for y, pitched in ((song, True), (noisy, True), (rng.standard_normal(len(song)), False)):
        raw, removed = salience.saliences(y.astype(np.float32), sr=SR)
        assert (salience.pitchedness(raw, removed) > salience.MIN_PITCHEDNESS) == pitched


def test_a_bad_tonic_is_one_error(bundle_dir, tmp_path):
    good = tmp_path / "good.wav"
    soundfile.write(good, melody(220.0)[:6 * SR], SR)
    result = subprocess.run([sys.executable, "-m", "ragalib", "detect", "--model",
                             str(bundle_dir), "--tonic", "H9", str(good), str(good)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and result.stderr.count("unknown tonic") == 1


def test_a_bundle_with_a_pitch_model_lets_both_judge_the_song(bundle_dir):
    from ragalib.melody import pitch_model

    bundle = load_bundle(bundle_dir)
    y = np.tile(melody(220.0), 2)
    alone = pipeline.detect_signal(y, bundle, tonic="A3", judge="both")   # the CNN alone here
    winner = next(label for label in bundle.labels if label != alone.raga)
    fits = np.full(pitch_model.BINS, 0.01 / pitch_model.BINS)
    fits[[0, 10, 20, 35, 45]] += 0.99 / 5                    # the melody's S R G P D
    profiles = np.array([fits if label == winner else np.full(pitch_model.BINS,
                                                               1 / pitch_model.BINS)
                         for label in bundle.labels])
    bundle.pitch_model = pitch_model.PitchModel(tuple(bundle.labels), profiles,
                                                np.full((2, 12, 12), np.log(1 / 12)))
    both = pipeline.detect_signal(y, bundle, tonic="A3", judge="both")
    assert both.probabilities[winner] > 1e6 * alone.probabilities[winner]   # pulled its way
    assert sum(both.probabilities.values()) == pytest.approx(1.0)
    assert both.segments == alone.segments                   # the timeline stays the CNN's
    pitch = pipeline.detect_signal(y, bundle, tonic="A3", judge="pitch")
    cnn = pipeline.detect_signal(y, bundle, tonic="A3", judge="cnn")
    assert pitch.raga == winner and cnn.probabilities == alone.probabilities
    assert pitch.segments == alone.segments
    notes = pipeline.detect_signal(y, bundle, tonic="A3")       # the default judge
    assert notes.raga == "bhupali" and notes.segments == alone.segments   # S R G P D
    assert notes.tonic_hz == pytest.approx(220.0)
    with pytest.raises(RagalibError, match="unknown judge"):
        pipeline.detect_signal(y, bundle, tonic="A3", judge="jury")
    bundle.pitch_model = None
    with pytest.raises(RagalibError, match="no pitch model"):
        pipeline.detect_signal(y, bundle, tonic="A3", judge="pitch")


def test_songs_are_grouped_by_voice_and_drone_and_scored_per_group():
    rows = [{"instrument": "singer", "drone": True, "raga": "yaman", "tonic_hz": 220.0},
            {"instrument": "flute", "drone": False, "raga": "kafi", "tonic_hz": 220.0},
            {"instrument": "singer", "drone": True, "raga": "todi", "tonic_hz": 220.0}]
    found = [pipeline.Detection("a", "yaman", 1.0, {}, 221.0, "A3", 0),
             pipeline.Detection("b", "kafi", 1.0, {}, 330.0, "E4", 0),
             pipeline.Detection("c", "marwa", 1.0, {}, 110.0, "A2", 0)]
    groups = scoring.song_groups(rows)
    assert groups == {"played, no drone": [1], "sung, with drone": [0, 2]}
    assert scoring.group_scores(found, rows, groups["sung, with drone"]) == ((1, 2), (2, 2))
    assert scoring.group_scores(found, rows, groups["played, no drone"]) == ((1, 1), (0, 1))


def test_combine_is_the_normalised_product():
    np.testing.assert_allclose(pipeline.combine([0.6, 0.4], {"a": 0.2, "b": 0.8}, ["a", "b"]),
                               [0.12 / 0.44, 0.32 / 0.44])
    np.testing.assert_allclose(pipeline.combine([1.0, 0.0], {"a": 0.0, "b": 1.0}, ["a", "b"]),
                               [1.0, 0.0])               # no common ground: the CNN's own


def test_the_pipeline_described_is_the_one_the_bundle_runs(bundle_dir):
    from dataclasses import replace

    bundle = load_bundle(bundle_dir)
    steps = pipeline.describe_pipeline(bundle)
    assert len(steps) == 4 and "shift the audio" in steps[2]
    bundle.config = replace(bundle.config, kind="melody")
    bundle.pitch_model = object()
    steps = pipeline.describe_pipeline(bundle)
    assert "rotate the melody features" in steps[2] and "product of experts" in steps[4]


def test_every_judge_is_scored_on_the_same_songs(bundle_dir, tmp_path):
    from ragalib.evaluation.scoring import judge_scores

    rows = []
    for i, hz in enumerate((220.0, 246.94)):                   # S R G P D: Bhupali
        path = tmp_path / f"song{i}.wav"
        soundfile.write(path, np.tile(melody(hz), 2), SR)
        rows.append({"path": path, "raga": "bhupali", "tonic_hz": hz, "tonic_note": None})
    table = {r["judge"]: r for r in judge_scores(rows, load_bundle(bundle_dir))}
    assert set(table) == {"cnn", "notes (default)"}              # no pitch model: no pair
    assert table["notes (default)"]["right"] == 2
    assert table["notes (default)"]["sa_within_50_cents"] == 2
    assert table["cnn"]["sa_within_50_cents"] is None and table["cnn"]["songs"] == 2
    # both right: the calibration error is what the confidence falls short of certainty
    assert 0 <= table["notes (default)"]["ece"] < 0.5


def test_confidences_pair_every_segment_and_verdict_with_whether_it_was_right():
    from types import SimpleNamespace

    from ragalib.evaluation.scoring import confidences

    rows = [{"raga": "yaman"}, {"raga": "kafi"}]
    found = [SimpleNamespace(raga="yaman", confidence=0.9,
                             segments=[{"raga": "yaman", "confidence": 0.8},
                                       {"raga": "kafi", "confidence": 0.6}]),
             SimpleNamespace(raga="bhairavi", confidence=0.7, segments=[])]
    said = confidences(rows, found)
    assert said["segments"] == ([0.8, 0.6], [True, False])
    assert said["songs"] == ([0.9, 0.7], [True, False])


def test_hardest_songs_put_the_thinnest_margin_first():
    from types import SimpleNamespace

    from ragalib.evaluation.scoring import hardest_songs

    rows = [{"file": f"s{i}.wav", "raga": "yaman", "instrument": "singer"} for i in range(4)]
    sure = [{"raga": "yaman"}] * 4
    found = [SimpleNamespace(raga="yaman", confidence=0.99, segments=sure,
                             probabilities={"yaman": 0.99, "kafi": 0.01}),
             SimpleNamespace(raga="yaman", confidence=0.95, segments=sure[:1] + [{"raga": "kafi"}] * 3,
                             probabilities={"kafi": 0.05, "yaman": 0.95}),
             SimpleNamespace(raga="yaman", confidence=0.7, segments=sure,
                             probabilities={"yaman": 0.7, "bhairavi": 0.3}),
             SimpleNamespace(raga="kafi", confidence=0.99, segments=sure,
                             probabilities={"kafi": 0.99, "yaman": 0.01})]
    table = hardest_songs(rows, found, top=3)
    # the wrong verdict first, then 1/4 segments right (though 95% sure), then 70% sure
    assert [r["song"] for r in table] == ["s3.wav", "s1.wav", "s2.wav"]
    assert table[1]["segments right"] == "1/4" and table[1]["segments said instead"] == "kafi (3)"
    assert table[2]["segments said instead"] == ""


def test_song_scores_count_the_segments_judged():
    from types import SimpleNamespace

    from ragalib.evaluation.scoring import song_scores

    rows = [{"raga": "yaman", "tonic_note": "C#4"}, {"raga": "kafi", "tonic_note": "D4"}]
    found = [SimpleNamespace(raga="yaman", tonic_hz=None,
                             segments=[{"raga": "yaman"}, {"raga": "kafi"}, {"raga": "yaman"}]),
             SimpleNamespace(raga="yaman", tonic_hz=None, segments=[{"raga": "kafi"}])]
    scores = song_scores(found, rows)
    assert scores["segments judged"] == 4 and scores["segment accuracy"] == 0.75
    assert scores["song accuracy"] == 0.5 and scores["tonic pitch class right"] is None
