"""``GET /api/health``: the health snapshot as JSON, for uptime monitors and operators."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

import health_monitor
from observability.release import app_version

log = logging.getLogger("talkingphoto.api")


def health_snapshot() -> dict[str, Any]:
    """The JSON body of ``GET /api/health``: ``health_monitor.snapshot().to_json()`` — status
    (ok | degraded | down), the reasons and every check; no secrets, no personal data. Never
    raises: a snapshot that cannot be taken at all (broken settings) reads as ``down``."""
    try:
        return health_monitor.snapshot().to_json()
    except Exception as exc:
        log.error("health: no snapshot (%s)", type(exc).__name__, exc_info=True)
        return {
            "status": "down",
            "reasons": [
                {"check": "health", "severity": "down", "message": "The health check failed."}
            ],
            "version": app_version(),
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "checks": {},
        }


def health(request: Request) -> JSONResponse:
    """HTTP 200 for ok and degraded, 503 for down (what uptime monitors alert on).

    A sync endpoint: Starlette runs it in its thread pool, so the queries never block the loop;
    it only reads cached key checks, never calls a vendor."""
    body = health_snapshot()
    code = 503 if body["status"] == "down" else 200
    return JSONResponse(body, status_code=code, headers={"Cache-Control": "no-store"})
