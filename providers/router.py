"""Which provider makes a job: choice by capabilities, fallback, circuit breakers, attempts.

``[providers] default`` (or the creator) names a provider, or ``auto``. For ``auto`` the
candidates are ``[providers] order``, keeping those that are configured (their key is set)
and whose capabilities fit the request: it animates the photo, it speaks, it knows the
language. Then, for each candidate whose circuit breaker lets it through:

* success -> done (the breaker closes);
* :class:`ProviderUnavailable` (timeouts, 5xx, 429 past retries, out of vendor credit)
  -> recorded, and ``auto`` moves on to the next candidate;
* anything else (a rejected photo or script, a wrong key, an answer we do not understand)
  -> the job fails with that message: bad input is the creator's to fix, not retried
  elsewhere. A provider the creator chose explicitly never falls back silently.

Every try is reported to an :class:`AttemptLog` (the job runner writes ``JobAttempt`` rows).
A job that was interrupted after its vendor accepted it resumes on that provider with the
saved remote id. Breakers (one per provider) protect creators from waiting on a vendor
that is down; they are not a record of anything. They live in this process, or, when
``[jobs] broker_url`` is set (several replicas and workers), in that Redis
(:class:`RedisCircuitBreaker`), so every replica and worker sees one breaker per provider.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

import redis

import providers
from errors import (
    N_,
    ConfigError,
    InputError,
    JobCancelled,
    ProviderAuthError,
    ProviderError,
    ProviderProtocolError,
    ProviderRejected,
    ProviderUnavailable,
    TalkingPhotoError,
)
from providers.base import Capabilities, GenerationRequest, GenerationResult, JobContext, Provider
from providers.http import Clock, default_clock
from secrets_manager import Settings, get_settings

log = logging.getLogger("talkingphoto.router")

AUTO = "auto"
BreakerState = Literal["closed", "open", "half_open"]


# ---------------------------------------------------------------------- configuration


def section_of(name: str, settings: Settings | None = None) -> Any | None:
    """The settings section of a cloud provider (``None`` for local and test doubles)."""
    section = providers.SETTINGS_SECTIONS.get(name)
    return getattr(settings or get_settings(), section) if section else None


def is_configured(name: str, settings: Settings | None = None) -> bool:
    if name not in providers.REGISTRY:
        return False
    section = section_of(name, settings)
    return section is None or section.api_key is not None


def configured_providers(settings: Settings | None = None) -> list[str]:
    """Providers that can be used: ``local`` always, cloud vendors whose key is set, in
    ``[providers] order`` first and then registry order."""
    settings = settings or get_settings()
    ordered = [*settings.providers.order, *providers.REGISTRY]  # local is first in it
    names: list[str] = []
    for name in ordered:
        if name not in names and is_configured(name, settings):
            names.append(name)
    return names


def price_per_started_30s(name: str, settings: Settings | None = None) -> int:
    """Credits per started 30 s of video on ``name`` (cloud: its section's
    ``credits_per_started_30s``; local and others: ``[credits] per_started_30s``)."""
    settings = settings or get_settings()
    section = section_of(name, settings)
    if section is not None:
        return int(section.credits_per_started_30s)
    return int(settings.credits.per_started_30s)


def fits(caps: Capabilities, request: GenerationRequest) -> bool:
    """What ``auto`` asks of a provider: it animates the photo, speaks, knows the language."""
    return caps.uses_photo and caps.speaks and request.language in caps.languages


# ------------------------------------------------------------------------------ clients

_clients: dict[str, tuple[Settings, Provider]] = {}
_clients_lock = threading.Lock()


def client(name: str, settings: Settings | None = None) -> Provider:
    """One shared instance per provider for the current settings (adapters are
    thread-safe: they hold no per-job state)."""
    settings = settings or get_settings()
    with _clients_lock:
        cached = _clients.get(name)
        if cached is not None and cached[0] is settings:
            return cached[1]
    instance = providers.from_settings(name, settings)
    with _clients_lock:
        _clients[name] = (settings, instance)
    return instance


def plan(asked: str, request: GenerationRequest, settings: Settings | None = None) -> list[str]:
    """The providers to try, in order. An explicit name is tried alone (and must be
    configured); ``auto`` lists configured providers that fit, or raises InputError."""
    settings = settings or get_settings()
    if asked != AUTO:
        if asked not in providers.REGISTRY:
            providers.get_provider(asked)  # raises ConfigError listing the valid names
        if not is_configured(asked, settings):
            raise ConfigError(
                N_("{provider} is not configured: set [{section}] api_key."),
                params={"provider": label(asked), "section": providers.SETTINGS_SECTIONS[asked]},
            )
        return [asked]
    unknown = [n for n in settings.providers.order if n not in providers.REGISTRY]
    if unknown:
        raise ConfigError(
            N_("[providers] order names '{name}', which is not a provider. Choose: {choices}."),
            params={"name": unknown[0], "choices": ", ".join(providers.available())},
        )
    names = [
        n
        for n in settings.providers.order
        if is_configured(n, settings) and fits(client(n, settings).capabilities(), request)
    ]
    if not names:
        raise InputError(
            N_("No video service here can make this video in this language; choose another."),
        )
    return names


# ---------------------------------------------------------------------- circuit breaker


class CircuitBreaker:
    """Opens after ``failures`` consecutive failures; after ``cooldown_s`` it lets one trial
    through (half-open); the trial's success closes it, its failure opens it again."""

    def __init__(self, failures: int, cooldown_s: float, clock: Clock | None = None) -> None:
        self.failures = failures
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._count = 0
        self._opened_at: float | None = None
        self._trial = False

    def _now(self) -> float:
        return (self._clock or default_clock()).monotonic()

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state()

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._trial or self._now() - self._opened_at >= self.cooldown_s:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        with self._lock:
            state = self._state()
            if state == "closed":
                return True
            if state == "half_open" and not self._trial:
                self._trial = True
                return True
            return False

    def success(self) -> None:
        with self._lock:
            self._count, self._opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        with self._lock:
            self._count += 1
            if self._trial or self._count >= self.failures:
                self._opened_at, self._trial = self._now(), False

    def release(self) -> None:
        """A trial that proved nothing (cancelled, the creator's input): let another try."""
        with self._lock:
            self._trial = False


class RedisCircuitBreaker:
    """:class:`CircuitBreaker`'s rules on one Redis hash per provider, shared by every
    process: ``count`` (consecutive failures), ``opened_at`` (wall-clock seconds; processes on
    several machines compare it, so their clocks must roughly agree) and ``trial`` (a
    half-open trial is out). Each change is one Lua script, atomic in Redis."""

    KEY = "talkingphoto:breaker:{}"
    TTL_S = 7 * 24 * 3600  # a breaker nobody touched for a week is forgotten (closed)

    _ALLOW = """
    local opened = redis.call('HGET', KEYS[1], 'opened_at')
    if not opened then return 1 end
    if redis.call('HGET', KEYS[1], 'trial') == '1' then return 0 end
    if tonumber(ARGV[1]) - tonumber(opened) >= tonumber(ARGV[2]) then
      redis.call('HSET', KEYS[1], 'trial', '1')
      return 1
    end
    return 0
    """
    _FAILURE = """
    local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
    if redis.call('HGET', KEYS[1], 'trial') == '1' or count >= tonumber(ARGV[2]) then
      redis.call('HSET', KEYS[1], 'opened_at', ARGV[1], 'trial', '0')
    end
    redis.call('EXPIRE', KEYS[1], ARGV[3])
    return count
    """

    def __init__(
        self,
        name: str,
        client: redis.Redis,
        failures: int,
        cooldown_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.failures = failures
        self.cooldown_s = cooldown_s
        self._key = self.KEY.format(name)
        self._redis = client
        self._clock = clock
        self._allow = client.register_script(self._ALLOW)
        self._failure = client.register_script(self._FAILURE)

    @property
    def state(self) -> BreakerState:
        fields = self._redis.hgetall(self._key)
        opened = fields.get(b"opened_at")
        if opened is None:
            return "closed"
        if fields.get(b"trial") == b"1" or self._clock() - float(opened) >= self.cooldown_s:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        return bool(self._allow(keys=[self._key], args=[self._clock(), self.cooldown_s]))

    def success(self) -> None:
        self._redis.delete(self._key)

    def failure(self) -> None:
        self._failure(keys=[self._key], args=[self._clock(), self.failures, self.TTL_S])

    def release(self) -> None:
        self._redis.hset(self._key, "trial", "0")


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()
_redis_clients: dict[str, redis.Redis] = {}


def _shared_breaker(url: str, name: str, failures: int, cooldown_s: float) -> RedisCircuitBreaker:
    with _breakers_lock:
        client = _redis_clients.get(url)
        if client is None:
            client = _redis_clients[url] = redis.Redis.from_url(
                url, socket_connect_timeout=5, socket_timeout=5
            )
    return RedisCircuitBreaker(name, client, failures, cooldown_s)


def breaker(name: str, settings: Settings | None = None) -> CircuitBreaker | RedisCircuitBreaker:
    settings = settings or get_settings()
    cfg = settings.providers
    if settings.jobs.broker_url:
        return _shared_breaker(
            settings.jobs.broker_url, name, cfg.breaker_failures, cfg.breaker_cooldown_s
        )
    with _breakers_lock:
        found = _breakers.get(name)
        if found is None or (found.failures, found.cooldown_s) != (
            cfg.breaker_failures,
            cfg.breaker_cooldown_s,
        ):
            found = _breakers[name] = CircuitBreaker(cfg.breaker_failures, cfg.breaker_cooldown_s)
        return found


def breaker_state(name: str) -> str:
    """``"closed"``, ``"open"`` or ``"half_open"`` (closed for a provider never tried)."""
    if get_settings().jobs.broker_url:
        return breaker(name).state
    with _breakers_lock:
        found = _breakers.get(name)
    return found.state if found is not None else "closed"


def reset() -> None:
    """Forget breakers and clients (tests; a settings reload builds new clients anyway)."""
    with _breakers_lock:
        _breakers.clear()
        for client in _redis_clients.values():
            client.close()
        _redis_clients.clear()
    with _clients_lock:
        _clients.clear()


# ---------------------------------------------------------------------------- attempts


class AttemptLog(Protocol):
    def started(self, provider: str, remote_id: str | None) -> int: ...

    def saved_remote_id(self, attempt: int, provider: str, remote_id: str) -> None: ...

    def finished(self, attempt: int, outcome: str, error: BaseException | None) -> None: ...

    def skipped(self, provider: str, error: TalkingPhotoError) -> None: ...


@dataclasses.dataclass
class MemoryAttemptLog:
    """An :class:`AttemptLog` in memory (the CLI, tests)."""

    rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def started(self, provider: str, remote_id: str | None) -> int:
        self.rows.append({"provider": provider, "outcome": "running", "remote_id": remote_id})
        return len(self.rows) - 1

    def saved_remote_id(self, attempt: int, provider: str, remote_id: str) -> None:
        self.rows[attempt]["remote_id"] = remote_id

    def finished(self, attempt: int, outcome: str, error: BaseException | None) -> None:
        self.rows[attempt].update(outcome=outcome, error=type(error).__name__ if error else None)

    def skipped(self, provider: str, error: TalkingPhotoError) -> None:
        self.rows.append(
            {"provider": provider, "outcome": "skipped", "error": type(error).__name__}
        )


# -------------------------------------------------------------------------------- run


def generate(
    asked: str,
    request: GenerationRequest,
    ctx: JobContext,
    *,
    attempts: AttemptLog | None = None,
    resume: tuple[str, str] | None = None,
    settings: Settings | None = None,
    get_client: Callable[[str], Provider] | None = None,
) -> GenerationResult:
    """Make the video with the first provider that can; see the module docstring.

    ``resume`` = (provider, remote id) of a vendor job accepted before a restart: that
    provider is asked first, to poll the job it already has instead of making another.
    """
    settings = settings or get_settings()
    attempts = attempts or MemoryAttemptLog()
    get = get_client or (lambda name: client(name, settings))
    if asked == AUTO:
        request = dataclasses.replace(request, voice=None)  # each service's default voice
    names = plan(asked, request, settings)
    if resume is not None and resume[0] in providers.REGISTRY:
        names = [resume[0], *[n for n in names if n != resume[0]]]
    last: ProviderError | None = None
    for index, name in enumerate(names):
        cut = breaker(name, settings)
        remote_id = resume[1] if resume is not None and resume[0] == name else None
        if remote_id is None and not cut.allow():
            skipped = ProviderUnavailable(
                N_("{provider} is having trouble right now; please try again later."),
                params={"provider": label(name)},
                provider=name,
                detail="circuit breaker open",
            )
            attempts.skipped(name, skipped)
            if asked != AUTO:
                raise skipped
            last = skipped
            continue
        # A fallback works in a folder of its own, away from what the last try left.
        run_ctx = ctx if index == 0 else dataclasses.replace(ctx, work_dir=ctx.work_dir / name)
        try:
            return _attempt(name, request, run_ctx, remote_id, attempts, get, cut)
        except ProviderUnavailable as exc:
            if asked != AUTO:
                raise
            log.warning("%s unavailable (%s); trying the next provider", name, exc.detail)
            last = exc
    raise last or ProviderUnavailable()


def _attempt(
    name: str,
    request: GenerationRequest,
    ctx: JobContext,
    remote_id: str | None,
    attempts: AttemptLog,
    get: Callable[[str], Provider],
    cut: CircuitBreaker | RedisCircuitBreaker,
) -> GenerationResult:
    attempt = attempts.started(name, remote_id)

    def save(rid: str) -> None:
        attempts.saved_remote_id(attempt, name, rid)
        ctx.save_remote_id(rid)

    run_ctx = dataclasses.replace(ctx, remote_id=remote_id, save_remote_id=save)
    run_ctx.work_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = get(name).generate(request, run_ctx)
    except JobCancelled as exc:
        cut.release()
        attempts.finished(attempt, "cancelled", exc)
        raise
    except (ProviderUnavailable, ProviderAuthError, ProviderProtocolError) as exc:
        cut.failure()  # the vendor's side is not working
        attempts.finished(attempt, "failed", exc)
        raise
    except ProviderRejected as exc:
        cut.success()  # it answered: the vendor works, the input did not
        attempts.finished(attempt, "failed", exc)
        raise
    except TalkingPhotoError as exc:
        cut.release()  # our own checks (input, configuration): says nothing of the vendor
        attempts.finished(attempt, "failed", exc)
        raise
    except Exception as exc:  # a bug in an adapter: count it, let the job boundary log it
        cut.failure()
        attempts.finished(attempt, "failed", exc)
        raise
    except BaseException:
        cut.release()  # the process is going down: the attempt stays open for a resume
        raise
    cut.success()
    attempts.finished(attempt, "succeeded", None)
    return result


def label(name: str) -> str:
    """How creators see a provider ("D-ID", "HeyGen", ...; else its name). Imports the
    provider's module (not its client): cheap, and no key is needed."""
    import importlib

    target = providers.REGISTRY.get(name)
    if target is None:
        return name
    module, _, cls_name = target.partition(":")
    cls = getattr(importlib.import_module(module), cls_name, None)
    return str(getattr(cls, "label", "") or name)
