""""None of these ragas", and learning from a user's own recordings with a cross-validated
estimate of what it is worth."""

import json
import re
import os
import subprocess
import sys

import numpy as np
import pytest

from ragalib import RagalibError, ragas
from ragalib.detection.pipeline import Detection, none_fits
from ragalib.detection.track import detect_track
from ragalib.evaluation import folds
from ragalib.melody import note_learning, note_model, pitch_track
from ragalib.util.stats import mcnemar
from tests.test_real_singing import write_csv


@pytest.fixture(scope="module")
def small_model():
    return note_model.NoteModel.from_ragas(ragas.get_raga(r) for r in ("bhupali", "yaman", "kafi"))


def sung(raga, seed, sa_hz=200.0, seconds=40.0):
    cents = note_model.sung_contour(raga, seconds, seed=seed, singer="female")
    return pitch_track.PitchTrack(sa_hz * 2.0 ** (cents / 1200), note_model.HOP_S, f"{raga}.csv")


def test_a_detection_under_the_fit_threshold_names_no_raga_but_the_closest():
    found = Detection(file="x.wav", raga="kafi", confidence=0.9,
                      probabilities={"kafi": 0.9, "yaman": 0.1}, tonic_hz=200.0,
                      tonic_note="G3", shift=0, fit=note_model.OPEN_SET_FIT - 0.3,
                      closest="kafi")
    flagged = none_fits(found).to_json()
    assert flagged["raga"] is None and flagged["closest"] == "kafi"
    assert flagged["reason"].startswith("none of the 2 catalogue ragas fits")
    assert flagged["fit"] == pytest.approx(note_model.OPEN_SET_FIT - 0.3, abs=1e-3)
    kept = none_fits(found, threshold=found.fit - 0.01).to_json()
    assert kept["raga"] == "kafi" and "reason" not in kept and "closest" not in kept


def test_a_raga_outside_the_model_is_none_of_these_and_one_inside_is_named(small_model):
    outside = detect_track(sung("todi", 3), tonic=200.0, model=small_model)
    assert outside.raga is None and outside.closest in small_model.labels
    assert outside.fit < note_model.OPEN_SET_FIT
    inside = detect_track(sung("bhupali", 3), tonic=200.0, model=small_model)
    assert inside.raga == inside.closest == "bhupali" and inside.fit > note_model.OPEN_SET_FIT
    closed = detect_track(sung("todi", 3), tonic=200.0, model=small_model, open_set=False)
    assert closed.raga == outside.closest


def command(*args, data):
    env = {**os.environ, "RAGALIB_DATA": str(data)}
    return subprocess.run([sys.executable, "-m", "ragalib", *args], capture_output=True,
                          text=True, timeout=180, env=env)


@pytest.fixture(scope="module")
def outside_and_inside(tmp_path_factory):
    """A folder of CSV tracks: two ragas of the ten and Sri, which only the second catalogue
    describes (melodies sung from its grammar)."""
    folder = tmp_path_factory.mktemp("open") / "tracks"
    with ragas.use_catalogue("ragas_more"):
        sri = note_model.sung_contour("sri", 40.0, seed=5, singer="male")
    for raga, cents in (("sri", sri),
                        ("bhupali", note_model.sung_contour("bhupali", 40.0, 6, "male")),
                        ("kafi", note_model.sung_contour("kafi", 40.0, 7, "male"))):
        (folder / raga).mkdir(parents=True)
        write_csv(folder / raga / f"{raga}.csv", np.nan_to_num(140.0 * 2 ** (cents / 1200)))
    return folder


def test_detect_says_none_of_these_in_a_line_and_in_json(outside_and_inside, tmp_path):
    track = outside_and_inside / "sri" / "sri.csv"
    text = command("detect", str(track), data=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "none of the 10 catalogue ragas fits (the closest, " in text.stdout
    answer = json.loads(command("detect", str(track), "--json", data=tmp_path).stdout)
    assert answer["raga"] is None and answer["closest"] in ragas.raga_ids()
    assert answer["fit"] < note_model.OPEN_SET_FIT


def test_report_folder_open_set_prints_the_trade_off(outside_and_inside, tmp_path):
    report = command("report", "folder", str(outside_and_inside), "--open-set", data=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "3 recordings judged (1 of ragas outside the catalogue)" in report.stdout
    assert "2/2 recordings (100%" in report.stdout          # the closed-set figure: inside only
    table = report.stdout[report.stdout.index("fit under"):]
    assert "outside, Sa found" in table and "inside, Sa found" in table
    starred = next(line for line in table.splitlines() if "*" in line)
    assert starred.split()[0] == f"{note_model.OPEN_SET_FIT:g}"
    plain = command("report", "folder", str(outside_and_inside), data=tmp_path)
    assert "sri: skipped: not a raga folder" in plain.stderr and "outside" not in plain.stdout


def rows_of(folder, names):
    return [{"path": folder / f"{name}.csv", "raga": raga, "tonic_hz": 200.0}
            for name, raga in names]


def test_folds_refuse_what_cannot_be_cross_validated_in_one_line(tmp_path):
    for k, (name, _) in enumerate((("a", 0), ("b", 0), ("c", 0))):
        write_csv(tmp_path / f"{name}.csv", np.full(200, 200.0 + k))
    (tmp_path / "copy.csv").write_bytes((tmp_path / "a.csv").read_bytes())
    cases = [(rows_of(tmp_path, [("a", "yaman"), ("b", "kafi")]), 5, "fewer than the 5 folds"),
             (rows_of(tmp_path, [("a", "yaman"), ("b", "yaman"), ("c", "yaman")]), 2,
              "one raga only (yaman)"),
             (rows_of(tmp_path, [("a", "yaman"), ("b", "kafi"), ("copy", "kafi")]), 2,
              "are the same recording, filed as yaman and as kafi"),
             (rows_of(tmp_path, [("a", "yaman"), ("b", "kafi")]), 1, "at least 2 folds")]
    for rows, k, reason in cases:
        with pytest.raises(RagalibError, match=re.escape(reason)) as caught:
            folds.deal_folds(rows, k)
        assert "\n" not in str(caught.value)


def test_folds_keep_each_recording_whole_and_deal_each_raga_across_them(tmp_path):
    names = [(f"{r}{i}", r) for r in ("yaman", "kafi") for i in range(3)]
    for k, (name, _) in enumerate(names):
        write_csv(tmp_path / f"{name}.csv", np.full(200, 150.0 + k))
    rows = rows_of(tmp_path, names)
    dealt = folds.deal_folds(rows, 3)
    for raga in ("yaman", "kafi"):
        assert sorted(f for f, row in zip(dealt, rows) if row["raga"] == raga) == [0, 1, 2]


def test_cross_validation_reports_both_models_and_writes_nothing(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("RAGALIB_DATA", str(data))
    folder = tmp_path / "mine"
    folder.mkdir()
    names = []
    for raga, seeds in (("bhupali", (1, 2)), ("kafi", (3, 4))):
        for seed in seeds:
            write_csv(folder / f"{raga}{seed}.csv",
                      np.nan_to_num(sung(raga, seed, seconds=20.0).hz))
            names.append((f"{raga}{seed}", raga))
    import tqdm.auto

    bars = []

    class Bar(tqdm.auto.tqdm):                    # every bar, to see how far each one got
        def close(self):
            bars.append((self.n, self.total))
            super().close()

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    results, priors = folds.cross_validate(rows_of(folder, names), 2, excerpt=10.0)
    assert bars and all(n == total for n, total in bars)      # none closed short (drawn red)
    assert len(priors) == 2 and {r.fold for r in results} == {0, 1}
    assert {r.source for r in results} == {str(folder / f"{n}.csv") for n, _ in names}
    lines = folds.report_lines(results, priors, 2)
    assert "the grammar alone" in lines[1] and "the grammar + your recordings" in lines[1]
    assert "McNemar" in lines[2]
    assert not data.exists() or not any(p.is_file() for p in data.rglob("*"))


def recording(raga, held, n=4):
    held = np.asarray(held, float)
    counts = tuple((held, np.zeros((2, 12, 12))) for _ in range(n))
    return note_learning.RecordingNotes(raga, raga, 200.0, True, held * n * 100, (), counts)


def test_recordings_teach_the_model_only_what_helps_every_one_left_out(small_model):
    yaman = np.zeros(12)
    yaman[[0, 2, 4, 6, 7, 9, 11]] = [3, 2, 4, 0.08, 2, 1.5, 0.08]   # Ma and Ni barely touched
    bhupali, kafi = np.zeros(12), np.zeros(12)
    bhupali[[0, 2, 4, 7, 9]] = [3, 2, 3, 2, 2]
    kafi[[0, 2, 3, 5, 7, 9, 10]] = [3, 2, 2, 2, 2, 1, 2]
    none = np.zeros((2, 12, 12))
    assert small_model.labels[int(np.argmax(small_model.count_scores(yaman, none)))] == "bhupali"
    mine = [recording("yaman", yaman * (1 + 0.1 * k)) for k in range(3)]
    mine += [recording("bhupali", bhupali), recording("kafi", kafi)]
    learned, prior = note_learning.learn(small_model, mine)
    assert prior in note_learning.PRIORS_S
    assert learned.labels[int(np.argmax(learned.count_scores(yaman, none)))] == "yaman"
    assert learned.labels[int(np.argmax(learned.count_scores(bhupali, none)))] == "bhupali"
    assert note_learning.learn(small_model, mine[:2]) == (small_model, None)   # too few
    # a recording the learning would cost (a Bhupali held like that Yaman): nothing learned
    assert note_learning.choose_prior(small_model, mine + [recording("bhupali", yaman)]) is None


def test_own_recordings_in_the_data_folder_are_read_once_and_rendered_takes_ignored(
        tmp_path, monkeypatch):
    from ragalib.paths import recordings_dir

    monkeypatch.setenv("RAGALIB_DATA", str(tmp_path))
    for raga, seed in (("bhupali", 1), ("kafi", 2), ("yaman", 3)):
        (recordings_dir() / raga).mkdir(parents=True, exist_ok=True)
        write_csv(recordings_dir() / raga / f"mine{seed}.csv",
                  np.nan_to_num(sung(raga, seed, seconds=20.0).hz))
    (recordings_dir() / "kafi" / "synth_v1_take1.wav").write_bytes(b"not read")
    base = note_model.ensure_note_model(own_recordings=False)
    try:
        model, prior, n, n_ragas = note_learning.own_recordings_model(base)
        assert n == n_ragas == 3 and (prior is None) == (model is base)
        cached = sorted((recordings_dir().parent / "note_counts").glob("*.npz"))
        assert len(cached) == 3
        cached[0].write_bytes(b"damaged")                       # computed again, not trusted
        cached[1].write_bytes(b"")
        note_learning._LEARNED.clear()
        assert note_learning.own_recordings_model(base).recordings == 3
        for entry in cached[:2]:
            with np.load(entry, allow_pickle=False) as saved:
                assert saved["held"].shape == (12,)
        mine = recordings_dir() / "kafi" / "mine2.csv"         # a file about to be judged
        from ragalib.util.files import file_digest

        left = note_learning.own_recordings_model(base, exclude={file_digest(mine)})
        assert left.recordings == 2
    finally:
        note_learning._LEARNED.clear()


def test_mcnemar_counts_the_items_where_two_judges_differ():
    assert mcnemar([1, 1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0])[:2] == (6, 0)
    assert mcnemar([1, 0], [1, 0]) == (0, 0, 1.0)
    assert mcnemar([1] * 6 + [0], [0] * 7)[2] == pytest.approx(2 * 0.5 ** 6)
