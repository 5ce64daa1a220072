"""A loopback HTTP server that plays one video vendor by its documented contract.

Each vendor module (d_id, heygen, synthesia, luma) subclasses :class:`VendorServer` with its
routes, auth rule, validation and status words. The base gives every fake the same knobs::

    with DIdServer() as vendor:          # ThreadingHTTPServer on 127.0.0.1, port 0
        vendor.url                       # base URL to put in settings
        vendor.outcome = "failed"        # done | failed | rejected | unknown | stuck
        vendor.fail("POST", "/talks", 429, {...}, headers={"Retry-After": "7"})
        vendor.fail("POST", "/talks", 504, {...}, after=True, hang_s=2)   # made, answer lost
        vendor.expire_first_link = True  # the first result URL answers 403
        vendor.stop_after_polls = 1      # the vendor goes away mid-job
        vendor.creates                   # paid jobs made (the number tests care about)

Jobs move one state per poll, so tests need no clock. Result URLs are served by the same
server under ``/files/`` (no auth, like a presigned CDN link) and carry a real MP4.
"""

from __future__ import annotations

import email.parser
import email.policy
import functools
import json
import re
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

# ------------------------------------------------------------------------------ media


@functools.cache
def sample_mp4(audio: bool = True, seconds: float = 2.0) -> bytes:
    """A real small H.264 MP4 (with an AAC tone when ``audio``), made once per process."""
    import imageio_ffmpeg

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sample.mp4"
        cmd = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size=320x240:rate=25:duration={seconds}",
        ]
        if audio:
            cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
        cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        cmd += ["-c:a", "aac", "-shortest"] if audio else ["-an"]
        cmd += ["-movflags", "+faststart", str(out)]
        subprocess.run(cmd, check=True, capture_output=True)
        return out.read_bytes()


# --------------------------------------------------------------------------- requests


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    raw: bytes
    json: Any = None
    form: dict[str, tuple[str | None, str, bytes]] = field(default_factory=dict)  # name: file

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list -> JSON; bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    response: Response
    times: int = 1
    after: bool = False  # handle the request first (a create is made), then answer this
    hang_s: float = 0.0  # hold the answer (real seconds): the client's read timeout fires


@dataclass
class FakeJob:
    id: str
    body: Any
    client_ref: str | None = None
    polls: int = 0
    deleted: bool = False
    links: int = 0
    data: dict[str, Any] = field(default_factory=dict)


Route = tuple[str, str, Callable[[Request, re.Match[str]], Response]]


class VendorServer:
    """Base of the fakes: dispatch, faults, job state machine, expiring result files."""

    name: ClassVar[str] = "vendor"
    RUNNING: ClassVar[tuple[str, ...]] = ()  # statuses shown while the job runs, in order
    DONE: ClassVar[str] = "done"
    FAILED: ClassVar[str] = "error"
    REJECTED: ClassVar[str] = "rejected"
    UNKNOWN: ClassVar[str] = "paused_for_review"  # not in the vendor's documented enum

    def __init__(self, *, api_key: str = "test-key-123") -> None:
        self.api_key = api_key
        self.creates = 0
        self.jobs: dict[str, FakeJob] = {}
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.outcome = "done"
        self.failure_message = "No face could be found in the source image."
        self.expire_first_link = False
        self.stop_after_polls: int | None = None
        # hold = Event(): the poll number ``hold_at_poll`` of a job waits for it (real time),
        # with ``held`` set meanwhile: a test can look at a job that is surely mid-render.
        self.hold: threading.Event | None = None
        self.hold_at_poll = 3
        self.held = threading.Event()
        self.file_requests: list[Request] = []
        self.video = sample_mp4(audio=True)
        self._tokens: dict[str, tuple[str, bool]] = {}
        self._lock = threading.RLock()
        self._release = threading.Event()
        self._polls = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> VendorServer:
        handler = type("Handler", (_Handler,), {"vendor": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"fake-{self.name}", daemon=True
        )
        self._thread.start()
        return self

    @property
    def stopped(self) -> bool:
        return self._server is None

    def stop(self) -> None:
        """Go away: new connections are refused, open keep-alive ones are dropped."""
        self._release.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> VendorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    base_path: ClassVar[str] = ""  # Luma's API lives under /dream-machine/v1

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -------------------------------------------------------------------- knobs

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        after: bool = False,
        hang_s: float = 0.0,
    ) -> None:
        """The next ``times`` calls matching ``method`` and the ``path`` regex get this."""
        self.faults.append(
            Fault(
                method,
                re.compile(path),
                Response(status, body, headers or {}),
                times,
                after,
                hang_s,
            )
        )

    def made(self) -> list[FakeJob]:
        return list(self.jobs.values())

    def calls(self, method: str, path_regex: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and re.fullmatch(path_regex, r.path)]

    # ----------------------------------------------------------- for subclasses

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def authorized(self, req: Request) -> bool:
        raise NotImplementedError

    def unauthorized(self) -> Response:
        raise NotImplementedError

    def error(self, status: int, code: str, message: str, **extra: Any) -> Response:
        """The vendor's error body."""
        raise NotImplementedError

    def new_job(self, body: Any, client_ref: str | None, job_id: str | None = None) -> FakeJob:
        with self._lock:
            job = FakeJob(job_id or str(uuid.uuid4()), body, client_ref)
            self.jobs[job.id] = job
            self.creates += 1
            return job

    def advance(self, job: FakeJob) -> str:
        """The status this poll shows; one step further each poll."""
        if self.hold is not None and job.polls + 1 == self.hold_at_poll:
            self.held.set()
            self.hold.wait(60)
        with self._lock:
            job.polls += 1
            self._polls += 1
            if self.stop_after_polls is not None and self._polls >= self.stop_after_polls:
                threading.Thread(target=self.stop, daemon=True).start()
            if job.polls <= len(self.RUNNING) or self.outcome == "stuck":
                return self.RUNNING[min(job.polls, len(self.RUNNING)) - 1]
            return {
                "done": self.DONE,
                "failed": self.FAILED,
                "rejected": self.REJECTED,
                "unknown": self.UNKNOWN,
            }[self.outcome]

    def link(self, job: FakeJob) -> str:
        """A fresh presigned-style result URL (the first one already expired, if asked)."""
        with self._lock:
            job.links += 1
            token = uuid.uuid4().hex
            expired = self.expire_first_link and job.links == 1
            self._tokens[token] = (job.id, expired)
        return f"{self.origin}/files/{token}/video.mp4?Expires=1700000000&Signature=fake"

    def file_body(self, job: FakeJob) -> bytes:
        return self.video

    # ------------------------------------------------------------------ dispatch

    def handle(self, req: Request) -> Response:
        with self._lock:
            self.requests.append(req)
        if req.path.startswith("/files/"):
            return self._serve_file(req)
        if not req.path.startswith(self.base_path):
            return self.error(404, "not_found", "no such route")
        if not self.authorized(req):
            return self.unauthorized()
        fault = self._take_fault(req)
        if fault is not None and not fault.after:
            self._hang(fault)
            return fault.response
        response = self._route(req)
        if fault is not None:
            self._hang(fault)
            return fault.response
        return response

    def _route(self, req: Request) -> Response:
        path = req.path[len(self.base_path) :] or "/"
        for method, pattern, func in self.routes():
            match = re.fullmatch(pattern, path)
            if match and method == req.method:
                return func(req, match)
        return self.error(404, "not_found", f"no route {req.method} {path}")

    def _take_fault(self, req: Request) -> Fault | None:
        path = req.path[len(self.base_path) :]
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == req.method and fault.path.fullmatch(path):
                    fault.times -= 1
                    return fault
        return None

    def _hang(self, fault: Fault) -> None:
        if fault.hang_s:
            self._release.wait(fault.hang_s)

    def _serve_file(self, req: Request) -> Response:
        with self._lock:
            self.file_requests.append(req)
        token = req.path.split("/")[2]
        found = self._tokens.get(token)
        if found is None or found[1]:
            body = b"<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>"
            return Response(403, body, content_type="application/xml")
        return Response(200, self.file_body(self.jobs[found[0]]), content_type="video/mp4")


class _Handler(BaseHTTPRequestHandler):
    vendor: ClassVar[VendorServer]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _dispatch(self) -> None:
        if self.vendor.stopped:  # a kept-alive connection to a vendor that went away
            self.close_connection = True
            return
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = Request(self.command, parts.path, parse_qs(parts.query), headers, raw)
        ctype = headers.get("content-type", "")
        if raw and ctype.startswith("application/json"):
            try:
                req.json = json.loads(raw)
            except ValueError:
                req.json = _INVALID
        elif raw and ctype.startswith("multipart/form-data"):
            req.form = _parse_multipart(ctype, raw)
        resp = self.vendor.handle(req)
        if isinstance(resp.body, bytes):
            payload = resp.body
        elif resp.body is None:
            payload = b""
        else:
            payload = json.dumps(resp.body).encode()
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in resp.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            self.close_connection = True

    do_GET = do_POST = do_DELETE = do_PUT = _dispatch


_INVALID = object()


def _parse_multipart(ctype: str, raw: bytes) -> dict[str, tuple[str | None, str, bytes]]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + raw
    )
    form: dict[str, tuple[str | None, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True) or b""
            form[str(name)] = (part.get_filename(), part.get_content_type(), payload)
    return form


def is_invalid_json(value: Any) -> bool:
    return value is _INVALID


class FakeClock:
    """A monotonic clock whose ``sleep`` only moves time forward (no real waiting)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
