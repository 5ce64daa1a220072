"""Who is using this browser session: the one place pages read identity.

Pages call :func:`require_user` (or :func:`current_user` where signing in is optional) and
pass the user's id down to services; nothing below the views knows about sessions.

Until sign-in lands (the accounts issue) everyone is the single local user.
"""

from __future__ import annotations

import streamlit as st

from services import accounts
from services.accounts import UserView


def current_user() -> UserView | None:
    """The signed-in (or guest) user of this session, or ``None``."""
    return accounts.current_user()


def require_user() -> UserView:
    """The user, or a sign-in prompt and the end of this page run."""
    user = current_user()
    if user is None:  # pragma: no cover - every visitor is the local user for now
        st.stop()
    return user


def sign_out() -> None:
    """Forget this session's identity."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]
