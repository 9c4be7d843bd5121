"""The tuning search of :mod:`ragalib.tuning.tuner` in KerasTuner's distributed mode: one chief, many
workers, as processes on this machine or on many.

Taught in notebook 06_tuning ("A chief and two workers, on this machine"); the command line
is ``python -m ragalib tune`` (``docs/scaling.md``, "Tuning on many machines"). Each process runs the
same search; the environment tells it its role (``KERASTUNER_TUNER_ID``,
``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``), and :mod:`ragalib.tuning.chief` is the
chief's part of the protocol: who may join, who ran which trial, what happens when a worker
stops. Here: starting the chief and its workers, waiting for them with a time limit and
stopping every one of them, reading the chief's records back, and one worker joining a chief
elsewhere.
"""

import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RagalibError, say
from ..paths import tuning_dir
from ..util.progress import bar as progress_bar
from . import tuner
from .chief import Cluster, check_worker_id

TIMEOUT = 3600.0
"""Seconds :func:`run_local` waits for a search by default before it stops every process (the
records resume the search when it is run again)."""

STOP_GRACE = 5.0
"""Seconds a process has to end after it was asked to (SIGTERM) before it is killed."""

WORKERS_GONE_GRACE = 15.0
"""Seconds :class:`LocalCluster` lets a chief finish after its last worker stopped."""

SEARCH_OPTIONS = ("tuner", "max_trials", "initial_points", "epochs", "seed", "directory")
"""The keyword arguments of :func:`ragalib.tuning.tuner.search` that :func:`run_local` passes on."""

_CHILD = ("import sys; from ragalib.tuning.cluster import _child; "
          "sys.exit(_child(sys.argv[1:]))")


def parse_address(text):
    """``(host, port)`` of ``"HOST:PORT"`` (``"[::1]:8000"`` for an IPv6 address).

    Behind notebook 06_tuning (not called there by name).
    """
    host, _, port = str(text).rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise RagalibError(f"--oracle {text!r}: must be HOST:PORT, such as 192.168.1.20:8000")
    return host, int(port)


def check_port(host, port):
    """``port`` if nothing listens on ``host:port`` yet, else a :class:`RagalibError` that
    names the port. With ``port=None``, a free port the system picks.

    Behind notebook 06_tuning (not called there by name). Checked before any process starts:
    gRPC would otherwise share a port with another server that allows it (``SO_REUSEPORT``),
    and two chiefs would take turns answering the same workers.
    """
    if port is not None and not 1 <= int(port) <= 65535:
        raise RagalibError(f"--port {port}: must be 1 to 65535")
    try:
        family = socket.getaddrinfo(host, None)[0][0]
    except socket.gaierror as exc:
        raise RagalibError(f"{host}: not an address of this machine ({exc.strerror})") from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, int(port or 0)))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise RagalibError(
                    f"port {port} on {host} is already in use (another search or program "
                    "listens there): choose another with --port, or leave --port out for a "
                    "free one") from None
            raise RagalibError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        return probe.getsockname()[1]


def _last_trial_line(message):
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no reason recorded"


def read_records(project_dir):
    """The chief's records of a search, read back as :func:`ragalib.tuning.tuner.trials_table`
    reads a tuner: an object whose ``oracle`` has the ``trials`` and ``proposed_by``.

    Behind notebook 06_tuning (not called there by name).

    Not KerasTuner's own ``Oracle.reload()``, which gives the same rows of a finished search
    but needs its private ``_set_project_dir`` (or a whole Tuner with a hypermodel), creates
    the project folder, fails on a missing or half-written ``oracle.json`` (read here while a
    chief may still be writing it) and lists the trials in the file system's order, not the
    sorted one :meth:`LocalCluster.result` reports failures in.
    """
    from types import SimpleNamespace

    kt = tuner.keras_tuner()
    project_dir = Path(project_dir)
    trials = {}
    for path in sorted(project_dir.glob("trial_*/trial.json")):
        trial = kt.engine.trial.Trial.load(str(path))
        trials[trial.trial_id] = trial
    try:
        state = json.loads((project_dir / "oracle.json").read_text())
    except (OSError, ValueError):
        state = {}
    return SimpleNamespace(oracle=SimpleNamespace(
        trials=trials, proposed_by=dict(state.get("ragalib_proposed_by", {}))))


@dataclass
class ClusterRun:
    """What :func:`run_local` returns: the trials the chief recorded, and what went wrong.

    Behind notebook 06_tuning (not called there by name).
    ``trials`` is :func:`ragalib.tuning.tuner.trials_table` of the
    records (best first); ``ran_by`` maps a trial to the workers that ran it (two when a
    worker stopped during it and another ran it again); ``failed`` lists the trials with no
    result; ``workers`` each process's exit status; ``problems`` one line for each failed
    trial or stopped worker (the command line prints them and exits non-zero). The object
    also passes where a tuner does, e.g. to :func:`ragalib.tuning.tuner.best_settings`.
    """

    trials: list
    ran_by: dict
    failed: list
    workers: dict
    problems: list
    project_dir: Path
    oracle: object = field(repr=False, default=None)

    @property
    def ok(self):
        """No trial failed and every process ended normally."""
        return not self.problems

    def table(self):
        """The rows of ``trials`` with the worker that ran each, after the trial number."""
        return [{"trial": r["trial"], "worker": (self.ran_by.get(r["trial"]) or ["?"])[-1],
                 **{k: v for k, v in r.items() if k != "trial"}} for r in self.trials]

    def best_line(self):
        """One line on the best trial and its hyper-parameters."""
        if not self.trials:
            return "no trial completed"
        best = self.trials[0]
        skip = {"trial", "proposed_by", "val_accuracy", "best_epoch", "epochs_trained", "seconds",
                "bracket", "round", "up_to_epoch"}
        values = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                           for k, v in best.items() if k not in skip)
        return (f"best: trial {best['trial']}, validation accuracy "
                f"{best['val_accuracy']:.3f}: {values}")


def _how_it_ended(code):
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "a signal"
        return f"killed by signal {-code} ({name})"
    return f"exit status {code}"


def _last_ragalib_line(log):
    """The last ``ragalib:`` line of a process's log, else the last exception line of a
    traceback, else None."""
    try:
        lines = re.split(r"[\r\n]+", Path(log).read_text(errors="replace"))
    except OSError:
        return None
    said = [line.strip() for line in lines if line.startswith("ragalib: ")]
    if said:
        return said[-1].removeprefix("ragalib: ")
    raised = [line.strip() for line in lines
              if re.match(r"[A-Za-z_][\w.]*(Error|Exception|Interrupt)\b", line)]
    return raised[-1] if raised else None


class LocalCluster:
    """A chief and its workers as processes on this machine (``with`` stops them all).

    Behind notebook 06_tuning (not called there by name): :func:`run_local` is the way to use
    it; tests use it to reach the processes (:attr:`processes`) or to add a worker of their
    own (:meth:`add_worker`).

    Each process is ``python -c`` calling this module's child entry point with the search, a
    dataset file and its ``KERASTUNER_*`` environment (and ``RAGALIB_WORKERS=1``); its output
    goes to ``<project>/cluster-logs/<id>.log``. A process whose parent has gone stops itself.
    """

    def __init__(self, dataset, *, workers=2, host="127.0.0.1", port=None, **search):
        unknown = set(search) - set(SEARCH_OPTIONS)
        if unknown:
            raise TypeError(f"unknown search options: {sorted(unknown)}")
        if workers < 0:
            raise ValueError(f"workers must be 0 or more, got {workers}")
        defaults = {"tuner": "bayesian", "max_trials": 8, "initial_points": 3, "epochs": 15,
                    "seed": 0}
        self.search = {**defaults, **search}
        tuner.check_search(self.search["tuner"], max_trials=self.search["max_trials"],
                            initial_points=self.search["initial_points"])
        self.search["directory"] = str(Path(search.get("directory") or tuning_dir()).resolve())
        self.dataset, self.workers, self.host, self.port = dataset, workers, host, port
        self.project_dir = Path(self.search["directory"]) / tuner.project_name(
            dataset, **{k: self.search[k] for k in ("tuner", "initial_points", "epochs",
                                                     "seed")})
        self.processes = {}         # id -> Popen: "chief", then the workers
        self.logs = {}
        self._files, self._tmp = [], None

    @property
    def address(self):
        """``"HOST:PORT"`` the workers connect to."""
        return f"{self._connect_host()}:{self.port}"

    def _connect_host(self):
        return "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host

    def start(self):
        """Check the port, then start the chief and the workers (``tuner0``, ``tuner1``...)."""
        self.port = check_port(self.host, self.port)
        self._tmp = Path(tempfile.mkdtemp(prefix="ragalib-tune-"))
        self._dataset_file = self._dataset_path(self.dataset)
        (self.project_dir / "cluster-logs").mkdir(parents=True, exist_ok=True)
        for i in range(self.workers):       # they wait for the chief
            self.add_worker(f"tuner{i}")
        # the chief does not finish before each of them has joined (or its process ended):
        # in a search with nothing left to do, a worker still loading would be left behind
        expected = {who: p.pid for who, p in self.processes.items()}
        self._start("chief", self.host, env={"RAGALIB_EXPECTED_WORKERS": json.dumps(expected)})
        return self

    def _dataset_path(self, ds, name="dataset.npz"):
        import numpy as np

        from ..corpus import dataset as datasets

        npz, _ = datasets.cache_paths(ds.config)
        try:        # a built dataset's own cache, if it is this dataset
            with np.load(npz, allow_pickle=False) as data:
                if json.loads(str(data["meta"])).get("key") == ds.key:
                    return npz
        except Exception:   # noqa: BLE001 (absent or unreadable: write a copy instead)
            pass
        path = self._tmp / name
        datasets.save_cache(ds, path)
        return path

    def add_worker(self, worker_id, dataset=None, **search):
        """Start one more worker; ``dataset`` and ``search`` (options of
        :func:`ragalib.tuning.tuner.search`) default to the chief's."""
        check_worker_id(worker_id)
        ds_file, key = self._dataset_file, self.dataset.key
        if dataset is not None:
            ds_file, key = self._dataset_path(dataset, f"dataset-{worker_id}.npz"), dataset.key
        # a worker of the chief's own search loads TensorFlow while it joins (and while the
        # chief starts); another joins first, so a refusal costs it little
        return self._start(worker_id, self._connect_host(), {**self.search, **search},
                           ds_file, key, preload=dataset is None and not search)

    def _start(self, who, ip, search=None, ds_file=None, key=None, preload=False, env=None):
        spec = {"dataset": str(ds_file or self._dataset_file), "key": key or self.dataset.key,
                "search": search or self.search, "preload": preload}
        env = {**os.environ, "KERASTUNER_TUNER_ID": who, "KERASTUNER_ORACLE_IP": ip,
               "KERASTUNER_ORACLE_PORT": str(self.port), "RAGALIB_WORKERS": "1",
               "RAGALIB_PARENT_PID": str(os.getpid()), "PYTHONUNBUFFERED": "1", **(env or {})}
        log_path = self.project_dir / "cluster-logs" / f"{who}.log"
        log = open(log_path, "w", encoding="utf-8")
        self._files.append(log)
        self.logs[who] = log_path
        self.processes[who] = subprocess.Popen(
            [sys.executable, "-c", _CHILD, json.dumps(spec)], env=env, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # no terminal Ctrl-C
        return self.processes[who]

    def _ended_on_disk(self):
        ended = 0
        for path in self.project_dir.glob("trial_*/trial.json"):
            try:
                ended += json.loads(path.read_text()).get("status") in ("COMPLETED", "FAILED")
            except (OSError, ValueError):
                pass        # being written
        return ended

    def wait(self, timeout=TIMEOUT):
        """Wait for the chief to finish (at most ``timeout`` seconds), then return the
        :class:`ClusterRun`. A chief that fails, a search that runs out of time or whose
        workers all stopped before it finished, is a :class:`RagalibError`."""
        trials = tuner.budget(self.search["tuner"], max_trials=self.search["max_trials"],
                               epochs=self.search["epochs"])[0]
        who = (f"a chief and {self.workers} worker{'s' * (self.workers != 1)}"
               if self.workers else "a chief, for workers from elsewhere")
        bar = progress_bar(total=trials,
                           desc=f"{self.search['tuner']} search on {who}: trials done")
        chief, deadline, gone_since = self.processes["chief"], time.monotonic() + timeout, None
        try:
            while chief.poll() is None:
                bar.update(max(0, min(self._ended_on_disk(), trials) - bar.n))
                # poll each (it also reaps an ended one, which the chief then sees has gone)
                ended = [p.poll() is not None for who, p in self.processes.items()
                         if who != "chief"]
                if ended and all(ended):
                    gone_since = gone_since or time.monotonic()
                    if time.monotonic() - gone_since > WORKERS_GONE_GRACE:
                        codes = ", ".join(f"{who} {_how_it_ended(p.returncode)}"
                                          for who, p in self.processes.items() if who != "chief")
                        raise RagalibError(
                            f"the search did not finish: every worker stopped ({codes}) with "
                            f"{self._ended_on_disk()} of {trials} trials done; its records in "
                            f"{self.project_dir} resume it when it is run again")
                if time.monotonic() > deadline:
                    raise RagalibError(
                        f"the search did not finish within {timeout:g} s "
                        f"({self._ended_on_disk()} of {trials} trials done); its records in "
                        f"{self.project_dir} resume it when it is run again")
                time.sleep(0.25)
            bar.update(max(0, min(self._ended_on_disk(), trials) - bar.n))
        finally:
            bar.close()
        if chief.returncode != 0:
            said = _last_ragalib_line(self.logs["chief"])
            raise RagalibError(f"the chief stopped ({_how_it_ended(chief.returncode)})"
                               + (f": {said}" if said else "") + f" (log: {self.logs['chief']})")
        end = time.monotonic() + 30     # the workers leave as soon as the chief is done
        for p in self.processes.values():
            try:
                p.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        return self.result()

    def result(self):
        """The :class:`ClusterRun` of the records as they are now."""
        records = read_records(self.project_dir)
        try:
            record = json.loads((self.project_dir / "cluster.json").read_text())
        except (OSError, ValueError):
            record = {}
        ran_by = {int(t): list(w) for t, w in record.get("ran_by", {}).items()}
        failed = [{"trial": int(t.trial_id), "status": t.status,
                   "reason": _last_trial_line(t.message)}
                  for t in records.oracle.trials.values() if t.status != "COMPLETED"]
        codes = {who: p.poll() for who, p in self.processes.items() if who != "chief"}
        problems = []
        for who, code in codes.items():
            if code == 0:
                continue
            lost = [entry["trial"] for entry in record.get("lost", [])
                    if entry["worker"] == who]
            after = "".join(
                f"; its trial {t} " + ("failed" if any(f["trial"] == t for f in failed)
                                       else f"was run again by {ran_by.get(t, ['?'])[-1]}")
                for t in lost)
            if code is None:
                how = "was still running after the chief had finished"
            elif code < 0:
                how = f"was {_how_it_ended(code)} during the search"
            else:
                said = _last_ragalib_line(self.logs[who])
                how = f"ended with {_how_it_ended(code)}" + (f": {said}" if said else "")
            problems.append(f"worker {who} {how}{after} (log: {self.logs[who]})")
        problems += [f"trial {f['trial']} {f['status'].lower()}: {f['reason']}" for f in failed]
        return ClusterRun(trials=tuner.trials_table(records), ran_by=ran_by, failed=failed,
                          workers=codes, problems=problems, project_dir=self.project_dir,
                          oracle=records.oracle)

    def stop(self):
        """Stop every process still running and what it started (SIGTERM to its process
        group, then SIGKILL after :data:`STOP_GRACE` seconds), and remove the temporary
        dataset copy."""
        import shutil

        from ..util.processes import stop_groups

        try:
            stop_groups(self.processes.values(), grace=STOP_GRACE)
        finally:
            for f in self._files:
                f.close()
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_local(dataset, *, workers=2, port=None, host="127.0.0.1", timeout=TIMEOUT, **search):
    """Run :func:`ragalib.tuning.tuner.search` on ``dataset`` with a chief and ``workers`` worker
    processes on this machine, and return the chief's records as a :class:`ClusterRun`.

    Taught in notebook 06_tuning. ``search`` holds the options of
    :func:`ragalib.tuning.tuner.search` (``tuner``, ``max_trials``, ``initial_points``,
    ``epochs``, ``seed``, ``directory``); the records are the same project that search keeps,
    so either resumes the other. Every process started is stopped before this returns, also
    on an error or Ctrl-C. ``workers=0`` starts the chief alone, for workers that join from
    other machines (:func:`join_search`); the chief then listens on ``host``.

    Raises
    ------
    RagalibError
        The port is in use (before any process starts); the chief failed; the search did not
        finish within ``timeout`` seconds, or every worker stopped before it did. A worker
        that stops half way is not an error here: its trial is run again by another worker
        (or recorded as failed), and :attr:`ClusterRun.problems` says so.
    """
    with LocalCluster(dataset, workers=workers, host=host, port=port, **search) as cluster:
        cluster.start()
        return cluster.wait(timeout)


def join_search(dataset, oracle, worker_id, **search):
    """Run one worker in this process for the chief at ``oracle`` (``"HOST:PORT"``), until
    the chief has no trial left; returns how many trials this worker ran.

    Behind notebook 06_tuning (not called there by name;
    what ``--oracle HOST:PORT --worker-id ID`` does on another
    machine). ``dataset`` and ``search`` must be the chief's, or the chief refuses the worker
    (a :class:`RagalibError`, before TensorFlow is loaded); so is a chief that cannot be
    reached, and one that goes away mid-search.
    """
    host, port = oracle if isinstance(oracle, tuple) else parse_address(oracle)
    check_worker_id(worker_id)
    env = {"KERASTUNER_TUNER_ID": worker_id, "KERASTUNER_ORACLE_IP": host,
           "KERASTUNER_ORACLE_PORT": str(port)}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    cluster = Cluster()
    try:
        return tuner.search(dataset, cluster=cluster, **search).trials_run
    except KeyboardInterrupt:
        if cluster.attendance is not None and cluster.attendance.lost:
            raise RagalibError(cluster.attendance.lost) from None
        raise
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _watch_parent():
    """Stop this process (SIGTERM) when the process that started it has gone."""
    parent = int(os.environ.get("RAGALIB_PARENT_PID", "0") or 0)

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    if parent:
        threading.Thread(target=watch, daemon=True, name="ragalib-parent").start()


def _child(argv):
    """A process of :class:`LocalCluster`: the chief or one worker, as its environment says."""
    from ..corpus import dataset as datasets
    from ..errors import one_line_warnings

    spec = json.loads(argv[0])
    _watch_parent()
    one_line_warnings()
    preload = None
    if spec.get("preload") and tuner.cluster_role() == "worker":
        import grpc  # noqa: F401  (here first: the thread alone imports TensorFlow's modules)

        preload = threading.Thread(target=tuner.keras_tuner, daemon=True, name="preload")
        preload.start()
    try:
        ds = datasets.load_cache(spec["dataset"], spec["key"])
        if ds is None:
            raise RagalibError(f"{spec['dataset']}: no dataset with key {spec['key'][:12]} "
                               "(it changed while the search started)")
        who = os.environ["KERASTUNER_TUNER_ID"]
        if tuner.cluster_role() == "chief":
            tuner.search(ds, cluster=Cluster(), **spec["search"])
            print(f"chief: the search is done (records in {Path(spec['search']['directory'])})")
        else:
            address = (os.environ["KERASTUNER_ORACLE_IP"],
                       int(os.environ["KERASTUNER_ORACLE_PORT"]))
            ran = join_search(ds, address, who, **spec["search"])
            print(f"worker {who}: ran {ran} trial(s)")
        return 0
    except RagalibError as exc:
        if preload is not None:
            preload.join()      # loading TensorFlow silences file descriptor 2 for a while
        say(exc)
        return 2
    except KeyboardInterrupt:
        say("interrupted")
        return 130
