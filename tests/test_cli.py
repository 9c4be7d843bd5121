import subprocess
import sys

import pytest
import soundfile


def run(*args):
    return subprocess.run([sys.executable, "-m", "ragalib", *args], capture_output=True,
                          text=True, timeout=120)


def test_synth_writes_a_playable_file(tmp_path):
    out = tmp_path / "yaman.wav"
    result = run("synth", "yaman", "--seconds", "2", "--seed", "4", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "Yaman" in result.stdout
    y, sr = soundfile.read(out)
    assert sr == 22050 and y.shape == (44100,) and abs(y).max() > 0.5
    assert [p.name for p in tmp_path.iterdir()] == ["yaman.wav"]   # no temporary left behind


def test_synth_list_names_the_ten_ragas():
    lines = run("synth", "--list").stdout.splitlines()
    assert len(lines) == 10 and lines[0].startswith("bhairav ")


@pytest.mark.parametrize("args, message", [
    (["nope"], "unknown raga 'nope'"),
    (["yaman", "--seconds", "0"], "must be more than 0"),
    (["yaman", "--tonic", "Z4"], "unknown tonic 'Z4'"),
    (["yaman", "-o", "{tmp}/missing/x.wav"], "does not exist"),
    (["yaman", "-o", "{tmp}"], "is a directory"),
    (["yaman", "-o", "{tmp}/x.mp4"], "cannot write .mp4"),
    (["yaman", "--sr", "0"], "sample rate must be"),
    (["yaman", "--sr", "-5"], "sample rate must be"),
    (["yaman", "--tonic", "C8", "--sr", "8000"], "above what 8000 Hz can hold"),
    (["yaman", "--tonic", "C0"], "outside 20-5000 Hz"),
    (["yaman", "--seconds", "0.00001"], "positive number of seconds"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, message):
    keep = tmp_path / "keep.wav"
    keep.write_bytes(b"untouched")
    args = [a.format(tmp=tmp_path) for a in args]
    if "-o" not in args:
        args += ["-o", str(keep)]
    result = run("synth", *args, "--seconds" if "--seconds" not in args else "--seed", "1")
    assert result.returncode == 2
    assert result.stderr.startswith("ragalib: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert keep.read_bytes() == b"untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.wav"]


def test_dataset_build_with_a_file_for_a_folder_is_one_line(tmp_path):
    (tmp_path / "data").write_text("not a folder")
    import os

    env = {**os.environ, "RAGALIB_DATA": str(tmp_path / "data")}
    result = subprocess.run([sys.executable, "-m", "ragalib", "dataset", "build", "--quick"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("ragalib: ") and len(result.stderr.strip().splitlines()) == 1
    assert str(tmp_path / "data") in result.stderr
