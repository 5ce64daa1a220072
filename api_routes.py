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
    """Once per process (idempotent, thread-safe): schema, job recovery, voices, temp sweep."""
    global _started
    with _start_lock:
        if _started:
            return
        import background_tasks
        from db.session import init_db
        from providers.local import voices
        from secrets_manager import get_settings

        settings = get_settings()
        init_db()
        background_tasks.recover_jobs()
        voices.configure(settings.providers.piper_voices)
        _sweep_temp_uploads()
        _started = True
        log.info("services started (version %s)", app_version())


def reset_for_tests() -> None:
    global _started
    with _start_lock:
        _started = False


def health_snapshot() -> dict[str, Any]:
    """The JSON body of ``GET /api/health``; every failure is reported, none is raised."""
    database = "ok"
    jobs: dict[str, int] = {"queued": 0, "running": 0}
    try:
        from sqlalchemy import func, select

        from db.models import Job
        from db.session import session_scope

        with session_scope() as session:
            rows = session.execute(
                select(Job.status, func.count())
                .where(Job.status.in_(("queued", "running")))
                .group_by(Job.status)
            ).all()
        counts = {str(status): int(n) for status, n in rows}
        jobs = {"queued": counts.get("queued", 0), "running": counts.get("running", 0)}
    except Exception:
        log.exception("health: database check failed")
        database = "error"
    return {
        "status": "ok" if database == "ok" else "degraded",
        "version": app_version(),
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": database,
        "jobs": jobs,
    }


def health(request: Request) -> JSONResponse:
    # A sync endpoint: Starlette runs it in its thread pool, so the DB query never blocks the loop.
    body = health_snapshot()
    return JSONResponse(body, status_code=200, headers={"Cache-Control": "no-store"})


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
    except Exception:  # the UI shows its own error; the server must still come up
        log.exception("service start-up failed")
    yield
