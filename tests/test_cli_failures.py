"""The command line's contract on expected failures (issue 17): one ``ragalib:`` line, the
right exit status, nothing half-written; real subprocess calls of ``python -m ragalib``."""

import os
import resource
import signal
import subprocess
import sys
import time

import pytest

from tests.test_cli import run


def one_line(result, status=2):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == status, result.stderr
    assert len(lines) == 1 and lines[0].startswith("ragalib: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("args, message", [
    (["synth", "yaman", "--seconds", "abc", "-o", "x.wav"], "must be a number of seconds"),
    (["synth", "yaman", "--seconds", "2", "--seed", "-1", "-o", "x.wav"], "at least 0, not -1"),
    (["synth", "yaman", "--seconds", "1e9", "-o", "x.wav"], "at most 3600 s"),
    (["synth", "yaman", "--seconds", "30000", "-o", "x.wav"], "at most 3600 s"),
    (["synth", "yaman", "--sr", "44100.5", "-o", "x.wav"], "must be a whole number"),
    (["report", "synth", "--seconds", "2", "--seeds", "-1"], "at least 0, not -1"),
    (["bench", "synth", "--repeat", "0"], "must be at least 1"),
    (["bench", "synth", "--seconds", "1e9"], "at most 3600 s"),
    (["train", "--quick", "--dropout", "1.5"], "must be in [0, 1)"),
    (["train", "--epochs", "0"], "must be at least 1"),
    (["similar", "-k", "0", "x.wav", "--catalog", "."], "must be at least 1"),
    (["detect"], "required: FILE"),
    (["nonsense"], "invalid choice: 'nonsense'"),
])
def test_a_usage_error_is_one_line_with_where_to_find_help(tmp_path, args, message):
    result = subprocess.run([sys.executable, "-m", "ragalib", *args], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    line = one_line(result)
    assert message in line and "--help)" in line and "usage:" not in result.stderr
    assert not list(tmp_path.iterdir())                  # refused before any work


@pytest.mark.parametrize("tonic, message", [("true", "no manifest to read its Sa from"),
                                            ("Q#4", "Q#4")])
def test_a_tonic_detection_cannot_use_is_one_line_before_any_work(tmp_path, tonic, message):
    result = subprocess.run([sys.executable, "-m", "ragalib", "detect", "x.wav", "--tonic", tonic],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 2 and message in one_line(result)
    assert not list(tmp_path.iterdir())


def test_a_file_named_like_an_option_gets_the_fix(tmp_path):
    (tmp_path / "-rec.wav").write_bytes(b"")
    result = subprocess.run([sys.executable, "-m", "ragalib", "detect", "-rec.wav"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert "use -- before a file name that starts with -" in one_line(result)


def test_the_library_refuses_an_absurd_duration_too():
    from ragalib import RagalibError, synth

    with pytest.raises(RagalibError, match="at most 3600 s"):
        synth.improvise("yaman", 1e9)


def _limit_file_size():
    """In the child: files may not grow past 64 kB, and hitting it fails the write (EFBIG)
    instead of killing the process, as a full disk would."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))


def test_a_failed_audio_write_names_the_target_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "x.wav"
    target.write_bytes(b"the old take")
    result = subprocess.run(
        [sys.executable, "-m", "ragalib", "synth", "yaman", "--seconds", "12", "-o",
         str(target)], capture_output=True, text=True, timeout=120,
        preexec_fn=_limit_file_size)
    line = one_line(result)
    assert line.startswith(f"ragalib: {target}: cannot write") and ".tmp" not in line
    assert target.read_bytes() == b"the old take"
    assert [p.name for p in tmp_path.iterdir()] == ["x.wav"]      # no temporary left


def test_a_full_disk_is_named_as_such(tmp_path, monkeypatch):
    import errno

    from ragalib import RagalibError
    from ragalib.util.files import atomic_write

    def fill(tmp):
        raise OSError(errno.ENOSPC, "No space left on device", tmp)

    with pytest.raises(RagalibError) as caught:
        atomic_write(tmp_path / "index.npz", fill)
    assert str(caught.value) == f"{tmp_path / 'index.npz'}: cannot write: no space left on " \
                                "the device"
    assert not list(tmp_path.iterdir())


def as_from_a_terminal():
    """In the child, before it starts: Ctrl-C at its default, as a terminal gives it. A runner
    that starts the tests in the background (``cmd &`` in a script) passes SIGINT on
    ignored, and a Python started so never sees Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt(args, after, cwd):
    """Start ``python -m ragalib args`` in its own process group, press Ctrl-C there (SIGINT
    to the group, as a terminal does) ``after`` seconds later; the result and the seconds it
    took to exit once interrupted."""
    process = subprocess.Popen([sys.executable, "-m", "ragalib", *args], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=as_from_a_terminal)
    try:
        time.sleep(after)
        os.killpg(process.pid, signal.SIGINT)
        pressed = time.monotonic()
        out, err = process.communicate(timeout=60)
        return subprocess.CompletedProcess(args, process.returncode, out, err), \
            time.monotonic() - pressed
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_ctrl_c_prints_one_line_exits_130_and_leaves_nothing(tmp_path):
    # An hour of audio: rendering it takes far longer than the 3 s before Ctrl-C, however
    # fast the machine (600 s once finished first).
    result, _ = interrupt(["synth", "yaman", "--seconds", "3600", "-o", "long.wav"], 3.0,
                          tmp_path)
    assert one_line(result, 130) == "ragalib: interrupted"
    assert not list(tmp_path.iterdir())


WORK = """
import sys, time
from ragalib.util.parallel import map_in_workers

if __name__ == "__main__":
    try:
        for _ in map_in_workers(time.sleep, [30.0] * 4, workers=2):
            pass
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
"""


def test_ctrl_c_stops_worker_processes_at_once(tmp_path):
    script = tmp_path / "work.py"
    script.write_text(WORK, encoding="utf-8")
    process = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE,
                               text=True, start_new_session=True, preexec_fn=as_from_a_terminal,
                               env={**os.environ, "RAGALIB_WORKERS": "2", "TQDM_DISABLE": "1"})
    try:
        time.sleep(6.0)                                   # the workers are asleep in a song
        os.killpg(process.pid, signal.SIGINT)
        pressed = time.monotonic()
        _, err = process.communicate(timeout=30)
        took = time.monotonic() - pressed
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert err.strip() == "interrupted", err                # no worker's traceback
    assert took < 5.0, f"{took:.1f} s to stop"            # not the 30 s a song still takes
    deadline = time.monotonic() + 5.0        # loky's workers and resource tracker follow
    while (left := _group(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert not left, f"processes left behind 5 s after the main one: {left}"


def _group(pgid):
    found = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True)
    return found.stdout.split()


@pytest.mark.parametrize("args, messages, status", [
    (["detect", "missing.wav", "folder"], ["missing.wav: no such file",
                                           "folder: a folder with no audio files or pitch tracks in it"], 1),
    (["detect", "text.wav"], ["text.wav: not an audio file that can be read"], 1),
    (["similar", "folder", "--catalog", "folder"], ["folder: is a directory"], 2),
    (["similar", "text.wav", "--catalog", "folder"], ["text.wav: not an audio file"], 2),
])
def test_bad_paths_are_found_before_any_model_or_index(tmp_path, args, messages, status):
    """With an empty data folder a command that got as far as the model would first build
    the default detector (and say so); these fail at once, write nothing, one line a path."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "text.wav").write_text("not audio")
    data = tmp_path / "data"
    result = subprocess.run([sys.executable, "-m", "ragalib", *args], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path,
                            env={**os.environ, "RAGALIB_DATA": str(data)})
    lines = result.stderr.strip().splitlines()
    assert result.returncode == status and len(lines) == len(messages), result.stderr
    assert all(line.startswith("ragalib: ") and message in line
               for line, message in zip(lines, messages))
    assert not data.exists()


def test_a_folder_that_cannot_hold_files_is_named_as_the_target(tmp_path):
    result = run("synth", "yaman", "--seconds", "2", "-o", "/proc/x.wav")
    line = one_line(result)
    assert line.startswith("ragalib: /proc/x.wav: cannot write") and ".tmp" not in line


def test_a_bundle_that_cannot_be_written_is_one_error_naming_it(tmp_path):
    from ragalib import RagalibError
    from ragalib.features import DEFAULT
    from ragalib.models import cnn
    from ragalib.models.bundle import save_bundle
    from tests.test_cnn import FAST, separable

    net, _ = cnn.train(separable(), FAST)
    (tmp_path / "models").write_text("a file where the models folder should be")
    with pytest.raises(RagalibError, match=r"models/b: cannot write"):
        save_bundle(tmp_path / "models" / "b", net, labels=["a", "b"], config=DEFAULT,
                          settings=FAST)
    assert [p.name for p in tmp_path.iterdir()] == ["models"]


def test_a_file_this_user_may_not_read_is_said_so(tmp_path, monkeypatch):
    """As root every file is readable, so the refusal is simulated where it is checked."""
    from ragalib import RagalibError, audio

    song = tmp_path / "locked.wav"
    song.write_bytes(b"RIFF")
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(RagalibError, match="locked.wav: cannot be read \\(permission denied\\)"):
        audio.load(song)
