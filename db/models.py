"""SQLAlchemy 2 models: users, browser sessions, auth audit events, single-use tokens, jobs
and their provider attempts, credit ledger, purchases, webhook events, share links, events,
health samples.

The schema is owned by Alembic (``migrations/``); change a model, then add a migration
(``alembic revision --autogenerate -m "..."``, review it) — ``tests/test_migrations.py`` fails
when the two disagree. Timestamps are timezone-aware UTC in Python on every database.
Constraint names follow :data:`NAMING_CONVENTION` so later migrations can address them
(SQLite batch mode needs names to drop or alter a constraint).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JOB_STATUSES: tuple[str, ...] = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE_STATUSES: tuple[str, ...] = ("queued", "running")
TERMINAL_STATUSES: tuple[str, ...] = ("succeeded", "failed", "cancelled")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite stores no offset, so we add it back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use db.models.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    # "password", "oidc", "guest" or "local" (the single developer user without sign-in).
    auth_method: Mapped[str] = mapped_column(String(16), default="password")
    is_guest: Mapped[bool] = mapped_column(Boolean, default=False)
    currency: Mapped[str | None] = mapped_column(String(3))  # preferred: INR or USD
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    # When the e-mail was proven (a verification link, or the OIDC provider's email_verified).
    email_verified_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    # Mail me when a video is ready or failed (account page); guests have no address to mail.
    notify_video_done: Mapped[bool] = mapped_column(Boolean, default=True)


class AuthSession(Base):
    """One signed-in browser: the cookie carries a random id, only its SHA-256 is stored.

    A row starts *pending* (``handoff_hash`` set, no ``token_hash``) when a page signs
    someone in; the cookie route turns it active by minting the id the browser keeps. The
    sliding expiry moves with use (``expires_at``), never past ``absolute_expires_at``.
    """

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_user_id_revoked_at", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    absolute_expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    client: Mapped[str] = mapped_column(String(64), default="")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AuthEvent(Base):
    """An audit entry for sign-up, sign-in, lockout, reset, verification, roles, sessions.

    Never a password or a token; ``email`` is the normalised address the event was about
    (kept when the user row is deleted, for abuse investigations).
    """

    __tablename__ = "auth_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), default="")
    client: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class UsedToken(Base):
    """A single-use link (verification, password reset) already spent: its ``jti``."""

    __tablename__ = "used_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_user_id_created_at", "user_id", "created_at"),
        Index("ix_jobs_status", "status"),
        Index("ix_jobs_status_finished_at", "status", "finished_at"),  # health: recent outcomes
        # One job per (user, client token): a double click cannot submit twice.
        UniqueConstraint("user_id", "idempotency_key"),
        CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="status"
        ),
        CheckConstraint("percent >= 0 AND percent <= 100", name="percent"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4 text
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    stage: Mapped[str] = mapped_column(String(16), default="queued")
    percent: Mapped[float] = mapped_column(Float, default=0.0)
    script: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    voice: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(32))  # as asked: a name or "auto"
    provider_used: Mapped[str | None] = mapped_column(String(32))  # who made (or failed) it
    # Shown in My videos and mails; the first words of the script unless the creator renamed it.
    title: Mapped[str] = mapped_column(String(120), default="")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cost_credits: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    photo_key: Mapped[str | None] = mapped_column(String(255))
    video_key: Mapped[str | None] = mapped_column(String(255))
    thumbnail_key: Mapped[str | None] = mapped_column(String(255))
    srt_key: Mapped[str | None] = mapped_column(String(255))
    vtt_key: Mapped[str | None] = mapped_column(String(255))
    duration_s: Mapped[float | None] = mapped_column(Float)
    media_bytes: Mapped[int] = mapped_column(Integer, default=0)  # stored size of its files
    photo_deleted_at: Mapped[datetime | None]  # the photo's retention ran out
    # A failure's user-safe message template (an English catalog msgid) and the values that
    # fill it (``errors.render``), so a page can show it in the creator's language later.
    error_message: Mapped[str | None] = mapped_column(Text)
    error_params: Mapped[dict[str, Any] | None]
    error_detail: Mapped[str | None] = mapped_column(Text)  # for operators; redacted
    notes: Mapped[list[str]] = mapped_column(default=list)
    remote_id: Mapped[str | None] = mapped_column(String(255))  # cloud vendor's job id
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # Scale-out: the worker that holds (or last held, or finished) the job, and when it last
    # said so; a running job whose heartbeat goes stale is re-queued by the reaper.
    worker: Mapped[str | None] = mapped_column(String(100))
    heartbeat_at: Mapped[datetime | None]
    # When the "video ready / failed" e-mail was claimed (services.notify): one mail per job.
    notified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JobAttempt(Base):
    """One try of one provider for a job (the router may try several)."""

    __tablename__ = "job_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    # running | succeeded | failed | cancelled | skipped (breaker open, cannot do the request)
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    remote_id: Mapped[str | None] = mapped_column(String(255))
    error_class: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)  # user-safe template, rendered
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class CreditEntry(Base):
    """One movement of credits: ``amount`` > 0 grants, < 0 debits; balance = SUM(amount).

    ``reference`` is unique (``job:<id>:debit``, ``stripe:<session>``, ...), so replaying the
    same event can never move credits twice.
    """

    __tablename__ = "credit_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Purchase(Base):
    """A credit-pack payment through a gateway.

    Created ``pending`` before the gateway is called (``gateway_ref`` is filled in when the
    gateway answers); ``paid`` once, by the idempotent fulfil function. After an account is
    deleted the row stays for tax records with ``user_id`` NULL.
    """

    __tablename__ = "purchases"
    __table_args__ = (UniqueConstraint("gateway", "gateway_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    gateway: Mapped[str] = mapped_column(String(32))
    gateway_ref: Mapped[str | None] = mapped_column(String(255))
    pack_id: Mapped[str] = mapped_column(String(64))
    credits: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(Integer)  # what the buyer pays, tax included
    tax_minor: Mapped[int] = mapped_column(Integer, default=0)  # the GST part of it
    # pending | paid | failed | expired | mismatch
    status: Mapped[str] = mapped_column(String(16), default="pending")
    checkout_url: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)  # for operators; no secrets
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    paid_at: Mapped[datetime | None]


class WebhookEvent(Base):
    """A gateway webhook delivery seen once: a replayed event id is ignored."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("gateway", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(100), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ShareLink(Base):
    """A public link to one video. Only the token's SHA-256 is stored; links with a
    ``token_salt`` can be shown again (the token is re-derived from the salt and the server's
    key, see services.sharing), older ones cannot."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_salt: Mapped[str | None] = mapped_column(String(32))
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    views: Mapped[int] = mapped_column(Integer, default=0)


class HealthSample(Base):
    """A health snapshot sampled for the admin page's charts (pruned after retention)."""

    __tablename__ = "health_samples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Event(Base):
    """An append-only operational log entry (health page, audits).

    ``job_id`` has no foreign key on purpose: events outlive deleted jobs.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    level: Mapped[str] = mapped_column(String(16), default="info")
    kind: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    job_id: Mapped[str | None] = mapped_column(String(36), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None]


class Draft(Base):
    """The create form a creator left unfinished (one per creator), restored after a reload:
    the script and the options as JSON, the photo as a media key (``drafts/<user id>/...``),
    never the image bytes. Bounded by ``services.drafts``; deleted with the account."""

    __tablename__ = "drafts"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    script: Mapped[str] = mapped_column(Text, default="")
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    photo_key: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
