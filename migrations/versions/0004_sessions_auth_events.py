"""Identity that lasts: browser sessions, the auth audit trail, single-use tokens.

* sessions: one row per signed-in browser; the cookie's random id is stored as SHA-256
  (``token_hash``), a pending hand-off as ``handoff_hash``; sliding and absolute expiry;
* auth_events: sign-up, sign-in ok/failed, lockout, reset, verification, role, revocation;
* used_tokens: the ``jti`` of verification and reset links already used;
* users: when the e-mail was verified, when the password last changed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): other tables' foreign keys point at users.
    op.add_column("users", sa.Column("email_verified_at", UTCDateTime(), nullable=True))
    op.add_column("users", sa.Column("password_changed_at", UTCDateTime(), nullable=True))
    # Accounts made through OpenID Connect before this revision: the provider vouched.
    op.execute("UPDATE users SET email_verified_at = created_at WHERE auth_method = 'oidc'")

    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=True),
        sa.Column("handoff_hash", sa.String(64), nullable=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_sessions_user_id_users"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("absolute_expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("user_agent", sa.String(300), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_sessions_token_hash"),
        sa.UniqueConstraint("handoff_hash", name="uq_sessions_handoff_hash"),
    )
    op.create_index("ix_sessions_user_id_revoked_at", "sessions", ["user_id", "revoked_at"])

    op.create_table(
        "auth_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL", name="fk_auth_events_user_id_users"),
            nullable=True,
        ),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_auth_events"),
    )
    op.create_index("ix_auth_events_ts", "auth_events", ["ts"])
    op.create_index("ix_auth_events_kind", "auth_events", ["kind"])
    op.create_index("ix_auth_events_user_id", "auth_events", ["user_id"])

    op.create_table(
        "used_tokens",
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jti", name="pk_used_tokens"),
    )
    op.create_index("ix_used_tokens_expires_at", "used_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_table("used_tokens")
    op.drop_table("auth_events")
    op.drop_table("sessions")
    # No table rebuild for users (other tables point at it).
    for column in ("password_changed_at", "email_verified_at"):
        op.execute(f"ALTER TABLE users DROP COLUMN {column}")
