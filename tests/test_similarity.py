import numpy as np
import pytest
import soundfile

from ragalib import RagalibError, similarity, synth
from ragalib.features import DEFAULT
from ragalib.melody import pitch_model
from ragalib.models import cnn
from ragalib.models.bundle import load_bundle, save_bundle
from ragalib.ragas import tonic_hz
from tests.test_cnn import FAST, separable

SR = synth.SR


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    ds = separable()
    net, _ = cnn.train(ds, FAST)
    folder = save_bundle(tmp_path_factory.mktemp("b") / "bundle", net, labels=ds.labels,
                               config=DEFAULT, settings=FAST)
    return load_bundle(folder)


@pytest.fixture(scope="module")
def learned():
    return pitch_model.fit([(r, synth.improvise(r, 10.0, seed=1), tonic_hz("C#4"))
                            for r in ("yaman", "bhupali")])


@pytest.fixture()
def catalogue(tmp_path, monkeypatch):
    monkeypatch.setenv("RAGALIB_DATA", str(tmp_path / "data"))
    folder = tmp_path / "songs"
    folder.mkdir()
    for i, (raga, voice) in enumerate([("yaman", "flute"), ("yaman", "plucked"),
                                       ("bhupali", "flute"), ("bhupali", "bowed")]):
        soundfile.write(folder / f"{raga}_{i}.wav",
                        synth.improvise(raga, 6.0, seed=i, voice=voice), SR)
    return folder


def test_embeddings_are_unit_length_and_deterministic(bundle, learned):
    y = synth.improvise("yaman", 6.0, seed=3, voice="flute")
    for method in similarity.METHODS:
        a = similarity.embed(y, bundle, method=method, pitch_model=learned)
        b = similarity.embed(y, bundle, method=method, pitch_model=learned)
        assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-5)
        np.testing.assert_array_equal(a, b)
    assert similarity.embed(y, bundle, pitch_model=learned).shape == (64,)  # the dense layer


def test_a_song_is_never_recommended_for_itself(bundle, learned, catalogue, tmp_path):
    index = similarity.build_index(catalogue, bundle, pitch_model=learned)
    song = catalogue / "yaman_0.wav"
    found = similarity.recommend(song, index, bundle, k=10, pitch_model=learned)
    assert [f for f, _, _ in found] and "yaman_0.wav" not in [f for f, _, _ in found]
    assert len(found) == 3
    similarities = [s for _, _, s in found]
    assert similarities == sorted(similarities, reverse=True)
    copy = tmp_path / "copy.wav"                    # the same song kept elsewhere
    copy.write_bytes(song.read_bytes())
    found = similarity.recommend(copy, index, bundle, k=10, pitch_model=learned)
    assert "yaman_0.wav" not in [f for f, _, _ in found] and len(found) == 3


def test_the_index_is_cached_and_only_a_changed_song_is_embedded_again(bundle, learned,
                                                                       catalogue, monkeypatch):
    first = similarity.build_index(catalogue, bundle, pitch_model=learned,
                                   workers=1)
    assert similarity.index_path(catalogue, "cnn").exists()
    embedded = []
    real = similarity.song_input

    def counting(path, *args, **kwargs):
        embedded.append(path.name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(similarity, "song_input", counting)
    again = similarity.build_index(catalogue, bundle, pitch_model=learned,
                                   workers=1)
    assert embedded == []
    assert again.key == first.key and again.files == first.files
    np.testing.assert_array_equal(again.embeddings, first.embeddings)
    soundfile.write(catalogue / "yaman_1.wav", synth.improvise("marwa", 6.0, seed=9), SR)
    changed = similarity.build_index(catalogue, bundle, pitch_model=learned,
                                     workers=1)
    assert embedded == ["yaman_1.wav"]
    assert changed.key != first.key
    assert not np.allclose(changed.embeddings[changed.files.index("yaman_1.wav")],
                           first.embeddings[first.files.index("yaman_1.wav")])
    same = [f for f in first.files if f != "yaman_1.wav"]
    np.testing.assert_array_equal(changed.embeddings[[changed.files.index(f) for f in same]],
                                  first.embeddings[[first.files.index(f) for f in same]])
    fresh = similarity.build_index(catalogue, bundle, pitch_model=learned,
                                   cache=False, workers=1)
    np.testing.assert_array_equal(fresh.embeddings, changed.embeddings)


def test_indexing_in_worker_processes_gives_the_same_index(bundle, learned, catalogue):
    alone = similarity.build_index(catalogue, bundle, pitch_model=learned,
                                   cache=False, workers=1)
    pooled = similarity.build_index(catalogue, bundle, pitch_model=learned,
                                    cache=False, workers=2)
    assert pooled.files == alone.files
    np.testing.assert_array_equal(pooled.embeddings, alone.embeddings)


def test_a_part_of_the_catalogue_is_embedded_as_in_the_whole_and_never_cached(
        bundle, learned, catalogue):
    whole = similarity.build_index(catalogue, bundle, pitch_model=learned,
                                   cache=False, workers=1)
    part = similarity.build_index(catalogue, bundle, pitch_model=learned, workers=1,
                                  only=whole.files[::2])
    assert part.files == whole.files[::2]
    np.testing.assert_array_equal(part.embeddings, whole.embeddings[::2])
    assert not similarity.index_path(catalogue, "cnn").exists()


def test_empty_missing_or_unreadable_catalogues_are_clear_errors(bundle, learned, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setenv("RAGALIB_DATA", str(tmp_path / "data"))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no songs here")
    with pytest.raises(RagalibError, match="holds no audio files"):
        similarity.build_index(empty, bundle, pitch_model=learned)
    with pytest.raises(RagalibError, match="no such catalogue folder"):
        similarity.build_index(tmp_path / "missing", bundle, pitch_model=learned)
    (empty / "broken.wav").write_bytes(b"this is not audio")
    told = []
    with pytest.raises(RagalibError, match="no song in it could be indexed"):
        similarity.build_index(empty, bundle, pitch_model=learned,
                               report=told.append)
    assert len(told) == 1 and "broken.wav: not an audio file" in told[0]
    assert not similarity.index_path(empty, "cnn").exists()


def test_a_bad_song_is_left_out_and_an_unwritable_cache_still_answers(bundle, learned,
                                                                      catalogue, tmp_path,
                                                                      monkeypatch):
    (catalogue / "aa_short.wav").write_bytes(b"RIFF not really")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the data folder should be")
    monkeypatch.setenv("RAGALIB_DATA", str(blocked))
    told = []
    index = similarity.build_index(catalogue, bundle, pitch_model=learned,
                                   report=told.append)
    assert index.files == ["bhupali_2.wav", "bhupali_3.wav", "yaman_0.wav", "yaman_1.wav"]
    assert len(told) == 2 and "aa_short.wav: not an audio file" in told[0]
    assert "cannot write" in told[1] and "not cached" in told[1]
    assert similarity.recommend(catalogue / "yaman_0.wav", index, bundle, k=2)


def test_precision_at_k_counts_recommendations_in_the_same_raga():
    e = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=np.float32)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    index = similarity.Index(["a1", "a2", "b1", "b2"], ["a", "a", "b", "b"], e, "cnn", "k")
    assert similarity.precision_at_k(index, k=1) == {"precision@1": 1.0, "nearest": 1.0}
    assert similarity.precision_at_k(index, k=3)["precision@3"] == pytest.approx(1 / 3)
    index.ragas = ["a", "b", "a", "b"]
    assert similarity.precision_at_k(index, k=1) == {"precision@1": 0.0, "nearest": 0.0}
    index.ragas[0] = None
    with pytest.raises(RagalibError, match="no manifest"):
        similarity.precision_at_k(index)


def test_agreement_can_be_counted_on_any_label_and_chance_is_a_random_other_song():
    e = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=np.float32)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    index = similarity.Index(["a1", "a2", "b1", "b2"], ["a", "a", "b", "b"], e, "cnn", "k")
    instruments = {"a1": "flute", "a2": "sitar", "b1": "flute", "b2": "sitar"}
    by_instrument = similarity.precision_at_k(index, k=1, labels=[instruments[f] for f in index.files])
    assert by_instrument == {"precision@1": 0.0, "nearest": 0.0}
    assert similarity.chance_agreement(["a", "a", "b", "b"]) == pytest.approx(1 / 3)
    [row, chance] = similarity.quality_table({"toy": index}, instruments, k=1)
    assert row == {"embedding": "toy", "raga precision@1": 1.0, "nearest in raga": 1.0,
                   "nearest, counted": "4/4 songs (100%; 95% interval 51-100%)",
                   "instrument precision@1": 0.0}
    assert chance["raga precision@1"] == pytest.approx(1 / 3)


def test_the_cli_names_a_bad_file_or_catalogue_in_one_line(bundle, tmp_path):
    import subprocess
    import sys

    empty = tmp_path / "empty"
    empty.mkdir()
    song = tmp_path / "song.wav"
    soundfile.write(song, synth.improvise("yaman", 6.0, seed=1), SR)
    for args, message in ((["missing.wav", "--catalog", str(empty)], "missing.wav: no such file"),
                          ([str(song), "--catalog", str(empty)], "holds no audio files"),
                          ([str(song), "--catalog", str(tmp_path / "nowhere")],
                           "no such catalogue folder")):
        result = subprocess.run([sys.executable, "-m", "ragalib", "similar", *args, "--model",
                                 str(bundle.path)], capture_output=True, text=True, timeout=300)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("ragalib: ") and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_models_never_saved_do_not_share_their_cached_embeddings(bundle, learned):
    from dataclasses import replace

    unsaved = replace(bundle, path=None)
    same = similarity._model_key(unsaved, "cnn", learned)
    assert similarity._model_key(replace(bundle, path=None), "cnn", learned) == same
    other = cnn.build_model(bundle.config.input_shape, len(bundle.labels))
    assert similarity._model_key(replace(bundle, path=None, model=other), "cnn", learned) != same
