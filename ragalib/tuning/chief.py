"""The chief's side of a distributed tuning search, and what lets it trust its workers.

Taught in notebook 06_tuning (through :mod:`ragalib.tuning.cluster`, which starts the
processes). KerasTuner's distributed mode runs the same search code in every process. The environment
tells each its role: ``KERASTUNER_TUNER_ID`` (``"chief"``, or a worker's id such as
``"tuner0"``), ``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT``. The chief runs the
oracle (the part that proposes trials and keeps their records) behind a gRPC server; each
worker asks it for a trial, trains it and reports the result, until the chief has no trial
left. Only the chief writes the trial records, under ``tuning_dir()/<project>``; they are the
records :func:`ragalib.tuning.tuner.trials_table` reads, so a distributed search and one on a
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
  the search (:func:`ragalib.tuning.tuner.search_identity`) and a signature of its hyper-parameter
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

import json
import os
import re
import signal
import socket
import threading
import time
from pathlib import Path

from ..errors import RagalibError, say
from . import tuner

SERVICE = "ragalib.TuningCluster"
"""The gRPC service ragalib adds beside KerasTuner's on the chief's port."""

JOIN_TIMEOUT = 120.0
"""Seconds a worker waits for its chief to answer (a chief starting beside it loads
TensorFlow first, which takes 5-25 s on a busy 2-core machine)."""

_WORKER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class _SpaceRecorder:
    """Stands in for KerasTuner's ``HyperParameters``: records each hyper-parameter that
    :func:`ragalib.tuning.tuner.settings_from` declares (without loading TensorFlow)."""

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
    tuner.settings_from(recorder, epochs=1)
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
    """What :func:`ragalib.tuning.tuner.search` uses in distributed mode: :meth:`join` admits a
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

        ``identity`` is what :func:`ragalib.tuning.tuner.search` says it will search; the call adds
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
        from concurrent import futures

        import grpc
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
        from ..util.files import atomic_write

        with self._writing:
            with self.lock:
                text = json.dumps(self.record, indent=1)
            try:
                atomic_write(self.project_dir / "cluster.json",
                             lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
            except RagalibError as exc:
                say(f"warning: {exc}")

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
            say(f"warning: losing worker {worker}: {exc}")

    def _save_unlocked(self, oracle):
        """Save the oracle's state (KerasTuner's ``end_trial`` saves it while the trial still
        counts as running, and only a search on one machine saves it again afterwards)."""
        try:
            oracle.save()
        except Exception as exc:    # noqa: BLE001 (never raise under KerasTuner's lock)
            say(f"warning: saving the oracle: {exc}")

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
            say(f"warning: finishing the search: {exc}")
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
