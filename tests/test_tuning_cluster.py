"""The tuning search in KerasTuner's distributed mode, with real processes on 127.0.0.1.

Every wait is bounded (:data:`LIMIT`), and each test stops every process it started, also when
it fails (``LocalCluster`` is a context manager; an in-process worker leaves in ``finally``).
"""

import json
import os
import signal
import socket
import threading
import time
from types import SimpleNamespace

import pytest

from ragalib.cli import main
from ragalib.errors import RagalibError
from ragalib.tuning import chief, tuner
from ragalib.tuning import cluster as tuning_cluster
from tests.test_cnn import separable

LIMIT = 240.0
"""Seconds any one wait may take (a busy 2-core machine loads TensorFlow in 5-25 s)."""

SEARCH = {"tuner": "random", "max_trials": 2, "epochs": 1}


def _running_worker(project_dir):
    """A worker the chief's records say is running a trial, or None."""
    try:
        state = json.loads((project_dir / "oracle.json").read_text())
    except (OSError, ValueError):
        return None
    ongoing = state.get("ongoing_trials", {})
    return sorted(ongoing)[0] if ongoing else None


def _join(monkeypatch, cluster, worker_id, identity):
    """Join ``cluster`` from this process as ``worker_id`` (never asking for a trial)."""
    with monkeypatch.context() as env:
        env.setenv("KERASTUNER_TUNER_ID", worker_id)
        env.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
        env.setenv("KERASTUNER_ORACLE_PORT", str(cluster.port))
        return chief.Cluster(join_timeout=LIMIT, on_lost=None).join(identity)


def _identity(ds, **change):
    search = {"tuner": SEARCH["tuner"], "epochs": SEARCH["epochs"], "seed": 0,
              "initial_points": 3, **change}
    return tuner.search_identity(ds, **search)


class _Killer(threading.Thread):
    """SIGKILLs the first worker the chief's records show running a trial."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster, self.victim, self.done = cluster, None, threading.Event()

    def run(self):
        end = time.monotonic() + LIMIT
        while not self.done.is_set() and time.monotonic() < end:
            victim = _running_worker(self.cluster.project_dir)
            if victim:
                os.kill(self.cluster.processes[victim].pid, signal.SIGKILL)
                self.victim = victim
                return
            time.sleep(0.05)


@pytest.fixture(scope="module")
def searches(tmp_path_factory):
    """Two searches of a chief and two workers, run at once (one's idle moments, such as a
    chief waiting for its workers to load TensorFlow, are the other's busy ones): a clean one,
    and one whose first busy worker is killed and which a worker with another dataset tries
    to join. Every process is stopped when the module ends, whatever happened."""
    ds = separable()
    stranger = separable(seed=1)
    stranger.key = "stranger-dataset"
    clean = tuning_cluster.LocalCluster(ds, workers=2, directory=tmp_path_factory.mktemp("clean"),
                                        **SEARCH)
    killed = tuning_cluster.LocalCluster(ds, workers=2,
                                         directory=tmp_path_factory.mktemp("killed"), **SEARCH)
    killer = _Killer(killed)
    try:
        clean.start()
        killed.start()
        killed.add_worker("stranger", dataset=stranger)      # refused: another dataset
        killer.start()
        yield SimpleNamespace(ds=ds, clean=clean, killed=killed, killer=killer)
    finally:
        killer.done.set()
        killed.stop()
        clean.stop()


def test_a_chief_and_two_workers_finish_a_search_and_refuse_a_worker_that_differs(
        searches, monkeypatch):
    ds, cluster = searches.ds, searches.clean
    spare = _join(monkeypatch, cluster, "spare", _identity(ds))  # the chief waits for it
    try:
        with pytest.raises(RagalibError, match=r"^worker spare: refused by the chief at "
                                               r"127\.0\.0\.1:\d+: worker id spare is already"):
            _join(monkeypatch, cluster, "spare", _identity(ds))
        other = separable(seed=1)
        other.key = "another-dataset"
        with pytest.raises(RagalibError, match="this worker's dataset is another-data"):
            _join(monkeypatch, cluster, "w1", _identity(other))
        with pytest.raises(RagalibError, match=r"started for a random search \(at most 2 "
                                               r"epochs a trial, seed 0\), the chief runs"):
            _join(monkeypatch, cluster, "w2", _identity(ds, epochs=2))
        with monkeypatch.context() as patch:
            patch.setattr(chief, "space_signature", lambda: "changed")
            with pytest.raises(RagalibError, match="search space differs from the chief's"):
                _join(monkeypatch, cluster, "w3", _identity(ds))
    finally:
        spare.close()
    run = cluster.wait(timeout=LIMIT)
    assert run.ok and run.problems == [] and run.failed == []
    assert run.workers == {"tuner0": 0, "tuner1": 0}
    assert sorted(r["trial"] for r in run.trials) == [0, 1]
    assert all(r["epochs_trained"] == 1 and r["proposed_by"] == "random" for r in run.trials)
    assert {w for ran in run.ran_by.values() for w in ran} <= {"tuner0", "tuner1"}
    record = json.loads((run.project_dir / "cluster.json").read_text())
    assert record["finished"] and len(record["refused"]) == 4 and record["lost"] == []
    assert tuner.best_settings(run, epochs=3) == tuner.settings_of(run.trials[0], epochs=3)
    # the chief kept the records a search on one machine keeps: it reuses them, untrained
    import keras

    def no_training(*args, **kwargs):
        raise AssertionError("a finished search trained again")

    monkeypatch.setattr(keras.Model, "fit", no_training)
    again = tuner.search(ds, directory=cluster.search["directory"], **SEARCH)
    assert tuner.trials_table(again) == run.trials


def test_a_worker_killed_half_way_leaves_its_trial_to_the_other_and_the_run_says_so(searches):
    cluster, killer = searches.killed, searches.killer
    killer.join(LIMIT)
    victim = killer.victim
    assert victim in ("tuner0", "tuner1"), "no worker was seen running a trial"
    run = cluster.wait(timeout=LIMIT)
    survivor = ({"tuner0", "tuner1"} - {victim}).pop()
    assert run.workers == {"tuner0": 0, "tuner1": 0, victim: -9, "stranger": 2}
    record = json.loads((run.project_dir / "cluster.json").read_text())
    [lost] = record["lost"]
    assert lost["worker"] == victim
    trial = lost["trial"]
    assert run.ran_by[trial] == [victim, survivor]              # run again by the other worker
    assert sorted(r["trial"] for r in run.trials) == [0, 1] and run.failed == []
    assert not run.ok
    assert (f"worker {victim} was killed by signal 9 (SIGKILL) during the search; its trial "
            f"{trial} was run again by {survivor} (log: ") in run.problems[0]
    assert run.problems[1].startswith(
        "worker stranger ended with exit status 2: worker stranger: refused by the chief at "
        f"{cluster.address}: this worker's dataset is stranger-dat, the search's is separable")
    assert len(run.problems) == 2 and all("\n" not in line for line in run.problems)
    # every record whole, none left running
    for path in run.project_dir.glob("trial_*/trial.json"):
        assert json.loads(path.read_text())["status"] == "COMPLETED"
    assert json.loads((run.project_dir / "oracle.json").read_text())["ongoing_trials"] == {}


def test_a_port_in_use_is_refused_before_any_process_starts(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(RagalibError, match=f"^port {port} on 127.0.0.1 is already in use"):
            tuning_cluster.run_local(separable(), port=port, directory=tmp_path, **SEARCH)
        assert time.monotonic() - start < 5
        assert list(tmp_path.iterdir()) == []                   # no records, no logs
        assert main.main(["tune", "--port", str(port)]) == 2     # before loading any dataset
    err = capsys.readouterr().err
    assert err.startswith(f"ragalib: port {port} on 127.0.0.1 is already in use") \
        and err.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (["--oracle", "nowhere", "--worker-id", "w1"], "--oracle 'nowhere': must be HOST:PORT"),
    (["--oracle", "127.0.0.1:1", "--worker-id", "chief2"], "must not contain 'chief'"),
    (["--oracle", "127.0.0.1:1"], "--oracle needs --worker-id ID"),
    (["--oracle", "127.0.0.1:1", "--worker-id", "w1", "--workers", "3"], "--workers, --port"),
    (["--worker-id", "w1"], "--worker-id names the worker that joins with --oracle"),
])
def test_the_tune_command_refuses_options_that_do_not_go_together(argv, message, capsys):
    assert main.main(["tune", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ragalib: ") and message in err and err.count("\n") == 1


def test_a_worker_with_no_chief_to_join_says_so_in_one_line(monkeypatch):
    port = tuning_cluster.check_port("127.0.0.1", None)          # free: nobody listens
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "w1")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
    with pytest.raises(RagalibError, match=rf"^worker w1: no chief answered at 127\.0\.0\.1:{port} "
                                           r"within 0\.5 s"):
        chief.Cluster(join_timeout=0.5, on_lost=None).join(_identity(separable()))
