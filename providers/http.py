"""The HTTP layer every cloud video adapter uses (on ``requests``).

One :class:`VendorHttp` per adapter instance. What it guarantees:

* **Explicit timeouts** on every call, ``(connect_s, read_s)``, never longer than what is left
  of the job's :class:`Deadline`.
* **Retries only for retryable failures**: a connection that never reached the vendor, a 429
  (its ``Retry-After`` / ``RateLimit-Reset`` honoured), and a 5xx, 408 or read timeout on an
  *idempotent* call. A POST that may have been processed is never blindly repeated here: the
  adapter reconciles it (see :mod:`providers.cloud`), so a timeout cannot pay twice.
* **Backoff** doubling from ``backoff_s`` up to ``backoff_max_s``; no wait passes the deadline
  (the error is raised at once instead, with ``retry_after_s``).
* **Our User-Agent**; the vendor's key goes only to its base URL. Result downloads (presigned
  URLs on a CDN) carry no key.
* **One translation function per adapter** turns a non-2xx answer (:class:`VendorReply`) into
  the error tree by status code and the vendor's error *code*; message text is never read.

Session and clock are injected: tests use loopback fake servers and a clock whose ``sleep``
only advances a number (:func:`set_default_clock`).
"""

from __future__ import annotations

import email.utils
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests
from urllib3.exceptions import NewConnectionError

from errors import (
    N_,
    JobCancelled,
    ProviderError,
    ProviderProtocolError,
    ProviderTimeout,
    ProviderUnavailable,
)
from providers.base import CancelToken

log = logging.getLogger("talkingphoto.providers")

USER_AGENT = f"TalkingPhoto/0.1 (+python-requests/{requests.__version__})"
RETRY_STATUSES_IDEMPOTENT = frozenset({408, 500, 502, 503, 504})
DOWNLOAD_CHUNK = 256 * 1024
MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024  # a talking-head clip is far smaller; refuse a runaway
WAIT_SLICE_S = 0.25  # a long wait checks the cancel token this often


# ---------------------------------------------------------------------------------- clock


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


_default_clock: Clock = SystemClock()


def default_clock() -> Clock:
    """The clock adapters and circuit breakers use unless one is passed in."""
    return _default_clock


def set_default_clock(clock: Clock | None) -> Clock:
    """Replace the process-wide default clock (tests); ``None`` restores the system clock.
    Returns the previous one."""
    global _default_clock
    previous, _default_clock = _default_clock, clock or SystemClock()
    return previous


def wait(clock: Clock, seconds: float, cancel: CancelToken | None = None) -> None:
    """Sleep ``seconds`` on ``clock``, in slices, raising JobCancelled as soon as asked."""
    end = clock.monotonic() + max(0.0, seconds)
    while True:
        if cancel is not None:
            cancel.raise_if_cancelled()
        left = end - clock.monotonic()
        if left <= 0:
            return
        clock.sleep(min(WAIT_SLICE_S, left) if isinstance(clock, SystemClock) else left)


@dataclass(frozen=True)
class Deadline:
    """The time a whole job may take, on a :class:`Clock` (``deadline_s`` in settings)."""

    clock: Clock
    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float, clock: Clock) -> Deadline:
        return cls(clock=clock, at=clock.monotonic() + seconds, seconds=seconds)

    def remaining(self) -> float:
        return self.at - self.clock.monotonic()

    def check(self, provider: str, label: str) -> None:
        if self.remaining() <= 0:
            raise ProviderTimeout(
                N_("{provider} did not finish the video within {minutes} minutes."),
                params={"provider": label, "minutes": max(1, math.ceil(self.seconds / 60))},
                provider=provider,
            )


# ------------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class VendorReply:
    """One HTTP answer: what the adapter reads on success and translates on failure."""

    status: int
    body: Any  # parsed JSON, or None when the body is empty or not JSON
    headers: Mapping[str, str]
    method: str = "GET"
    path: str = ""

    @property
    def retry_after_s(self) -> float | None:
        return retry_after_s(self.headers)


Translate = Callable[[VendorReply], ProviderError]


class VendorHTTPError(Exception):
    """The raw cause chained under a translated error (for logs: status, route, vendor code)."""


class LinkExpired(Exception):
    """A result URL answered 403/404/410: ask the vendor for a fresh one."""


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date) or Synthesia's
    ``RateLimit-Reset`` (seconds); ``None`` when neither is usable."""
    for name in ("Retry-After", "RateLimit-Reset"):
        value = headers.get(name)
        if not value:
            continue
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        return max(0.0, when.timestamp() - time.time())
    return None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # tries in all for one retryable call
    backoff_s: float = 1.0
    backoff_max_s: float = 30.0

    def backoff(self, failures: int) -> float:
        return min(self.backoff_max_s, self.backoff_s * (2 ** max(0, failures - 1)))


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly did not reach the vendor (safe to send again)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, NewConnectionError | ConnectionRefusedError):
            return True
        cause = cause.__cause__ or cause.__context__ or _first_arg(cause)
    return False


def _first_arg(exc: BaseException) -> BaseException | None:
    # requests wraps urllib3's MaxRetryError as args[0]; its .reason is the real cause.
    arg = exc.args[0] if exc.args else None
    reason = getattr(arg, "reason", None)
    if isinstance(reason, BaseException):
        return reason
    return arg if isinstance(arg, BaseException) else None


# --------------------------------------------------------------------------------- client


class VendorHttp:
    """Calls to one vendor's API: base URL, auth headers, timeouts, retries, translation."""

    def __init__(
        self,
        provider: str,
        label: str,
        base_url: str,
        *,
        auth: Mapping[str, str],
        connect_s: float,
        read_s: float,
        translate: Translate,
        session: requests.Session | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.provider = provider
        self.label = label
        self.base_url = base_url.rstrip("/")
        self._auth = dict(auth)
        self.connect_s = connect_s
        self.read_s = read_s
        self.translate = translate
        self.clock = clock or default_clock()
        self.retry = retry or RetryPolicy()
        self._session = session
        self._local = threading.local()

    def session(self) -> requests.Session:
        """The injected session, else one per thread (a Session is not documented as
        thread-safe, and one client serves several workers)."""
        if self._session is not None:
            return self._session
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    # --------------------------------------------------------------------- API calls

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        files: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        deadline: Deadline | None = None,
        cancel: CancelToken | None = None,
        idempotent: bool | None = None,
        accept: tuple[int, ...] = (),
    ) -> VendorReply:
        """One API call with the retry rules above; a 2xx (or a status in ``accept``) is
        returned, anything else raised as the adapter's translation of it."""
        if idempotent is None:
            idempotent = method.upper() in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
        url = self.base_url + path
        sent_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **self._auth}
        sent_headers.update(headers or {})
        failures = 0
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            if deadline is not None:
                deadline.check(self.provider, self.label)
            try:
                resp = self.session().request(
                    method,
                    url,
                    json=json,
                    files=files,
                    params=params,
                    headers=sent_headers,
                    timeout=self._timeout(deadline),
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                failures += 1
                safe = _never_sent(exc) or idempotent
                if safe and failures < self.retry.attempts:
                    self._pause(self.retry.backoff(failures), deadline, cancel)
                    continue
                raise self._network_error(exc, method, path) from exc
            reply = VendorReply(resp.status_code, _json_or_none(resp), resp.headers, method, path)
            if 200 <= resp.status_code < 300 or resp.status_code in accept:
                return reply
            failures += 1
            retryable = resp.status_code == 429 or (
                idempotent and resp.status_code in RETRY_STATUSES_IDEMPOTENT
            )
            error = self.translate(reply)
            if retryable and failures < self.retry.attempts:
                delay = reply.retry_after_s
                delay = self.retry.backoff(failures) if delay is None else delay
                if deadline is None or delay < deadline.remaining():
                    log.info(
                        "%s %s %s -> %s; retrying in %.1f s",
                        self.provider,
                        method,
                        path,
                        resp.status_code,
                        delay,
                    )
                    self._pause(delay, deadline, cancel)
                    continue
            raise error from VendorHTTPError(
                f"{self.provider} {method} {path} -> HTTP {resp.status_code}"
            )

    def json(self, reply: VendorReply) -> Any:
        """``reply.body``, or ProviderProtocolError when a success carried no JSON."""
        if reply.body is None:
            raise ProviderProtocolError(
                provider=self.provider,
                detail=f"{reply.method} {reply.path}: HTTP {reply.status} without a JSON body",
            )
        return reply.body

    def _timeout(self, deadline: Deadline | None) -> tuple[float, float]:
        if deadline is None:
            return (self.connect_s, self.read_s)
        left = max(0.05, deadline.remaining())
        return (min(self.connect_s, left), min(self.read_s, left))

    def _pause(self, seconds: float, deadline: Deadline | None, cancel: CancelToken | None) -> None:
        """Wait, but never past the deadline (the next call's check then raises)."""
        if deadline is not None:
            seconds = min(seconds, max(0.0, deadline.remaining()))
        wait(self.clock, seconds, cancel)

    def _network_error(
        self, exc: requests.RequestException, method: str, path: str
    ) -> ProviderError:
        detail = f"{method} {path}: {type(exc).__name__}"
        if isinstance(exc, requests.Timeout):
            return ProviderTimeout(
                N_("{provider} did not answer in time."),
                params={"provider": self.label},
                provider=self.provider,
                detail=detail,
            )
        return ProviderUnavailable(
            N_("{provider} cannot be reached right now."),
            params={"provider": self.label},
            provider=self.provider,
            detail=detail,
        )

    # ---------------------------------------------------------------------- download

    def download(
        self,
        url: str,
        dest: Path,
        *,
        deadline: Deadline | None = None,
        cancel: CancelToken | None = None,
        max_bytes: int = MAX_DOWNLOAD_BYTES,
    ) -> int:
        """Stream a result URL into ``dest`` (written whole or not at all); returns its size.

        The URL is presigned, so no vendor key is sent. 403/404/410 raise :class:`LinkExpired`
        (ask the vendor for a fresh link); network errors and 5xx are retried.
        """
        if not url.lower().startswith(("https://", "http://")):
            raise ProviderProtocolError(
                provider=self.provider, detail=f"result URL is not http(s): {url[:40]}"
            )
        failures = 0
        while True:
            try:
                return self._download_once(url, dest, deadline, cancel, max_bytes)
            except LinkExpired:
                raise
            except (requests.RequestException, _RetryableDownload) as exc:
                failures += 1
                if failures >= self.retry.attempts:
                    raise ProviderUnavailable(
                        N_("The finished video could not be downloaded from {provider}."),
                        params={"provider": self.label},
                        provider=self.provider,
                        detail=f"download: {type(exc).__name__} {exc}",
                    ) from exc
                self._pause(self.retry.backoff(failures), deadline, cancel)

    def _download_once(
        self,
        url: str,
        dest: Path,
        deadline: Deadline | None,
        cancel: CancelToken | None,
        max_bytes: int,
    ) -> int:
        if deadline is not None:
            deadline.check(self.provider, self.label)
        headers = {"User-Agent": USER_AGENT}
        tmp = dest.with_name(f".{dest.name}.part")
        with self.session().get(
            url, headers=headers, stream=True, timeout=self._timeout(deadline)
        ) as resp:
            if resp.status_code in (403, 404, 410):
                raise LinkExpired(f"HTTP {resp.status_code}")
            if resp.status_code == 429 or resp.status_code >= 500:
                raise _RetryableDownload(f"HTTP {resp.status_code}")
            if not 200 <= resp.status_code < 300:
                raise ProviderProtocolError(
                    provider=self.provider, detail=f"download answered HTTP {resp.status_code}"
                )
            size = 0
            try:
                with tmp.open("wb") as fh:
                    for chunk in resp.iter_content(DOWNLOAD_CHUNK):
                        if cancel is not None and cancel.cancelled:
                            raise JobCancelled()
                        size += len(chunk)
                        if size > max_bytes:
                            raise ProviderProtocolError(
                                provider=self.provider, detail="result larger than allowed"
                            )
                        fh.write(chunk)
                os.replace(tmp, dest)
            finally:
                tmp.unlink(missing_ok=True)
        if size == 0:
            raise ProviderProtocolError(provider=self.provider, detail="empty result file")
        return size


class _RetryableDownload(Exception):
    pass


def _json_or_none(resp: requests.Response) -> Any:
    if not resp.content:
        return None
    try:
        return resp.json()
    except ValueError:
        return None
