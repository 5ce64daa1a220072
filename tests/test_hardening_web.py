"""Hardening v2 on our HTTP routes (web/): bodies capped while streaming (item 1)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from starlette.applications import Starlette
from starlette.testclient import TestClient

import web

MB = 1024 * 1024


def post_streamed(
    path: str, total: int, *, headers: dict[str, str] | None = None, chunk: int = MB
) -> tuple[int, bytes, int]:
    """POST ``total`` bytes to our routes as a chunked body fed 1 MB at a time straight into
    the ASGI app (Starlette's TestClient reads a body whole first). Returns the status, the
    response body and how many body bytes the route pulled."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled >= total:
            return {"type": "http.disconnect"}
        pulled += chunk
        return {"type": "http.request", "body": b"{" * chunk, "more_body": pulled < total}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8501),
    }
    asyncio.run(Starlette(routes=web.ROUTES)(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, pulled


PATHS = ["/api/webhooks/stripe", "/api/webhooks/razorpay", "/api/auth/session"]


@pytest.mark.parametrize("path", PATHS)
def test_an_endless_chunked_body_is_refused_after_the_cap(foundation_env: Path, path: str) -> None:
    status, body, pulled = post_streamed(path, 300 * MB)
    assert status == 413
    assert json.loads(body) == {"error": "body too large"}
    assert pulled <= 2 * MB  # today: all 300 MB were read before the 413


@pytest.mark.parametrize("path", PATHS)
def test_a_declared_length_over_the_cap_is_refused_unread(foundation_env: Path, path: str) -> None:
    status, _, pulled = post_streamed(path, 300 * MB, headers={"Content-Length": str(300 * MB)})
    assert status == 413
    assert pulled == 0


@pytest.fixture
def client(foundation_env: Path) -> Iterator[TestClient]:
    with TestClient(Starlette(routes=web.ROUTES), base_url="http://127.0.0.1") as c:
        yield c


def test_a_small_body_still_reaches_the_handler(client: TestClient) -> None:
    response = client.post("/api/auth/session", content=b"token=nope")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid or used hand-off"}


# ------------------------------------------------------------- item 8: headers and files


@pytest.fixture
def guarded(foundation_env: Path) -> Iterator[TestClient]:
    app = Starlette(routes=web.ROUTES, middleware=web.MIDDLEWARE)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def test_our_routes_carry_the_security_headers(guarded: TestClient) -> None:
    for response in (
        guarded.get("/api/health"),
        guarded.get("/api/auth/ping"),
        guarded.get("/api/media/forged-token"),
        guarded.post("/api/webhooks/stripe", content=b"x" * 2_000_000),
    ):
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in response.headers  # http://localhost


def test_hsts_when_the_public_address_is_https(
    guarded: TestClient, settings_env: Callable[..., None]
) -> None:
    settings_env(app__base_url="https://talkingphoto.example")
    response = guarded.get("/api/auth/ping")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


def test_a_route_keeps_its_own_referrer_policy(guarded: TestClient) -> None:
    """The share preview sends no referrer at all; the middleware must not loosen that."""
    response = guarded.get("/api/share/" + "x" * 43)
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_database_and_data_folder_are_private(foundation_env: Path) -> None:
    import stat

    from db.session import session_scope

    foundation_env.mkdir(mode=0o755)  # as an earlier version (or a umask of 022) left it
    with session_scope() as session:
        session.execute(text("SELECT 1"))
    db = foundation_env / "talkingphoto.db"
    assert stat.S_IMODE(foundation_env.stat().st_mode) == 0o700  # today: 0755
    assert stat.S_IMODE(db.stat().st_mode) == 0o600  # today: 0644
    wal = foundation_env / "talkingphoto.db-wal"
    if wal.exists():
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600


def test_webhook_events_are_pruned_past_the_retry_window(foundation_env: Path) -> None:
    import datetime as dt

    import health_monitor
    from db.models import WebhookEvent, utcnow
    from db.session import read_scope, session_scope

    now = utcnow()
    with session_scope() as session:
        for i, days in enumerate((0, 3, 6.9, 7.1, 30)):
            session.add(
                WebhookEvent(
                    gateway="stripe",
                    event_id=f"evt_{i}",
                    received_at=now - dt.timedelta(days=days),
                )
            )
    assert health_monitor.prune_webhook_events(now) == 2
    with read_scope() as session:
        kept = session.scalars(select(WebhookEvent.event_id).order_by(WebhookEvent.id)).all()
    assert kept == ["evt_0", "evt_1", "evt_2"]  # Stripe retries for 3 days, Razorpay 1


def test_the_sampler_prunes_webhook_events(
    foundation_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import health_monitor

    calls: list[int] = []
    monkeypatch.setattr(health_monitor, "prune_webhook_events", lambda: calls.append(1) or 0)
    health_monitor.Sampler(clock=lambda: 0.0).tick(background=False)
    assert calls == [1]


# ------------------------------------------------ item 7: whom X-Forwarded-For is believed from


def _client_seen(trusted_proxies: str, peer: tuple[str, int], forwarded: str | None) -> str:
    """The address our auth routes count a request by, behind uvicorn's own proxy-header
    middleware exactly as Streamlit starts it (no proxy options: loopback is trusted)."""
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from secrets_manager import reset_settings_cache
    from web import auth

    def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(auth._client(request))

    os.environ["TALKINGPHOTO__RATELIMIT__TRUSTED_PROXIES"] = trusted_proxies
    reset_settings_cache()
    try:
        app = ProxyHeadersMiddleware(
            Starlette(routes=[Route("/echo", echo)], middleware=web.MIDDLEWARE),
            trusted_hosts="127.0.0.1,::1",
        )
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        with TestClient(app, client=peer) as c:
            return c.get("/echo", headers=headers).text
    finally:
        del os.environ["TALKINGPHOTO__RATELIMIT__TRUSTED_PROXIES"]
        reset_settings_cache()


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(foundation_env: Path) -> None:
    # A same-host proxy that passes the header on: without [ratelimit] trusted_proxies every
    # made-up address would be a fresh throttle bucket (today: "6.6.6.1", "6.6.6.2", ...).
    seen = {_client_seen("[]", ("127.0.0.1", 40000), f"6.6.6.{i}") for i in range(5)}
    assert seen == {"127.0.0.1"}


def test_forwarded_for_is_believed_from_a_trusted_proxy(foundation_env: Path) -> None:
    seen = _client_seen('["127.0.0.1"]', ("127.0.0.1", 40000), "6.6.6.6, 203.0.113.9")
    assert seen == "203.0.113.9"  # the right-most address the proxy itself saw


def test_a_direct_client_is_counted_by_its_socket(foundation_env: Path) -> None:
    assert _client_seen("[]", ("198.51.100.7", 40000), "6.6.6.6") == "198.51.100.7"
    assert _client_seen("[]", ("198.51.100.7", 40000), None) == "198.51.100.7"
