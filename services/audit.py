"""The audit trail of identity: every sign-up, sign-in (ok or failed), lockout, reset,
verification, role grant and session revocation.

:func:`record` writes one ``auth_events`` row and one structured log line
(``auth_event {"kind": ..., ...}``, JSON), in the caller's transaction when one is passed.
Neither ever carries a password, a token or a cookie: ``data`` values are restricted to
short scalars, and keys that look like secrets are refused (a programming error). The admin
page reads the trail with :func:`recent` (filter by kind, e-mail, user).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import mail
from db.models import AuthEvent
from db.session import read_scope, session_scope

log = logging.getLogger("talkingphoto.auth")

KINDS: tuple[str, ...] = (
    "signup",
    "signin_ok",
    "signin_failed",
    "lockout",
    "guest_started",
    "verification_sent",
    "email_verified",
    "reset_requested",
    "password_reset",
    "password_changed",
    "email_changed",
    "role_granted",
    "session_started",
    "session_revoked",
    "signout",
)
_FORBIDDEN_KEYS = ("password", "token", "cookie", "secret", "hash")


@dataclass(frozen=True)
class AuthEventView:
    id: int
    ts: datetime
    kind: str
    user_id: int | None
    email: str
    client: str
    data: dict[str, Any]


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if any(word in key.lower() for word in _FORBIDDEN_KEYS):
            raise ValueError(f"audit data may not carry {key!r}")
        if value is None or isinstance(value, bool | int | float):
            out[key] = value
        else:
            out[key] = str(value)[:200]
    return out


def record(
    kind: str,
    *,
    user_id: int | None = None,
    email: str = "",
    client: str = "",
    session: Session | None = None,
    **data: Any,
) -> None:
    """One audit event (row + log line). ``session``: write in that transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown auth event {kind!r}; known: {', '.join(KINDS)}")
    clean = _clean(data)
    row = AuthEvent(kind=kind, user_id=user_id, email=email[:320], client=client[:64], data=clean)
    # The e-mail is masked by the log scrubber (observability.logs); the row keeps it whole.
    log.info(
        "auth_event %s",
        json.dumps(
            {"kind": kind, "user_id": user_id, "email": email, "client": client, **clean},
            sort_keys=True,
        ),
    )
    if session is not None:
        session.add(row)
        return
    with session_scope() as own:
        own.add(row)


def recent(
    *,
    kind: str | None = None,
    email: str | None = None,
    user_id: int | None = None,
    limit: int = 200,
) -> list[AuthEventView]:
    """The newest events first, filtered by kind, e-mail (substring, any case) or user."""
    query = select(AuthEvent).order_by(AuthEvent.id.desc()).limit(max(1, min(limit, 1000)))
    if kind:
        query = query.where(AuthEvent.kind == kind)
    if email:
        query = query.where(AuthEvent.email.contains(email.strip().lower()))
    if user_id is not None:
        query = query.where(AuthEvent.user_id == user_id)
    with read_scope() as session:
        return [
            AuthEventView(
                id=e.id,
                ts=e.ts,
                kind=e.kind,
                user_id=e.user_id,
                email=e.email,
                client=e.client,
                data=dict(e.data or {}),
            )
            for e in session.scalars(query)
        ]


def outbox(limit: int = 50) -> list[Any] | None:
    """What the development mail back end wrote (newest first; ``to``, ``subject``,
    ``text``, ``sent_at``), or None when mail goes out by SMTP."""
    return mail.outbox_messages(limit)
