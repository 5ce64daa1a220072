"""``GET /api/health``: a public status for uptime monitors, the full report for operators.

* Anyone: ``{"status": "ok" | "pending" | "degraded" | "down"}``, HTTP 503 when down. Taken
  at most once every :data:`PUBLIC_TTL_S` seconds per process, so an unthrottled caller costs
  no database query and no probe file.
* ``Authorization: Bearer <[health] token>`` or the session cookie of an admin: the detailed
  JSON (reasons, version, every check), taken fresh. A wrong bearer token is a 401.

``pending``: the report would be ``ok``, but a configured cloud provider's first key check
has not come back yet (it runs in the background a few seconds after start).
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import threading
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

import health_monitor
from observability.release import app_version
from secrets_manager import get_settings
from services import accounts, sessions

log = logging.getLogger("talkingphoto.api")

PUBLIC_TTL_S = 5.0
_NO_STORE = {"Cache-Control": "no-store"}
_cache_lock = threading.Lock()
_cache: tuple[float, str] | None = None  # (monotonic time taken, status)


def health_snapshot() -> dict[str, Any]:
    """The detailed body: ``health_monitor.snapshot().to_json()`` — status (ok | pending |
    degraded | down), the reasons and every check; no secrets, no personal data. Never
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


def public_status(now: float | None = None) -> str:
    """The status alone, from a snapshot at most :data:`PUBLIC_TTL_S` seconds old."""
    global _cache
    now = time.monotonic() if now is None else now
    with _cache_lock:
        if _cache is not None and now - _cache[0] < PUBLIC_TTL_S:
            return _cache[1]
        status = str(health_snapshot()["status"])
        _cache = (now, status)
        return status


def reset_cache() -> None:
    global _cache
    with _cache_lock:
        _cache = None


def _access(request: Request) -> str:
    """``"detail"`` (valid bearer token or an admin's session), ``"public"`` (no credentials)
    or ``"refused"`` (a bearer token that is not ours)."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, given = header.partition(" ")
        try:
            token = get_settings().health.token
        except Exception:  # broken settings: nobody gets details, the public status says down
            return "refused"
        expected = token.get_secret_value() if token is not None else ""
        ok = scheme.lower() == "bearer" and bool(expected)
        ok = hmac.compare_digest(given.strip().encode(), expected.encode()) and ok
        return "detail" if ok else "refused"
    cookie = request.cookies.get(sessions.COOKIE_NAME)
    if cookie:
        try:
            view = sessions.resolve(cookie)
            user = accounts.get_user(view.user_id) if view is not None else None
        except Exception:
            log.warning("health: session lookup failed", exc_info=True)
            user = None
        if user is not None and user.is_admin:
            return "detail"
    return "public"


def health(request: Request) -> JSONResponse:
    """HTTP 200 for ok, pending and degraded, 503 for down (what uptime monitors alert on).

    A sync endpoint: Starlette runs it in its thread pool, so the queries never block the loop;
    it only reads cached key checks, never calls a vendor."""
    access = _access(request)
    if access == "refused":
        return JSONResponse(
            {"error": "invalid token"},
            status_code=401,
            headers={**_NO_STORE, "WWW-Authenticate": "Bearer"},
        )
    body = health_snapshot() if access == "detail" else {"status": public_status()}
    code = 503 if body["status"] == "down" else 200
    return JSONResponse(body, status_code=code, headers=_NO_STORE)
