import dataclasses

import numpy as np
import pytest
import soundfile

from ragalib import RagalibError, audio, features, synth
from ragalib.detection import evidence, pipeline
from ragalib.evaluation import scoring
from ragalib.features import DEFAULT, FeatureConfig
from ragalib.melody import pitch_model, salience
from ragalib.melody.tonic import Tonic
from ragalib.models.bundle import load_bundle
from ragalib.ragas import tonic_hz
from tests.test_pipeline import bundle_dir, melody  # noqa: F401  (bundle_dir: a fixture)

SR = synth.SR


@pytest.fixture(scope="module")
def learned():
    return pitch_model.fit([(r, synth.improvise(r, 10.0, seed=1), tonic_hz("C#4"))
                            for r in ("yaman", "bhupali")])


def test_the_spectrum_is_computed_once_for_the_tonic_and_the_pitch_model(monkeypatch, learned):
    calls = []
    real = salience._cqt

    def counted(y, sr, hop_length):
        calls.append(np.shape(y))
        return real(y, sr, hop_length)

    monkeypatch.setattr(salience, "_cqt", counted)
    song = evidence.PreparedSong(synth.improvise("yaman", 11.0, seed=3), sr=SR)
    info = pipeline.resolve_tonic(song, "auto", pitch_model=learned)
    found = evidence.gather(song, info, [DEFAULT, FeatureConfig(kind="chroma")],
                            pitch_model=learned, pitch_segments=True)
    assert len(calls) == 1            # drone, tonic, whole-song verdict, every segment
    assert found.pitch == learned.classify(song.y, sr=SR, tonic_hz=info.tonic_hz)
    assert len(found.pitch_segments) == found.loud.sum() == 2
    assert set(found.features) == {DEFAULT, FeatureConfig(kind="chroma")}


def test_pitch_class_features_rotate_and_others_hear_the_shifted_audio():
    y = synth.improvise("bhupali", 6.0, seed=2)
    song = evidence.PreparedSong(y, sr=SR)
    chroma = FeatureConfig(kind="chroma")
    np.testing.assert_array_equal(song.features(chroma, 2),
                                  features.transpose(song.features(chroma), 2, config=chroma))
    shifted = song.shifted(2)
    np.testing.assert_allclose(song.features(DEFAULT, 2),
                               features.extract(shifted[None, :DEFAULT.segment_samples],
                                                config=DEFAULT))
    assert song.shifted(2) is shifted                        # computed once


def test_a_silent_song_is_refused_by_name():
    with pytest.raises(RagalibError, match="quiet.wav: every segment is silent"):
        evidence.PreparedSong(np.zeros(6 * SR, np.float32), sr=SR,
                              name="quiet.wav").segments(DEFAULT)


def test_songs_analysed_in_workers_are_judged_as_one_song_is(bundle_dir, learned, tmp_path,
                                                             monkeypatch):
    monkeypatch.setenv("RAGALIB_DATA", str(tmp_path / "data"))      # analysed, not read back
    bundle = load_bundle(bundle_dir)
    bundle.pitch_model = None
    rows = []
    for i, hz in enumerate((220.0, 261.63, 196.0, 246.94)):
        path = tmp_path / f"song{i}.wav"
        soundfile.write(path, np.tile(melody(hz), 2), SR)
        rows.append({"path": path, "raga": "a", "tonic_note": "A3"})
    variants = {name: scoring.VARIANTS[name] for name in ("default (auto tonic, separation)",
                                                          "no separation", "true tonic given")}
    gathered = list(evidence.gather_songs(rows, variants, [bundle.config], sr=SR,
                                          tonic_model=learned, pitch_model=learned, workers=2))
    for row, found in zip(rows, gathered):
        y = soundfile.read(row["path"], dtype="float32")[0]
        for name, variant in variants.items():
            tonic_arg = (Tonic.given(row["tonic_note"]) if variant["tonic"] == Tonic.true()
                         else variant["tonic"])
            one = pipeline.detect_signal(y, bundle, tonic=tonic_arg, pitch_model=learned,
                                         separation=variant["separation"], judge="both")
            batch = pipeline.decide(found[name], bundle)
            assert batch.raga == one.raga and batch.tonic_note == one.tonic_note
            assert batch.probabilities == pytest.approx(one.probabilities, abs=1e-6)
            assert batch.segments == one.segments
            heard = audio.suppress_percussion(y) if variant["separation"] else y
            assert found[name].pitch == learned.classify(
                heard, sr=SR, tonic_hz=found[name].info.tonic_hz)


def test_a_tonic_is_a_value_parsed_once_from_what_a_caller_wrote():
    assert Tonic.parse("AUTO") == Tonic.auto() and Tonic.parse(None) == Tonic.none()
    assert Tonic.parse("catalogue") == Tonic.catalogue() and Tonic.parse("true") == Tonic.true()
    assert Tonic.parse("D4") == Tonic.given("D4") == Tonic("given", tonic_hz("D4"), "D4")
    assert Tonic.parse(220.0) == Tonic("given", 220.0, "220.0 Hz")
    assert Tonic.parse(Tonic.auto()) is not None and Tonic.parse(Tonic.none()).how == "none"
    with pytest.raises(RagalibError, match="tonic"):
        Tonic.parse("Q#4")
    song = evidence.PreparedSong(np.zeros(SR, np.float32), sr=SR)
    assert evidence.resolve_tonic(song, Tonic.given("C#4")).shift == 0
    assert evidence.resolve_tonic(song, "D4").shift == -1     # text still works, parsed once
    with pytest.raises(RagalibError, match="evaluation"):
        evidence.resolve_tonic(song, Tonic.true())


def _gather_counted(rows, learned, monkeypatch, *, key="fitted in test_evidence"):
    """:func:`evidence.gather_songs` in this process, and how many songs it analysed."""
    learned = dataclasses.replace(learned, key=key)        # a key, as a fitted model has
    calls = []
    real = evidence._gather_signal
    monkeypatch.setattr(evidence, "_gather_signal",
                        lambda path, **kw: calls.append(path) or real(path, **kw))
    variants = {"default": scoring.VARIANTS["default (auto tonic, separation)"],
                "true tonic": scoring.VARIANTS["true tonic given"]}
    found = list(evidence.gather_songs(rows, variants, [DEFAULT], sr=SR, tonic_model=learned,
                                       pitch_model=learned, workers=1))
    return found, len(calls)


def test_a_song_analysed_again_is_read_back_until_its_bytes_change(learned, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv("RAGALIB_DATA", str(tmp_path / "data"))
    path = tmp_path / "song.wav"
    soundfile.write(path, melody(220.0)[:12 * SR], SR, subtype="PCM_16")
    whole = path.read_bytes()
    (tmp_path / "cut.wav").write_bytes(whole[:len(whole) * 2 // 3])     # header says 12 s
    rows = [{"path": path, "tonic_note": "A3"}, {"path": tmp_path / "cut.wav", "tonic_note": "A3"}]
    with pytest.warns(evidence.RagalibWarning, match="cut.wav: truncated"):
        first, analysed = _gather_counted(rows, learned, monkeypatch)
    assert analysed == 2
    with pytest.warns(evidence.RagalibWarning, match="cut.wav: truncated"):  # said again
        again, analysed = _gather_counted(rows, learned, monkeypatch)
    assert analysed == 0
    for one, two in zip(first, again):
        for name in one:
            assert one[name].info == two[name].info and one[name].pitch == two[name].pitch
            np.testing.assert_array_equal(one[name].features[DEFAULT], two[name].features[DEFAULT])
    rows[0]["tonic_note"] = "B3"                   # another true Sa: analysed again
    assert _gather_counted(rows[:1], learned, monkeypatch)[1] == 1
    soundfile.write(path, melody(247.0)[:12 * SR], SR, subtype="PCM_16")
    changed, analysed = _gather_counted(rows[:1], learned, monkeypatch)
    assert analysed == 1 and changed[0]["default"].info != first[0]["default"].info


def test_a_damaged_cache_entry_is_said_and_the_song_analysed_again(learned, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv("RAGALIB_DATA", str(tmp_path / "data"))
    path = tmp_path / "song.wav"
    soundfile.write(path, melody(220.0)[:12 * SR], SR)
    rows = [{"path": path, "tonic_note": "A3"}]
    first, _ = _gather_counted(rows, learned, monkeypatch)
    [entry] = (tmp_path / "data").rglob("*.npz")
    entry.write_bytes(entry.read_bytes()[:100])
    with pytest.warns(evidence.RagalibWarning, match="damaged cache"):
        again, analysed = _gather_counted(rows, learned, monkeypatch)
    assert analysed == 1 and again[0]["default"].info == first[0]["default"].info
    assert _gather_counted(rows, learned, monkeypatch)[1] == 0           # mended
    assert not [p for p in entry.parent.iterdir() if p.name.startswith(".")]


def test_a_model_without_a_key_is_never_cached_against(learned, tmp_path, monkeypatch):
    monkeypatch.setenv("RAGALIB_DATA", str(tmp_path / "data"))
    soundfile.write(tmp_path / "song.wav", melody(220.0)[:6 * SR], SR)
    rows = [{"path": tmp_path / "song.wav", "tonic_note": "A3"}]
    assert [_gather_counted(rows, learned, monkeypatch, key="")[1] for _ in "ab"] == [1, 1]
    assert not (tmp_path / "data").exists() or not list((tmp_path / "data").rglob("*.npz"))


def test_the_pitch_model_a_call_uses_is_resolved_in_one_place(monkeypatch):
    from ragalib.detection.evidence import pitch_model_for

    fitted = []
    monkeypatch.setattr(pitch_model, "ensure_pitch_model",
                        lambda: fitted.append("learned") or "learned")
    assert pitch_model_for("given", "bundle's") == "given"
    assert pitch_model_for(None, "bundle's") == "bundle's"
    assert pitch_model_for(None, None, tonics=[Tonic.given(277.2)]) is None and not fitted
    assert pitch_model_for(None, None, tonics=[Tonic.none(), "auto"]) == "learned"
    assert pitch_model_for(None, tonics=[]) is None and fitted == ["learned"]
