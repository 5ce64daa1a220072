"""HTTP routes served next to the Streamlit UI (plain Starlette; no streamlit import here).

``app_streamlit_cloud.py`` passes :data:`ROUTES` and :func:`lifespan` to ``st.App``. Paths must
stay outside Streamlit's reserved prefixes (``/_stcore/``, ``/media/``, ``/component/``,
``/static/``); ``st.App`` refuses a clash at start.

    health     GET /api/health
    media      GET /api/media/<token> (Range), GET /api/share/<token> (Open Graph page)
    webhooks   POST /api/webhooks/stripe, POST /api/webhooks/razorpay
    auth       POST /api/auth/session, POST /api/auth/signout, GET /api/auth/ping (cookie)

Routes are glue: they read the request and call services (or a gateway's own webhook parser).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

import health_monitor
from errors import N_, ConfigError
from secrets_manager import get_settings
from services import sessions, startup
from web import auth, health, media, webhooks
from web.headers import SecurityMiddleware

log = logging.getLogger("talkingphoto.api")

ROUTES: list[BaseRoute] = [
    Route("/api/health", health.health, methods=["GET"]),
    *webhooks.ROUTES,
    *media.ROUTES,
    *auth.ROUTES,
]
#: Around every response, Streamlit's included (web/headers.py): security headers, and 503
#: on the writing routes after a failed start-up.
MIDDLEWARE: list[Middleware] = [Middleware(SecurityMiddleware)]


def require_base_url() -> None:
    """Production needs ``[app] base_url`` set: share previews, checkout returns and e-mails
    build their absolute URLs from it (never from a request's ``Host`` header)."""
    settings = get_settings()
    if settings.is_production and "base_url" not in settings.app.model_fields_set:
        raise ConfigError(
            N_("Set [app] base_url to the app's public address (required in production).")
        )


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Start services when the server starts, so /api/health works before any browser visits."""
    try:
        require_base_url()
        await asyncio.to_thread(startup.start_services)
        startup.start_background()
        sessions.start_route_check()  # can browsers reach our routes (the session cookie)?
    except Exception as exc:  # the UI shows its own error; the server must still come up
        log.exception("service start-up failed")
        # /api/health reads "down" with the reason, and webhooks/sign-in answer 503 (they
        # would write into a half-started service).
        health_monitor.record_startup_failure(exc)
    yield
