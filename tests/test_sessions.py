"""Server-side sessions (services.sessions) and the cookie route (web.auth), without a
browser: hand-off once, rotation, sliding and absolute expiry, revocation, cookie flags."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import requests
import uvicorn
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from db.models import AuthEvent, AuthSession, utcnow
from db.session import read_scope
from errors import InvalidToken
from services import accounts, sessions
from web import auth

PASSWORD = "correct horse battery"


@pytest.fixture
def user(accounts_env: Callable[..., None]) -> accounts.UserView:
    return accounts.sign_up("keeper@example.com", PASSWORD)


def test_a_hand_off_becomes_a_cookie_once_and_only_the_hash_is_stored(
    user: accounts.UserView,
) -> None:
    session_id, handoff = sessions.start(user.id, user_agent="Firefox", client="203.0.113.5")
    assert sessions.is_active(session_id)  # the page may use it before the cookie lands
    raw, view = sessions.activate(handoff)
    assert view.id == session_id and view.user_id == user.id
    assert sessions.resolve(raw).user_id == user.id  # type: ignore[union-attr]
    with pytest.raises(InvalidToken):
        sessions.activate(handoff)  # single use
    with read_scope() as db:
        row = db.get(AuthSession, session_id)
        assert row is not None and row.token_hash != raw and raw not in str(row.token_hash)
        assert len(row.token_hash or "") == 64 and row.handoff_hash is None
        assert (row.user_agent, row.client) == ("Firefox", "203.0.113.5")


def test_every_sign_in_mints_a_new_id(user: accounts.UserView) -> None:
    _sid1, first = sessions.start(user.id)
    _sid2, second = sessions.start(user.id)
    raw1, _ = sessions.activate(first)
    raw2, _ = sessions.activate(second)
    assert raw1 != raw2 and len(raw1) >= 40


def test_an_expired_or_forged_hand_off_is_refused(user: accounts.UserView) -> None:
    now = utcnow()
    _sid, handoff = sessions.start(user.id, now=now)
    with pytest.raises(InvalidToken):
        sessions.activate(handoff, now=now + timedelta(seconds=sessions.HANDOFF_TTL_S + 1))
    with pytest.raises(InvalidToken):
        sessions.activate(handoff[:-3] + "AAA")
    assert sessions.resolve("not-a-session") is None
    assert sessions.resolve("") is None and sessions.resolve("x" * 500) is None


def test_idle_expiry_slides_but_never_past_the_absolute_limit(
    accounts_env: Callable[..., None], user: accounts.UserView
) -> None:
    accounts_env(accounts__session_idle_days=30, accounts__session_max_days=90)
    start = utcnow()
    _sid, handoff = sessions.start(user.id, now=start)
    raw, _ = sessions.activate(handoff, now=start)
    # Used every 20 days: alive at day 80 (the idle expiry slid each time) ...
    for day in (20, 40, 60, 80):
        assert sessions.resolve(raw, now=start + timedelta(days=day)) is not None
    # ... but not after 90 days, however recently it was used.
    assert sessions.resolve(raw, now=start + timedelta(days=90, seconds=1)) is None
    # An open tab that keeps running slides it too (the per-run check).
    sid, handoff = sessions.start(user.id, now=start)
    tab, _ = sessions.activate(handoff, now=start)
    for day in (25, 50, 75):
        assert sessions.is_active(sid, now=start + timedelta(days=day))
    assert sessions.resolve(tab, now=start + timedelta(days=89)) is not None
    assert not sessions.is_active(sid, now=start + timedelta(days=90, seconds=1))
    # Left alone for 31 days: gone.
    _sid, handoff = sessions.start(user.id, now=start)
    idle, _ = sessions.activate(handoff, now=start)
    assert sessions.resolve(idle, now=start + timedelta(days=29)) is not None
    assert sessions.resolve(idle, now=start + timedelta(days=29 + 31)) is None


def test_revoked_sessions_are_refused_and_audited(user: accounts.UserView) -> None:
    ids, raws = [], []
    for agent in ("phone", "laptop", "tablet"):
        sid, handoff = sessions.start(user.id, user_agent=agent)
        ids.append(sid)
        raws.append(sessions.activate(handoff)[0])
    assert {s.user_agent for s in sessions.list_active(user.id)} == {"phone", "laptop", "tablet"}
    assert sessions.revoke(ids[0]) and not sessions.revoke(ids[0])
    assert sessions.resolve(raws[0]) is None and not sessions.is_active(ids[0])
    assert sessions.revoke_all(user.id, except_id=ids[2]) == 1
    assert sessions.resolve(raws[1]) is None
    assert sessions.resolve(raws[2]) is not None
    assert [s.id for s in sessions.list_active(user.id)] == [ids[2]]
    with read_scope() as db:
        kinds = db.scalars(select(AuthEvent.kind).order_by(AuthEvent.id)).all()
    assert kinds.count("session_revoked") == 2


def test_a_password_change_ends_the_other_sessions(user: accounts.UserView) -> None:
    keep, handoff_keep = sessions.start(user.id)
    _other, handoff_other = sessions.start(user.id)
    raw_keep, _ = sessions.activate(handoff_keep)
    raw_other, _ = sessions.activate(handoff_other)
    ended = accounts.change_password(
        user.id, PASSWORD, "a new and better passphrase", keep_session_id=keep
    )
    assert ended == 1
    assert sessions.resolve(raw_keep) is not None and sessions.resolve(raw_other) is None
    assert accounts.sign_in("keeper@example.com", "a new and better passphrase").id == user.id


def test_a_deleted_user_has_no_session(user: accounts.UserView) -> None:
    from services import account_deletion

    _sid, handoff = sessions.start(user.id)
    raw, _ = sessions.activate(handoff)
    account_deletion.delete_account(user.id)
    assert sessions.resolve(raw) is None


# ----------------------------------------------------------------------------- the route


@contextlib.contextmanager
def serve_routes(routes: list[BaseRoute]) -> Iterator[str]:
    """``routes`` in a real Starlette app on a loopback port (uvicorn); yields its URL."""
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=routes), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


@pytest.fixture
def server(user: accounts.UserView) -> Iterator[str]:
    with serve_routes(auth.ROUTES) as base:
        yield base


def test_the_route_sets_an_httponly_lax_cookie_and_sign_out_clears_it(
    user: accounts.UserView, server: str
) -> None:
    _sid, handoff = sessions.start(user.id)
    client = requests.Session()
    answer = client.post(
        f"{server}/api/auth/session", data={"token": handoff}, headers={"Origin": server}
    )
    assert answer.status_code == 204
    header = answer.headers["set-cookie"]
    assert header.startswith("tp_session=")
    assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/" in header
    assert "Secure" not in header  # development over http
    assert f"Max-Age={90 * 86400}" in header
    assert answer.headers["cache-control"] == "no-store"
    raw = client.cookies["tp_session"]
    assert sessions.resolve(raw) is not None
    # The same hand-off again: refused, and the answer never echoes it.
    again = client.post(f"{server}/api/auth/session", data={"token": handoff})
    assert again.status_code == 400 and handoff not in again.text

    out = client.post(f"{server}/api/auth/signout", headers={"Origin": server})
    assert out.status_code == 204
    assert 'tp_session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    assert sessions.resolve(raw) is None


def test_the_cookie_is_secure_in_production_over_https(
    accounts_env: Callable[..., None], user: accounts.UserView, server: str
) -> None:
    accounts_env(
        app__environment="production",
        app__base_url="https://talkingphoto.example.com",
        jwt__secret_key="p" * 40,
    )
    assert sessions.cookie_options()["secure"] is True
    _sid, handoff = sessions.start(user.id)
    # (Behind the https proxy the app sees its own host; here the loopback one.)
    answer = requests.post(
        f"{server}/api/auth/session", data={"token": handoff}, headers={"Origin": server}
    )
    assert answer.status_code == 204
    header = answer.headers["set-cookie"]
    assert "Secure" in header and "HttpOnly" in header and "SameSite=lax" in header


def test_another_site_cannot_sign_a_visitor_in(user: accounts.UserView, server: str) -> None:
    _sid, handoff = sessions.start(user.id)
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        answer = requests.post(
            f"{server}/api/auth/session", data={"token": handoff}, headers=headers
        )
        assert answer.status_code == 403 and "set-cookie" not in answer.headers
    # Unused: still good for the real page.
    answer = requests.post(
        f"{server}/api/auth/session", data={"token": handoff}, headers={"Origin": server}
    )
    assert answer.status_code == 204


# ------------------------------------------------------------------ can browsers reach us?


def test_the_start_up_check_finds_the_routes_on_the_public_address(server: str) -> None:
    assert sessions.check_routes(server, attempts=1) == "cookie"
    assert sessions.route_mode() == "cookie"


def test_without_the_routes_the_mode_says_so(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_app_server import free_port

    waits: list[float] = []
    nobody = f"http://127.0.0.1:{free_port()}"
    assert sessions.check_routes(nobody, attempts=3, sleep=waits.append) == "no-routes"
    assert waits == [1.0, 1.0] and sessions.route_mode() == "no-routes"
    # Something else answering at that address (another app, a proxy's page): not ours.
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def other(request: object) -> JSONResponse:
        return JSONResponse({"app": "someone-else", "instance": sessions.INSTANCE})

    with serve_routes([Route(sessions.PING_PATH, other)]) as elsewhere:
        assert sessions.check_routes(elsewhere, attempts=1) == "no-routes"
    assert sessions.check_routes(server, attempts=1) == "cookie"


def test_behind_a_proxy_the_public_origin_counts_as_ours(
    accounts_env: Callable[..., None], user: accounts.UserView, server: str
) -> None:
    accounts_env(app__base_url="https://talkingphoto.example.com")
    _sid, handoff = sessions.start(user.id)
    answer = requests.post(
        f"{server}/api/auth/session",
        data={"token": handoff},
        headers={"Origin": "https://talkingphoto.example.com"},  # Host is the internal one
    )
    assert answer.status_code == 204
