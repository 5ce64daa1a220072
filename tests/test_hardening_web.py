"""Hardening v2 on our HTTP routes (web/): bodies capped while streaming (item 1)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
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
