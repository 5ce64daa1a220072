"""The session cookie, which a Streamlit script run cannot set (it has no HTTP response).

    POST /api/auth/session   body ``token=<hand-off>``: redeem the page's single-use hand-off
                             (services.sessions.activate), set the HttpOnly session cookie.
    POST /api/auth/signout   end the session the cookie names and clear the cookie.
    GET  /api/auth/ping      "this is TalkingPhoto": the start-up check that browsers can
                             reach these routes (services.sessions.check_routes).

The page calls both with ``fetch`` from the same origin. A request whose ``Origin`` (or
``Sec-Fetch-Site``) says it came from another site is refused, so another site cannot sign a
visitor into an account of its choosing (login CSRF). Answers are never cached and never
echo the token.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from errors import InvalidToken
from secrets_manager import get_settings
from services import ratelimit, sessions
from web.body import read_capped, too_large

log = logging.getLogger("talkingphoto.api")
MAX_BODY_BYTES = 4096
_NO_STORE = {"Cache-Control": "no-store"}


def _same_origin(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return site is not None or origin is None
    # Behind a proxy the Host header may be the internal name: the public address
    # ([app] base_url) counts as ours too.
    ours = {request.headers.get("host", ""), urlsplit(get_settings().app.base_url).netloc}
    return urlsplit(origin).netloc in ours


def _client(request: Request) -> str:
    peer = request.client.host if request.client else None
    return ratelimit.client_address(request.headers, peer)


async def start_session(request: Request) -> Response:
    if not _same_origin(request):
        return JSONResponse({"error": "cross-site request refused"}, 403, headers=_NO_STORE)
    raw = await read_capped(request, MAX_BODY_BYTES)
    if raw is None:
        return too_large(_NO_STORE)
    values = parse_qs(raw.decode("utf-8", "replace")).get("token") or [""]
    token = values[0]
    if not token:
        return JSONResponse({"error": "token missing"}, 400, headers=_NO_STORE)
    try:
        cookie, view = await run_in_threadpool(sessions.activate, token)
    except InvalidToken as exc:
        log.info("session hand-off refused: %s", exc.detail or "invalid")
        return JSONResponse({"error": "invalid or used hand-off"}, 400, headers=_NO_STORE)
    response = Response(status_code=204, headers=_NO_STORE)
    response.set_cookie(value=cookie, **sessions.cookie_options())
    log.info("session cookie set (session %s, user %s)", view.id, view.user_id)
    return response


async def sign_out(request: Request) -> Response:
    if not _same_origin(request):
        return JSONResponse({"error": "cross-site request refused"}, 403, headers=_NO_STORE)
    cookie = request.cookies.get(sessions.COOKIE_NAME)
    if cookie:
        await run_in_threadpool(sessions.revoke_by_cookie, cookie, client=_client(request))
    response = Response(status_code=204, headers=_NO_STORE)
    options = sessions.cookie_options()
    response.delete_cookie(
        options["key"],
        path=options["path"],
        secure=options["secure"],
        httponly=True,
        samesite=options["samesite"],
    )
    return response


async def ping(request: Request) -> JSONResponse:
    return JSONResponse(
        {"app": sessions.PING_APP, "instance": sessions.INSTANCE}, headers=_NO_STORE
    )


ROUTES: list[BaseRoute] = [
    Route("/api/auth/ping", ping, methods=["GET"]),
    Route("/api/auth/session", start_session, methods=["POST"]),
    Route("/api/auth/signout", sign_out, methods=["POST"]),
]
