"""Hardening v2, items 3 and 4: health that does not lie and does not tell strangers much.

A public ``GET /api/health`` with only the status (cached a few seconds), the detailed report
behind ``[health] token`` or an admin's session; a failed start-up is ``down`` with the reason
(and the writing routes answer 503); a provider whose first key check is out is ``pending``;
``cli.py health`` runs the probes itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import health_monitor
import web
from errors import ConfigError
from web import health as web_health

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "a-long-health-token-5678"
DETAIL_KEYS = {"status", "reasons", "version", "time", "took_ms", "checks"}


@pytest.fixture
def env(settings_env: Callable[..., None]) -> Iterator[Callable[..., None]]:
    health_monitor.reset_for_tests()
    web_health.reset_cache()
    settings_env(health__memory_mb_max=100_000, health__token=TOKEN)
    yield settings_env
    health_monitor.reset_for_tests()
    web_health.reset_cache()


@pytest.fixture
def client(env: Callable[..., None]) -> Iterator[TestClient]:
    app = Starlette(routes=web.ROUTES, middleware=web.MIDDLEWARE)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def _bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ----------------------------------------------------------------- item 4: public vs detail


def test_the_public_answer_is_the_status_alone(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}  # today: version, process, queue, webhooks...


def test_the_public_answer_is_cached_so_callers_cannot_drive_queries(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[int] = []
    real = health_monitor.snapshot

    def counted(*args: Any, **kwargs: Any) -> health_monitor.Snapshot:
        taken.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(health_monitor, "snapshot", counted)
    for _ in range(20):
        assert client.get("/api/health").json() == {"status": "ok"}
    assert len(taken) == 1  # today: 20 snapshots, 20 probe files


def test_the_token_shows_the_details(client: TestClient) -> None:
    response = client.get("/api/health", headers=_bearer())
    assert response.status_code == 200
    assert set(response.json()) == DETAIL_KEYS
    assert response.headers["cache-control"] == "no-store"


def test_a_wrong_token_is_refused_and_never_echoed(client: TestClient) -> None:
    response = client.get("/api/health", headers=_bearer("guess-guess-guess"))
    assert response.status_code == 401
    assert response.json() == {"error": "invalid token"}
    assert "guess" not in response.text and TOKEN not in response.text


def test_without_a_configured_token_no_bearer_gets_details(
    client: TestClient, env: Callable[..., None]
) -> None:
    env(health__token="")
    assert client.get("/api/health", headers=_bearer("")).status_code == 401


def _session_cookie(admin: bool) -> str:
    from sqlalchemy import update

    from db.models import User
    from db.session import session_scope
    from services import accounts, sessions

    user = accounts.get_or_create_user("ops@example.com")
    with session_scope() as s:
        s.execute(update(User).where(User.id == user.id).values(is_admin=admin))
    _, handoff = sessions.start(user.id)
    cookie, _view = sessions.activate(handoff)
    return cookie


@pytest.mark.parametrize("admin", [True, False])
def test_an_admin_session_sees_the_details_a_creator_does_not(
    client: TestClient, admin: bool
) -> None:
    from services import sessions

    client.cookies.set(sessions.COOKIE_NAME, _session_cookie(admin))
    body = client.get("/api/health").json()
    assert (set(body) == DETAIL_KEYS) is admin
    if not admin:
        assert body == {"status": "ok"}


# --------------------------------------------------------------- item 3: health that lies


def test_a_failed_start_up_is_down_with_the_reason(client: TestClient) -> None:
    health_monitor.record_startup_failure(
        ConfigError("The setting [app] base_url is required in production.")
    )
    web_health.reset_cache()
    public = client.get("/api/health")
    assert (public.status_code, public.json()) == (503, {"status": "down"})
    detail = client.get("/api/health", headers=_bearer()).json()
    assert detail["status"] == "down"
    (reason,) = [r for r in detail["reasons"] if r["check"] == "startup"]
    assert reason["message"] == (
        "The service failed to start: The setting [app] base_url is required in production."
    )


def test_a_failed_start_up_keeps_the_webhooks_and_sign_in_shut(client: TestClient) -> None:
    health_monitor.record_startup_failure(RuntimeError("secret=hunter2 in a message"))
    for path in ("/api/webhooks/stripe", "/api/webhooks/razorpay", "/api/auth/session"):
        response = client.post(path, content=b"{}")
        assert response.status_code == 503, path
    detail = client.get("/api/health", headers=_bearer()).json()
    assert "hunter2" not in json.dumps(detail)  # only the error's type is reported
    assert "RuntimeError" in json.dumps(detail)


def test_the_lifespan_records_a_failed_start_up(
    env: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from services import startup

    def broken() -> None:
        raise ConfigError("The database URL is not valid.")

    monkeypatch.setattr(startup, "start_services", broken)

    async def run() -> None:
        async with web.lifespan(None):
            pass

    asyncio.run(run())
    assert health_monitor.startup_failure() == "The database URL is not valid."
    assert health_monitor.snapshot().status == "down"


def test_a_cloud_provider_not_yet_checked_is_pending_not_ok(
    client: TestClient, env: Callable[..., None]
) -> None:
    env(d_id__api_key="k" * 24)
    detail = client.get("/api/health", headers=_bearer()).json()
    assert detail["status"] == "pending"  # today: "ok" until the background check is back
    assert detail["checks"]["providers"]["d_id"]["state"] == "pending"
    assert client.get("/api/health").json() == {"status": "pending"}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "cli.py", "health", "--json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


@pytest.mark.slow
def test_cli_health_probes_an_unreachable_provider(env: Callable[..., None]) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env(
        d_id__api_key="k" * 24,
        d_id__base_url=f"http://127.0.0.1:{port}",
        d_id__connect_s=2,
        d_id__read_s=2,
    )
    probed = json.loads(_cli().stdout)
    assert probed["status"] == "degraded"  # today: "ok", the key was never checked
    assert [r["check"] for r in probed["reasons"]] == ["provider:d_id"]
    skipped = json.loads(_cli("--no-probes").stdout)
    assert skipped["status"] == "pending"


def test_production_without_a_base_url_does_not_start(
    env: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Absolute URLs come from ``[app] base_url`` (item 5), so production requires it."""
    import asyncio

    from services import startup

    started: list[int] = []
    monkeypatch.setattr(startup, "start_services", lambda: started.append(1))
    env(app__environment="production", jwt__secret_key="j" * 40)

    async def run() -> None:
        async with web.lifespan(None):
            pass

    asyncio.run(run())
    assert started == []
    assert health_monitor.startup_failure() == (
        "Set [app] base_url to the app's public address (required in production)."
    )
    env(app__base_url="https://talkingphoto.example")
    web.require_base_url()  # set: no error
