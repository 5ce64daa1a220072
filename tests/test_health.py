"""The health monitor: one cheap snapshot, thresholds that trip the status, key checks kept out
of the request path, the sampler, GET /api/health over real HTTP, and ``cli.py health``."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

import health_monitor
from db.models import HealthSample, Job, utcnow
from db.session import session_scope
from errors import ProviderAuthError, ProviderUnavailable
from observability import probes as health_checks
from tests.fakes import FakeProvider

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def health_env(settings_env: Callable[..., None]) -> Iterator[Callable[..., None]]:
    health_monitor.reset_for_tests()
    # This pytest process (models, many apps) is not the app: its size must not trip the
    # memory threshold, except in the test that sets the threshold itself.
    settings_env(health__memory_mb_max=100_000)
    yield settings_env
    health_monitor.reset_for_tests()


def _user() -> int:
    from services import accounts

    return accounts.get_or_create_user("ops@example.com").id


def _job(
    status: str,
    *,
    age_s: float = 0,
    run_s: float | None = None,
    provider: str = "local",
    used: str | None = None,
) -> str:
    now = utcnow()
    created = now - dt.timedelta(seconds=age_s)
    finished = now if status in ("succeeded", "failed") else None
    started = None if run_s is None else now - dt.timedelta(seconds=run_s)
    job_id = str(uuid.uuid4())
    with session_scope() as session:
        session.add(
            Job(
                id=job_id,
                user_id=_user(),
                status=status,
                stage="queued",
                script="Hi",
                language="en",
                provider=provider,
                provider_used=used,
                params={},
                cost_credits=1,
                notes=[],
                created_at=created,
                started_at=started,
                finished_at=finished,
            )
        )
    return job_id


def _break_data_folder(data_dir: Path) -> None:
    """A file where the probe's folder should be: writes fail even for root."""
    shutil.rmtree(data_dir / ".health", ignore_errors=True)
    (data_dir / ".health").write_text("not a folder")


def _checks(snap: health_monitor.Snapshot) -> set[str]:
    return {r.check for r in snap.reasons}


# ------------------------------------------------------------------------- the snapshot


def test_a_fresh_install_is_ok_and_the_snapshot_has_every_section(health_env) -> None:
    health_env()
    snap = health_monitor.snapshot()
    assert snap.status == "ok", [r.text for r in snap.reasons]
    assert set(snap.checks) == {
        "database",
        "process",
        "machine",
        "jobs",
        "payments",
        "errors",
        "storage",
        "providers",
        "tools",
        "requests",
    }
    assert snap.checks["process"]["rss_mb"] > 10
    assert snap.checks["storage"]["writable"] is True
    assert snap.checks["tools"] == {
        "ffmpeg": True,
        "espeak": True,
        "voices": snap.checks["tools"]["voices"],
    }
    assert snap.checks["tools"]["voices"] > 10
    assert "local" in snap.checks["providers"]
    json.dumps(snap.to_json())  # plain JSON


def test_job_figures(health_env) -> None:
    health_env()
    _job("queued", age_s=30)
    _job("running", run_s=5)
    for seconds in (10, 20, 30, 40):
        _job("succeeded", run_s=seconds, provider="auto", used="local")
    _job("succeeded", run_s=100, provider="d_id")  # no provider_used: falls back to provider
    _job("failed", run_s=3)
    jobs = health_monitor.snapshot().checks["jobs"]
    assert (jobs["queued"], jobs["running"]) == (1, 1)
    assert 29 <= jobs["oldest_queued_s"] <= 60
    assert jobs["last_hour"] == {"succeeded": 5, "failed": 1, "success_rate": round(5 / 6, 4)}
    assert jobs["duration_s"]["local"] == {"n": 4, "p50": 20.0, "p95": 40.0}
    assert jobs["duration_s"]["d_id"]["n"] == 1


def test_percentile_is_nearest_rank() -> None:
    assert health_monitor.percentile([], 50) is None
    assert health_monitor.percentile([5.0], 95) == 5.0
    values = [float(v) for v in range(1, 101)]
    assert health_monitor.percentile(values, 50) == 50.0
    assert health_monitor.percentile(values, 95) == 95.0


# ------------------------------------------------------------------------- thresholds


def test_memory_over_the_limit_degrades(health_env) -> None:
    health_env(health__memory_mb_max=64)  # this test process uses more than that
    snap = health_monitor.snapshot()
    assert snap.status == "degraded" and "memory" in _checks(snap)
    (reason,) = [r for r in snap.reasons if r.check == "memory"]
    assert reason.text.endswith("MB; the limit is 64 MB.")


def test_low_success_rate_degrades(health_env) -> None:
    health_env()
    for _ in range(4):
        _job("succeeded", run_s=5)
    assert health_monitor.snapshot().status == "ok"
    _job("failed", run_s=5)  # 4 of 5 = 80% < 95%
    snap = health_monitor.snapshot()
    assert snap.status == "degraded" and _checks(snap) == {"success_rate"}
    assert "Only 80% of videos in the last hour succeeded; the minimum is 95%." in [
        r.text for r in snap.reasons
    ]


def test_a_single_failure_is_not_yet_a_low_success_rate(health_env) -> None:
    health_env()
    _job("failed", run_s=1)
    assert health_monitor.snapshot().status == "ok"


def test_low_disk_degrades(health_env) -> None:
    health_env(health__disk_free_mb_min=10_000_000)  # 10 TB free: no test machine has that
    snap = health_monitor.snapshot()
    assert _checks(snap) == {"disk"} and snap.status == "degraded"


def test_a_stuck_queue_degrades(health_env) -> None:
    health_env(health__oldest_queued_s_max=60)
    _job("queued", age_s=30)
    assert health_monitor.snapshot().status == "ok"
    _job("queued", age_s=600)
    snap = health_monitor.snapshot()
    assert _checks(snap) == {"queue"}
    assert "A video has waited 600 s in the queue" in snap.reasons[0].text


def test_slow_pages_and_failing_pages_degrade(health_env) -> None:
    health_env(health__response_s_max=0.5)
    pages = {"response", "error_rate"}
    for _ in range(25):
        health_monitor.REQUESTS.record(0.1, False)
    # (only the page checks: a busy shared test machine may degrade on its own CPU or memory)
    assert not _checks(health_monitor.snapshot()) & pages
    health_monitor.REQUESTS.record(2.0, True)
    health_monitor.REQUESTS.record(2.0, True)
    snap = health_monitor.snapshot()
    assert _checks(snap) & pages == pages and snap.status == "degraded"


def test_track_counts_bugs_not_user_errors_or_reruns(health_env) -> None:
    from errors import PhotoError

    health_env()
    with health_monitor.track():
        pass
    with pytest.raises(PhotoError), health_monitor.track():
        raise PhotoError()
    with pytest.raises(RuntimeError), health_monitor.track():
        raise RuntimeError("bug")
    summary = health_monitor.REQUESTS.summary()
    assert (summary["count"], summary["errors"]) == (3, 1)


def test_an_unwritable_data_folder_is_down(health_env, foundation_env: Path) -> None:
    health_env()
    health_monitor.snapshot()  # database created
    _break_data_folder(foundation_env)
    snap = health_monitor.snapshot()
    assert snap.status == "down" and "storage" in _checks(snap)


def test_a_database_that_does_not_answer_is_down(health_env, monkeypatch) -> None:
    from sqlalchemy.exc import OperationalError

    health_env()

    def broken() -> Any:
        raise OperationalError("SELECT 1", {}, Exception("unable to open database file"))

    monkeypatch.setattr(health_checks, "read_scope", broken)
    snap = health_monitor.snapshot()
    assert snap.status == "down"
    assert [r.text for r in snap.reasons] == ["The database does not answer."]


def test_a_remote_store_that_cannot_be_written_degrades(health_env, monkeypatch) -> None:
    from errors import StorageUnavailable
    from secrets_manager import get_settings
    from services import media

    health_env()
    base = get_settings()
    settings = base.model_copy(
        update={"storage": base.storage.model_copy(update={"backend": "s3"})}
    )
    stored: dict[str, bytes] = {}

    def put(key: str, data: bytes) -> str:
        if not stored.get("up"):
            raise StorageUnavailable(detail="bucket tp-media: connection refused")
        stored[key] = data
        return key

    monkeypatch.setattr(media, "put", put)
    monkeypatch.setattr(media, "exists", lambda key: key in stored)
    monkeypatch.setattr(media, "delete", lambda key: stored.pop(key, None))
    assert health_monitor.probe_remote_storage(settings)["ok"] is False
    snap = health_monitor.snapshot(settings=settings)
    assert snap.status == "degraded" and _checks(snap) == {"storage"}
    assert snap.reasons[0].text.startswith(
        "File storage (s3) cannot be written: StorageUnavailable"
    )

    stored["up"] = b"1"
    assert health_monitor.probe_remote_storage(settings)["ok"] is True
    assert health_monitor.snapshot(settings=settings).status == "ok"
    assert set(stored) == {"up"}  # the probe object was deleted again
    assert health_monitor.probe_remote_storage(base) is None  # local disk: nothing to probe


# --------------------------------------------------------------------------- providers


class CheckProvider(FakeProvider):
    """A provider whose key check the test controls."""

    name = "fakecheck"
    calls: ClassVar[list[str]] = []
    outcome: ClassVar[list[object]] = ["ok (120 credits left)"]

    def check(self) -> str:
        type(self).calls.append("check")
        result = type(self).outcome[0]
        if isinstance(result, Exception):
            raise result
        return str(result)


@pytest.fixture
def fake_checked(health_env, monkeypatch) -> type[CheckProvider]:
    import providers

    health_env()
    monkeypatch.setitem(providers.REGISTRY, "fakecheck", f"{__name__}:CheckProvider")
    monkeypatch.setattr(
        health_checks, "configured_providers", lambda s=None: ["local", "fakecheck"]
    )
    monkeypatch.setattr(CheckProvider, "calls", [])
    monkeypatch.setattr(CheckProvider, "outcome", ["ok (120 credits left)"])
    return CheckProvider


def test_an_unreachable_provider_degrades_and_is_named(fake_checked) -> None:
    fake_checked.outcome[0] = ProviderUnavailable(provider="fakecheck", detail="connect refused")
    health_monitor.check_provider_keys()
    snap = health_monitor.snapshot()
    assert snap.status == "degraded"
    (reason,) = snap.reasons
    assert reason.check == "provider:fakecheck"
    assert reason.text == (
        "Provider fakecheck cannot be reached: ProviderUnavailable: "
        "The video service is unavailable right now."
    )
    check = snap.checks["providers"]["fakecheck"]["key_check"]
    assert check["ok"] is False and check["latency_ms"] >= 0

    fake_checked.outcome[0] = "ok (120 credits left)"
    health_monitor.check_provider_keys()
    snap = health_monitor.snapshot()
    assert snap.status == "ok"
    assert snap.checks["providers"]["fakecheck"]["key_check"]["result"] == "ok (120 credits left)"


def test_a_bad_key_and_an_unexpected_failure_are_reported(fake_checked) -> None:
    fake_checked.outcome[0] = ProviderAuthError(provider="fakecheck")
    assert health_monitor.check_key("fakecheck").result.startswith("ProviderAuthError")
    fake_checked.outcome[0] = ValueError("unparseable vendor body")
    assert health_monitor.check_key("fakecheck").result == "ValueError: unparseable vendor body"
    assert health_monitor.snapshot().status == "degraded"


def test_snapshots_and_the_api_never_call_a_vendor(fake_checked) -> None:
    from web import health as web_health

    snap = health_monitor.snapshot()
    assert snap.checks["providers"]["fakecheck"]["key_check"] is None  # not checked yet
    web_health.health_snapshot()
    assert fake_checked.calls == []
    health_monitor.check_provider_keys()
    assert fake_checked.calls == ["check"]
    health_monitor.snapshot()
    web_health.health_snapshot()
    assert fake_checked.calls == ["check"]


def test_an_open_circuit_breaker_degrades(fake_checked, monkeypatch) -> None:
    monkeypatch.setattr(
        health_checks, "breaker_state", lambda name: "open" if name == "fakecheck" else "closed"
    )
    snap = health_monitor.snapshot()
    assert [r.text for r in snap.reasons] == [
        "Provider fakecheck is paused after repeated failures."
    ]


def test_configured_providers_without_a_router_follow_the_keys(health_env, monkeypatch) -> None:
    monkeypatch.setattr(health_checks, "_router", lambda: None)
    health_env(heygen__api_key="k-heygen-123456", luma_ai__api_key="k-luma-123456")
    assert health_checks.configured_providers() == ["local", "heygen", "luma"]


def test_d_id_fake_server_down_then_up(health_env) -> None:
    """The real D-ID adapter's key check (GET /credits) against the fake vendor."""
    pytest.importorskip("providers.d_id")
    d_id_fake = pytest.importorskip("tests.fakes.d_id")
    vendor = d_id_fake.DIdServer().start()
    try:
        health_env(
            d_id__api_key=vendor.api_key,
            d_id__base_url=vendor.url,
            d_id__connect_s=2,
            d_id__read_s=2,
        )
        health_monitor.check_provider_keys()
        snap = health_monitor.snapshot()
        assert snap.status == "ok", [r.text for r in snap.reasons]
        assert snap.checks["providers"]["d_id"]["key_check"]["result"] == "ok (40 credits left)"
    finally:
        vendor.stop()

    health_monitor.check_provider_keys()  # the vendor is gone: connection refused
    snap = health_monitor.snapshot()
    assert snap.status == "degraded"
    assert [r.check for r in snap.reasons] == ["provider:d_id"]
    assert "d_id cannot be reached" in snap.reasons[0].text

    with d_id_fake.DIdServer() as back:  # back up (at a new address)
        health_env(d_id__api_key=back.api_key, d_id__base_url=back.url)
        health_monitor.check_provider_keys()
        assert health_monitor.snapshot().status == "ok"


# ------------------------------------------------------------------------------ sampler


def test_the_sampler_runs_sweeps_and_unloads_the_engine_once_idle(
    fake_checked, monkeypatch: pytest.MonkeyPatch
) -> None:
    from observability import releasable

    now = [1000.0]
    engine = releasable.Releasables(clock=lambda: now[0])
    monkeypatch.setattr(releasable, "ENGINE", engine)
    voices = {"piper:en:joe": bytearray(1 << 20)}
    swept: list[float] = []
    engine.register("voices", voices.clear)
    engine.register_sweep("closed sessions", lambda: swept.append(now[0]))
    with engine.in_use():  # a video was made
        pass
    sampler = health_monitor.Sampler(clock=lambda: now[0])
    assert sampler.tick(background=False) <= health_monitor.ENGINE_CHECK_S
    assert swept == [1000.0] and voices  # swept on every tick; the engine is not idle yet
    now[0] += 119
    sampler.tick(background=False)
    assert len(swept) == 2 and voices
    now[0] += 1  # [engine] idle_unload_s = 120 by default
    sampler.tick(background=False)
    assert len(swept) == 3 and voices == {}


def test_the_sampler_stores_prunes_and_checks_keys_on_schedule(fake_checked) -> None:
    from sqlalchemy import func, select

    now = [1000.0]
    sampler = health_monitor.Sampler(clock=lambda: now[0])
    with session_scope() as session:
        session.add(HealthSample(ts=utcnow() - dt.timedelta(days=30), status="ok", data={}))

    def count() -> int:
        with session_scope() as session:
            return int(session.scalar(select(func.count()).select_from(HealthSample)) or 0)

    wait = sampler.tick(background=False)
    assert count() == 1  # the old one pruned, one stored
    assert fake_checked.calls == ["check"] and 0 < wait <= 60
    now[0] += 30
    sampler.tick(background=False)
    assert count() == 1 and fake_checked.calls == ["check"]  # nothing due yet
    now[0] += 31
    sampler.tick(background=False)
    assert count() == 2 and fake_checked.calls == ["check"]  # sample every 60 s, keys 300 s
    now[0] += 300
    sampler.tick(background=False)
    assert count() == 3 and fake_checked.calls == ["check", "check"]
    (latest,) = health_monitor.load_samples(utcnow() - dt.timedelta(seconds=5))[-1:]
    assert latest["status"] == "ok" and latest["rss_mb"] > 10 and "queued" in latest


def test_load_samples_thins_long_ranges(health_env) -> None:
    health_env()
    start = utcnow() - dt.timedelta(hours=2)
    with session_scope() as session:
        for i in range(100):
            session.add(
                HealthSample(ts=start + dt.timedelta(minutes=i), status="ok", data={"rss_mb": i})
            )
    points = health_monitor.load_samples(start, max_points=25)
    assert len(points) == 25
    assert [p["rss_mb"] for p in points[:3]] == [0, 4, 8]


def test_start_sampler_is_idempotent(health_env, monkeypatch) -> None:
    health_env(health__sample_every_s=3600, health__key_check_every_s=86400)
    try:
        health_monitor.start_sampler()
        first = health_monitor.sampler_thread()
        health_monitor.start_sampler()
        assert health_monitor.sampler_thread() is first and first is not None
        assert first.daemon and first.is_alive()
    finally:
        health_monitor.stop_sampler()
    assert health_monitor.sampler_thread() is None


# ----------------------------------------------------------------- HTTP and command line


def _serve(app: Any) -> tuple[str, Callable[[], None]]:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()

    return f"http://127.0.0.1:{sock.getsockname()[1]}", stop


HEALTH_TOKEN = "health-token-for-tests-1234"


def _get(url: str, token: str | None = HEALTH_TOKEN) -> tuple[int, dict[str, str], dict[str, Any]]:
    """GET with the ``[health] token`` (the detailed report) unless ``token`` is None."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=10
        ) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


@pytest.fixture
def health_server(health_env) -> Iterator[str]:
    from starlette.applications import Starlette
    from starlette.routing import Route

    from web import health as web_health

    health_env(health__token=HEALTH_TOKEN)
    web_health.reset_cache()
    base, stop = _serve(Starlette(routes=[Route("/api/health", web_health.health)]))
    yield base
    stop()


def test_api_health_is_200_json_without_secrets(health_server: str, health_env) -> None:
    health_env(d_id__api_key="sk-planted-in-settings-777", stripe__secret_key="sk_test_abcdefgh12")
    status, headers, body = _get(f"{health_server}/api/health")
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    assert headers["cache-control"] == "no-store"
    assert body["status"] == "pending"  # d_id is configured, its key not yet checked
    assert body["version"] == "0.1.0"
    assert set(body) == {"status", "reasons", "version", "time", "took_ms", "checks"}
    assert body["checks"]["jobs"]["queued"] == 0
    text = json.dumps(body)
    assert "sk-planted-in-settings-777" not in text and "sk_test_abcdefgh12" not in text
    assert "ops@example.com" not in text and str(Path.home()) not in text


def test_api_health_is_503_when_down(health_server: str, foundation_env: Path) -> None:
    _get(f"{health_server}/api/health")
    _break_data_folder(foundation_env)
    status, _headers, body = _get(f"{health_server}/api/health")
    assert status == 503 and body["status"] == "down"
    assert body["reasons"] == [
        {"check": "storage", "severity": "down", "message": "The data folder cannot be written."}
    ]


def test_api_health_reports_down_when_settings_are_broken(health_server: str, health_env) -> None:
    health_env(limits__workers="many")
    status, _headers, body = _get(f"{health_server}/api/health")
    assert status == 401  # the token cannot be checked: no details for anyone
    status, _headers, body = _get(f"{health_server}/api/health", token=None)
    assert status == 503 and body == {"status": "down"}


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "cli.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.slow
def test_cli_health_prints_the_same_report(health_env, foundation_env: Path) -> None:
    health_env()
    env = {k: v for k, v in os.environ.items()}
    done = _cli("health", "--json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "ok"
    assert set(report) == {"status", "reasons", "version", "time", "took_ms", "checks"}
    assert set(report["checks"]) == set(health_monitor.snapshot().checks)

    text = _cli("health", env=env)
    assert text.returncode == 0 and text.stdout.startswith("Status: ok")
    assert "jobs: queued=0, running=0" in text.stdout

    _break_data_folder(foundation_env)
    down = _cli("health", "--json", env=env)
    assert down.returncode == 1 and json.loads(down.stdout)["status"] == "down"
