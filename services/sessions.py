"""Server-side browser sessions behind an HttpOnly cookie.

A page cannot set a cookie (a Streamlit script run has no HTTP response), so signing a
browser in takes two steps:

1. :func:`start` (called by the page at sign-in, sign-up or guest start) writes a *pending*
   row for the user and returns a short-lived, single-use hand-off token (signed with
   :mod:`services.tokens`, purpose ``session-handoff``, 5 minutes) naming that row by a
   random nonce;
2. the page hands the token to ``POST /api/auth/session`` (:mod:`web.auth`), which calls
   :func:`activate`: the nonce is spent, a **new** random session id is minted (so an id
   can never be fixed in advance: every sign-in rotates it) and only its SHA-256 is stored;
   the route puts the id in the cookie (:func:`cookie_options`).

At the start of every Streamlit session the page reads the cookie (``st.context.cookies``)
and calls :func:`resolve`: a known, unrevoked, unexpired id gives the user; the idle expiry
slides (``[accounts] session_idle_days``) but never past the absolute limit
(``session_max_days``). :func:`is_active` is the cheap per-run check that a session revoked
elsewhere (sign out everywhere, password change) signs this tab out too.

Nothing here sees Streamlit or Starlette; times can be injected (``now=``) for tests.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import select, update

from db.models import AuthSession, User, utcnow
from db.session import read_scope, session_scope
from errors import InvalidToken
from secrets_manager import Settings, get_settings
from services import audit, tokens

log = logging.getLogger("talkingphoto.sessions")

COOKIE_NAME = "tp_session"
HANDOFF_PURPOSE = "session-handoff"
HANDOFF_TTL_S = 300
# Write last_seen (and slide the expiry) at most this often: a poll every second must not
# turn every page run into a database write.
TOUCH_EVERY = timedelta(minutes=5)
_ID_BYTES = 32


@dataclass(frozen=True)
class SessionView:
    id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str
    client: str


def _view(row: AuthSession) -> SessionView:
    return SessionView(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        user_agent=row.user_agent,
        client=row.client,
    )


def _lifetimes(settings: Settings) -> tuple[timedelta, timedelta]:
    accounts = settings.accounts
    return timedelta(days=accounts.session_idle_days), timedelta(days=accounts.session_max_days)


def start(
    user_id: int,
    *,
    user_agent: str = "",
    client: str = "",
    now: datetime | None = None,
) -> tuple[int, str]:
    """A pending session for ``user_id``: its row id and the hand-off token for the cookie
    route. The row is usable by this page at once (:func:`is_active`); the browser gets its
    cookie when the token is redeemed."""
    now = now or utcnow()
    idle, absolute = _lifetimes(get_settings())
    nonce = secrets.token_urlsafe(_ID_BYTES)
    with session_scope() as session:
        row = AuthSession(
            user_id=user_id,
            handoff_hash=tokens.stored_hash(nonce),
            created_at=now,
            last_seen_at=now,
            expires_at=min(now + idle, now + absolute),
            absolute_expires_at=now + absolute,
            user_agent=(user_agent or "")[:300],
            client=(client or "")[:64],
            settings={},
        )
        session.add(row)
        session.flush()
        session_id = row.id
        audit.record(
            "session_started", user_id=user_id, client=client, session=session, sid=session_id
        )
    token = tokens.sign(
        HANDOFF_PURPOSE,
        {"n": nonce},
        HANDOFF_TTL_S,
        now=now.timestamp(),
    )
    return session_id, token


def activate(handoff_token: str, *, now: datetime | None = None) -> tuple[str, SessionView]:
    """Redeem a hand-off token once: a fresh random session id (the cookie value) and the
    session. :class:`errors.InvalidToken` for a bad, expired, spent or revoked hand-off."""
    now = now or utcnow()
    claims = tokens.verify(HANDOFF_PURPOSE, handoff_token, now=now.timestamp())
    nonce = claims.get("n")
    if not isinstance(nonce, str) or not nonce:
        raise InvalidToken(detail="hand-off without nonce")
    raw = secrets.token_urlsafe(_ID_BYTES)
    with session_scope() as session:
        row = session.scalar(
            select(AuthSession).where(AuthSession.handoff_hash == tokens.stored_hash(nonce))
        )
        if row is None:
            raise InvalidToken(detail="hand-off already used or unknown")
        if row.revoked_at is not None or _expired(row, now):
            raise InvalidToken(detail="hand-off for an ended session")
        row.handoff_hash = None
        row.token_hash = tokens.stored_hash(raw)
        row.last_seen_at = now
        return raw, _view(row)


def _expired(row: AuthSession, now: datetime) -> bool:
    return now >= row.expires_at or now >= row.absolute_expires_at


def resolve(raw: str | None, *, now: datetime | None = None) -> SessionView | None:
    """The live session named by a cookie value, or None (unknown, revoked, expired, or
    its user deleted). Slides the idle expiry when the last touch is old enough."""
    if not raw or not isinstance(raw, str) or len(raw) > 200:
        return None
    now = now or utcnow()
    digest = tokens.stored_hash(raw)
    with read_scope() as session:
        row = session.scalar(select(AuthSession).where(AuthSession.token_hash == digest))
        if row is None or row.revoked_at is not None or _expired(row, now):
            return None
        user = session.get(User, row.user_id)
        if user is None or user.deleted_at is not None:
            return None
        view = _view(row)
        stale = now - row.last_seen_at >= TOUCH_EVERY
    if stale:
        view = _touch(view.id, now) or view
    return view


def _touch(session_id: int, now: datetime) -> SessionView | None:
    idle, _absolute = _lifetimes(get_settings())
    with session_scope() as session:
        row = session.get(AuthSession, session_id)
        if row is None or row.revoked_at is not None:
            return None
        row.last_seen_at = now
        row.expires_at = min(now + idle, row.absolute_expires_at)
        return _view(row)


def is_active(session_id: int, *, now: datetime | None = None) -> bool:
    """Whether the session is still live (not revoked, not expired): the per-run check. A
    tab in use keeps sliding the idle expiry (a write at most every :data:`TOUCH_EVERY`)."""
    now = now or utcnow()
    with read_scope() as session:
        row = session.get(AuthSession, session_id)
        if row is None or row.revoked_at is not None or _expired(row, now):
            return False
        stale = now - row.last_seen_at >= TOUCH_EVERY
    if stale:
        _touch(session_id, now)
    return True


def revoke(session_id: int, *, reason: str = "signout", client: str = "") -> bool:
    """End one session. True when it was live."""
    with session_scope() as session:
        row = session.get(AuthSession, session_id)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        row.handoff_hash = None
        audit.record(
            "session_revoked",
            user_id=row.user_id,
            client=client,
            session=session,
            sid=session_id,
            reason=reason,
        )
        return True


def revoke_by_cookie(raw: str | None, *, client: str = "") -> bool:
    """End the session a cookie names (the sign-out route). True when it was live."""
    if not raw or len(raw) > 200:
        return False
    with read_scope() as session:
        session_id = session.scalar(
            select(AuthSession.id).where(AuthSession.token_hash == tokens.stored_hash(raw))
        )
    return session_id is not None and revoke(session_id, reason="signout", client=client)


def revoke_all(
    user_id: int, *, except_id: int | None = None, reason: str = "signout_everywhere"
) -> int:
    """End every live session of a user (but ``except_id``). Returns how many ended."""
    now = utcnow()
    with session_scope() as session:
        query = (
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, handoff_hash=None)
        )
        if except_id is not None:
            query = query.where(AuthSession.id != except_id)
        count = int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]
        if count:
            audit.record(
                "session_revoked",
                user_id=user_id,
                session=session,
                count=count,
                reason=reason,
                kept=except_id,
            )
        return count


def list_active(user_id: int, *, now: datetime | None = None) -> list[SessionView]:
    """The user's live sessions, most recently used first."""
    now = now or utcnow()
    with read_scope() as session:
        rows = session.scalars(
            select(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .order_by(AuthSession.last_seen_at.desc())
        )
        return [_view(r) for r in rows if not _expired(r, now)]


def cookie_options(settings: Settings | None = None) -> dict[str, Any]:
    """Attributes for the session cookie (Starlette's ``set_cookie`` keywords): HttpOnly,
    SameSite=Lax, Secure when the app is served over https, for the absolute lifetime (the
    server ends it sooner when idle)."""
    settings = settings or get_settings()
    _idle, absolute = _lifetimes(settings)
    return {
        "key": COOKIE_NAME,
        "httponly": True,
        "samesite": "lax",
        "secure": settings.app.base_url.startswith("https://"),
        "path": "/",
        "max_age": int(absolute.total_seconds()),
    }


# --------------------------------------------------------------------------- route check
# Whether the browser can reach our own routes (``st.App(routes=...)``) through the public
# address, which the cookie needs. Not confirmed on every host (Streamlit Community Cloud),
# so the server asks itself at start: GET <base_url>/api/auth/ping must answer as
# TalkingPhoto (this process or another replica behind the same address). Modes: "cookie"
# (sessions last), "no-routes" (sign-in lasts across reloads only through st.login / OIDC;
# a password sign-in lasts for the tab), "unknown" (not checked yet).

INSTANCE = secrets.token_hex(8)
PING_PATH = "/api/auth/ping"
PING_APP = "talkingphoto"
_mode = "unknown"
_mode_lock = threading.Lock()


def route_mode() -> str:
    return _mode


def _set_mode(mode: str) -> None:
    global _mode
    with _mode_lock:
        _mode = mode


def check_routes(
    base_url: str | None = None,
    *,
    attempts: int = 30,
    wait_s: float = 1.0,
    get: Callable[..., requests.Response] = requests.get,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Ask ``<base_url>/api/auth/ping`` (retrying while the server comes up); set and
    return the mode."""
    url = (base_url or get_settings().app.base_url).rstrip("/") + PING_PATH
    for attempt in range(max(1, attempts)):
        try:
            answer = get(url, timeout=5)
            if answer.status_code == 200 and answer.json().get("app") == PING_APP:
                _set_mode("cookie")
                log.info("session cookies: on (%s answers)", PING_PATH)
                return "cookie"
        except (requests.RequestException, ValueError, AttributeError):
            pass
        if attempt + 1 < attempts:
            sleep(wait_s)
    _set_mode("no-routes")
    log.warning(
        "session cookies: off: %s is not reachable at [app] base_url; sign-in lasts across "
        "reloads only through st.login (OpenID Connect)",
        url,
    )
    return "no-routes"


def start_route_check() -> threading.Thread:
    """Run :func:`check_routes` in the background (the server is not listening yet while
    its lifespan starts)."""
    thread = threading.Thread(target=check_routes, name="route-check", daemon=True)
    thread.start()
    return thread
