"""Go-live tables: terms acceptance, support tickets and their messages, video ratings,
alert state.

Kept apart from :mod:`db.models` so the go-live work does not collide with the accounts
work in one file; they share :class:`db.models.Base` (one metadata, one Alembic history),
and :mod:`db` imports this module so every metadata user (Alembic, ``create_all``, the
migration test) sees these tables. Schema: ``migrations/versions/0005_golive.py``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, utcnow

TICKET_STATUSES: tuple[str, ...] = ("open", "answered", "closed")
TICKET_CATEGORIES: tuple[str, ...] = ("no_face", "payment", "video_failed", "refund", "other")


class TermsAcceptance(Base):
    """A creator accepted these versions of the terms and the privacy policy (sign-up)."""

    __tablename__ = "terms_acceptances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    terms_version: Mapped[str] = mapped_column(String(32))
    privacy_version: Mapped[str] = mapped_column(String(32))
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupportTicket(Base):
    """A creator's question; ``job_id`` / ``purchase_id`` are attached automatically."""

    __tablename__ = "support_tickets"
    __table_args__ = (
        Index("ix_support_tickets_status_updated_at", "status", "updated_at"),
        CheckConstraint("status IN ('open', 'answered', 'closed')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(32), default="other")
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")
    # No foreign keys: a ticket outlives a deleted video (the reference still helps support).
    job_id: Mapped[str | None] = mapped_column(String(36))
    purchase_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketMessage(Base):
    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("support_tickets.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(16))  # "creator" | "support"
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VideoFeedback(Base):
    """One rating (1-5 stars) per creator and video; rating again replaces it."""

    __tablename__ = "video_feedback"
    __table_args__ = (
        UniqueConstraint("user_id", "job_id"),
        CheckConstraint("rating >= 1 AND rating <= 5", name="rating"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[str] = mapped_column(String(36))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertState(Base):
    """Whether an alert (``key``, e.g. ``health`` or ``launch.uptime``) is firing, and when
    it was last sent: de-duplication and the cool-down survive a restart and are shared by
    replicas."""

    __tablename__ = "alert_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    firing: Mapped[bool] = mapped_column(Boolean, default=False)
    severity: Mapped[str] = mapped_column(String(16), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    since: Mapped[datetime | None]
    last_sent_at: Mapped[datetime | None]
    sends: Mapped[int] = mapped_column(Integer, default=0)
