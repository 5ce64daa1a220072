"""Accounts: sign-up and sign-in with e-mail and password, OpenID Connect, guests, e-mail
verification, password reset and change, e-mail change.

Kinds of user (``User.auth_method``):

* ``password``: e-mail (normalised: trimmed, NFKC, lower case) and an Argon2id hash;
* ``oidc``: signed in through ``st.login``; verified when the provider says ``email_verified``;
* ``guest``: one browser trying the app without an account (bound to that browser's session
  cookie, :mod:`services.sessions`), with ``[credits] guest_grant`` credits;
* ``local``: the one user of code without a browser (the CLI), and of every browser only in
  the deliberate single-user development mode (``[accounts] single_user = true``).

A guest can *upgrade* (:func:`sign_up` with ``upgrade_user_id``): its row becomes a password
account, so its videos stay its own. A guest's grant is ``[credits] guest_grant`` (ledger
reference ``grant:guest:<user>``); sign-up tops it up to ``[credits] signup_grant`` in all
(``grant:signup:<user>``, once), so trying first neither costs nor farms credits.

Roles: ``admin`` only for an address in ``[accounts] admins`` (compared after normalisation)
that is *verified*: through the single-use link mailed at sign-up (24 h), or by an OIDC
provider that says ``email_verified``.

Throttling never locks the owner out: failed sign-ins are counted per (account, client) and
per client; a pair over ``[ratelimit] signin_per_account`` must wait or reset the password
by e-mail, but a right password from another client still signs in. Every event goes to
:mod:`services.audit`. Functions return frozen :class:`UserView` values and raise only
:mod:`errors` types; this module never sees Streamlit.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import parse
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import mail
from db.models import (
    TERMINAL_STATUSES,
    AuthSession,
    CreditEntry,
    Job,
    ShareLink,
    UsedToken,
    User,
    utcnow,
)
from db.session import read_scope, session_scope
from errors import N_, AccountError, AuthError, InvalidToken, RateLimited, SignupError
from i18n import UI_LANGUAGES
from mail import templates
from secrets_manager import get_settings
from services import audit, credits, ratelimit, tokens

log = logging.getLogger("talkingphoto.accounts")

LOCAL_EMAIL = "local@talkingphoto.local"
LOCAL_NAME = "Local creator"
GUEST_DOMAIN = "guest.talkingphoto.invalid"
MAX_PASSWORD_CHARS = 256
MAX_NAME_CHARS = 120
# Argon2id with the library's defaults (RFC 9106 "low memory": 64 MiB, t=3). Tests may swap in
# cheaper parameters; a stored hash with older parameters is upgraded at the next sign-in.
HASHER = PasswordHasher()
VERIFY_PURPOSE = "verify-email"
VERIFY_TTL_S = 24 * 3600
RESET_PURPOSE = "reset-password"
RESET_TTL_S = 3600
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
    email_verified: bool = False

    @property
    def has_account(self) -> bool:
        """A real account (password or OIDC), not a guest or the local developer user."""
        return self.auth_method in ("password", "oidc")


def admin_emails() -> frozenset[str]:
    """``[accounts] admins`` normalised like stored e-mails (trim, NFKC, lower case)."""
    return frozenset(_lenient(a) for a in get_settings().accounts.admins if a.strip())


def _lenient(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw or "").strip().lower()


def _is_admin(user: User) -> bool:
    return bool(user.is_admin) or (
        user.auth_method in ("password", "oidc")
        and user.email_verified_at is not None
        and _lenient(user.email) in admin_emails()
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
        email_verified=user.email_verified_at is not None,
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
    """A new password account with the signup grant; or, with ``upgrade_user_id`` (this
    browser's guest, or the single-user mode's local user), that user turned into an
    account, keeping their videos. A verification link is mailed (a failure to mail is
    logged, and the account page offers to send it again).

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
                    # Single-user mode: the local user stays (the CLI uses it); the new
                    # account takes its finished videos.
                    videos_from, user = user.id, None
            if user is None:
                user = User(locale=locale or settings.app.default_locale, is_admin=False)
                session.add(user)
            user.email = email
            user.display_name = name
            user.password_hash = password_hash
            user.auth_method = "password"
            user.is_guest = False
            user.email_verified_at = None
            user.last_login_at = utcnow()
            if locale:
                user.locale = locale
            session.flush()
            if videos_from is not None:
                _move_finished_videos(session, videos_from, user.id)
            # The sign-up grant tops up what this browser's guest was given, so an account
            # receives [credits] signup_grant in all, whether it tried the app first or not.
            given = (
                session.scalar(
                    select(CreditEntry.amount).where(
                        CreditEntry.reference == guest_reference(user.id)
                    )
                )
                or 0
            )
            grant = settings.credits.signup_grant - max(0, given)
            if grant > 0:
                credits.post(session, user.id, grant, signup_reference(user.id), "signup grant")
            audit.record(
                "signup",
                user_id=user.id,
                email=email,
                client=client,
                session=session,
                upgraded=upgrade_user_id is not None,
            )
            view = _view(user)
    except IntegrityError:
        raise SignupError(
            N_("An account with this e-mail already exists. Please sign in instead.")
        ) from None
    _send_verification_quietly(view, client=client)
    return view


# --------------------------------------------------------------------------- throttling
# Failed sign-ins, counted with the `limits` library in the same storage as services.ratelimit
# (memory, or Redis across replicas). Only failures are counted.

_PAIR = "signin_failures_pair"
_CLIENT = "signin_failures_client"


def _counter() -> object:
    # One storage and limiter per storage URI, shared with services.ratelimit (and reset by
    # its reset_for_tests).
    return ratelimit._limiter(get_settings().ratelimit.storage_uri)


def _pair_limit() -> object:
    return parse(get_settings().ratelimit.signin_per_account)


def _client_limit() -> object:
    return parse(get_settings().ratelimit.signin_failures_per_client)


def _retry_after(limit: object, *keys: str) -> float:
    reset_at, _remaining = _counter().get_window_stats(limit, *keys)  # type: ignore[attr-defined]
    return max(1.0, reset_at - time.time())


def _pair_keys(email: str, client: str) -> tuple[str, ...]:
    return (ratelimit.NAMESPACE, _PAIR, email, (client or ratelimit.UNKNOWN_CLIENT).lower())


def _client_keys(client: str) -> tuple[str, ...]:
    return (ratelimit.NAMESPACE, _CLIENT, (client or ratelimit.UNKNOWN_CLIENT).lower())


def _throttled(email: str, client: str) -> None:
    """RateLimited when this (account, client) pair, or this client, failed too often."""
    limiter = _counter()
    pair, per_client = _pair_limit(), _client_limit()
    if not limiter.test(pair, *_pair_keys(email, client)):  # type: ignore[attr-defined]
        raise RateLimited(
            N_(
                "Too many wrong passwords for this account from this device. Reset your "
                "password by e-mail, or try again in {minutes} minutes."
            ),
            params={"minutes": max(1, round(_retry_after(pair, *_pair_keys(email, client)) / 60))},
            retry_after_s=_retry_after(pair, *_pair_keys(email, client)),
            detail="sign-in pair throttled",
        )
    if not limiter.test(per_client, *_client_keys(client)):  # type: ignore[attr-defined]
        raise RateLimited(
            retry_after_s=_retry_after(per_client, *_client_keys(client)),
            detail="sign-in client throttled",
        )


def _count_failure(email: str, client: str, user_id: int | None) -> None:
    limiter = _counter()
    pair_ok = limiter.hit(_pair_limit(), *_pair_keys(email, client))  # type: ignore[attr-defined]
    limiter.hit(_client_limit(), *_client_keys(client))  # type: ignore[attr-defined]
    audit.record("signin_failed", user_id=user_id, email=email, client=client)
    if pair_ok and not limiter.test(_pair_limit(), *_pair_keys(email, client)):  # type: ignore[attr-defined]
        # This failure used up the pair's allowance: from now on this client must wait or
        # reset the password.
        audit.record("lockout", user_id=user_id, email=email, client=client)


def clear_failures(email: str, client: str) -> None:
    """Forget one pair's failures (after a right password from that client)."""
    _counter().clear(_pair_limit(), *_pair_keys(email, client))  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- sign in


def sign_in(email: str, password: str, *, client: str = ratelimit.UNKNOWN_CLIENT) -> UserView:
    """The account for ``email`` if ``password`` is right. AuthError otherwise (the same
    message for an unknown e-mail and a wrong password); RateLimited when this client (or
    this client for this account) failed too often. Other clients are never affected by
    someone else's failures, so the owner cannot be locked out."""
    ratelimit.hit("signin", client)
    try:
        email = normalize_email(email)
    except SignupError:
        raise AuthError() from None
    _throttled(email, client)
    with read_scope() as session:
        user = session.scalar(select(User).where(User.email == email, User.deleted_at.is_(None)))
        stored = user.password_hash if user is not None else None
        user_id = user.id if user is not None else None
    if not _verify(stored, password):
        _count_failure(email, client, user_id)
        raise AuthError(detail="sign-in failed")
    assert stored is not None  # _verify is False without a hash
    clear_failures(email, client)
    with session_scope() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        if HASHER.check_needs_rehash(stored):
            user.password_hash = HASHER.hash(password)
        user.last_login_at = utcnow()
        audit.record("signin_ok", user_id=user.id, email=email, client=client, session=session)
        return _view(user)


def sign_in_oidc(
    email: str, display_name: str = "", *, email_verified: bool = False, client: str = ""
) -> UserView:
    """The user for an e-mail vouched for by the OpenID Connect provider (``st.user``);
    created on first sight with the signup grant. The address counts as verified (and may
    carry the admin role) only when the provider says ``email_verified``. An existing
    password account with that address is only joined when the provider verified it."""
    email = _lenient(email)
    if not _EMAIL.fullmatch(email):
        raise AuthError(N_("Your sign-in provider did not share a usable e-mail address."))
    with read_scope() as session:
        existing = session.scalar(select(User).where(User.email == email))
        taken = existing is not None and existing.auth_method != "oidc"
    if taken and not email_verified:
        raise AuthError(
            N_(
                "Your sign-in provider did not confirm this e-mail address. Please sign in "
                "with your password."
            ),
            detail="oidc e-mail unverified for an existing account",
        )
    user = get_or_create_user(email, display_name, auth_method="oidc")
    was_admin = user.is_admin
    with session_scope() as session:
        row = session.get(User, user.id)
        assert row is not None
        row.last_login_at = utcnow()
        if email_verified and row.email_verified_at is None:
            row.email_verified_at = utcnow()
        elif not email_verified and row.auth_method == "oidc":
            # Trust follows the provider's latest word, not an earlier one.
            row.email_verified_at = None
        audit.record(
            "signin_ok",
            user_id=row.id,
            email=email,
            client=client,
            session=session,
            method="oidc",
            email_verified=email_verified,
        )
        view = _view(row)
        if view.is_admin and not was_admin:
            audit.record("role_granted", user_id=row.id, email=email, session=session, role="admin")
        return view


def start_guest(*, client: str = ratelimit.UNKNOWN_CLIENT, locale: str | None = None) -> UserView:
    """A new guest (one browser) with ``[credits] guest_grant`` credits. AccountError when
    guests are not allowed; RateLimited when one client starts too many."""
    settings = get_settings()
    if not settings.guest_allowed:
        raise AccountError(N_("Please sign in or create an account to continue."))
    limit = parse(settings.ratelimit.guest)
    keys = (ratelimit.NAMESPACE, "guest", (client or ratelimit.UNKNOWN_CLIENT).lower())
    if not _counter().hit(limit, *keys):  # type: ignore[attr-defined]
        raise RateLimited(retry_after_s=_retry_after(limit, *keys), detail="guest limit")
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
        audit.record("guest_started", user_id=user.id, client=client, session=session)
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
    """The one local user: the owner of work done without a browser (the CLI), and of every
    browser only in the deliberate single-user mode (:func:`single_user_mode`)."""
    return get_or_create_user(LOCAL_EMAIL, LOCAL_NAME, auth_method="local")


def current_user() -> UserView:
    """The user of code that runs without a browser session (CLI, tests): the local user.
    Pages ask ``views._session.current_user()`` instead."""
    return local_user()


def single_user_mode() -> bool:
    """``[accounts] single_user = true`` in development, with visitors allowed in without
    an account (``[features] allow_guest`` not false): every browser is the local user (the
    page says so). Never in production, whatever the setting says."""
    settings = get_settings()
    return settings.accounts.single_user and not settings.is_production and settings.guest_allowed


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
            if locale not in UI_LANGUAGES:
                raise AccountError(N_("That language is not available."))
            user.locale = locale
        if currency is not None:
            if currency not in ("INR", "USD"):
                raise AccountError(N_("That currency is not available."))
            user.currency = currency
        return _view(user)


# --------------------------------------------------------------------------- single-use links


def _link(query: str) -> str:
    return f"{get_settings().app.base_url}/account?{query}"


def _spend(session: Session, purpose: str, jti: object, expires: float) -> None:
    """Mark a single-use link as used (InvalidToken when it already was)."""
    if not isinstance(jti, str) or not jti:
        raise InvalidToken(detail="link without jti")
    if session.get(UsedToken, jti) is not None:
        raise InvalidToken(N_("This link was already used."), detail="link reused")
    session.add(
        UsedToken(jti=jti, purpose=purpose, expires_at=datetime.fromtimestamp(expires, UTC))
    )
    try:
        session.flush()
    except IntegrityError:  # the same link opened twice at once: one wins
        raise InvalidToken(N_("This link was already used."), detail="link reused") from None


def _limited(setting: str, *identities: str) -> None:
    limit = parse(setting)
    keys = (ratelimit.NAMESPACE, "mail", *(i.lower() for i in identities))
    if not _counter().hit(limit, *keys):  # type: ignore[attr-defined]
        raise RateLimited(retry_after_s=_retry_after(limit, *keys), detail="mail limit")


def send_verification(user_id: int, *, client: str = "", now: float | None = None) -> None:
    """Mail a verification link (single use, 24 hours) to the user's address.

    AccountError for a guest or an address already verified; RateLimited after
    ``[accounts] verification_resends_per_hour`` (+1 for the sign-up mail); MailError when
    the server refuses."""
    user = get_user(user_id)
    if user is None or not user.has_account or user.auth_method != "password":
        raise AccountError(N_("There is no e-mail address to verify."))
    if user.email_verified:
        raise AccountError(N_("Your e-mail address is already verified."))
    per_hour = get_settings().accounts.verification_resends_per_hour + 1
    _limited(f"{per_hour}/hour", "verify", str(user_id))
    token = tokens.sign(
        VERIFY_PURPOSE,
        {"uid": user_id, "email": user.email, "jti": secrets.token_hex(16)},
        VERIFY_TTL_S,
        now=now,
    )
    mail.send(
        templates.verification(user.email, user.display_name, _link(f"verify={token}"), user.locale)
    )
    audit.record("verification_sent", user_id=user_id, email=user.email, client=client)


def _send_verification_quietly(user: UserView, *, client: str) -> None:
    try:
        send_verification(user.id, client=client)
    except (mail.MailError, AccountError) as exc:
        log.warning("verification e-mail not sent: %s", exc.detail or type(exc).__name__)


def verify_email(token: str, *, client: str = "", now: float | None = None) -> UserView:
    """Mark the address in a verification link as verified (once). InvalidToken for a bad,
    expired or used link, or one for an address the account no longer has."""
    claims = tokens.verify(VERIFY_PURPOSE, token, now=now)
    expires = float(now if now is not None else time.time()) + VERIFY_TTL_S
    with session_scope() as session:
        user = session.get(User, claims.get("uid"))
        if user is None or user.deleted_at is not None or user.email != claims.get("email"):
            raise InvalidToken(detail="verification for another address")
        _spend(session, VERIFY_PURPOSE, claims.get("jti"), expires)
        was_admin = _is_admin(user)
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
        audit.record(
            "email_verified", user_id=user.id, email=user.email, client=client, session=session
        )
        view = _view(user)
        if view.is_admin and not was_admin:
            audit.record(
                "role_granted", user_id=user.id, email=user.email, session=session, role="admin"
            )
        return view


def request_password_reset(
    email: str, *, client: str = ratelimit.UNKNOWN_CLIENT, now: float | None = None
) -> None:
    """Mail a reset link (single use, 1 hour) when a password account has this address.

    The same (silent) outcome whether or not the address exists, so the form cannot be used
    to find accounts. SignupError for a malformed address; RateLimited per address and per
    client (``[ratelimit] password_reset``)."""
    email = normalize_email(email)
    setting = get_settings().ratelimit.password_reset
    _limited(setting, "reset-client", client or ratelimit.UNKNOWN_CLIENT)
    _limited(setting, "reset-email", email)
    with read_scope() as session:
        user = session.scalar(
            select(User).where(
                User.email == email, User.deleted_at.is_(None), User.auth_method == "password"
            )
        )
        found = (user.id, user.locale, user.password_changed_at) if user is not None else None
    audit.record("reset_requested", user_id=found[0] if found else None, email=email, client=client)
    if found is None:
        return
    user_id, locale, changed = found
    token = tokens.sign(
        RESET_PURPOSE,
        {
            "uid": user_id,
            "jti": secrets.token_hex(16),
            "pc": changed.isoformat() if changed else "",
        },
        RESET_TTL_S,
        now=now,
    )
    try:
        mail.send(templates.password_reset(email, _link(f"reset={token}"), locale))
    except mail.MailError as exc:
        log.warning("reset e-mail not sent: %s", exc.detail)


def check_reset_token(token: str, *, now: float | None = None) -> None:
    """InvalidToken unless ``token`` is a reset link that can still be used (the page asks
    before showing the new-password form)."""
    claims = tokens.verify(RESET_PURPOSE, token, now=now)
    with read_scope() as session:
        if session.get(UsedToken, str(claims.get("jti") or "")) is not None:
            raise InvalidToken(N_("This link was already used."), detail="link reused")


def reset_password(
    token: str,
    new_password: str,
    *,
    client: str = ratelimit.UNKNOWN_CLIENT,
    now: float | None = None,
) -> UserView:
    """Set a new password through a reset link (once). Ends every session of the account,
    clears this client's failed sign-ins, and counts the address as verified (the link
    reached its mailbox). InvalidToken for a bad, expired or used link; SignupError for a
    weak password (the link stays usable)."""
    claims = tokens.verify(RESET_PURPOSE, token, now=now)
    expires = float(now if now is not None else time.time()) + RESET_TTL_S
    with session_scope() as session:
        user = session.get(User, claims.get("uid"))
        if user is None or user.deleted_at is not None or user.auth_method != "password":
            raise InvalidToken(detail="reset for an unknown account")
        changed = user.password_changed_at.isoformat() if user.password_changed_at else ""
        if claims.get("pc") != changed:
            raise InvalidToken(N_("This link was already used."), detail="password changed since")
        check_password(new_password, user.email)
        _spend(session, RESET_PURPOSE, claims.get("jti"), expires)
        user.password_hash = HASHER.hash(new_password)
        user.password_changed_at = utcnow()
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
        _revoke_sessions(session, user.id, except_id=None)
        audit.record(
            "password_reset", user_id=user.id, email=user.email, client=client, session=session
        )
        view = _view(user)
    clear_failures(view.email, client)
    return view


def _revoke_sessions(session: Session, user_id: int, *, except_id: int | None) -> int:
    query = (
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), handoff_hash=None)
    )
    if except_id is not None:
        query = query.where(AuthSession.id != except_id)
    count = int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]
    if count:
        audit.record(
            "session_revoked", user_id=user_id, session=session, count=count, reason="password"
        )
    return count


def _check_current_password(user: User, password: str, client: str) -> None:
    _throttled(user.email, client)
    if not _verify(user.password_hash, password):
        _count_failure(user.email, client, user.id)
        raise AuthError(N_("Your current password is not right."), detail="wrong current password")


def change_password(
    user_id: int,
    current_password: str,
    new_password: str,
    *,
    keep_session_id: int | None = None,
    client: str = ratelimit.UNKNOWN_CLIENT,
) -> int:
    """Change the password (the current one is required); every other session of the
    account ends. Returns how many sessions ended."""
    with read_scope() as session:
        user = session.get(User, user_id)
        if user is None or user.deleted_at is not None or user.auth_method != "password":
            raise AccountError(N_("Your account was not found; please sign in again."))
        _check_current_password(user, current_password, client)
        email = user.email
    check_password(new_password, email)
    with session_scope() as session:
        row = session.get(User, user_id)
        assert row is not None
        row.password_hash = HASHER.hash(new_password)
        row.password_changed_at = utcnow()
        ended = _revoke_sessions(session, user_id, except_id=keep_session_id)
        audit.record(
            "password_changed", user_id=user_id, email=email, client=client, session=session
        )
        return ended


def change_email(
    user_id: int, password: str, new_email: str, *, client: str = ratelimit.UNKNOWN_CLIENT
) -> UserView:
    """Move the account to a new address (the password is required). The new address is
    unverified (no admin role) until its verification link, mailed now, is opened."""
    new = normalize_email(new_email)
    with read_scope() as session:
        user = session.get(User, user_id)
        if user is None or user.deleted_at is not None or user.auth_method != "password":
            raise AccountError(N_("Your account was not found; please sign in again."))
        _check_current_password(user, password, client)
        old = user.email
    if new == old:
        raise AccountError(N_("That is already your e-mail address."))
    try:
        with session_scope() as session:
            row = session.get(User, user_id)
            assert row is not None
            row.email = new
            row.email_verified_at = None
            session.flush()
            audit.record(
                "email_changed", user_id=user_id, email=new, client=client, session=session, old=old
            )
            view = _view(row)
    except IntegrityError:
        raise AccountError(N_("Another account already uses that e-mail address.")) from None
    _send_verification_quietly(view, client=client)
    return view
