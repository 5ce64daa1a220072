"""Who is using this browser session: the one place pages read identity.

Pages call :func:`require_user` (or :func:`current_user` where signing in is optional) and
pass the user's id down to services; nothing below the views knows about sessions.

Identity, first match wins:

1. the user id this session signed in as (password, guest, upgrade) in ``st.session_state``;
2. ``st.user`` when OpenID Connect is configured (an ``[auth]`` block in Streamlit's
   secrets and Authlib installed) and the visitor is logged in; its cookie outlives reloads;
3. in development with guests allowed, the single local developer user, so a fresh clone
   can create a video at once (production guests start one from the sign-in page);
4. nobody: the app shows the sign-in page.

A session holds only the user id; every run re-reads the row, so a deleted account or a
changed role takes effect at once.
"""

from __future__ import annotations

import importlib.util
import logging

import streamlit as st

from errors import TalkingPhotoError
from i18n import _
from secrets_manager import get_settings
from services import accounts, ratelimit
from services.accounts import UserView

log = logging.getLogger("talkingphoto.ui")

USER_KEY = "auth_user_id"
SIGNIN_PAGE = "views/signin.py"
ACCOUNT_PAGE = "views/account.py"
_KEEP_ON_SIGN_OUT = ("ui_lang",)


def oidc_configured() -> bool:
    """Whether ``st.login`` can work here; never raises when secrets or Authlib are absent."""
    if importlib.util.find_spec("authlib") is None:
        return False
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all raises in st.secrets
        return False


def _oidc_identity() -> tuple[str, str] | None:
    if not oidc_configured():
        return None
    try:
        if not st.user.get("is_logged_in", False):
            return None
        email, name = st.user.get("email"), st.user.get("name")
    except Exception:
        return None
    return (email, name if isinstance(name, str) else "") if isinstance(email, str) else None


def set_user(user: UserView) -> None:
    """Remember ``user`` as this session's identity (after sign-in, sign-up, guest start)."""
    st.session_state[USER_KEY] = user.id


def current_user() -> UserView | None:
    """The signed-in (or guest, or local) user of this session, or ``None``."""
    user_id = st.session_state.get(USER_KEY)
    if isinstance(user_id, int):
        user = accounts.get_user(user_id)
        if user is not None:
            return user
        del st.session_state[USER_KEY]  # deleted meanwhile: signed out
    identity = _oidc_identity()
    if identity is not None:
        try:
            user = accounts.sign_in_oidc(*identity)
        except TalkingPhotoError as exc:
            log.warning("OIDC identity refused: %s", exc.detail or type(exc).__name__)
        else:
            set_user(user)
            return user
    settings = get_settings()
    if settings.guest_allowed and not settings.is_production:
        user = accounts.local_user()
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
    """This browser's address for abuse limits (X-Forwarded-For only behind a trusted
    proxy); ``"unknown"`` when Streamlit does not know it."""
    try:
        headers = st.context.headers
        peer = st.context.ip_address
    except Exception:
        return ratelimit.UNKNOWN_CLIENT
    return ratelimit.client_address(headers, peer if isinstance(peer, str) else None)


def sign_out() -> None:
    """Forget this session's identity (and everything else it held but the UI language)."""
    logged_in_oidc = _oidc_identity() is not None
    for key in list(st.session_state.keys()):
        if key not in _KEEP_ON_SIGN_OUT:
            del st.session_state[key]
    if logged_in_oidc:
        st.logout()


def guest_invitation(user: UserView) -> None:
    """A short invitation to create an account, for guests and the local user (sidebar)."""
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
