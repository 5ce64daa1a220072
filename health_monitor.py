"""One health snapshot of TalkingPhoto, cheap enough to take every few seconds.

:func:`snapshot` reads, in a few milliseconds and without any network call:

* ``process``   RSS, CPU, threads, open file descriptors, uptime (psutil);
* ``machine``   CPU, memory, free disk for the data folder;
* ``jobs``      queued / running, succeeded and failed in the last hour and day, success rate,
                p50/p95 run time by provider, age of the oldest queued job;
* ``providers`` the configured ones, circuit-breaker state, the last key check (latency,
                result, vendor credit where the vendor tells) — read from a cache that
                :func:`check_provider_keys` fills in the background;
* ``payments``  last webhook per gateway, pending purchases;
* ``storage``   a write/delete probe under the data folder, bytes stored, and the last probe
                of a remote back end (background, like key checks);
* ``database``  ping latency (a read-only connection: a busy writer never delays it);
* ``tools``     ffmpeg present, eSpeak NG loads, voices present (cached for a few minutes);
* ``requests``  response time and error rate of what :func:`track` measured.

The probes live in :mod:`observability.probes`; this module judges them and keeps the history.

The overall status is ``ok``, ``degraded`` or ``down`` with the reasons, from the thresholds in
``[health]``: ``down`` when the database does not answer or the data folder cannot be written
(nothing works), ``degraded`` for everything else that is out of bounds. Reasons are message
templates (``N_``) with params, so the admin page shows them translated; the JSON carries the
English text.

:func:`start_sampler` runs a daemon thread (idempotent) that stores a :class:`HealthSample`
every ``sample_every_s``, prunes them after ``retention_days``, and runs the key checks every
``key_check_every_s`` — the only place a vendor is called.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil
from sqlalchemy import delete, select

import observability.probes as checks_
from db.models import HealthSample, WebhookEvent, utcnow
from db.session import read_scope, session_scope
from errors import N_, TalkingPhotoError, render
from observability import alerts, memory, releasable
from observability.probes import (
    REQUESTS,
    KeyCheck,
    cached_key_check,
    check_key,
    check_provider_keys,
    configured_providers,
    percentile,
    probe_remote_storage,
    recent_errors,
    track,
)
from observability.redaction import scrub
from observability.release import app_version
from secrets_manager import Settings, get_settings

__all__ = [
    "REQUESTS",
    "KeyCheck",
    "Reason",
    "Snapshot",
    "cached_key_check",
    "check_key",
    "check_provider_keys",
    "configured_providers",
    "evaluate",
    "load_samples",
    "percentile",
    "probe_remote_storage",
    "recent_errors",
    "sampler_thread",
    "snapshot",
    "start_sampler",
    "stop_sampler",
    "track",
]

log = logging.getLogger("talkingphoto.health")

STATUSES: tuple[str, ...] = ("ok", "degraded", "down")
MIN_JOBS_FOR_RATE = 5  # fewer finished jobs say little about the success rate ...
MIN_FAILED_FOR_RATE = 3  # ... unless several of them failed
MIN_REQUESTS_FOR_RATE = 20


@dataclass(frozen=True)
class Reason:
    """Why the status is not ``ok``: a check name, its severity and a message template."""

    check: str
    severity: str  # "degraded" | "down"
    template: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return render(self.template, self.params)


@dataclass(frozen=True)
class Snapshot:
    status: str
    reasons: tuple[Reason, ...]
    checks: dict[str, dict[str, Any]]
    time: dt.datetime
    took_ms: float

    def to_json(self) -> dict[str, Any]:
        """The body of ``GET /api/health``: no secrets, no personal data. Its status is
        ``pending`` instead of ``ok`` while a configured provider's first key check is out."""
        return {
            "status": "pending" if self.status == "ok" and self.pending else self.status,
            "reasons": [
                {"check": r.check, "severity": r.severity, "message": scrub(r.text)}
                for r in self.reasons
            ],
            "version": app_version(),
            "time": self.time.isoformat(timespec="seconds"),
            "took_ms": round(self.took_ms, 1),
            "checks": self.checks,
        }

    @property
    def pending(self) -> bool:
        """A configured cloud provider has no key check yet (the first runs in the
        background after start), so ``ok`` would be a guess."""
        providers = self.checks.get("providers", {})
        return any(isinstance(p, dict) and p.get("state") == "pending" for p in providers.values())

    def metrics(self) -> dict[str, Any]:
        """The flat figures stored in a :class:`HealthSample` for the charts."""
        c = self.checks
        jobs, proc, mach = c.get("jobs", {}), c.get("process", {}), c.get("machine", {})
        return {
            "rss_mb": proc.get("rss_mb"),
            "cpu_percent": proc.get("cpu_percent"),
            "threads": proc.get("threads"),
            "machine_cpu_percent": mach.get("cpu_percent"),
            "machine_memory_percent": mach.get("memory_percent"),
            "disk_free_mb": mach.get("disk_free_mb"),
            "queued": jobs.get("queued"),
            "running": jobs.get("running"),
            "succeeded_1h": jobs.get("last_hour", {}).get("succeeded"),
            "failed_1h": jobs.get("last_hour", {}).get("failed"),
            "success_rate_1h": jobs.get("last_hour", {}).get("success_rate"),
            "oldest_queued_s": jobs.get("oldest_queued_s"),
            "db_latency_ms": c.get("database", {}).get("latency_ms"),
            "errors_1h": c.get("errors", {}).get("last_hour"),
            "response_p95_s": c.get("requests", {}).get("p95_s"),
            "took_ms": round(self.took_ms, 1),
            "reasons": [r.text for r in self.reasons],
        }


# ----------------------------------------------------------------------------------- status


_startup_lock = threading.Lock()
_startup_failure: str | None = None


def record_startup_failure(exc: BaseException | None) -> None:
    """The server's start-up failed (``None``: it succeeded after all). Until then every
    snapshot is ``down`` with the reason: the error's user message for our own errors, its
    type name otherwise (never the raw text, which may quote a setting)."""
    global _startup_failure
    if exc is None:
        reason = None
    elif isinstance(exc, TalkingPhotoError):
        reason = scrub(exc.user_message)
    else:
        reason = type(exc).__name__
    with _startup_lock:
        _startup_failure = reason


def startup_failure() -> str | None:
    """Why the server's start-up failed, or ``None``."""
    with _startup_lock:
        return _startup_failure


def evaluate(checks: dict[str, dict[str, Any]], settings: Settings) -> list[Reason]:
    """The reasons the snapshot is not ``ok``, from the ``[health]`` thresholds."""
    h = settings.health
    reasons: list[Reason] = []

    def add(check: str, severity: str, template: str, **params: Any) -> None:
        reasons.append(Reason(check, severity, template, params))

    if (failure := startup_failure()) is not None:
        add("startup", "down", N_("The service failed to start: {error}"), error=failure)

    if checks.get("database", {}).get("error"):
        add("database", "down", N_("The database does not answer."))
    for name, section in checks.items():
        if name != "database" and section.get("error"):
            add(name, "degraded", N_("The {name} check failed."), name=name)
    proc = checks.get("process", {})
    if (rss := proc.get("rss_mb")) is not None and rss > h.memory_mb_max:
        add(
            "memory",
            "degraded",
            N_("Process memory is {rss_mb:.0f} MB; the limit is {limit} MB."),
            rss_mb=rss,
            limit=h.memory_mb_max,
        )
    machine = checks.get("machine", {})
    if (free := machine.get("disk_free_mb")) is not None and free < h.disk_free_mb_min:
        add(
            "disk",
            "degraded",
            N_("Only {free_mb} MB of disk is free for the data folder; the minimum is {limit} MB."),
            free_mb=free,
            limit=h.disk_free_mb_min,
        )
    jobs = checks.get("jobs", {})
    hour = jobs.get("last_hour", {})
    done = (hour.get("succeeded") or 0) + (hour.get("failed") or 0)
    rate = hour.get("success_rate")
    enough = done >= MIN_JOBS_FOR_RATE or (hour.get("failed") or 0) >= MIN_FAILED_FOR_RATE
    if rate is not None and enough and rate < h.success_rate_min:
        add(
            "success_rate",
            "degraded",
            N_("Only {rate:.0%} of videos in the last hour succeeded; the minimum is {limit:.0%}."),
            rate=rate,
            limit=h.success_rate_min,
        )
    oldest = jobs.get("oldest_queued_s")
    if oldest is not None and oldest > h.oldest_queued_s_max:
        add(
            "queue",
            "degraded",
            N_("A video has waited {age_s:.0f} s in the queue; the limit is {limit} s."),
            age_s=oldest,
            limit=h.oldest_queued_s_max,
        )
    _evaluate_requests(checks.get("requests", {}), settings, add)
    _evaluate_providers(checks.get("providers", {}), add)
    storage = checks.get("storage", {})
    if storage and not storage.get("error") and not storage.get("writable"):
        add("storage", "down", N_("The data folder cannot be written."))
    remote = storage.get("remote") or {}
    if remote.get("ok") is False:
        add(
            "storage",
            "degraded",
            N_("File storage ({backend}) cannot be written: {result}"),
            backend=storage.get("backend"),
            result=remote.get("result", ""),
        )
    tools = checks.get("tools", {})
    missing = [t for t in ("ffmpeg", "espeak") if tools and not tools.get(t)]
    if tools and not tools.get("voices"):
        missing.append("voices")
    if missing:
        add(
            "tools",
            "degraded",
            N_("The local generator cannot run: {tools} missing."),
            tools=", ".join(missing),
        )
    return reasons


def _evaluate_requests(req: dict[str, Any], settings: Settings, add: Callable[..., None]) -> None:
    h = settings.health
    if (p95 := req.get("p95_s")) is not None and p95 > h.response_s_max:
        add(
            "response",
            "degraded",
            N_("Pages take {seconds:.1f} s (95th percentile); the limit is {limit:g} s."),
            seconds=p95,
            limit=h.response_s_max,
        )
    rate = req.get("error_rate")
    if (
        rate is not None
        and req.get("count", 0) >= MIN_REQUESTS_FOR_RATE
        and rate > h.error_rate_max
    ):
        add(
            "error_rate",
            "degraded",
            N_("{rate:.1%} of page runs failed recently; the limit is {limit:.1%}."),
            rate=rate,
            limit=h.error_rate_max,
        )


def _evaluate_providers(provs: dict[str, Any], add: Callable[..., None]) -> None:
    for name, info in provs.items():
        if not isinstance(info, dict):
            continue
        check = info.get("key_check") or {}
        if check.get("ok") is False:
            add(
                f"provider:{name}",
                "degraded",
                N_("Provider {name} cannot be reached: {result}"),
                name=name,
                result=check.get("result", ""),
            )
        if info.get("breaker") == "open":
            add(
                f"provider:{name}",
                "degraded",
                N_("Provider {name} is paused after repeated failures."),
                name=name,
            )


def overall(reasons: list[Reason]) -> str:
    return max((r.severity for r in reasons), key=STATUSES.index, default="ok")


# --------------------------------------------------------------------------------- snapshot


def _section(fn: Callable[[], dict[str, Any]], name: str) -> dict[str, Any]:
    try:
        return fn()
    except Exception as exc:
        log.warning("health: %s check failed: %s", name, type(exc).__name__, exc_info=True)
        return {"error": type(exc).__name__}


def snapshot(now: dt.datetime | None = None, settings: Settings | None = None) -> Snapshot:
    """Take one snapshot (no network call; a few milliseconds). Never raises."""
    started = time.perf_counter()
    settings = settings or get_settings()
    now = now or utcnow()
    checks: dict[str, dict[str, Any]] = {"database": _section(checks_.probe_database, "database")}
    db_ok = not checks["database"].get("error")
    checks["process"] = _section(checks_.probe_process, "process")
    checks["machine"] = _section(lambda: checks_.probe_machine(settings), "machine")
    for name, fn in (
        ("jobs", checks_.probe_jobs),
        ("payments", checks_.probe_payments),
        ("errors", checks_.probe_errors),
    ):
        # One cause, one reason: without a database these sections say nothing.
        checks[name] = _section(lambda fn=fn: fn(now), name) if db_ok else {"skipped": True}
    checks["storage"] = _section(lambda: checks_.probe_storage(settings, db_ok), "storage")
    checks["providers"] = _section(lambda: checks_.probe_providers(settings), "providers")
    checks["tools"] = _section(lambda: checks_.probe_tools(time.monotonic()), "tools")
    checks["requests"] = REQUESTS.summary()
    reasons = evaluate(checks, settings)
    took_ms = (time.perf_counter() - started) * 1000
    limit = settings.health.response_s_max
    if took_ms / 1000 > limit:
        template = N_("The health check took {seconds:.1f} s; the limit is {limit:g} s.")
        reasons.append(
            Reason("response", "degraded", template, {"seconds": took_ms / 1000, "limit": limit})
        )
    return Snapshot(overall(reasons), tuple(reasons), checks, now, took_ms)


# ---------------------------------------------------------------------------------- samples


def store_sample(snap: Snapshot) -> None:
    with session_scope() as session:
        session.add(HealthSample(ts=snap.time, status=snap.status, data=snap.metrics()))


def prune_samples(now: dt.datetime | None = None, settings: Settings | None = None) -> int:
    settings = settings or get_settings()
    cutoff = (now or utcnow()) - dt.timedelta(days=settings.health.retention_days)
    with session_scope() as session:
        result = session.execute(delete(HealthSample).where(HealthSample.ts < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


#: Webhook deliveries are remembered (a replayed event id is ignored) for longer than the
#: gateways retry: Stripe for up to 3 days, Razorpay for 24 hours. Older ones are pruned, so
#: the table (and the health count over it) stays bounded.
WEBHOOK_EVENTS_KEEP = dt.timedelta(days=7)


def prune_webhook_events(now: dt.datetime | None = None) -> int:
    cutoff = (now or utcnow()) - WEBHOOK_EVENTS_KEEP
    with session_scope() as session:
        result = session.execute(delete(WebhookEvent).where(WebhookEvent.received_at < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def load_samples(since: dt.datetime, max_points: int = 720) -> list[dict[str, Any]]:
    """Samples since ``since``, oldest first, thinned evenly to at most ``max_points``."""
    with read_scope() as db:
        rows = db.execute(
            select(HealthSample.ts, HealthSample.status, HealthSample.data)
            .where(HealthSample.ts >= since)
            .order_by(HealthSample.ts)
        ).all()
    step = max(1, math.ceil(len(rows) / max_points))
    return [
        {**(data or {}), "ts": checks_.aware(ts), "status": status}
        for ts, status, data in rows[::step]
    ]


ENGINE_CHECK_S = 15.0  # how often the sampler looks whether the engine has gone idle


def release_idle_engine(settings: Settings, now: float | None = None) -> list[str]:
    """Unload the local engine's caches once it has been idle ``[engine] idle_unload_s``
    (see :mod:`observability.releasable`); logs what went and the RSS before and after."""
    before = _rss_mb()
    released = releasable.ENGINE.release_if_idle(settings.engine.idle_unload_s, now=now)
    if released:
        log.info(
            "engine idle for %ss: released %s; RSS %.0f -> %.0f MB",
            settings.engine.idle_unload_s,
            ", ".join(released),
            before,
            _rss_mb(),
        )
    return released


def _rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


class Sampler:
    """What the sampler thread does on each wake-up; :meth:`tick` is testable with a clock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._next_sample = self._next_keys = self._next_prune = -math.inf
        self._keys_thread: threading.Thread | None = None

    def tick(self, *, background: bool = True) -> float:
        """Do what is due; returns the seconds until something is due again."""
        settings = get_settings()
        h = settings.health
        now = self._clock()
        if now >= self._next_keys:
            self._next_keys = now + h.key_check_every_s
            self._run_checks(settings, background)
        if now >= self._next_sample:
            self._next_sample = now + h.sample_every_s
            store_sample(snap := snapshot(settings=settings))
            alerts.on_sample(snap.status, [r.text for r in snap.reasons])  # alerts, backups
        if now >= self._next_prune:
            self._next_prune = now + 3600
            prune_samples(settings=settings)
            prune_webhook_events()
        releasable.ENGINE.sweep()  # e.g. the files of Streamlit sessions that have ended
        release_idle_engine(settings)
        due = min(self._next_keys, self._next_sample, now + ENGINE_CHECK_S)
        return max(0.5, due - self._clock())

    def _run_checks(self, settings: Settings, background: bool) -> None:
        def run() -> None:
            check_provider_keys(settings)
            probe_remote_storage(settings)

        if not background:
            run()
            return
        if self._keys_thread is not None and self._keys_thread.is_alive():
            return  # a slow vendor: the previous round is still waiting for its timeout
        self._keys_thread = threading.Thread(target=run, name="tp-health-keys", daemon=True)
        self._keys_thread.start()


_sampler_lock = threading.Lock()
_sampler_thread: threading.Thread | None = None
_stop = threading.Event()


TRIM_EVERY_S = 60.0  # hand freed heap back to the OS this often (observability.memory)


def _sampler_loop(sampler: Sampler, stop: threading.Event) -> None:
    last_trim = time.monotonic()
    while not stop.is_set():
        try:
            wait = sampler.tick()
        except Exception:
            log.exception("health sampler failed; retrying")
            wait = 30.0
        if time.monotonic() - last_trim >= TRIM_EVERY_S:
            memory.release_free_memory()
            last_trim = time.monotonic()
        stop.wait(wait)


def start_sampler() -> None:
    """Start the background sampler once per process (idempotent, thread-safe)."""
    global _sampler_thread, _stop
    with _sampler_lock:
        if _sampler_thread is not None and _sampler_thread.is_alive():
            return
        _stop = threading.Event()
        _sampler_thread = threading.Thread(
            target=_sampler_loop, args=(Sampler(), _stop), name="tp-health", daemon=True
        )
        _sampler_thread.start()


def sampler_thread() -> threading.Thread | None:
    """The running sampler thread, if any."""
    with _sampler_lock:
        alive = _sampler_thread is not None and _sampler_thread.is_alive()
        return _sampler_thread if alive else None


def stop_sampler(timeout_s: float = 5.0) -> None:
    global _sampler_thread
    with _sampler_lock:
        _stop.set()
        if _sampler_thread is not None:
            _sampler_thread.join(timeout_s)
        _sampler_thread = None


def reset_for_tests() -> None:
    """Forget cached key checks, probes, tools, request stats and a start-up failure."""
    checks_.reset_for_tests()
    record_startup_failure(None)


def format_report(report: dict[str, Any]) -> str:
    """A JSON report (``Snapshot.to_json``) as a few readable lines, for the command line."""
    lines = [f"Status: {report['status']} (took {report.get('took_ms', 0):.0f} ms)"]
    lines += [f"  - {r['message']}" for r in report.get("reasons", [])]
    for name, section in report.get("checks", {}).items():
        lines.append(f"{name}: {_flat(section)}")
    return "\n".join(lines)


def _flat(value: Any, prefix: str = "") -> str:
    if not isinstance(value, dict):
        return f"{prefix}={value}" if prefix else str(value)
    if not value:
        return f"{prefix}=-" if prefix else "-"
    return ", ".join(_flat(v, f"{prefix}.{k}" if prefix else str(k)) for k, v in value.items())
