"""HTTP routes served next to the Streamlit UI (plain Starlette; no streamlit import here).

``app_streamlit_cloud.py`` passes :data:`ROUTES` and :func:`lifespan` to ``st.App``. Paths must
stay outside Streamlit's reserved prefixes (``/_stcore/``, ``/media/``, ``/component/``,
``/static/``); ``st.App`` refuses a clash at start.

``GET /api/health`` is deliberately small here (the health issue extends it): status, version,
time, whether the database answers, and the job queue size. It never includes settings values.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

log = logging.getLogger("talkingphoto.api")

_ROOT = Path(__file__).resolve().parent
_start_lock = threading.Lock()
_started = False

TEMP_UPLOAD_MAX_AGE_S = 24 * 3600


@cache
def app_version() -> str:
    try:
        with (_ROOT / "pyproject.toml").open("rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def temp_upload_dir() -> Path:
    """Where the create page keeps prepared photos between reruns (never in session_state)."""
    from secrets_manager import get_settings

    return Path(get_settings().app.data_dir) / "tmp" / "uploads"


def _sweep_temp_uploads(now: float | None = None) -> None:
    folder = temp_upload_dir()
    if not folder.is_dir():
        return
    cutoff = (now or time.time()) - TEMP_UPLOAD_MAX_AGE_S
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


def start_services() -> None:
    """Once per process (idempotent, thread-safe): configuration checks that must stop
    start-up (production without a signing key, payments without keys), schema, job
    recovery, voices, temp sweep. Background threads start in :func:`start_background`."""
    global _started
    with _start_lock:
        if _started:
            return
        import background_tasks
        import payments
        from db.session import init_db
        from providers.local import voices
        from secrets_manager import get_settings
        from services import tokens

        settings = get_settings()
        tokens.check_configuration(settings)
        payments.check_configuration(settings)
        init_db()
        background_tasks.recover_jobs()
        voices.configure(settings.providers.piper_voices)
        _sweep_temp_uploads()
        _started = True
        log.info("services started (version %s)", app_version())


def start_background() -> None:
    """In the server process only (not in page-script tests): logging and Sentry set-up,
    the health sampler and the periodic media cleanup. Idempotent."""
    import health_monitor
    import logging_setup
    from secrets_manager import get_settings
    from services import lifecycle

    if not logging_setup.is_configured():
        logging_setup.configure(get_settings())
    health_monitor.start_sampler()
    lifecycle.start_scheduler()


def reset_for_tests() -> None:
    global _started
    with _start_lock:
        _started = False


def health_snapshot() -> dict[str, Any]:
    """The JSON body of ``GET /api/health``: ``health_monitor.snapshot().to_json()`` — status
    (ok | degraded | down), the reasons and every check; no secrets, no personal data. Never
    raises: a snapshot that cannot be taken at all (broken settings) reads as ``down``."""
    try:
        import health_monitor

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


def _routes() -> list[BaseRoute]:
    from payments.webhooks import ROUTES as payment_routes
    from storage.routes import ROUTES as media_routes

    return [Route("/api/health", health, methods=["GET"]), *payment_routes, *media_routes]


ROUTES = _routes()


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Start services when the server starts, so /api/health works before any browser visits."""
    try:
        await asyncio.to_thread(start_services)
        start_background()
    except Exception:  # the UI shows its own error; the server must still come up
        log.exception("service start-up failed")
    yield
