"""Accounts: sign-up and sign-in with e-mail and password, OpenID Connect, guests, the local user.

Kinds of user (``User.auth_method``):

* ``password``: e-mail (normalised: trimmed, NFKC, lower case) and an Argon2id hash;
* ``oidc``: signed in through ``st.login``; the identity provider vouches for the e-mail;
* ``guest``: tries the app without an account, with ``[credits] guest_grant`` credits;
* ``local``: the single developer user (``local@talkingphoto.local``) every visitor becomes in
  development while guests are allowed, so a fresh checkout can create a video at once.

A guest or the local user can *upgrade* (:func:`sign_up` with ``upgrade_user_id``): a guest's
row becomes a password account, so their videos stay theirs; the local user, shared by every
development session, stays, and the new account takes its finished videos. Sign-up grants
``[credits] signup_grant`` once (ledger reference ``grant:signup:<user>``); a guest's grant is
``grant:guest:<user>``. Roles: ``admin`` when the e-mail is in ``[accounts] admins``.

Attempts are throttled (:mod:`services.ratelimit`): sign-ups and guest starts per client,
sign-ins per client, and failed sign-ins per account. Functions return frozen
:class:`UserView` values and raise only :mod:`errors` types; this module never sees Streamlit.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import ShareLink, User, utcnow
from db.session import read_scope, session_scope
from errors import N_, AccountError, AuthError, RateLimited, SignupError
from secrets_manager import get_settings
from services import credits, ratelimit

LOCAL_EMAIL = "local@talkingphoto.local"
LOCAL_NAME = "Local creator"
GUEST_DOMAIN = "guest.talkingphoto.invalid"
MAX_PASSWORD_CHARS = 256
MAX_NAME_CHARS = 120
# Argon2id with the library's defaults (RFC 9106 "low memory": 64 MiB, t=3). Tests may swap in
# cheaper parameters; a stored hash with older parameters is upgraded at the next sign-in.
HASHER = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
_COMMON_PASSWORDS = frozenset(
    {
        "password123",
        "password1234",
        "1234567890",
        "12345678910",
        "qwertyuiop",
        "iloveyou123",
        "abcdefghij",
        "0987654321",
        "1q2w3e4r5t",
        "qwerty12345",
        "talkingphoto",
    }
)


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    display_name: str
    is_admin: bool
    locale: str
    auth_method: str = "password"
    is_guest: bool = False
    currency: str | None = None

    @property
    def has_account(self) -> bool:
        """A real account (password or OIDC), not a guest or the local developer user."""
        return self.auth_method in ("password", "oidc")


def _is_admin(user: User) -> bool:
    admins = {a.strip().lower() for a in get_settings().accounts.admins}
    return bool(user.is_admin) or (
        user.auth_method in ("password", "oidc") and user.email in admins
    )


def _view(user: User) -> UserView:
    return UserView(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        is_admin=_is_admin(user),
        locale=user.locale,
        auth_method=user.auth_method,
        is_guest=user.is_guest,
        currency=user.currency,
    )


def signup_reference(user_id: int) -> str:
    return f"grant:signup:{user_id}"


def guest_reference(user_id: int) -> str:
    return f"grant:guest:{user_id}"


# --------------------------------------------------------------------------- validation


def normalize_email(raw: str) -> str:
    """The e-mail as stored: trimmed, NFKC-normalised, lower case. SignupError if invalid."""
    email = unicodedata.normalize("NFKC", raw or "").strip().lower()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise SignupError(N_("Please enter a valid e-mail address."))
    if email.endswith(("@" + GUEST_DOMAIN, ".invalid")) or email == LOCAL_EMAIL:
        raise SignupError(N_("Please enter a valid e-mail address."))
    return email


def check_password(password: str, email: str = "") -> None:
    """SignupError unless ``password`` is long enough and not an obvious guess."""
    minimum = get_settings().accounts.password_min_length
    if len(password) < minimum:
        raise SignupError(
            N_("Use a password of at least {min} characters."), params={"min": minimum}
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise SignupError(
            N_("Use a password of at most {max} characters."), params={"max": MAX_PASSWORD_CHARS}
        )
    lowered = password.lower()
    local_part = email.split("@", 1)[0] if email else ""
    if (
        len(set(password)) < 4
        or lowered in _COMMON_PASSWORDS
        or (email and lowered == email)
        or (len(local_part) >= 4 and lowered.startswith(local_part))
    ):
        raise SignupError(
            N_("That password is too easy to guess. Try a few unrelated words together.")
        )


def _clean_name(name: str, email: str) -> str:
    text = "".join(c for c in unicodedata.normalize("NFKC", name or "") if c.isprintable())
    text = " ".join(text.split())[:MAX_NAME_CHARS]
    return text or email.split("@", 1)[0][:MAX_NAME_CHARS]


# --------------------------------------------------------------------------- passwords


def _verify(stored_hash: str | None, password: str) -> bool:
    if stored_hash is None:
        # Spend the same time as a real check, so a missing account is not faster.
        HASHER.hash(password)
        return False
    try:
        return HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# --------------------------------------------------------------------------- sign up / in


def sign_up(
    email: str,
    password: str,
    display_name: str = "",
    *,
    client: str = ratelimit.UNKNOWN_CLIENT,
    locale: str | None = None,
    upgrade_user_id: int | None = None,
) -> UserView:
    """A new password account with the signup grant; or, with ``upgrade_user_id`` (a guest
    or the local user), that same user turned into an account, keeping their videos.

    Raises SignupError (invalid e-mail, weak password, e-mail taken) and RateLimited.
    """
    email = normalize_email(email)
    check_password(password, email)
    ratelimit.hit("signup", client)
    settings = get_settings()
    password_hash = HASHER.hash(password)
    name = _clean_name(display_name, email)
    try:
        with session_scope() as session:
            user = None
            videos_from: int | None = None
            if upgrade_user_id is not None:
                user = session.get(User, upgrade_user_id)
                if (
                    user is None
                    or user.deleted_at is not None
                    or user.auth_method not in ("guest", "local")
                ):
                    raise SignupError(N_("That account could not be created."))
                if user.auth_method == "local":
                    # Every development session is the local user: turning its row into this
                    # person's account would sign all the other sessions in as them. A new
                    # account takes the finished videos instead; the local user stays.
                    videos_from, user = user.id, None
            if user is None:
                user = User(locale=locale or settings.app.default_locale, is_admin=False)
                session.add(user)
            user.email = email
            user.display_name = name
            user.password_hash = password_hash
            user.auth_method = "password"
            user.is_guest = False
            user.last_login_at = utcnow()
            if locale:
                user.locale = locale
            session.flush()
            if videos_from is not None:
                _move_finished_videos(session, videos_from, user.id)
            grant = settings.credits.signup_grant
            if grant > 0:
                credits.post(session, user.id, grant, signup_reference(user.id), "signup grant")
            return _view(user)
    except IntegrityError:
        raise SignupError(
            N_("An account with this e-mail already exists. Please sign in instead.")
        ) from None


def sign_in(email: str, password: str, *, client: str = ratelimit.UNKNOWN_CLIENT) -> UserView:
    """The account for ``email`` if ``password`` is right. AuthError otherwise (the same
    message for an unknown e-mail and a wrong password); RateLimited when throttled."""
    ratelimit.hit("signin", client)
    try:
        email = normalize_email(email)
    except SignupError:
        raise AuthError() from None
    ratelimit.check("signin_per_account", email)
    with session_scope() as session:
        user = session.scalar(select(User).where(User.email == email, User.deleted_at.is_(None)))
        stored = user.password_hash if user is not None else None
    if not _verify(stored, password):
        # At the limit already: this attempt is not counted twice; check() refuses the next.
        with contextlib.suppress(RateLimited):
            ratelimit.hit("signin_per_account", email)
        raise AuthError(detail="sign-in failed")
    assert stored is not None  # _verify is False without a hash
    ratelimit.clear("signin_per_account", email)
    with session_scope() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        if HASHER.check_needs_rehash(stored):
            user.password_hash = HASHER.hash(password)
        user.last_login_at = utcnow()
        return _view(user)


def sign_in_oidc(email: str, display_name: str = "") -> UserView:
    """The user for an e-mail vouched for by the OpenID Connect provider (``st.user``);
    created on first sight with the signup grant."""
    email = unicodedata.normalize("NFKC", email or "").strip().lower()
    if not _EMAIL.fullmatch(email):
        raise AuthError(N_("Your sign-in provider did not share a usable e-mail address."))
    user = get_or_create_user(email, display_name, auth_method="oidc")
    with session_scope() as session:
        session.execute(update(User).where(User.id == user.id).values(last_login_at=utcnow()))
    return user


def start_guest(*, client: str = ratelimit.UNKNOWN_CLIENT, locale: str | None = None) -> UserView:
    """A new guest with ``[credits] guest_grant`` credits. AccountError when guests are not
    allowed; RateLimited when one client starts too many."""
    settings = get_settings()
    if not settings.guest_allowed:
        raise AccountError(N_("Please sign in or create an account to continue."))
    ratelimit.hit("signup", client)
    with session_scope() as session:
        user = User(
            email=f"guest-{secrets.token_hex(8)}@{GUEST_DOMAIN}",
            display_name="",
            locale=locale or settings.app.default_locale,
            auth_method="guest",
            is_guest=True,
            is_admin=False,
        )
        session.add(user)
        session.flush()
        grant = settings.credits.guest_grant
        if grant > 0:
            credits.post(session, user.id, grant, guest_reference(user.id), "guest grant")
        return _view(user)


def adopt_guest_videos(guest_id: int, user_id: int) -> int:
    """Move a guest's finished videos to the account they just signed in to. Returns how
    many videos moved. Credits do not move."""
    if guest_id == user_id:
        return 0
    with session_scope() as session:
        guest = session.get(User, guest_id)
        if guest is None or not guest.is_guest or guest.deleted_at is not None:
            return 0
        return _move_finished_videos(session, guest_id, user_id)


def _move_finished_videos(session: Session, from_id: int, to_id: int) -> int:
    """Give ``to_id`` the finished videos (and their share links) of ``from_id``."""
    from db.models import TERMINAL_STATUSES, Job

    moved = session.execute(
        update(Job)
        .where(Job.user_id == from_id, Job.status.in_(TERMINAL_STATUSES))
        .values(user_id=to_id)
    ).rowcount  # type: ignore[attr-defined]
    session.execute(update(ShareLink).where(ShareLink.user_id == from_id).values(user_id=to_id))
    return int(moved or 0)


# --------------------------------------------------------------------------- lookups


def get_or_create_user(
    email: str, display_name: str = "", *, auth_method: str = "password"
) -> UserView:
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
                auth_method=auth_method,
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


def local_user() -> UserView:
    """The single developer user (development with guests allowed), created on first call."""
    return get_or_create_user(LOCAL_EMAIL, LOCAL_NAME, auth_method="local")


def current_user() -> UserView:
    """The user of code that runs without a browser session (CLI, tests): the local user.
    Pages ask ``views._session.current_user()`` instead."""
    return local_user()


def get_user(user_id: int) -> UserView | None:
    """The user, or None when unknown or deleted."""
    with read_scope() as session:
        user = session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            return None
        return _view(user)


def update_profile(
    user_id: int,
    *,
    display_name: str | None = None,
    locale: str | None = None,
    currency: str | None = None,
) -> UserView:
    """Change what the user may change about themselves; AccountError for bad values."""
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise AccountError(N_("Your account was not found; please sign in again."))
        if display_name is not None:
            user.display_name = _clean_name(display_name, user.email)
        if locale is not None:
            if locale not in ("en", "hi"):
                raise AccountError(N_("That language is not available."))
            user.locale = locale
        if currency is not None:
            if currency not in ("INR", "USD"):
                raise AccountError(N_("That currency is not available."))
            user.currency = currency
        return _view(user)
