"""One ASGI middleware around the whole server (Streamlit's own responses and our routes),
passed to ``st.App(middleware=...)`` by ``app_streamlit_cloud.py``:

* security headers on every HTTP response that does not set them itself:
  ``Content-Security-Policy`` (what Streamlit's page needs: inline styles and scripts —
  ``st.html`` injects ours — and ``eval`` for Vega charts; the Google Analytics tag when
  configured; frames only from ourselves), ``X-Frame-Options``, ``Referrer-Policy``,
  ``X-Content-Type-Options``, and ``Strict-Transport-Security`` when ``[app] base_url`` is
  https;
* the peer address as the socket saw it (:func:`restore_peer`): uvicorn believes
  ``X-Forwarded-For`` from loopback whatever ``[ratelimit] trusted_proxies`` says;
* after a failed start-up (``health_monitor.startup_failure``), the routes that write
  (webhooks, the session cookie) answer 503 instead of writing into a half-started service;
  ``/api/health`` says why.

Frames: ``frame-ancestors 'self'`` (not ``'none'``): Streamlit's components load as frames of
the app's own origin.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse

# uvicorn's own parser of the header, so the rewrite is recognised exactly (pinned version).
from uvicorn.middleware.proxy_headers import _TrustedHosts

import health_monitor
from secrets_manager import get_settings

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval' https://www.googletagmanager.com",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https:",
        "media-src 'self' data: blob: https:",
        "font-src 'self' data:",
        "connect-src 'self' ws: wss: https://*.google-analytics.com "
        "https://*.analytics.google.com https://www.googletagmanager.com",
        "frame-src 'self' blob: data:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"
#: Routes that change state; refused with 503 while start-up has failed.
GATED_PREFIXES = ("/api/webhooks/", "/api/auth/session", "/api/auth/signout")


def _uvicorn_trusted_hosts() -> list[str]:
    """What uvicorn (started by Streamlit, which passes no proxy options) believes
    X-Forwarded-For from: ``FORWARDED_ALLOW_IPS`` or loopback."""
    raw = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
    return [h.strip() for h in raw.split(",") if h.strip()]


def restore_peer(scope: dict[str, Any]) -> None:
    """Undo uvicorn's X-Forwarded-For rewrite of ``scope["client"]``, so the app decides whom
    to believe from ``[ratelimit] trusted_proxies`` (``services.ratelimit.client_address``,
    used by our routes and, through ``st.context``, by the pages).

    uvicorn replaces the peer with the right-most address of the header not in its own trusted
    list whenever the peer is in that list (loopback by default). When the scope's client is
    exactly that derived address, the real peer was one of uvicorn's trusted hosts: it is put
    back (the first literal one, port 0). A direct client that sends its own address as the
    last hop is then counted as that proxy address, which only hurts itself.
    """
    client = scope.get("client")
    forwarded = [v for n, v in scope.get("headers", ()) if n == b"x-forwarded-for"]
    if not client or not forwarded:
        return
    trusted = _uvicorn_trusted_hosts()
    literal = [h for h in trusted if h != "*" and "/" not in h]
    if not literal:
        return  # "*" or networks: the real peer cannot be named; leave uvicorn's answer
    derived = _TrustedHosts(",".join(trusted)).get_trusted_client_address(
        b", ".join(forwarded).decode("latin1")
    )
    if derived[0] and (client[0], client[1]) == (derived[0], derived[1]):
        scope["client"] = (literal[0], 0)


def security_headers(https: bool) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CSP,
        "X-Frame-Options": "SAMEORIGIN",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def _https(scope: dict[str, Any]) -> bool:
    if scope.get("scheme") == "https":
        return True
    try:
        return get_settings().app.base_url.startswith("https://")
    except Exception:  # broken settings: the page shows the error, headers stay
        return False


class SecurityMiddleware:
    """Pure ASGI (no response buffering: media streams and Range requests pass through)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            restore_peer(scope)
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(_https(scope))
        if scope["path"].startswith(GATED_PREFIXES) and health_monitor.startup_failure():
            refused = JSONResponse(
                {"error": "the service failed to start; see /api/health"},
                status_code=503,
                headers={**extra, "Retry-After": "60", "Cache-Control": "no-store"},
            )
            await refused(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
