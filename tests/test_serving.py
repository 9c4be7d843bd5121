"""The detector's service as a client meets it: ``python -m ragalib serve`` on 127.0.0.1,
started and stopped by the tests (even when one fails), its endpoints' contracts, each limit,
and a bounded load that must lose no request."""

import threading
import time

import httpx
import numpy as np
import pytest
import soundfile

from ragalib.detection import pipeline
from ragalib.features import DEFAULT
from ragalib.melody import pitch_model
from ragalib.models import cnn
from ragalib.models.bundle import PITCH_FILE, load_bundle, save_bundle
from ragalib.serving import client
from tests.test_pipeline import melody

SR = DEFAULT.sr
LABELS = ["bhairavi", "kafi", "yaman"]


def tiny_bundle(folder):
    """An untrained network (seeded) and a flat pitch model in a bundle: every contract of
    the service holds whatever the model has learned, and it is made in a second."""
    cnn.seed_everything(0)
    net = cnn.build_model(DEFAULT.input_shape, len(LABELS))
    net.fit(np.zeros((2, *DEFAULT.input_shape)), np.arange(2), epochs=1, verbose=0)  # an optimiser to save
    save_bundle(folder, net, labels=LABELS, config=DEFAULT, settings=cnn.TrainSettings())
    flat = np.full((len(LABELS), pitch_model.BINS), 1 / pitch_model.BINS)
    pitch_model.PitchModel(tuple(LABELS), flat, np.full((len(LABELS), 12, 12), np.log(1 / 12))).save(
        folder / PITCH_FILE)
    return folder


def write_song(path, seconds, *, hz=220.0, sr=SR, stereo=False):
    """A melody resting on Sa at ``hz``, ``seconds`` long."""
    y = np.resize(melody(hz), int(seconds * SR))
    if sr != SR:
        import librosa

        y = librosa.resample(y, orig_sr=SR, target_sr=sr)
    soundfile.write(path, np.stack([y, y], axis=1) if stereo else y, sr)
    return path


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("songs")
    catalog = folder / "catalog"
    catalog.mkdir()
    for n, hz in enumerate((196.0, 220.0, 261.63)):
        write_song(catalog / f"song{n}.wav", 11, hz=hz)
    (folder / "not-audio.wav").write_text("these are words, not sound\n")
    soundfile.write(folder / "silence.wav", np.zeros(6 * SR, np.float32), SR)
    return {"bundle": tiny_bundle(folder / "bundle"), "catalog": catalog,
            "song": write_song(folder / "song.flac", 12, hz=246.94, sr=44100, stereo=True),
            "short": write_song(folder / "short.wav", 2), "clip": write_song(folder / "clip.wav", 5),
            "long": write_song(folder / "long.wav", 120),
            "not_audio": folder / "not-audio.wav", "silence": folder / "silence.wav"}


@pytest.fixture(scope="module")
def server(songs):
    with client.start(model=songs["bundle"], catalog=songs["catalog"]) as running:
        yield running


def test_detect_answers_what_detect_json_answers(server, songs):
    answer = server.post("detect", songs["song"])
    assert answer.status_code == 200
    here = pipeline.detect_file(songs["song"], load_bundle(songs["bundle"])).to_json()
    assert answer.json() == {**here, "file": "song.flac"}
    assert [s["start"] for s in answer.json()["segments"]] == [0.0, 5.0]
    assert server.post("detect", songs["song"], tonic="none").json()["tonic_hz"] is None


def test_health_names_the_model_and_the_page_needs_no_build(server, songs):
    health = server.health()
    assert health["labels"] == LABELS and health["kind"] == DEFAULT.kind
    assert health["model"] == "bundle" and health["in_hand"] == 0
    assert health["catalog"]["songs"] == 3
    page = httpx.get(server.url, timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'fetch("detect"' in page.text and "<script src" not in page.text   # all in one page


def test_similar_recommends_from_the_catalogue_never_the_song_itself(server, songs):
    answer = server.post("similar", songs["catalog"] / "song1.wav", k=2).json()
    assert [r["file"] for r in answer["recommendations"]] in (["song0.wav", "song2.wav"],
                                                              ["song2.wav", "song0.wav"])
    assert server.post("similar", songs["song"], k=0).status_code == 422


@pytest.mark.parametrize("name, params, status, reason", [
    ("not_audio", {}, 415, "not-audio.wav: not an audio file"),
    ("silence", {}, 422, "silence.wav: is silent"),
    ("short", {}, 422, "short.wav: "),
    ("clip", {"tonic": "H9"}, 422, "tonic: "),
    ("clip", {"judge": "jury"}, 422, "judge: choose one of"),
])
def test_each_bad_request_is_one_json_error(server, songs, name, params, status, reason):
    answer = server.post("detect", songs[name], **params)
    assert answer.status_code == status
    assert set(answer.json()) == {"error"} and answer.json()["error"].startswith(reason)
    assert "Traceback" not in answer.text and "/tmp" not in answer.text


def test_requests_that_are_not_uploads_are_json_errors_too(server):
    no_file = httpx.post(f"{server.url}/detect", files={"other": ("a.wav", b"x")}, timeout=10)
    assert no_file.status_code == 422 and "field 'file'" in no_file.json()["error"]
    raw = httpx.post(f"{server.url}/detect", data={"file": "song.wav"}, timeout=10)
    assert raw.status_code == 415 and "multipart" in raw.json()["error"]
    assert httpx.get(f"{server.url}/nowhere", timeout=10).json() == {"error": "not found"}


def test_an_upload_is_kept_under_a_plain_name_of_its_own():
    from ragalib.serving.app import upload_name

    assert [upload_name(n) for n in ("../../etc/x.wav", "..", "", None, "C:\\My\\song.mp3",
                                     "a" * 300 + ".flac")] == \
        ["x.wav", "upload", "upload", "upload", "song.mp3", "a" * 95 + ".flac"]


def test_a_bounded_load_loses_no_request(server, songs):
    result = client.load_test(server.url, [songs["clip"], songs["song"]], requests=48,
                               clients=8)
    print(result.summary())
    assert result.statuses == {200: 48} and len(result.latencies) == 48


@pytest.fixture(scope="module")
def strict(songs):
    """A service that takes one song at a time, none waiting, for one second, up to 8 MiB."""
    with client.start("--concurrent", "1", "--queue", "0", "--timeout", "1", "--max-mb", "8",
                       model=songs["bundle"]) as running:
        yield running


def test_an_upload_over_the_limit_is_413_before_or_while_it_is_read(strict):
    big = {"file": ("big.wav", b"\0" * (9 << 20))}
    told = httpx.post(f"{strict.url}/detect", files=big, timeout=30)
    assert told.status_code == 413 and "8 MiB" in told.json()["error"]

    def chunks():                                  # no Content-Length: counted as it comes
        yield b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n"
        for _ in range(9 * 16):
            yield b"\0" * 65536
    streamed = httpx.post(f"{strict.url}/detect", content=chunks(), timeout=30,
                          headers={"content-type": "multipart/form-data; boundary=x"})
    assert streamed.status_code == 413


def _wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the service did not get there in time"
        time.sleep(0.05)


def test_a_full_queue_is_503_a_slow_song_504_and_health_answers_meanwhile(strict, songs):
    slow = {}
    worker = threading.Thread(target=lambda: slow.update(answer=strict.post("detect",
                                                                            songs["long"])))
    worker.start()
    try:
        _wait_for(lambda: strict.health()["in_hand"] == 1)
        began = time.perf_counter()
        assert strict.health()["in_hand"] == 1
        assert time.perf_counter() - began < 2          # not stuck behind the analysis
        busy = strict.post("detect", songs["clip"])
        assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
        assert "busy" in busy.json()["error"]
    finally:
        worker.join(timeout=60)
    assert slow["answer"].status_code == 504 and "longer than 1 s" in slow["answer"].json()["error"]
    _wait_for(lambda: strict.health()["in_hand"] == 0)   # the thread ends on its own
    assert strict.post("detect", songs["clip"]).status_code == 200


@pytest.mark.parametrize("option", [["--max-mb", "inf"], ["--timeout", "0"], ["--queue", "-1"]])
def test_limits_that_cannot_hold_are_one_line_before_any_work(option):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "ragalib", "serve", "--port", "0", *option],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.startswith("ragalib: serve: --max-mb")


def test_a_port_in_use_is_one_line(server):
    import subprocess
    import sys

    port = server.url.rsplit(":", 1)[1]
    result = subprocess.run([sys.executable, "-m", "ragalib", "serve", "--port", port],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"ragalib: 127.0.0.1:{port}: cannot listen there (Address already in use)"]


def test_the_saved_page_carries_the_service_page_itself():
    import html
    from importlib.resources import files

    from ragalib.serving import client

    page = files("ragalib.serving").joinpath("page.html").read_text(encoding="utf-8")
    frame = client.saved_page(height=400).data
    assert frame.startswith("<div><iframe srcdoc=") and 'height="400"' in frame
    assert html.unescape(frame.split('srcdoc="')[1].split('" width=')[0]) == page
