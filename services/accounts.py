"""Who is using the app.

Until sign-in exists (the accounts issue), everyone is the single local user
``local@talkingphoto.local``. The seam is :func:`_signed_in_identity`: it will read the signed-in
identity (e.g. ``st.user`` handed down by the page, or a session token) and return its e-mail;
everything else here — creating the user on first sight with its signup grant — stays.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from db.models import User
from db.session import session_scope
from secrets_manager import get_settings
from services import credits

LOCAL_EMAIL = "local@talkingphoto.local"
LOCAL_NAME = "Local creator"


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    display_name: str
    is_admin: bool
    locale: str


def _view(user: User) -> UserView:
    return UserView(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        is_admin=user.is_admin,
        locale=user.locale,
    )


def _signed_in_identity() -> tuple[str, str]:
    """(email, display name) of whoever is using the app. The accounts issue replaces this."""
    return LOCAL_EMAIL, LOCAL_NAME


def signup_reference(user_id: int) -> str:
    return f"grant:signup:{user_id}"


def get_or_create_user(email: str, display_name: str = "") -> UserView:
    """The user with ``email``, created on first sight together with the signup grant.

    Safe under races (two tabs on first visit): the unique e-mail lets one insert win, the
    other reloads; the grant's unique reference makes it land once.
    """
    email = email.strip().lower()
    with session_scope() as session:
        user = session.scalar(select(User).where(User.email == email))
        if user is not None:
            return _view(user)
    try:
        with session_scope() as session:
            settings = get_settings()
            user = User(
                email=email,
                display_name=display_name or email.split("@", 1)[0],
                locale=settings.app.default_locale,
                # Admin rights are granted by the accounts issue, never by default.
                is_admin=False,
            )
            session.add(user)
            session.flush()
            grant = settings.credits.signup_grant
            if grant > 0:
                credits.post(session, user.id, grant, signup_reference(user.id), "signup grant")
            return _view(user)
    except IntegrityError:
        with session_scope() as session:
            user = session.scalars(select(User).where(User.email == email)).one()
            return _view(user)


def current_user() -> UserView:
    """The user of this request (for now: the local user, created on first call)."""
    email, name = _signed_in_identity()
    return get_or_create_user(email, name)
