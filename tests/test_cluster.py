"""The per-song work on a real Dask cluster: a ``distributed.LocalCluster`` of two worker
processes on 127.0.0.1, started for this module and closed by it, pass or fail. Whatever
runs there must give the same bytes as on this machine, in the same order."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from ragalib import RagalibError, similarity
from ragalib.detection import pipeline
from ragalib.models.bundle import load_bundle
from ragalib.util import parallel
from tests.test_parallel import signals
from tests.test_pipeline import bundle_dir, melody  # noqa: F401  (bundle_dir: a fixture)
from tests.test_similarity import bundle, catalogue, learned  # noqa: F401  (fixtures)

SR = 22050


@pytest.fixture(scope="module")
def scheduler():
    with parallel.local_cluster(workers=2) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        assert cluster.dashboard_link.startswith("http://127.0.0.1:")
        yield cluster.scheduler_address


def test_work_on_the_cluster_is_the_same_bytes_in_the_same_order(scheduler):
    here = list(parallel.map_in_workers(np.fft.rfft, signals(), workers=1))
    there = list(parallel.map_in_workers(np.fft.rfft, signals(), scheduler=scheduler))
    assert len(there) == len(here) == 4
    for a, b in zip(here, there):
        np.testing.assert_array_equal(a, b)


def test_a_cluster_task_gets_the_callers_settings_and_its_error_comes_back_in_order(
        scheduler, tmp_path, monkeypatch):
    from functools import partial

    from ragalib import audio
    from tests.test_parallel import _environment_mark

    monkeypatch.setenv("RAGALIB_TEST_MARK", "from the caller")
    assert list(parallel.map_in_workers(_environment_mark, range(4), scheduler=scheduler)) == ["from the caller"] * 4
    paths = [tmp_path / f"missing{i}.wav" for i in range(4)]
    with pytest.raises(RagalibError, match="missing0.wav: no such file"):
        list(parallel.map_in_workers(partial(audio.load, sr=SR), paths, scheduler=scheduler))


def test_batch_detection_on_the_cluster_equals_the_local_one(scheduler, bundle_dir, learned,
                                                             tmp_path):
    the_bundle = load_bundle(bundle_dir)
    paths = []
    for i, hz in enumerate((220.0, 261.63, 196.0)):
        paths.append(tmp_path / f"song{i}.wav")
        soundfile.write(paths[-1], np.tile(melody(hz), 1)[:11 * SR], SR, subtype="PCM_16")
    whole = paths[0].read_bytes()
    (tmp_path / "cut.wav").write_bytes(whole[:len(whole) * 2 // 3])   # a warning, from afar
    soundfile.write(tmp_path / "short.wav", melody(220.0)[:2 * SR], SR)
    paths[1:1] = [tmp_path / "short.wav", tmp_path / "cut.wav"]

    def run(**where):
        with pytest.warns(Warning, match="cut.wav: truncated"):
            found = list(pipeline.detect_files(paths, the_bundle, pitch_model=learned, **where))
        return [(str(p), f.to_json() if isinstance(f, pipeline.Detection) else str(f))
                for p, f in found]

    here, there = run(workers=1), run(scheduler=scheduler)
    assert [p for p, _ in there] == [str(p) for p in paths]                  # in order
    assert "one segment needs 5.0 s" in there[1][1]                          # and goes on
    assert json.dumps(there) == json.dumps(here)                             # the same bytes


def test_the_command_line_prints_the_same_bytes_with_a_scheduler(scheduler, bundle_dir,
                                                                  tmp_path):
    for i, hz in enumerate((220.0, 246.94)):
        soundfile.write(tmp_path / f"song{i}.wav", np.tile(melody(hz), 1)[:6 * SR], SR)
    there = subprocess.run([sys.executable, "-m", "ragalib", "detect", "--json", "--tonic", "A3",
                            "--model", str(bundle_dir), "--scheduler", scheduler, str(tmp_path)],
                           capture_output=True, text=True, timeout=300)
    assert there.returncode == 0, there.stderr
    here = pipeline.detect_files(sorted(tmp_path.glob("*.wav")), load_bundle(bundle_dir),
                               tonic="A3", workers=1)
    assert there.stdout.splitlines() == [json.dumps(found.to_json()) for _, found in here]


def test_indexing_on_the_cluster_gives_the_same_index(scheduler, bundle, learned, catalogue):
    alone = similarity.build_index(catalogue, bundle, pitch_model=learned,
                                   cache=False, workers=1)
    there = similarity.build_index(catalogue, bundle, pitch_model=learned,
                                   cache=False, scheduler=scheduler)
    assert there.files == alone.files
    np.testing.assert_array_equal(there.embeddings, alone.embeddings)


def test_no_scheduler_at_the_address_is_one_line(monkeypatch):
    monkeypatch.setattr(parallel, "CONNECT_SECONDS", 2)
    with pytest.raises(RagalibError, match=r"tcp://127.0.0.1:9: no Dask scheduler answers"):
        list(parallel.map_in_workers(abs, [1, 2], scheduler="tcp://127.0.0.1:9"))
