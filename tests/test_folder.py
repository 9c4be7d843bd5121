import subprocess
import sys

import numpy as np
import pytest
import soundfile

from ragalib.corpus.dataset import read_tonics
from ragalib.errors import RagalibError
from ragalib.evaluation import folder as folder_report
from ragalib.features import DEFAULT
from ragalib.models import cnn
from ragalib.models.bundle import load_bundle, save_bundle
from tests.test_cnn import FAST, separable
from tests.test_pipeline import SR, melody


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    ds = separable()
    ds.labels = ["bhupali", "yaman"]
    net, history = cnn.train(ds, FAST)
    folder = tmp_path_factory.mktemp("bundle") / "b"
    save_bundle(folder, net, labels=ds.labels, config=DEFAULT, settings=FAST,
                      history=history)
    return load_bundle(folder)


@pytest.fixture
def recordings(tmp_path):
    (tmp_path / "yaman").mkdir()
    (tmp_path / "bhupali").mkdir()
    (tmp_path / "not_a_raga").mkdir()
    soundfile.write(tmp_path / "yaman" / "one.wav", np.tile(melody(220.0), 2), SR)
    stereo = np.tile(melody(261.63), 2)
    soundfile.write(tmp_path / "bhupali" / "two.flac", np.stack([stereo, 0.5 * stereo], 1), SR)
    soundfile.write(tmp_path / "yaman" / "short.wav", melody(220.0)[:SR], SR)      # 1 s
    (tmp_path / "yaman" / "notes.doc").write_text("not audio")
    (tmp_path / "tonics.csv").write_text("file,tonic_hz\nyaman/one.wav,220\n")
    return tmp_path


def test_a_folder_is_scored_and_every_file_left_out_is_named(bundle, recordings):
    said = []
    score = folder_report.score_folder(recordings, bundle, tonic="catalogue",
                                       report=said.append)
    assert [r["path"].name for r in score.rows] == ["two.flac", "one.wav"]
    assert [r["tonic_hz"] for r in score.rows] == [None, 220.0]
    assert any("not_a_raga" in m for m in said) and any("notes.doc" in m for m in said)
    assert not any("tonics.csv" in m for m in said)
    assert len(score.left_out) == 1 and "short.wav" in score.left_out[0]
    assert score.audio_seconds == pytest.approx(72.0) and score.seconds > 0   # 2 x 36 s
    lines = folder_report.report_lines(score, bundle.labels)
    right = sum(f.raga == r["raga"] for r, f in zip(score.rows, score.found))
    assert f"all: {right}/2 recordings" in "\n".join(lines)
    s = folder_report.summary(score, bundle.labels)
    assert s["tonic"] == (1, 1) and s["confusion"].sum() == 2      # 220 Hz is found from A3
    assert lines[-1].startswith("speed: 72 s judged in")


def test_a_bad_tonics_file_is_one_error_naming_the_line(tmp_path):
    (tmp_path / "tonics.csv").write_text("file,tonic_hz\na.wav,220\nb.wav,loud\n")
    with pytest.raises(RagalibError, match=r"tonics.csv: line 3: expected columns file,tonic_hz"):
        read_tonics(tmp_path)
    (tmp_path / "tonics.csv").write_text("file,tonic_hz\na.wav,-3\n")
    with pytest.raises(RagalibError, match="line 2: tonic_hz must be a positive number"):
        read_tonics(tmp_path)


def test_report_folder_without_a_folder_is_one_line():
    out = subprocess.run([sys.executable, "-m", "ragalib", "report", "folder"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and out.stderr.strip().count("\n") == 0
    assert "report folder needs a folder" in out.stderr


def test_a_detector_with_a_pitch_model_is_also_scored_judge_by_judge(bundle, recordings):
    import copy

    from ragalib.melody import pitch_model

    hybrid = copy.copy(bundle)
    flat = np.full(pitch_model.BINS, 1 / pitch_model.BINS)
    hybrid.pitch_model = pitch_model.PitchModel(tuple(bundle.labels), np.array([flat, flat]),
                                                np.full((2, 12, 12), np.log(1 / 12)))
    score = folder_report.score_folder(recordings, hybrid, tonic="catalogue",
                                       report=lambda message: None)
    assert list(score.judges) == ["CNN alone", "pitch model alone", "CNN and pitch model together"]
    assert all(len(said) == 2 for said in score.judges.values())
    lines = "\n".join(folder_report.report_lines(score, hybrid.labels))
    assert "  CNN alone: " in lines and "  pitch model alone: " in lines
    assert "  CNN and pitch model together: " in lines


def test_the_report_names_the_judge_that_beats_the_pair_on_these_recordings(tmp_path):
    from ragalib.detection.pipeline import Detection

    rows = [{"path": tmp_path / f"{raga}/{i}.wav", "raga": raga, "tonic_hz": None}
            for i, raga in enumerate(("yaman", "kafi", "todi"))]
    found = [Detection(str(r["path"]), said, 0.5, {}, None, None, 0)
             for r, said in zip(rows, ("yaman", "todi", "kafi"))]
    score = folder_report.FolderScore(tmp_path, rows, found, audio_seconds=30.0, seconds=1.0,
                                      judges={"CNN alone": ["kafi", "kafi", "kafi"],
                                              "pitch model alone": ["yaman", "kafi", "todi"]})
    lines = "\n".join(folder_report.report_lines(score, ["kafi", "todi", "yaman"]))
    assert "pitch model alone: 3/3" in lines
    assert "`detect --judge pitch` uses it alone" in lines
    score.judges["pitch model alone"] = ["yaman", "todi", "kafi"]     # no better than the pair
    assert "--judge" not in "\n".join(folder_report.report_lines(score, ["kafi", "todi", "yaman"]))
