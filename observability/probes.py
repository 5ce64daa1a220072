"""The probes behind ``health_monitor.snapshot``: each returns one section as plain data.

Everything here is cheap and local (psutil, a few indexed queries on a read-only database
connection, a tiny file write) except :func:`check_key` and :func:`probe_remote_storage`,
which call a vendor or a remote store and therefore run only in the sampler's background
thread (or the CLI); a snapshot reads their cached outcome.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
import redis
from sqlalchemy import ColumnElement, case, func, select, text
from sqlalchemy.engine import make_url

from db.models import Event, Job, Purchase, WebhookEvent, utcnow
from db.session import database_url, read_scope
from errors import TalkingPhotoError
from observability import logs
from observability.redaction import scrub
from secrets_manager import Settings, get_settings

log = logging.getLogger("talkingphoto.health")

MB = 1024 * 1024
TOOLS_TTL_S = 300.0
DURATION_SAMPLE = 500  # finished jobs used for the run-time percentiles
REQUEST_WINDOW_S = 900.0
VENDOR_SECTIONS: dict[str, str] = {
    "heygen": "heygen",
    "d_id": "d_id",
    "synthesia": "synthesia",
    "luma": "luma_ai",
}


# ------------------------------------------------------------------------- process, machine


class _CpuMeter:
    """CPU percent between calls at least ``min_interval_s`` apart; safe across threads (the
    page, the API and the sampler all take snapshots)."""

    def __init__(self, read: Callable[[], tuple[float, float]], min_interval_s: float = 1.0):
        self._read = read
        self._min = min_interval_s
        self._lock = threading.Lock()
        self._last = read()
        self._value = 0.0

    def percent(self) -> float:
        with self._lock:
            busy, total = self._read()
            d_total = total - self._last[1]
            if d_total >= self._min or (self._value == 0.0 and d_total > 0):
                self._value = max(0.0, 100.0 * (busy - self._last[0]) / d_total)
                self._last = (busy, total)
            return round(self._value, 1)


_PROC = psutil.Process()


def _process_times() -> tuple[float, float]:
    t = _PROC.cpu_times()
    return t.user + t.system, time.monotonic()


def _machine_times() -> tuple[float, float]:
    t = psutil.cpu_times()
    idle = t.idle + getattr(t, "iowait", 0.0)
    total = sum(t)
    return total - idle, total


_proc_cpu = _CpuMeter(_process_times)
_machine_cpu = _CpuMeter(_machine_times, min_interval_s=0.5 * (psutil.cpu_count() or 1))


def probe_process() -> dict[str, Any]:
    with _PROC.oneshot():
        rss = _PROC.memory_info().rss
        threads = _PROC.num_threads()
        fds = _PROC.num_fds() if hasattr(_PROC, "num_fds") else len(_PROC.open_files())
        started = _PROC.create_time()
    return {
        "rss_mb": round(rss / MB, 1),
        "cpu_percent": _proc_cpu.percent(),
        "threads": threads,
        "open_files": fds,  # file descriptors: files, sockets, pipes
        "uptime_s": round(time.time() - started),
    }


def _existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def probe_machine(settings: Settings) -> dict[str, Any]:
    mem = psutil.virtual_memory()
    disk = psutil.disk_usage(str(_existing(settings.app.data_dir)))
    return {
        "cpu_percent": _machine_cpu.percent(),
        "cpus": psutil.cpu_count(),
        "memory_percent": round(mem.percent, 1),
        "memory_available_mb": round(mem.available / MB),
        "disk_free_mb": round(disk.free / MB),
        "disk_total_mb": round(disk.total / MB),
    }


# --------------------------------------------------------------------------------- database


def probe_database() -> dict[str, Any]:
    started = time.perf_counter()
    with read_scope() as db:
        db.execute(text("SELECT 1"))
    return {
        "ok": True,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        "dialect": make_url(database_url()).get_backend_name(),
    }


# -------------------------------------------------------------------------------------- jobs


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (``p`` in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def probe_jobs(now: dt.datetime) -> dict[str, Any]:
    hour_ago, day_ago = now - dt.timedelta(hours=1), now - dt.timedelta(days=1)
    finished = ("succeeded", "failed")
    with read_scope() as db:
        active = dict(
            db.execute(
                select(Job.status, func.count())
                .where(Job.status.in_(("queued", "running")))
                .group_by(Job.status)
            ).all()
        )
        oldest = db.scalar(select(func.min(Job.created_at)).where(Job.status == "queued"))
        in_hour = func.sum(case((Job.finished_at >= hour_ago, 1), else_=0))
        counts = {
            status: (int(day or 0), int(hour or 0))
            for status, day, hour in db.execute(
                select(Job.status, func.count(), in_hour)
                .where(Job.status.in_(finished), Job.finished_at >= day_ago)
                .group_by(Job.status)
            ).all()
        }
        runs = db.execute(
            select(
                func.coalesce(Job.provider_used, Job.provider),
                _run_seconds(db.get_bind().dialect.name),
            )
            .where(
                Job.status == "succeeded",
                Job.finished_at >= day_ago,
                Job.started_at.is_not(None),
            )
            .order_by(Job.finished_at.desc())
            .limit(DURATION_SAMPLE)
        ).all()
    oldest_s = None
    if oldest is not None:
        oldest_s = max(0.0, round((now - aware(oldest)).total_seconds(), 1))
    by_provider: dict[str, list[float]] = {}
    for provider, seconds in runs:
        by_provider.setdefault(str(provider), []).append(float(seconds))

    def window(i: int) -> dict[str, Any]:
        ok, bad = counts.get("succeeded", (0, 0))[i], counts.get("failed", (0, 0))[i]
        rate = round(ok / (ok + bad), 4) if ok + bad else None
        return {"succeeded": ok, "failed": bad, "success_rate": rate}

    return {
        "queued": int(active.get("queued", 0)),
        "running": int(active.get("running", 0)),
        "oldest_queued_s": oldest_s,
        "last_hour": window(1),
        "last_day": window(0),
        "duration_s": {
            name: {
                "n": len(values),
                "p50": round(percentile(values, 50) or 0.0, 2),
                "p95": round(percentile(values, 95) or 0.0, 2),
            }
            for name, values in sorted(by_provider.items())
        },
    }


def _run_seconds(dialect: str) -> ColumnElement[float]:
    """finished_at - started_at in seconds, computed by the database (parsing hundreds of
    timestamps in Python was most of a snapshot's time)."""
    if dialect == "sqlite":
        return (func.julianday(Job.finished_at) - func.julianday(Job.started_at)) * 86400.0
    return func.extract("epoch", Job.finished_at - Job.started_at)


def aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------------- providers


@dataclass(frozen=True)
class KeyCheck:
    """The last check of one provider's key against its cheap endpoint."""

    ok: bool | None  # None: the adapter has no check
    latency_ms: float
    result: str  # the provider's short status (may carry remaining credit) or what failed
    checked_at: dt.datetime


_key_checks: dict[str, KeyCheck] = {}
_key_lock = threading.Lock()
# With [jobs] broker_url set (several replicas), key checks are also kept in that Redis, so
# every replica's health page shows the last check whichever replica's sampler made it.
SHARED_KEY_CHECK = "talkingphoto:keycheck:{}"
SHARED_KEY_CHECK_TTL_S = 24 * 3600
_redis_clients: dict[str, redis.Redis] = {}


def _shared_store() -> redis.Redis | None:
    url = get_settings().jobs.broker_url
    if not url:
        return None
    with _key_lock:
        client = _redis_clients.get(url)
        if client is None:
            client = _redis_clients[url] = redis.Redis.from_url(
                url, socket_connect_timeout=2, socket_timeout=2
            )
        return client


def _share(name: str, check: KeyCheck) -> None:
    store = _shared_store()
    if store is None:
        return
    value = {**asdict(check), "checked_at": check.checked_at.isoformat()}
    try:
        store.set(SHARED_KEY_CHECK.format(name), json.dumps(value), ex=SHARED_KEY_CHECK_TTL_S)
    except redis.RedisError:
        log.warning("health: key check of %s not shared (Redis unavailable)", name)


def _shared(name: str) -> KeyCheck | None:
    store = _shared_store()
    if store is None:
        return None
    try:
        raw = store.get(SHARED_KEY_CHECK.format(name))
    except redis.RedisError:
        return None
    if raw is None:
        return None
    data = json.loads(raw)
    return KeyCheck(
        ok=data["ok"],
        latency_ms=float(data["latency_ms"]),
        result=str(data["result"]),
        checked_at=dt.datetime.fromisoformat(data["checked_at"]),
    )


def _router() -> Any | None:
    try:
        router = importlib.import_module("providers.router")
    except ModuleNotFoundError as exc:  # the router is optional; a bug inside it is not
        if exc.name != "providers.router":
            raise
        return None
    return router


def configured_providers(settings: Settings | None = None) -> list[str]:
    """``providers.router.configured_providers`` when it exists; else ``local`` plus every
    vendor whose ``api_key`` is set."""
    settings = settings or get_settings()
    router = _router()
    if router is not None and hasattr(router, "configured_providers"):
        return list(router.configured_providers(settings))
    names = ["local"]
    for name, section in VENDOR_SECTIONS.items():
        key = getattr(settings, section).api_key
        if key is not None and key.get_secret_value():
            names.append(name)
    return names


def breaker_state(name: str) -> str | None:
    router = _router()
    if router is None or not hasattr(router, "breaker_state"):
        return None
    try:
        return str(router.breaker_state(name))
    except Exception:
        log.warning("health: breaker state of %s unavailable", name, exc_info=True)
        return None


def check_key(name: str, clock: Callable[[], float] = time.perf_counter) -> KeyCheck:
    """Call ``providers.get_provider(name).check()`` once, record and return the outcome.

    Only the sampler thread and the CLI call this: never a page or ``/api/health``."""
    import providers

    started = clock()
    ok: bool | None
    try:
        provider = providers.get_provider(name)
        checker = getattr(provider, "check", None)
        if checker is None:
            ok, result = None, "no key check for this provider"
        else:
            ok, result = True, str(checker() or "ok")
    except TalkingPhotoError as exc:
        ok, result = False, f"{type(exc).__name__}: {exc.user_message}"
    except Exception as exc:  # a bug or an unmapped vendor reply: say what, not the body
        ok, result = False, f"{type(exc).__name__}: {str(exc)[:200]}"
    outcome = KeyCheck(
        ok=ok,
        latency_ms=round((clock() - started) * 1000, 1),
        result=scrub(result)[:300],
        checked_at=utcnow(),
    )
    if ok is False:
        log.warning("health: key check of %s failed: %s", name, outcome.result)
    with _key_lock:
        _key_checks[name] = outcome
    _share(name, outcome)
    return outcome


def check_provider_keys(settings: Settings | None = None) -> dict[str, KeyCheck]:
    """Check every configured cloud provider's key now (the local one has none)."""
    return {name: check_key(name) for name in configured_providers(settings) if name != "local"}


def cached_key_check(name: str) -> KeyCheck | None:
    """The newest check of ``name``: this process's, or another replica's (shared store)."""
    with _key_lock:
        mine = _key_checks.get(name)
    theirs = _shared(name)
    if mine is None or (theirs is not None and theirs.checked_at > mine.checked_at):
        return theirs
    return mine


def probe_providers(settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in configured_providers(settings):
        check = cached_key_check(name)
        out[name] = {
            # A cloud provider whose first key check has not come back yet is not known to
            # work: "pending", never silently "ok".
            "state": "pending" if check is None and name != "local" else "checked",
            "breaker": breaker_state(name),
            "key_check": None
            if check is None
            else {**asdict(check), "checked_at": check.checked_at.isoformat(timespec="seconds")},
        }
    return out


# ------------------------------------------------------------------------ payments, storage


def probe_payments(now: dt.datetime) -> dict[str, Any]:
    with read_scope() as db:
        last = db.execute(
            select(WebhookEvent.gateway, func.max(WebhookEvent.received_at), func.count()).group_by(
                WebhookEvent.gateway
            )
        ).all()
        pending, stale = db.execute(
            select(
                func.count(),
                func.sum(case((Purchase.created_at < now - dt.timedelta(hours=1), 1), else_=0)),
            ).where(Purchase.status == "pending")
        ).one()
    return {
        "last_webhook": {
            gateway: {
                "at": aware(at).isoformat(timespec="seconds") if at else None,
                "age_s": round((now - aware(at)).total_seconds()) if at else None,
                "count": int(n),
            }
            for gateway, at, n in last
        },
        "pending_purchases": int(pending or 0),
        "pending_over_1h": int(stale or 0),
    }


_remote_probe: dict[str, Any] = {}


def probe_remote_storage(settings: Settings | None = None) -> dict[str, Any] | None:
    """Write, read back and delete a tiny object through ``services.media`` (background only:
    a remote back end is a network call). None for the local back end."""
    settings = settings or get_settings()
    if settings.storage.backend == "local":
        return None
    from services import media

    key = f"health/probe-{os.getpid()}.txt"
    started = time.perf_counter()
    try:
        media.put(key, b"ok")
        ok = media.exists(key)
        media.delete(key)
        result = "ok" if ok else "written object not found"
    except Exception as exc:
        ok, result = False, scrub(f"{type(exc).__name__}: {str(exc)[:200]}")
        log.warning("health: storage probe failed: %s", result)
    _remote_probe.update(
        ok=ok,
        result=result,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
        checked_at=utcnow().isoformat(timespec="seconds"),
    )
    return dict(_remote_probe)


def probe_storage(settings: Settings, db_ok: bool) -> dict[str, Any]:
    used = None
    if db_ok:
        with read_scope() as db:
            used = db.scalar(select(func.coalesce(func.sum(Job.media_bytes), 0)))
    folder = settings.app.data_dir / ".health"
    probe = folder / f"probe-{os.getpid()}-{threading.get_ident()}"
    started = time.perf_counter()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        writable = probe.read_bytes() == b"ok"
        probe.unlink()
    except OSError:
        writable = False
    return {
        "backend": settings.storage.backend,
        "writable": writable,
        "probe_ms": round((time.perf_counter() - started) * 1000, 2),
        "used_mb": None if used is None else round(int(used) / MB, 1),
        "remote": dict(_remote_probe) if settings.storage.backend != "local" else None,
    }


# ------------------------------------------------------------------------------------- tools

_tools_cache: tuple[float, dict[str, Any]] | None = None
_tools_lock = threading.Lock()


def _read_tools() -> dict[str, Any]:
    ffmpeg = espeak = False
    voices = 0
    try:
        import imageio_ffmpeg

        exe = Path(imageio_ffmpeg.get_ffmpeg_exe())
        ffmpeg = exe.is_file() and os.access(exe, os.X_OK)
    except Exception:
        log.warning("health: ffmpeg not found", exc_info=True)
    try:
        from providers.local import espeak as espeak_lib

        espeak = espeak_lib.sample_rate() > 0
    except Exception:
        log.warning("health: eSpeak NG does not load", exc_info=True)
    try:
        from providers.local import voices as voice_catalog

        voices = len(voice_catalog.catalog())
    except Exception:
        log.warning("health: voice catalog unavailable", exc_info=True)
    return {"ffmpeg": ffmpeg, "espeak": espeak, "voices": voices}


def probe_tools(now_s: float) -> dict[str, Any]:
    global _tools_cache
    with _tools_lock:
        if _tools_cache is None or now_s - _tools_cache[0] > TOOLS_TTL_S:
            _tools_cache = (now_s, _read_tools())
        return dict(_tools_cache[1])


# ---------------------------------------------------------------------- requests and errors


class RequestStats:
    """Durations and failures of recent requests (page runs), for response time and error
    rate. In memory, per process: each replica reports its own."""

    def __init__(self, window_s: float = REQUEST_WINDOW_S, maxlen: int = 20_000) -> None:
        self.window_s = window_s
        self._items: deque[tuple[float, float, bool]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def record(self, duration_s: float, error: bool, now: float | None = None) -> None:
        with self._lock:
            self._items.append((time.monotonic() if now is None else now, duration_s, error))

    def summary(self, now: float | None = None) -> dict[str, Any]:
        cutoff = (time.monotonic() if now is None else now) - self.window_s
        with self._lock:
            recent = [(d, e) for t, d, e in self._items if t >= cutoff]
        errors = sum(1 for _d, e in recent if e)
        p95 = percentile([d for d, _e in recent], 95)
        return {
            "window_s": self.window_s,
            "count": len(recent),
            "errors": errors,
            "error_rate": round(errors / len(recent), 4) if recent else None,
            "p95_s": None if p95 is None else round(p95, 3),
        }

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


REQUESTS = RequestStats()


@contextlib.contextmanager
def track(kind: str = "page") -> Iterator[None]:
    """Time a request; an unexpected exception escaping the block counts as an error.

    Streamlit's rerun/stop are BaseExceptions and our own errors are the user's to fix: neither
    counts. ``kind`` is for the log only."""
    started = time.perf_counter()
    error = False
    try:
        yield
    except TalkingPhotoError:
        raise
    except Exception:
        error = True
        raise
    finally:
        duration = time.perf_counter() - started
        REQUESTS.record(duration, error)
        with contextlib.suppress(Exception):  # broken settings must not mask the real error
            if duration > get_settings().health.response_s_max:
                log.warning("slow %s: %.2f s", kind, duration)


def probe_errors(now: dt.datetime) -> dict[str, Any]:
    hour_ago = now - dt.timedelta(hours=1)
    with read_scope() as db:
        events = db.scalar(select(func.count()).where(Event.level == "error", Event.ts >= hour_ago))
    logged = logs.errors_since(hour_ago)
    return {
        # Error records logged here (a bug, a failed job, a failed check), when the log is
        # set up; else the error events in the database (failed jobs) are all we know.
        "last_hour": logged if logs.is_configured() else int(events or 0),
        "logged_last_hour": logged,
        "events_last_hour": int(events or 0),
    }


def recent_errors(limit: int = 50) -> list[dict[str, Any]]:
    """Newest first: error events from the database and error records from the log, scrubbed,
    each with the reference that finds it in the log (a job id or a short ref)."""
    with read_scope() as db:
        rows = db.execute(
            select(Event.ts, Event.kind, Event.message, Event.job_id)
            .where(Event.level == "error")
            .order_by(Event.ts.desc())
            .limit(limit)
        ).all()
    items = [
        {"time": aware(ts), "source": kind, "message": scrub(msg or ""), "ref": job_id}
        for ts, kind, msg, job_id in rows
    ]
    items += [
        {"time": e.ts, "source": e.logger, "message": e.message, "ref": e.ref or e.job_id}
        for e in logs.recent_errors(limit)
    ]
    items.sort(key=lambda item: item["time"], reverse=True)
    return items[:limit]


def reset_for_tests() -> None:
    """Forget cached key checks, probes, tools and request stats."""
    global _tools_cache
    with _key_lock:
        _key_checks.clear()
        for client in _redis_clients.values():
            client.close()
        _redis_clients.clear()
    _remote_probe.clear()
    with _tools_lock:
        _tools_cache = None
    REQUESTS.clear()
