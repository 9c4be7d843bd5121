"""Hostile input, round 3: a small file cannot eat the memory, the data folder cannot run
code, signals stop cleanly, damaged caches are rebuilt, FIFOs are never opened, edited models
are refused, and every failure is one line."""

import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile

from ragalib import RagalibError, audio
from ragalib.errors import printable
from ragalib.features import DEFAULT
from tests.test_pipeline import melody
from tests.test_serving import songs, tiny_bundle, write_song  # noqa: F401  (songs: a fixture)

SR = DEFAULT.sr


def run(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "ragalib", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def one_line(result):
    lines = result.stderr.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("ragalib: ") and "Traceback" not in result.stderr


def test_a_header_that_says_4_hz_is_one_line_not_all_the_memory(tmp_path):
    path = tmp_path / "tiny_rate.wav"
    soundfile.write(path, np.resize(melody(220.0), 50_000), 4)
    with pytest.raises(RagalibError, match="sample rate of 4 Hz is outside"):
        audio.load(path)
    result = run("detect", str(path))
    assert result.returncode == 1 and one_line(result) and "4 Hz" in result.stderr


def test_a_long_file_is_decoded_only_in_its_first_part(tmp_path, monkeypatch):
    monkeypatch.setattr(audio, "MAX_SECONDS", 2.0)
    path = write_song(tmp_path / "long.flac", 5, sr=44100, stereo=True)
    with pytest.warns(UserWarning, match=r"analysing 0.0333333 min|decodes at most 2 s"):
        y = audio.load(path, sr=SR)
    assert len(y) == 2 * SR
    with pytest.raises(RagalibError, match="at most 0.0333333 min is analysed"):
        audio.check_length(path)
    assert len(audio.load(path, sr=SR, duration=1.0)) == SR     # asked for less: no warning


def test_the_evidence_cache_round_trips_and_never_unpickles(tmp_path):
    from ragalib.detection.evidence import Evidence, Transposition, read_evidence, write_evidence

    ev = Evidence(info=Transposition(220.0, "A3", 4), loud=np.array([True, False]),
                  features={DEFAULT: np.ones((1, 216, 13), np.float32)},
                  pitch={"yaman": 0.75, "kafi": 0.25}, notes={"yaman": 0.9, "kafi": 0.1},
                  notes_sa_hz=219.5, notes_fit=-1.9)
    path = tmp_path / "entry.npz"
    write_evidence(path, {"default": ev}, [(UserWarning, "a warning")])
    out, heard = read_evidence(path)
    back = out["default"]
    assert back.info == ev.info and back.pitch == ev.pitch and back.notes_fit == ev.notes_fit
    assert np.array_equal(back.features[DEFAULT], ev.features[DEFAULT])
    assert heard == [(UserWarning, "a warning")]

    marker = tmp_path / "ran"

    class Planted:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path.write_bytes(pickle.dumps(Planted()))
    with pytest.raises(Exception):
        read_evidence(path)
    np.save(tmp_path / "object.npy", np.array([Planted()], dtype=object), allow_pickle=True)
    shutil.move(tmp_path / "object.npy", path)
    with pytest.raises(Exception):
        read_evidence(path)
    assert not marker.exists()


def test_a_damaged_similarity_index_says_why_and_a_mismatched_one_is_one_line(tmp_path):
    from ragalib import similarity

    good = np.eye(3, dtype=np.float32)
    meta = {"key": "k", "model_key": "m", "files": ["a", "b", "c"], "digests": ["1", "2", "3"],
            "ragas": [None, None, None], "dim": 3}
    cases = {"truncated": None, "empty": b"", "nan": good * np.nan, "not unit": good * 2}
    for name, content in cases.items():
        path = tmp_path / f"{name}.npz"
        if isinstance(content, np.ndarray):
            np.savez(path, embeddings=content, meta=np.array(json.dumps(meta)))
        elif content is None:
            np.savez(path, embeddings=good, meta=np.array(json.dumps(meta)))
            path.write_bytes(path.read_bytes()[:100])
        else:
            path.write_bytes(content)
        with pytest.raises(ValueError) as why:
            similarity._read_saved(path)
        assert "\n" not in str(why.value)
    index = similarity.Index(["a", "b", "c"], [None] * 3, good, "cnn", "k", tmp_path)
    with pytest.raises(RagalibError, match="3-number embeddings and the model makes 5"):
        index.neighbours(np.ones(5))


def test_a_fifo_is_refused_without_being_opened(tmp_path):
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(RagalibError, match="not a regular file"):
        audio.check_readable(fifo)
    result = run("detect", str(fifo), timeout=60)
    assert result.returncode == 1 and one_line(result) and "not a regular file" in result.stderr
    assert time.monotonic() - started < 60


def test_sigterm_stops_like_ctrl_c_and_leaves_no_temporary_file(tmp_path):
    out = tmp_path / "long.wav"
    process = subprocess.Popen([sys.executable, "-m", "ragalib", "synth", "yaman", "--seconds",
                                "3600", "-o", str(out)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(4.0)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 143, err
    assert err.strip() == "ragalib: terminated"
    assert list(tmp_path.iterdir()) == []


def test_bad_settings_and_arguments_are_one_line_each(tmp_path):
    for args, env, reason in ((("serve", "--port", "99999"), {}, "port from 0 to 65535"),
                              (("serve", "--port", "-1"), {}, "at least 0"),
                              (("synth", "--list"), {"RAGALIB_QUICK": "banana"}, "RAGALIB_QUICK"),
                              (("detect", str(tmp_path)), {"RAGALIB_WORKERS": "²"},
                               "RAGALIB_WORKERS")):
        result = run(*args, env=env)
        assert result.returncode != 0 and one_line(result), (args, result.stderr)
        assert reason in result.stderr, (args, result.stderr)


def test_a_manifest_with_a_word_for_a_number_is_one_line(tmp_path):
    from ragalib.corpus.songs import MANIFEST, read_manifest

    (tmp_path / MANIFEST).write_text("file,raga,tonic_hz,bpm,seconds,percussion,drone,seed\n"
                                     "a.wav,yaman,220,fast,30,True,False,1\n")
    with pytest.raises(RagalibError, match="line 2: not a manifest row"):
        read_manifest(tmp_path)


def test_names_are_printed_as_text_a_terminal_cannot_act_on():
    assert printable("new\nline\x1b[2J\udcff.wav") == "new\\nline\\x1b[2J\\udcff.wav"
    from ragalib.serving.app import NAME_BYTES, upload_name

    assert upload_name("a\x00b.wav") == "ab.wav"
    cjk = upload_name("日" * 99 + ".wav")
    assert cjk.endswith(".wav") and len(cjk.encode()) <= NAME_BYTES


def test_a_wav_whose_name_is_not_utf8_is_read(tmp_path):
    path = tmp_path / os.fsdecode(b"\xff\xfe.wav")
    soundfile.write(os.fsencode(path), np.resize(melody(220.0), 6 * SR), SR)
    assert len(audio.load(path, sr=SR)) == 6 * SR and audio.check_readable(path) == path


@pytest.fixture(scope="module")
def bundle_copy(tmp_path_factory):
    return tiny_bundle(tmp_path_factory.mktemp("edited") / "bundle")


@pytest.mark.parametrize("edit, reason", [
    (lambda m: m.update(labels="bhairavikafiyaman"), "labels must be a list"),
    (lambda m: m.update(labels=["1", "2", "3"]), "not distinct ragas of the catalogue"),
    (lambda m: m.update(info="text"), "info must be an object"),
    (lambda m: m["feature_config"].update(segment_seconds=10.0), "takes segments of shape"),
    (lambda m: m["feature_config"].update(kind="chroma"), "takes segments of shape"),
])
def test_an_edited_bundle_is_refused_in_one_line(bundle_copy, tmp_path, edit, reason):
    from ragalib.models.bundle import BUNDLE_JSON, load_bundle

    copy = tmp_path / "copy"
    shutil.copytree(bundle_copy, copy)
    meta = json.loads((copy / BUNDLE_JSON).read_text())
    edit(meta)
    (copy / BUNDLE_JSON).write_text(json.dumps(meta))
    with pytest.raises(RagalibError, match=reason) as why:
        load_bundle(copy)
    assert "\n" not in str(why.value)


def test_a_pitch_model_with_impossible_transitions_is_refused(bundle_copy, tmp_path):
    from ragalib.models.bundle import PITCH_FILE, load_bundle

    copy = tmp_path / "copy"
    shutil.copytree(bundle_copy, copy)
    meta = json.loads((copy / PITCH_FILE).read_text())
    meta["transitions"][0][0][0] = 0.7                 # a log probability above 0
    (copy / PITCH_FILE).write_text(json.dumps(meta))
    with pytest.raises(RagalibError, match="transitions must be log probabilities"):
        load_bundle(copy)


@pytest.mark.parametrize("value", [float("nan"), -0.5])
def test_a_pitch_model_with_impossible_numbers_is_refused(bundle_copy, tmp_path, value):
    from ragalib.models.bundle import PITCH_FILE, load_bundle

    copy = tmp_path / "copy"
    shutil.copytree(bundle_copy, copy)
    meta = json.loads((copy / PITCH_FILE).read_text())
    meta["profiles"][0][0] = value
    (copy / PITCH_FILE).write_text(json.dumps(meta))
    with pytest.raises(RagalibError, match="profiles must be finite and not negative"):
        load_bundle(copy)


def test_a_slow_upload_is_408_and_a_long_one_422(songs, tmp_path):  # noqa: F811
    from ragalib.serving import client

    hours = tmp_path / "long.wav"                  # 11.7 minutes at 1 kHz: 1.4 MB
    soundfile.write(hours, np.resize(melody(220.0), 700_000), 1000, subtype="PCM_16")
    with client.start("--upload-seconds", "2", model=songs["bundle"]) as running:
        host, port = running.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as slow:
            slow.sendall(b"POST /detect HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                         b"Content-Type: multipart/form-data; boundary=x\r\n\r\n--x\r\n")
            started = time.monotonic()
            answer = slow.recv(4096).decode(errors="replace")
        assert answer.startswith("HTTP/1.1 408") and time.monotonic() - started < 20
        long = running.post("detect", hours)
        assert long.status_code == 422 and "at most 10 min is analysed" in long.json()["error"]
        limits = running.health()["limits"]
        assert limits["max_seconds"] == audio.MAX_SECONDS and limits["upload_seconds"] == 2.0
