"""Who is using this browser session: the one place pages read identity.

Pages call :func:`require_user` (or :func:`current_user` where signing in is optional) and
pass the user's id down to services; nothing below the views knows about Streamlit sessions.

Identity, first match wins:

1. the user this Streamlit session signed in as, while its server-side session
   (:mod:`services.sessions`) is live: a sign-out elsewhere ends it here at the next run;
2. the browser's session cookie (``tp_session``, HttpOnly), read from ``st.context.cookies``
   when a session starts: a reload, a new tab, a payment page's return;
3. ``st.user`` when OpenID Connect is configured (an ``[auth]`` block in Streamlit's
   secrets and Authlib installed) and the visitor is logged in (Streamlit's own cookie);
4. the deliberate single-user mode (``[accounts] single_user``): the local user;
5. in development, a new guest for this browser (its own credits and videos);
6. nobody: the app shows the sign-in page.

Signing a browser in (:func:`set_user`) starts a server-side session with a new id and
leaves a single-use hand-off for :func:`deliver_cookie`, which the app calls on every run:
the browser posts it to ``/api/auth/session`` (``web.auth``), whose answer sets the cookie.
"""

from __future__ import annotations

import importlib.util
import logging
import secrets

import streamlit as st

from errors import TalkingPhotoError
from i18n import _
from secrets_manager import get_settings
from services import accounts, ratelimit, sessions
from services.accounts import UserView

log = logging.getLogger("talkingphoto.ui")

USER_KEY = "auth_user_id"
SESSION_KEY = "auth_session_id"
HANDOFF_KEY = "auth_handoff"
CLEAR_COOKIE_KEY = "auth_clear_cookie"
SIGNED_OUT_KEY = "auth_signed_out"
CLIENT_TOKEN_KEY = "client_token"  # this browser session, for limits when its address is unknown
SIGNIN_PAGE = "views/signin.py"
ACCOUNT_PAGE = "views/account.py"
CREATE_PAGE = "views/create.py"
CREDITS_PAGE = "views/credits.py"  # registered only when payments are on
_KEEP_ON_SIGN_OUT = ("ui_lang", CLEAR_COOKIE_KEY, SIGNED_OUT_KEY, CLIENT_TOKEN_KEY)


def oidc_configured() -> bool:
    """Whether ``st.login`` can work here; never raises when secrets or Authlib are absent."""
    if importlib.util.find_spec("authlib") is None:
        return False
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all raises in st.secrets
        return False


def _oidc_identity() -> tuple[str, str, bool] | None:
    if not oidc_configured():
        return None
    try:
        if not st.user.get("is_logged_in", False):
            return None
        email, name = st.user.get("email"), st.user.get("name")
        verified = st.user.get("email_verified") is True
    except Exception:
        return None
    if not isinstance(email, str):
        return None
    return email, name if isinstance(name, str) else "", verified


def _user_agent() -> str:
    try:
        agent = st.context.headers.get("User-Agent")
    except Exception:
        return ""
    return agent if isinstance(agent, str) else ""


def _cookie() -> str | None:
    try:
        value = st.context.cookies.get(sessions.COOKIE_NAME)
    except Exception:  # AppTest and old runtimes: no cookies
        return None
    return value if isinstance(value, str) else None


def set_user(user: UserView) -> None:
    """Sign this browser in as ``user`` (sign-in, sign-up, guest start): a new server-side
    session (the previous one, if any, ends: the id rotates at every sign-in) and a
    hand-off that :func:`deliver_cookie` turns into the browser's cookie."""
    previous = st.session_state.get(SESSION_KEY)
    if isinstance(previous, int):
        sessions.revoke(previous, reason="rotated", client=client_address())
    session_id, handoff = sessions.start(user.id, user_agent=_user_agent(), client=client_address())
    st.session_state[USER_KEY] = user.id
    st.session_state[SESSION_KEY] = session_id
    st.session_state[HANDOFF_KEY] = handoff
    st.session_state.pop(SIGNED_OUT_KEY, None)
    st.session_state.pop(CLEAR_COOKIE_KEY, None)


def current_session_id() -> int | None:
    """The server-side session of this browser (None: OIDC or single-user mode)."""
    value = st.session_state.get(SESSION_KEY)
    return value if isinstance(value, int) else None


def _forget() -> None:
    for key in (USER_KEY, SESSION_KEY, HANDOFF_KEY):
        st.session_state.pop(key, None)


def current_user() -> UserView | None:
    """The signed-in (or guest) user of this browser, or ``None``."""
    state = st.session_state
    user_id = state.get(USER_KEY)
    if isinstance(user_id, int):
        session_id = state.get(SESSION_KEY)
        if not isinstance(session_id, int) or sessions.is_active(session_id):
            user = accounts.get_user(user_id)
            if user is not None:
                return user
        _forget()  # deleted, or signed out elsewhere
        state[SIGNED_OUT_KEY] = True
    found = sessions.resolve(_cookie())
    if found is not None:
        user = accounts.get_user(found.user_id)
        if user is not None:
            state[USER_KEY] = user.id
            state[SESSION_KEY] = found.id
            return user
    identity = _oidc_identity()
    if identity is not None:
        email, name, verified = identity
        try:
            user = accounts.sign_in_oidc(
                email, name, email_verified=verified, client=client_address()
            )
        except TalkingPhotoError as exc:
            log.warning("OIDC identity refused: %s", exc.detail or type(exc).__name__)
        else:
            state[USER_KEY] = user.id
            return user
    if accounts.single_user_mode():
        user = accounts.local_user()
        state[USER_KEY] = user.id
        return user
    settings = get_settings()
    if settings.guest_allowed and not settings.is_production and not state.get(SIGNED_OUT_KEY):
        # A browser without a session tries the app as its own guest, never a shared user.
        try:
            user = accounts.start_guest(client=client_address(), locale=state.get("ui_lang"))
        except TalkingPhotoError as exc:
            log.info("no guest for this browser: %s", exc.detail or type(exc).__name__)
            return None
        set_user(user)
        return user
    return None


def require_user() -> UserView:
    """The user, or a friendly sign-in prompt and the end of this page run."""
    user = current_user()
    if user is None:
        st.info(_("Please sign in to continue."), icon=":material/login:")
        st.page_link(SIGNIN_PAGE, label=_("Sign in"), icon=":material/login:")
        st.stop()
    return user


def client_address() -> str:
    """This browser's identity for abuse limits: its address (X-Forwarded-For only behind a
    trusted proxy), or, when Streamlit does not know it, a token of this browser session
    (``unknown/<token>``), so unknown visitors never share one bucket."""
    try:
        headers = st.context.headers
        peer = st.context.ip_address
        address = ratelimit.client_address(headers, peer if isinstance(peer, str) else None)
    except Exception:
        address = ratelimit.UNKNOWN_CLIENT
    token = st.session_state.get(CLIENT_TOKEN_KEY)
    if not isinstance(token, str):
        token = secrets.token_hex(8)
        st.session_state[CLIENT_TOKEN_KEY] = token
    return ratelimit.browser_key(address, token)


def sign_out(*, everywhere: bool = False) -> None:
    """End this browser's session (or, ``everywhere``, every session of the account),
    forget everything this session held but the UI language, and have the browser drop
    its cookie (:func:`deliver_cookie`)."""
    user_id = st.session_state.get(USER_KEY)
    session_id = current_session_id()
    if everywhere and isinstance(user_id, int):
        sessions.revoke_all(user_id, reason="signout_everywhere")
    elif session_id is not None:
        sessions.revoke(session_id, reason="signout", client=client_address())
    logged_in_oidc = _oidc_identity() is not None
    for key in list(st.session_state.keys()):
        if key not in _KEEP_ON_SIGN_OUT:
            del st.session_state[key]
    st.session_state[CLEAR_COOKIE_KEY] = True
    st.session_state[SIGNED_OUT_KEY] = True
    if logged_in_oidc:
        st.logout()


_SET_COOKIE_JS = """<script>
fetch(window.location.origin + "/api/auth/session", {
  method: "POST", credentials: "same-origin",
  headers: {"Content-Type": "application/x-www-form-urlencoded"},
  body: "token=" + encodeURIComponent("%s")
}).then(function (r) { document.body.dataset.tpSession = r.ok ? "set" : "refused"; });
</script>"""
_CLEAR_COOKIE_JS = """<script>
fetch(window.location.origin + "/api/auth/signout", {method: "POST", credentials: "same-origin"})
  .then(function (r) { document.body.dataset.tpSession = r.ok ? "cleared" : "refused"; });
</script>"""


def deliver_cookie() -> None:
    """Once per sign-in or sign-out: have the browser fetch the cookie route (the only way
    to set or clear an HttpOnly cookie). The app calls this on every run."""
    handoff = st.session_state.pop(HANDOFF_KEY, None)
    if sessions.route_mode() == "no-routes":
        return  # nobody would answer: sign-in lasts for this tab (or through st.login)
    if st.session_state.pop(CLEAR_COOKIE_KEY, None) and handoff is None:
        st.html(_CLEAR_COOKIE_JS, unsafe_allow_javascript=True)
    if (
        isinstance(handoff, str)
        and handoff.replace("-", "").replace("_", "").replace(".", "").isalnum()
    ):
        st.html(_SET_COOKIE_JS % handoff, unsafe_allow_javascript=True)


def lasting_sign_in_notice() -> None:
    """On hosts where our routes are unreachable (no session cookie), say what lasts."""
    if sessions.route_mode() != "no-routes":
        return
    if oidc_configured():
        text = _(
            "On this server a password sign-in lasts only until you reload or close the tab. "
            "Sign in with your organisation's account to stay signed in."
        )
    else:
        text = _("On this server a sign-in lasts only until you reload or close the tab.")
    st.caption(text)


def guest_invitation(user: UserView) -> None:
    """A short invitation to create an account, for guests and the local user (sidebar);
    in single-user mode, a plain statement that it is on."""
    if user.auth_method == "local":
        st.info(
            _(
                "Single-user mode is on: everyone who opens this app is the same local "
                "user. Turn it off for any shared or public deployment."
            ),
            icon=":material/warning:",
        )
    if user.has_account:
        return
    st.caption(_("You are trying TalkingPhoto without an account."))
    st.page_link(ACCOUNT_PAGE, label=_("Create a free account"), icon=":material/person_add:")


FLASH_KEY = "flash"


def flash(kind: str) -> None:
    """Leave a message for the next run (it survives sign-out): ``"deleted"``."""
    st.session_state[FLASH_KEY] = kind


def show_flash() -> None:
    if st.session_state.pop(FLASH_KEY, None) == "deleted":
        st.success(_("Your account and your data were deleted."), icon=":material/check:")


def session_mode_text() -> str:
    """Whether sign-ins last (the cookie routes answer through the public address), for the
    admin pages: the health page and the Outbox."""
    return {
        "cookie": _("Session cookies are on: sign-ins last across reloads and tabs."),
        "no-routes": _(
            "Session cookies are off: this host does not pass /api/auth/ to the app. "
            "Sign-in lasts across reloads only through st.login (OpenID Connect)."
        ),
    }.get(
        sessions.route_mode(),
        _("Session cookies: not checked yet (the server checks itself at start)."),
    )
