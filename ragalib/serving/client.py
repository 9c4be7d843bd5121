"""Using the detector's service from Python: start ``python -m ragalib serve`` in the
background, call it, stop it, and put it under load.

Taught in notebook 10_serving; the tests and ``python -m ragalib bench serve`` use the same
calls. The service itself is :mod:`ragalib.serving.app`.
"""

import atexit
import collections
import queue
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import RagalibError
from ..util.processes import stop_group

START_SECONDS = 300
"""How long :func:`start` waits for the service to listen: loading TensorFlow and the bundle
takes about 10 s; a fresh machine with no default detector builds it first (2.5 minutes)."""


class Running:
    """A ``python -m ragalib serve`` process on this machine, started by :func:`start`.

    Behind notebook 10_serving (not called there by name).
    ``url`` is where it answers; :meth:`stop` (or leaving a
    ``with`` block) ends it and every process it started, even after a failure; so does the
    end of the Python process that started it.
    """

    def __init__(self, process, url, log):
        self.process, self.url, self.log = process, url, log

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def health(self):
        """``GET /health`` as a dict."""
        import httpx

        return httpx.get(f"{self.url}/health", timeout=10).raise_for_status().json()

    def post(self, route, path, *, timeout=120, **params):
        """``POST`` the audio file at ``path`` to ``route`` (``detect`` or ``similar``) with
        the query ``params``; the ``httpx.Response``, whatever its status."""
        import httpx

        path = Path(path)
        return httpx.post(f"{self.url}/{route}", params=params, timeout=timeout,
                          files={"file": (path.name, path.read_bytes())})

    def stop(self):
        """SIGTERM (uvicorn finishes what it is sending), then SIGKILL after 10 s."""
        stop_group(self.process, grace=10)


def start(*options, model=None, catalog=None, port=0, timeout=START_SECONDS):
    """Start ``python -m ragalib serve`` on 127.0.0.1 and wait until it listens.

    Taught in notebook 10_serving.

    Parameters
    ----------
    *options : str
        More of ``serve``'s options, such as ``"--timeout", "30"``.
    model, catalog : path, optional
        ``--model`` and ``--catalog``.
    port : int
        0 (default): a free port.

    Returns
    -------
    Running

    Raises
    ------
    RagalibError
        With the service's last word, if it exits or does not listen within ``timeout`` s.
    """
    command = [sys.executable, "-m", "ragalib", "serve", "--host", "127.0.0.1",
               "--port", str(port), *options]
    for flag, value in (("--model", model), ("--catalog", catalog)):
        if value is not None:
            command += [flag, str(value)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    log = collections.deque(maxlen=50)       # the service's stderr, last lines first to hand
    lines = queue.Queue()
    threading.Thread(target=_drain, args=(process.stderr, log.append), daemon=True).start()
    threading.Thread(target=_drain, args=(process.stdout, lines.put), daemon=True).start()
    running = Running(process, None, log)
    deadline = time.monotonic() + timeout
    try:
        while running.url is None:
            try:
                line = lines.get(timeout=max(0.01, min(1.0, deadline - time.monotonic())))
            except queue.Empty:
                line = ""
            if line.startswith("serving ") and " on http://" in line:
                running.url = line.split(" on ", 1)[1].split()[0]
            elif process.poll() is not None and lines.empty():
                time.sleep(0.2)               # let the stderr reader catch the last line
                raise RagalibError(f"the service exited ({process.returncode}): "
                                   f"{log[-1] if log else 'it said nothing'}")
            elif time.monotonic() > deadline:
                raise RagalibError(f"the service did not listen within {timeout:g} s")
    except BaseException:
        running.stop()
        raise
    atexit.register(running.stop)      # a kernel or script that ends takes its service along
    return running


def _drain(stream, keep):
    for line in stream:
        keep(line.rstrip("\n"))


def write_excerpts(paths, folder, *, seconds=10.0, sr):
    """The first ``seconds`` of each song in ``paths``, as WAV files at ``sr`` in ``folder``
    (same stems): short clips for a load test.

    Taught in notebook 10_serving; ``python -m ragalib bench serve`` uses it too.
    """
    from .. import audio

    written = []
    for path in map(Path, paths):
        written.append(Path(folder) / f"{path.stem}.wav")
        audio.save(written[-1], audio.load(path, sr=sr)[:int(seconds * sr)], sr=sr)
    return written


@dataclass
class LoadResult:
    """What :func:`load_test` measured.

    Behind notebook 10_serving (not called there by name).
    """

    requests: int
    statuses: dict        # HTTP status -> count; "lost" for a request that got no answer
    seconds: float
    latencies: list       # seconds, one per answered request

    @property
    def lost(self):
        return self.statuses.get("lost", 0)

    def summary(self):
        """One line: requests, answers by status, throughput, median and 95th percentile."""
        answered = sorted(self.latencies)
        p95 = statistics.quantiles(answered, n=20)[-1] if len(answered) > 1 else answered[0]
        statuses = ", ".join(f"{count} x {status}" for status, count in self.statuses.items())
        return (f"{self.requests} requests ({statuses}) in {self.seconds:.1f} s: "
                f"{self.requests / self.seconds:.1f} requests/s; latency median "
                f"{statistics.median(answered):.2f} s, p95 {p95:.2f} s")


def load_test(url, files, *, requests=200, clients=8, route="detect", timeout=120):
    """``requests`` POSTs of ``files`` (in turn) to ``url/route`` from ``clients`` concurrent
    clients, each with its own connection.

    Taught in notebook 10_serving; ``python -m ragalib bench serve`` runs it at full size.

    Returns
    -------
    LoadResult
    """
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    bodies = [(Path(f).name, Path(f).read_bytes()) for f in files]
    jobs = queue.Queue()
    for n in range(requests):
        jobs.put(bodies[n % len(bodies)])
    statuses, latencies, lock = collections.Counter(), [], threading.Lock()

    def client(_):
        with httpx.Client(timeout=timeout) as http:
            while True:
                try:
                    body = jobs.get_nowait()
                except queue.Empty:
                    return
                began = time.perf_counter()
                try:
                    status = http.post(f"{url}/{route}", files={"file": body}).status_code
                except httpx.HTTPError:
                    status = "lost"
                with lock:
                    statuses[status] += 1
                    if status != "lost":
                        latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return LoadResult(requests, dict(statuses), time.perf_counter() - began, latencies)


def saved_page(*, height=560):
    """The service's page in a frame that needs no service: what an executed notebook keeps.

    Taught in notebook 10_serving. A frame pointed at a running service is blank once the
    service stops, and so in the saved notebook and its HTML page. This frame carries the
    page itself, from the package's file (``srcdoc``), so it still shows what a learner
    saw; its buttons need a service, and the page says it has none.
    """
    import html

    from IPython.display import HTML

    from .app import page_html

    page = page_html()
    # in a <div>: IPython warns about HTML that starts with an <iframe>, though this frame
    # is one IPython's IFrame cannot make (it takes an address, not a page)
    return HTML(f'<div><iframe srcdoc="{html.escape(page, quote=True)}" width="100%" '
                f'height="{int(height)}" style="border: 1px solid #ccc"></iframe></div>')
