"""The tuning search of :mod:`ragalib.tuning` in KerasTuner's distributed mode: one chief, many
workers.

Taught in notebook 06_tuning ("A chief and two workers, on this machine"); the command line
is ``python -m ragalib tune`` (README, "Tuning on many machines").

KerasTuner's distributed mode runs the same search code in every process. The environment
tells each its role: ``KERASTUNER_TUNER_ID`` (``"chief"``, or a worker's id such as
``"tuner0"``), ``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT``. The chief runs the
oracle (the part that proposes trials and keeps their records) behind a gRPC server; each
worker asks it for a trial, trains it and reports the result, until the chief has no trial
left. Only the chief writes the trial records, under ``tuning_dir()/<project>``; they are the
records :func:`ragalib.tuning.trials_table` reads, so a distributed search and one on a
single machine resume each other.

KerasTuner trusts every worker: its gRPC service (``GetSpace``, ``UpdateSpace``,
``CreateTrial``, ``UpdateTrial``, ``EndTrial``, ``GetTrial``, ``GetBestTrials``) carries no
dataset and no project name, and a worker's new hyper-parameters are merged into the chief's
space without a word. It offers no hook for a check either, but a gRPC server can serve more
than one service, so :class:`Cluster` adds one of ragalib's own on the chief's port
(``ragalib.TuningCluster/Attend``), which each worker calls before it asks for a trial and
keeps open while it runs. (A file beside the records would do for the check only where every
machine sees the same folder; the call works across machines.)

* the call carries what the worker is about to search: the project name, the dataset's key,
  the search (:func:`ragalib.tuning.search_identity`) and a signature of its hyper-parameter
  space (:func:`space_signature`). The chief refuses a worker whose answers differ from its
  own, or whose id another worker already has, before that worker trains anything (a worker
  started with ``--oracle`` has not even loaded TensorFlow yet); and it refuses trials to a
  worker that has not joined this way.
* the open call is how the chief notices a worker that stops: when the worker's process ends
  (killed, crashed or finished) its connection closes, gRPC cancels the call at once, and the
  chief hands the trial that worker was running to another worker (KerasTuner's retry, once),
  or records it as failed when no worker is left to run it. KerasTuner alone would wait for
  that worker forever. (For a machine that vanishes without closing its connections, the
  chief's gRPC keepalive pings should notice within about 30 s; that case is not tested.)

The chief also writes ``cluster.json`` beside the trial records: what it serves, which
worker ran each trial, the workers it refused and the trials whose worker stopped.
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

from . import tuning
from .errors import RagalibError
from .paths import quick_mode, tuning_dir

SERVICE = "ragalib.TuningCluster"
"""The gRPC service ragalib adds beside KerasTuner's on the chief's port."""

JOIN_TIMEOUT = 120.0
"""Seconds a worker waits for its chief to answer (a chief starting beside it loads
TensorFlow first, which takes 5-25 s on a busy 2-core machine)."""

TIMEOUT = 3600.0
"""Seconds :func:`run_local` waits for a search by default before it stops every process (the
records resume the search when it is run again)."""

STOP_GRACE = 5.0
"""Seconds a process has to end after it was asked to (SIGTERM) before it is killed."""

WORKERS_GONE_GRACE = 15.0
"""Seconds :class:`LocalCluster` lets a chief finish after its last worker stopped."""

SEARCH_OPTIONS = ("tuner", "max_trials", "initial_points", "epochs", "seed", "directory")
"""The keyword arguments of :func:`ragalib.tuning.search` that :func:`run_local` passes on."""

_WORKER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_CHILD = ("import sys; from ragalib.tuning_cluster import _child; "
          "sys.exit(_child(sys.argv[1:]))")


class _SpaceRecorder:
    """Stands in for KerasTuner's ``HyperParameters``: records each hyper-parameter that
    :func:`ragalib.tuning.settings_from` declares (without loading TensorFlow)."""

    def __init__(self):
        self.declared = []

    def _declare(self, kind, name, default, **config):
        self.declared.append({"kind": kind, "name": name, **config})
        return default

    def Choice(self, name, values, **kwargs):
        return self._declare("Choice", name, values[0], values=list(values), **kwargs)

    def Float(self, name, min_value, max_value, **kwargs):
        return self._declare("Float", name, min_value, min_value=min_value,
                             max_value=max_value, **kwargs)

    def Int(self, name, min_value, max_value, **kwargs):
        return self._declare("Int", name, min_value, min_value=min_value,
                             max_value=max_value, **kwargs)

    def Boolean(self, name, **kwargs):
        return self._declare("Boolean", name, False, **kwargs)


def space_signature():
    """A short hash of the search space: every hyper-parameter the search declares, with its
    values and sampling.

    Behind notebook 06_tuning (not called there by name). The chief compares a joining
    worker's with its own, so a machine running another version of the search space is
    refused rather than mixing its trials into the records.
    """
    import hashlib

    recorder = _SpaceRecorder()
    tuning.settings_from(recorder, epochs=1)
    text = json.dumps(recorder.declared, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _describe(search):
    initial = search.get("initial_points")
    return (f"a {search.get('tuner')} search ("
            + (f"{initial} random initial trials, " if initial else "")
            + f"at most {search.get('epochs')} epoch{'s' * (search.get('epochs') != 1)} a "
            f"trial, seed {search.get('seed')})")


def check_worker_id(worker_id):
    """Refuse a worker id KerasTuner cannot use (a :class:`RagalibError`).

    Behind notebook 06_tuning (not called there by name). An id names the worker's file
    beside the records, so it is letters, digits, ``.``, ``_`` and ``-``; and KerasTuner
    makes any process whose id contains ``"chief"`` a chief.
    """
    if not isinstance(worker_id, str) or not _WORKER_ID.fullmatch(worker_id):
        raise RagalibError(f"--worker-id {worker_id!r}: use 1 to 64 letters, digits, '.', '_' "
                           "or '-', such as tuner3 or the machine's name")
    if "chief" in worker_id:
        raise RagalibError(f"--worker-id {worker_id}: a worker's id must not contain 'chief' "
                           "(KerasTuner would make it a second chief)")
    return worker_id


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


class _Attendance:
    """A worker's open ``Attend`` call: the chief's sign that the worker is alive."""

    def __init__(self, channel, stream, address, worker_id, on_lost):
        self.address, self.worker_id, self.lost = address, worker_id, None
        self._channel, self._stream, self._on_lost = channel, stream, on_lost
        self._closing = False
        threading.Thread(target=self._watch, daemon=True, name="ragalib-attend").start()

    def _watch(self):
        import grpc

        try:
            for _ in self._stream:
                pass
            why = "it stopped the search"
        except grpc.RpcError as exc:
            why = f"the connection broke: {exc.code().name}"
        if self._closing:
            return
        self.lost = (f"worker {self.worker_id}: lost the chief at {self.address} ({why}); "
                     "this worker stopped")
        if self._on_lost is not None:
            self._on_lost()

    def close(self):
        """Leave the search (the chief then stops waiting for this worker)."""
        self._closing = True
        self._stream.cancel()
        self._channel.close()


class Cluster:
    """What :func:`ragalib.tuning.search` uses in distributed mode: :meth:`join` admits a
    worker, :meth:`serve` runs the chief.

    Behind notebook 06_tuning (not called there by name); the module's docstring explains the
    protocol. ``on_lost`` is called in a worker when its chief goes away mid-search (by
    default it interrupts the worker's main thread, which then stops with the one-line reason
    in ``cluster.attendance.lost``).
    """

    def __init__(self, *, join_timeout=JOIN_TIMEOUT, on_lost="interrupt"):
        import _thread

        self.join_timeout = join_timeout
        self.on_lost = _thread.interrupt_main if on_lost == "interrupt" else on_lost
        self.attendance = None

    def join(self, identity):
        """Join the chief named by the environment; a :class:`RagalibError` if it refuses.

        ``identity`` is what :func:`ragalib.tuning.search` says it will search; the call adds
        the worker's id, host and :func:`space_signature`. Returns the open attendance
        (``.close()`` leaves the search).
        """
        import grpc

        host, port = os.environ["KERASTUNER_ORACLE_IP"], os.environ["KERASTUNER_ORACLE_PORT"]
        worker_id = check_worker_id(os.environ["KERASTUNER_TUNER_ID"])
        address = f"{host}:{port}"
        request = {**identity, "space": space_signature(), "worker": worker_id,
                   "host": socket.gethostname()}
        # retry every second while the chief starts (gRPC's default backoff grows to minutes)
        channel = grpc.insecure_channel(address, options=[
            ("grpc.initial_reconnect_backoff_ms", 250), ("grpc.min_reconnect_backoff_ms", 250),
            ("grpc.max_reconnect_backoff_ms", 1000)])
        try:
            grpc.channel_ready_future(channel).result(timeout=self.join_timeout)
        except grpc.FutureTimeoutError:
            channel.close()
            raise RagalibError(
                f"worker {worker_id}: no chief answered at {address} within "
                f"{self.join_timeout:g} s (is it running, and is its port open to this "
                "machine?)") from None
        stream = channel.unary_stream(f"/{SERVICE}/Attend")(json.dumps(request).encode())
        try:
            answer = json.loads(next(stream))
        except (grpc.RpcError, StopIteration) as exc:
            channel.close()
            code = exc.code() if isinstance(exc, grpc.RpcError) else None
            what = ("is not a ragalib tuning chief" if code == grpc.StatusCode.UNIMPLEMENTED
                    else f"did not answer ({code.name if code else 'no reply'})")
            raise RagalibError(f"worker {worker_id}: the server at {address} {what}") from None
        if not answer.get("ok"):
            stream.cancel()
            channel.close()
            raise RagalibError(f"worker {worker_id}: refused by the chief at {address}: "
                               f"{answer.get('reason')}")
        self.attendance = _Attendance(channel, stream, address, worker_id, self.on_lost)
        return self.attendance

    def serve(self, oracle, identity, on_trial_end=None):
        """Serve ``oracle`` to the workers until the search is done (the chief's part).

        In place of KerasTuner's own server loop: the same KerasTuner service, and beside it
        the ``Attend`` service (module docstring). The search is done when the oracle has
        stopped creating trials, no trial is running and no worker is connected; a trial left
        for a retry with no worker to run it is then recorded as failed. SIGTERM stops the
        chief between two oracle calls (the records are whole, and resume the search); that
        and a port already in use are a :class:`RagalibError`.
        """
        import grpc
        from concurrent import futures

        import keras_tuner as kt
        from keras_tuner.src import protos
        from keras_tuner.src.distribute.oracle_chief import OracleServicer

        host, port = os.environ["KERASTUNER_ORACLE_IP"], int(os.environ["KERASTUNER_ORACLE_PORT"])
        chief = _Chief(oracle, {**identity, "space": space_signature()}, f"{host}:{port}",
                       kt.synchronized)

        class Servicer(OracleServicer):
            def CreateTrial(self, request, context):
                if not chief.is_present(request.tuner_id):
                    context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                  f"worker {request.tuner_id} has not joined the search "
                                  "(start it with python -m ragalib tune --oracle HOST:PORT)")
                trial = self.oracle.create_trial(request.tuner_id)
                if trial.status == "STOPPED":
                    self.stop_triggered = True
                elif trial.status == "RUNNING":
                    chief.assigned(trial.trial_id, request.tuner_id)
                return protos.get_service().CreateTrialResponse(trial=trial.to_proto())

            def EndTrial(self, request, context):
                response = super().EndTrial(request, context)
                chief.save(self.oracle)     # KerasTuner saved it before the trial stopped running
                return response

        servicer = Servicer(oracle)
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="ragalib-chief"),
            options=[("grpc.so_reuseport", 0),     # a port in use is an error, not shared
                     ("grpc.keepalive_time_ms", 20000),   # notices a machine that vanished
                     ("grpc.keepalive_timeout_ms", 10000),
                     ("grpc.keepalive_permit_without_calls", 1)])
        protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
            SERVICE, {"Attend": grpc.unary_stream_rpc_method_handler(chief.attend)}),))
        try:
            server.add_insecure_port(f"{host}:{port}")
        except RuntimeError:
            raise RagalibError(f"port {port} on {host} is already in use (another search or "
                               "program listens there): choose another with --port") from None
        stopped = threading.Event()
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        server.start()
        chief.write()
        ended = len(oracle.end_order)
        try:
            while not stopped.wait(0.25):
                if on_trial_end is not None:
                    for _ in range(len(oracle.end_order) - ended):
                        on_trial_end()
                ended = len(oracle.end_order)
                if chief.finished(servicer.stop_triggered):
                    break
        finally:
            chief.closing.set()
            server.stop(grace=1).wait()
            chief.write()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        if stopped.is_set():
            raise RagalibError(f"the chief at {host}:{port} was stopped before the search "
                               f"finished; its records in {chief.project_dir} resume it")


class _Chief:
    """The chief's side of ``Attend``: who is present, what each ran, what was refused."""

    def __init__(self, oracle, identity, address, synchronized):
        self.oracle, self.identity, self.address = oracle, identity, address
        self.project_dir = Path(oracle._project_dir)
        self.lock = threading.Lock()
        self._writing = threading.Lock()    # one write at a time, so the last is the newest
        self.closing = threading.Event()
        self.present = {}           # worker id -> where it connects from
        # local workers (pids on this machine) to wait for before the search may finish
        self.expected = {str(k): int(v) for k, v in json.loads(
            os.environ.get("RAGALIB_EXPECTED_WORKERS") or "{}").items()}
        self.record = {"project": identity["project"], "dataset": identity["dataset"],
                       "search": identity["search"], "space": identity["space"],
                       "address": address, "finished": False, "ran_by": {}, "joined": [],
                       "refused": [], "lost": []}
        previous = self.project_dir / "cluster.json"
        try:            # a resumed search keeps who ran its earlier trials
            self.record["ran_by"] = json.loads(previous.read_text())["ran_by"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        # KerasTuner's lock (one oracle call at a time); its wrapper does not release the
        # lock on an exception, so these never raise
        # (it keys the lock on the first argument: the oracle)
        self._lose = synchronized(self._lose_unlocked)
        self._finish = synchronized(self._finish_unlocked)
        self.save = synchronized(self._save_unlocked)

    def write(self):
        from .files import atomic_write

        with self._writing:
            with self.lock:
                text = json.dumps(self.record, indent=1)
            try:
                atomic_write(self.project_dir / "cluster.json",
                             lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
            except RagalibError as exc:
                print(f"ragalib: warning: {exc}", file=sys.stderr)

    def is_present(self, worker_id):
        with self.lock:
            return worker_id in self.present

    def assigned(self, trial_id, worker_id):
        with self.lock:
            ran = self.record["ran_by"].setdefault(str(int(trial_id)), [])
            if not ran or ran[-1] != worker_id:
                ran.append(worker_id)
        self.write()

    def _refusal(self, info):
        mine = self.identity
        worker = info.get("worker", "?")
        if worker in self.present:
            return (f"worker id {worker} is already taken by the worker at "
                    f"{self.present[worker]}: give each worker its own --worker-id")
        if info.get("dataset") != mine["dataset"]:
            return (f"this worker's dataset is {str(info.get('dataset'))[:12]}, the search's is "
                    f"{mine['dataset'][:12]}: every machine needs the same recordings and "
                    "feature settings (or one shared data folder)")
        if info.get("search") != mine["search"]:
            return (f"this worker was started for {_describe(info.get('search') or {})}, the "
                    f"chief runs {_describe(mine['search'])}: give it the same --tuner, "
                    "--trials, --epochs and --quick")
        if info.get("space") != mine["space"] or info.get("project") != mine["project"]:
            return ("this worker's search space differs from the chief's: run the same "
                    "version of ragalib on every machine")
        return None

    def attend(self, request, context):
        """``Attend``: admit (or refuse) a worker, then hold its call open while it lives."""
        try:
            info = json.loads(request)
        except ValueError:
            info = {}
        worker = str(info.get("worker", "?"))
        where = f"{info.get('host', '?')} ({context.peer()})"
        with self.lock:
            if self.closing.is_set():
                reason = ("the search is over: every trial is done" if self.record["finished"]
                          else "the chief is stopping")
            else:
                reason = self._refusal(info)
            if reason is None:
                self.present[worker] = where
                self.expected.pop(worker, None)
                self.record["joined"].append({"worker": worker, "from": where,
                                              "at": time.strftime("%Y-%m-%dT%H:%M:%S")})
            else:
                self.record["refused"].append({"worker": worker, "from": where,
                                               "reason": reason})
        self.write()
        if reason is not None:
            yield json.dumps({"ok": False, "reason": reason}).encode()
            return
        if not context.add_callback(lambda: self._leave(worker)):
            self._leave(worker)
            return
        yield json.dumps({"ok": True, "project": self.identity["project"]}).encode()
        while context.is_active() and not self.closing.wait(0.5):
            pass

    def _leave(self, worker):
        with self.lock:
            self.present.pop(worker, None)
        self._lose(self.oracle, worker)

    def _lose_unlocked(self, oracle, worker):
        """``worker`` has gone: if it was running a trial, KerasTuner retries it (or, the
        second time, records it as failed)."""
        try:
            oracle.tuner_ids.discard(worker)
            trial = oracle.ongoing_trials.get(worker)
            if trial is None or self.closing.is_set():
                return
            trial.status = "INVALID"
            trial.message = f"worker {worker} stopped during this trial"
            try:
                oracle.end_trial(trial)
            except RuntimeError:        # KerasTuner's limit of consecutive failed trials
                oracle.ongoing_trials.pop(worker, None)
            oracle.save()
            with self.lock:
                self.record["lost"].append({"worker": worker, "trial": int(trial.trial_id)})
            self.write()
        except Exception as exc:    # noqa: BLE001 (never raise under KerasTuner's lock)
            print(f"ragalib: warning: losing worker {worker}: {exc}", file=sys.stderr)

    def _save_unlocked(self, oracle):
        """Save the oracle's state (KerasTuner's ``end_trial`` saves it while the trial still
        counts as running, and only a search on one machine saves it again afterwards)."""
        try:
            oracle.save()
        except Exception as exc:    # noqa: BLE001 (never raise under KerasTuner's lock)
            print(f"ragalib: warning: saving the oracle: {exc}", file=sys.stderr)

    def _finish_unlocked(self, oracle, stop_triggered):
        try:
            with self.lock:
                if (not stop_triggered or oracle.ongoing_trials or self.present
                        or self._awaited()):
                    return False
                self.closing.set()      # a worker that asks to join now is told it is over
                self.record["finished"] = True
            for trial_id in list(oracle._retry_queue):
                trial = oracle.trials[trial_id]
                trial.status = "FAILED"
                trial.message = (f"{trial.message or 'its worker stopped'}; no worker was "
                                 "left to run it again")
                oracle.end_order.append(trial_id)
                oracle._save_trial(trial)
            oracle._retry_queue.clear()
            oracle.save()
            return True
        except Exception as exc:    # noqa: BLE001 (never raise under KerasTuner's lock)
            print(f"ragalib: warning: finishing the search: {exc}", file=sys.stderr)
            return False

    def _awaited(self):
        """Expected workers that have neither joined nor ended."""
        for worker, pid in list(self.expected.items()):
            try:
                os.kill(pid, 0)
            except OSError:         # ended before it joined
                self.expected.pop(worker, None)
        return self.expected

    def finished(self, stop_triggered):
        """True once the search is done: the oracle has no trial left, none is running, no
        worker is connected and every expected one has joined (or ended)."""
        return stop_triggered and self._finish(self.oracle, stop_triggered)


def _last_trial_line(message):
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no reason recorded"


def read_records(project_dir):
    """The chief's records of a search, read back as :func:`ragalib.tuning.trials_table`
    reads a tuner: an object whose ``oracle`` has the ``trials`` and ``proposed_by``.

    Behind notebook 06_tuning (not called there by name).
    """
    from types import SimpleNamespace

    kt = tuning._keras_tuner()
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

    Taught in notebook 06_tuning. ``trials`` is :func:`ragalib.tuning.trials_table` of the
    records (best first); ``ran_by`` maps a trial to the workers that ran it (two when a
    worker stopped during it and another ran it again); ``failed`` lists the trials with no
    result; ``workers`` each process's exit status; ``problems`` one line for each failed
    trial or stopped worker (the command line prints them and exits non-zero). The object
    also passes where a tuner does, e.g. to :func:`ragalib.tuning.best_settings`.
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
        skip = {"trial", "proposed_by", "val_accuracy", "epochs_trained", "seconds",
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
        tuning.check_search(self.search["tuner"], max_trials=self.search["max_trials"],
                            initial_points=self.search["initial_points"])
        self.search["directory"] = str(Path(search.get("directory") or tuning_dir()).resolve())
        self.dataset, self.workers, self.host, self.port = dataset, workers, host, port
        self.project_dir = Path(self.search["directory"]) / tuning.project_name(
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

        from . import dataset as datasets

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
        :func:`ragalib.tuning.search`) default to the chief's."""
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

    def wait(self, timeout=TIMEOUT, *, progress=False):
        """Wait for the chief to finish (at most ``timeout`` seconds), then return the
        :class:`ClusterRun`. A chief that fails, a search that runs out of time or whose
        workers all stopped before it finished, is a :class:`RagalibError`."""
        trials = tuning.budget(self.search["tuner"], max_trials=self.search["max_trials"],
                               epochs=self.search["epochs"])[0]
        bar = None
        if progress:
            from tqdm.auto import tqdm

            who = (f"a chief and {self.workers} worker{'s' * (self.workers != 1)}"
                   if self.workers else "a chief, for workers from elsewhere")
            bar = tqdm(total=trials, desc=f"{self.search['tuner']} search on {who}: trials done")
        chief, deadline, gone_since = self.processes["chief"], time.monotonic() + timeout, None
        try:
            while chief.poll() is None:
                if bar is not None:
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
            if bar is not None:
                bar.update(max(0, min(self._ended_on_disk(), trials) - bar.n))
        finally:
            if bar is not None:
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
        return ClusterRun(trials=tuning.trials_table(records), ran_by=ran_by, failed=failed,
                          workers=codes, problems=problems, project_dir=self.project_dir,
                          oracle=records.oracle)

    def stop(self):
        """Stop every process still running (SIGTERM, then SIGKILL after
        :data:`STOP_GRACE` seconds), and remove the temporary dataset copy."""
        import shutil

        try:
            for p in self.processes.values():
                if p.poll() is None:
                    p.terminate()
            end = time.monotonic() + STOP_GRACE
            for p in self.processes.values():
                try:
                    p.wait(timeout=max(0.1, end - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        finally:
            for p in self.processes.values():
                if p.poll() is None:
                    p.kill()
                    p.wait()
            for f in self._files:
                f.close()
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_local(dataset, *, workers=2, port=None, host="127.0.0.1", timeout=TIMEOUT,
              progress=True, **search):
    """Run :func:`ragalib.tuning.search` on ``dataset`` with a chief and ``workers`` worker
    processes on this machine, and return the chief's records as a :class:`ClusterRun`.

    Taught in notebook 06_tuning. ``search`` holds the options of
    :func:`ragalib.tuning.search` (``tuner``, ``max_trials``, ``initial_points``,
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
        return cluster.wait(timeout, progress=progress)


def join_search(dataset, oracle, worker_id, *, progress=True, **search):
    """Run one worker in this process for the chief at ``oracle`` (``"HOST:PORT"``), until
    the chief has no trial left; returns how many trials this worker ran.

    Taught in notebook 06_tuning (what ``--oracle HOST:PORT --worker-id ID`` does on another
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
        return tuning.search(dataset, progress=progress, cluster=cluster, **search).trials_run
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


def command_search(args):
    """The search options of ``python -m ragalib tune``'s arguments: 3 trials (2 of them
    random) of at most 2 epochs with ``--quick``, else 8 (3) of at most 15, as in chapter 06.

    Behind notebook 06_tuning (not called there by name).
    """
    quick = quick_mode()
    trials = args.trials or (3 if quick else 8)
    return {"tuner": args.tuner, "max_trials": trials,
            "initial_points": min(2 if quick else 3, trials),
            "epochs": args.epochs or (2 if quick else 15)}


def run_command(args):
    """``python -m ragalib tune``: start a chief and ``--workers`` workers here, or with
    ``--oracle HOST:PORT --worker-id ID`` join a chief elsewhere as one worker.

    Behind notebook 06_tuning (not called there by name). Returns the :class:`ClusterRun`,
    or for a worker the number of trials it ran. The options are checked (and the port)
    before the dataset is loaded.
    """
    from . import dataset

    search = command_search(args)
    if args.oracle is not None:
        if args.workers is not None or args.port is not None or args.host is not None:
            raise RagalibError("--oracle joins a search running elsewhere: --workers, --port "
                               "and --host are for starting one")
        if args.worker_id is None:
            raise RagalibError("--oracle needs --worker-id ID, unique in the search (such as "
                               "the machine's name)")
        address = parse_address(args.oracle)
        check_worker_id(args.worker_id)
        return join_search(dataset.build(), address, args.worker_id, **search)
    if args.worker_id is not None:
        raise RagalibError("--worker-id names the worker that joins with --oracle HOST:PORT")
    host = args.host or "127.0.0.1"
    port = check_port(host, args.port) if args.port is not None else None
    return run_local(dataset.build(), workers=2 if args.workers is None else args.workers,
                     port=port, host=host, **search)


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
    from . import dataset as datasets
    from .errors import one_line_warnings

    spec = json.loads(argv[0])
    _watch_parent()
    one_line_warnings()
    preload = None
    if spec.get("preload") and tuning.cluster_role() == "worker":
        import grpc  # noqa: F401  (here first: the thread alone imports TensorFlow's modules)

        preload = threading.Thread(target=tuning._keras_tuner, daemon=True, name="preload")
        preload.start()
    try:
        ds = datasets.load_cache(spec["dataset"], spec["key"])
        if ds is None:
            raise RagalibError(f"{spec['dataset']}: no dataset with key {spec['key'][:12]} "
                               "(it changed while the search started)")
        who = os.environ["KERASTUNER_TUNER_ID"]
        if tuning.cluster_role() == "chief":
            tuning.search(ds, cluster=Cluster(), **spec["search"])
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
        print(f"ragalib: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ragalib: interrupted", file=sys.stderr)
        return 130
