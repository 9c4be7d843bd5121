"""The detector over HTTP: one model, loaded once, behind limits that keep the service up.

Taught in notebook 10_serving. ``python -m ragalib serve`` answers

* ``POST /detect`` with an audio file (multipart, field ``file``): the JSON object of
  ``detect --json``; the query may give ``tonic`` (auto, catalogue, none or a note),
  ``judge`` and ``separation``;
* ``POST /similar?k=5`` with an audio file: the catalogue's songs most like it, as
  ``similar --json`` gives them (when the service was started with ``--catalog``);
* ``GET /health``: the model, its feature kind and ragas, the version, the work in hand;
* ``GET /``: a page where a person tries it in the browser (``page.html`` beside this module).

Every error is one JSON object, ``{"error": "<one line>"}``, with its status: 408 for an
upload that takes longer than ``Limits.upload_seconds`` to arrive, 413 for an upload over the
size limit (refused from its ``Content-Length`` before it is read), 415 for a file that is
not audio, 422 for audio that cannot be judged (silent, shorter than one segment, longer than
:data:`ragalib.audio.MAX_SECONDS` or at a sample rate outside :data:`ragalib.audio.RATES`, said
from its header before anything is decoded) or a bad parameter, 503 with ``Retry-After`` when
the queue is full (or more than ``Limits.connections`` connections are open), 504 when a song
takes longer than the time limit, 507 when the service's temporary folder cannot take the
upload, 500 for a fault of the service itself (its traceback goes to the server's log, never
to the client).

Songs are analysed on a pool of threads, off the event loop, so ``/health`` answers while
they are worked on (numpy, librosa and TensorFlow let go of Python's lock in their heavy
parts). At most ``Limits.concurrent`` songs are analysed at once and ``Limits.queue`` more
wait their turn; the network's own calls take turns (one lock), everything before them runs
side by side. A song past its time limit is answered 504 at once, but a thread cannot be
stopped, so it holds its place until it ends: the service never takes on more work than the
limits say.
"""

import asyncio
import logging
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from ..audio import MAX_SECONDS
from ..errors import NoMelody, RagalibError

log = logging.getLogger("ragalib.serving.app")

MEMORY_MB_PER_SONG = 1400
"""The most memory one song in hand takes, in MiB, measured on the longest audio analysed
(:data:`ragalib.audio.MAX_SECONDS`): a ten-minute song took the service from 0.8 to 2.2 GB
(a one-minute song, 0.13 GB more). ``concurrent`` songs take at most that many times it
beyond the model's 0.8 GB."""

PAGE = "page.html"
"""The page ``GET /`` returns: plain HTML and JavaScript in the package, no build step."""


def page_html():
    """The text of :data:`PAGE`, as the package ships it.

    Behind notebook 10_serving (not called there by name): the service returns it, and
    :func:`ragalib.serving.client.saved_page` shows it in a saved notebook.
    """
    from importlib.resources import files

    return files(__package__).joinpath(PAGE).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Limits:
    """What one service takes on (``serve --max-mb --concurrent --queue --timeout``).

    Behind notebook 10_serving (not called there by name).
    """

    max_mb: float = 20.0
    """The largest upload, in MiB (about 2 minutes of CD-quality WAV; 20 of MP3)."""
    concurrent: int = 2
    """Songs analysed at once: one per core."""
    queue: int = 8
    """Requests that wait for a free place; one more is answered 503."""
    timeout: float = 120.0
    """Seconds a request may take, waiting included; then 504."""
    retry_after: int = 5
    """The seconds a 503 asks the client to wait (``Retry-After``)."""
    upload_seconds: float = 30.0
    """Seconds a client may take to send its upload; a slower one is answered 408 and
    dropped, so that clients that trickle bytes cannot hold connections for ever."""
    connections: int = 32
    """Open connections the server keeps; one more is answered 503 (uvicorn's
    ``limit_concurrency``)."""

    @property
    def max_bytes(self):
        return int(self.max_mb * 2 ** 20)


class Refused(Exception):
    """A request answered with an error: its HTTP status, its one-line reason, any headers.

    Behind notebook 10_serving (not called there by name).
    """

    def __init__(self, status, reason, headers=None):
        super().__init__(reason)
        self.status, self.reason, self.headers = status, reason, headers or {}


class _TooLarge(Exception):
    """The upload passed the size limit while it was being read."""


class _TooSlow(Exception):
    """The upload did not arrive within its time."""


class Desk:
    """The bounded queue in front of the analysis threads: it admits a request while fewer
    than ``concurrent + queue`` are in hand, and answers the rest 503.

    Behind notebook 10_serving (not called there by name).
    """

    def __init__(self, limits):
        self.limits = limits
        self.pool = ThreadPoolExecutor(limits.concurrent, thread_name_prefix="ragalib-song")
        self._lock = threading.Lock()
        self.in_hand = 0

    def _admit(self):
        with self._lock:
            if self.in_hand >= self.limits.concurrent + self.limits.queue:
                raise Refused(503, f"busy: {self.in_hand} songs in hand, the most this service "
                                   f"takes on; try again in {self.limits.retry_after} s",
                              {"Retry-After": str(self.limits.retry_after)})
            self.in_hand += 1

    def _release(self, _future=None):
        with self._lock:
            self.in_hand -= 1

    async def run(self, work, *args):
        """``work(*args)`` on an analysis thread, or :class:`Refused` 503 (full) or 504 (too
        slow; a request still waiting is dropped, one already running ends on its own)."""
        self._admit()
        try:
            future = self.pool.submit(work, *args)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(self._release)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.limits.timeout)
        except TimeoutError:
            raise Refused(504, f"the analysis took longer than {self.limits.timeout:g} s, this "
                               "service's limit; try a shorter excerpt") from None


class Service:
    """What the routes share: the bundle, loaded once, the tonic model, the catalogue's
    index, the limits and the :class:`Desk`.

    Behind notebook 10_serving (not called there by name).
    """

    def __init__(self, bundle, *, index=None, limits=Limits(), tonic_model=None):
        self.bundle, self.index, self.limits = bundle, index, limits
        self.tonic_model = tonic_model
        from ..detection.pipeline import note_model_for

        self.note_model = note_model_for("notes", labels=bundle.labels)   # once, before it listens
        self.desk = Desk(limits)
        self.network = threading.Lock()    # one Keras call at a time
        self.embedder = None
        if index is not None and index.method == "cnn":
            from ..similarity import embedding_model

            self.embedder = embedding_model(bundle)

    def health(self):
        """``GET /health``: who answers, and how busy it is."""
        from .. import __version__

        bundle = self.bundle
        return {"status": "ok", "model": bundle.path.name if bundle.path else None,
                "kind": bundle.config.kind, "labels": list(bundle.labels),
                "pitch_model": bundle.pitch_model is not None, "version": __version__,
                "catalog": None if self.index is None else
                {"folder": str(self.index.folder), "songs": len(self.index.files),
                 "method": self.index.method},
                "in_hand": self.desk.in_hand,
                "limits": {**asdict(self.limits), "max_seconds": MAX_SECONDS,
                           "memory_mb_per_song": MEMORY_MB_PER_SONG}}

    def detect(self, name, data, tonic, judge, separation):
        """``POST /detect``'s answer for the uploaded ``data``, on an analysis thread."""
        from ..detection.pipeline import decide, no_raga_json, song_evidence

        def answer(y):
            try:
                evidence = song_evidence(y, self.bundle.config, name=name, tonic=tonic,
                                         separation=separation, tonic_model=self.tonic_model,
                                         pitch_model=self.bundle.pitch_model,
                                         note_model=self.note_model)
            except NoMelody as exc:          # an answer: there is no raga to name
                return no_raga_json(name, exc)
            with self.network:
                return decide(evidence, self.bundle, name=name, judge=judge).to_json()

        return self._with_audio(name, data, answer)

    def similar(self, name, data, k):
        """``POST /similar``'s answer for the uploaded ``data``, on an analysis thread."""
        from ..similarity import embedding_input, finish_embedding, nearest, recommendations_json

        index = self.index

        def answer(y):
            inputs = embedding_input(y, self.bundle.config, method=index.method, name=name,
                                     pitch_model=self.tonic_model)   # as the index's songs
            with self.network:
                vector = finish_embedding(inputs, self.bundle, method=index.method,
                                          embedder=self.embedder)
            return recommendations_json(name, index, nearest(vector, index, k))

        return self._with_audio(name, data, answer)

    def _with_audio(self, name, data, answer):
        """``answer(y)`` for the upload's audio at the model's rate; 415 for a file that is
        not audio, 422 for audio that cannot be judged. The upload lives in a temporary
        folder only while it is read, and messages name it as the client sent it."""
        from .. import audio

        try:
            folder = tempfile.TemporaryDirectory(prefix="ragalib-serve-")
        except OSError as exc:
            raise Refused(507, _no_room(exc)) from None
        with folder:
            path = Path(folder.name) / name
            try:
                path.write_bytes(data)
            except OSError as exc:
                raise Refused(507, _no_room(exc)) from None

            def said(exc):
                return str(exc).replace(f"{path}", name)

            try:
                audio.check_readable(path)
            except RagalibError as exc:
                raise Refused(415, said(exc)) from None
            try:
                audio.check_length(path)
                y = audio.load(path, sr=self.bundle.config.sr)
            except RagalibError as exc:
                raise Refused(422, said(exc)) from None
        try:
            return answer(y)
        except RagalibError as exc:            # shorter than a segment, every segment silent
            raise Refused(422, said(exc)) from None


def _no_room(exc):
    """The one line of a 507: the service's own temporary folder could not take an upload."""
    import os

    reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
    return (f"this service has no room for the upload right now ({reason.lower()} in its "
            "temporary folder); try again later")


async def read_upload(request, limits):
    """The name and bytes of the file in a multipart ``request``'s field ``file``.

    Behind notebook 10_serving (not called there by name). 413 from the ``Content-Length``
    before a byte is read (and as soon as a body without one passes the limit), 415 for a body
    that is not a form, 422 for a form without a file.
    """
    from starlette.formparsers import MultiPartException
    from starlette.requests import Request

    too_large = (f"the upload is larger than this service's limit of {limits.max_mb:g} MiB; "
                 "send a shorter excerpt")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limits.max_bytes:
        raise Refused(413, too_large)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Refused(415, "send the audio as a multipart form, the file in the field 'file'")
    seen = 0

    import asyncio
    import time

    deadline = time.monotonic() + limits.upload_seconds

    async def receive():
        nonlocal seen
        try:
            message = await asyncio.wait_for(request.receive(),
                                             max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            raise _TooSlow from None
        seen += len(message.get("body", b""))
        if seen > limits.max_bytes:
            raise _TooLarge
        return message

    try:
        form = await Request(request.scope, receive).form(max_files=1, max_fields=8)
    except _TooLarge:
        raise Refused(413, too_large) from None
    except _TooSlow:
        raise Refused(408, f"the upload took longer than {limits.upload_seconds:g} s to "
                           "arrive", {"Connection": "close"}) from None
    except MultiPartException as exc:
        raise Refused(400, f"the form could not be read: {exc.message}") from None
    try:
        upload = form.get("file")
        if not hasattr(upload, "read"):
            raise Refused(422, "no file: send the audio in the form field 'file'")
        return upload_name(upload.filename), await upload.read()
    finally:
        await form.close()


NAME_BYTES = 200
"""The longest upload name kept, in UTF-8 bytes: under any file system's 255."""


def upload_name(filename):
    """The name an upload is kept and named by: the last part of the client's ``filename``
    without control characters (NUL, newlines, escapes), at most 100 characters and
    :data:`NAME_BYTES` bytes with its suffix kept, never ``.`` or ``..`` (``upload`` then).

    Behind notebook 10_serving (not called there by name).
    """
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()   # no NUL, no control bytes
    if name in ("", ".", ".."):
        return "upload"
    suffix = Path(name).suffix[:10]
    stem = name[:len(name) - len(suffix)] if suffix else name
    while len(stem) > 100 - len(suffix) or len((stem + suffix).encode()) > NAME_BYTES:
        stem = stem[:-1]                 # at most 100 characters and NAME_BYTES bytes
    return (stem + suffix) if stem else "upload" + suffix


def make_app(service):
    """The ASGI application (FastAPI) that answers for ``service``.

    Behind notebook 10_serving (not called there by name).
    """
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse
    from starlette.exceptions import HTTPException

    from .. import __version__
    from ..detection.pipeline import DEFAULT_JUDGE, JUDGES
    from ..melody.tonic import Tonic

    @asynccontextmanager
    async def lifespan(app):
        yield
        service.desk.pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="ragalib", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # their pages load scripts from the internet
    page = page_html()

    def error(status, reason, headers=None):
        return JSONResponse({"error": reason}, status_code=status, headers=headers)

    @app.exception_handler(Refused)
    async def refused(request, exc):
        return error(exc.status, exc.reason, exc.headers)

    @app.exception_handler(HTTPException)
    async def http_error(request, exc):
        return error(exc.status_code, str(exc.detail).lower())

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request, exc):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "query")
        return error(422, f"{where}: {first.get('msg', 'not allowed')}".lower())

    @app.exception_handler(Exception)
    async def fault(request, exc):
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error(500, f"the service failed on this request ({type(exc).__name__}); "
                          "its log says more")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def home():
        return page

    @app.get("/health")
    async def health():
        return service.health()

    @app.post("/detect")
    async def detect(request: Request, tonic: str = "auto", judge: str = DEFAULT_JUDGE,
                     separation: bool = True):
        try:
            tonic = Tonic.parse(tonic)
        except RagalibError as exc:
            raise Refused(422, f"tonic: {exc}") from None
        if tonic.how == "true" or judge not in JUDGES:
            raise Refused(422, "tonic: give auto, catalogue, none or a note such as D4"
                          if tonic.how == "true" else
                          f"judge: choose one of {', '.join(JUDGES)}, not {judge!r}")
        name, data = await read_upload(request, service.limits)
        return await service.desk.run(service.detect, name, data, tonic, judge, separation)

    @app.post("/similar")
    async def similar(request: Request, k: int = Query(5, ge=1, le=50)):
        if service.index is None:
            raise Refused(404, "no catalogue: start the service with --catalog DIR")
        name, data = await read_upload(request, service.limits)
        return await service.desk.run(service.similar, name, data, k)

    return app


def listen(host="127.0.0.1", port=8000):
    """A socket listening on ``host:port`` (0: a free port), or a :class:`RagalibError`
    saying why not (a port already taken): opened before the model loads, so a wrong port
    costs nothing.

    Behind notebook 10_serving (not called there by name).
    """
    import socket

    try:
        return socket.create_server((host, port))
    except OSError as exc:
        import os

        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise RagalibError(f"{host}:{port}: cannot listen there ({reason})") from None


def serve(service, sock, *, announce=print):
    """Answer for ``service`` on the listening ``sock`` (:func:`listen`) until Ctrl-C or
    SIGTERM (uvicorn; it finishes the answers it is sending, for up to 5 s).

    Taught in notebook 10_serving (through ``python -m ragalib serve``). ``announce`` is told
    the address, ``serving <model> on http://HOST:PORT``, once the service is ready.
    """
    import uvicorn

    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(make_app(service), log_level="warning", timeout_graceful_shutdown=5,
                            limit_concurrency=service.limits.connections,
                            timeout_keep_alive=5)
    announce(f"serving {service.bundle.path} on http://{host}:{port} (Ctrl-C stops)")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
