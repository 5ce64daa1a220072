"""Accounts, payments, provider attempts, share links and health samples.

* users: how they sign in (``auth_method``), guests, preferred currency, last sign-in;
* jobs: the provider actually used, a title, stored size, when the photo was deleted;
* job_attempts: one row per provider tried for a job (router, fallback);
* purchases: pack credits, GST part, checkout URL, failure reason, ``gateway_ref`` and
  ``user_id`` nullable (a purchase exists before the gateway answers; tax records outlive a
  deleted account);
* webhook_events: gateway event ids already handled;
* share_links, health_samples.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): other tables' foreign keys point at users and jobs.
    op.add_column(
        "users", sa.Column("auth_method", sa.String(16), nullable=False, server_default="password")
    )
    op.add_column(
        "users", sa.Column("is_guest", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("users", sa.Column("currency", sa.String(3), nullable=True))
    op.add_column("users", sa.Column("last_login_at", UTCDateTime(), nullable=True))

    op.add_column("jobs", sa.Column("provider_used", sa.String(32), nullable=True))
    op.add_column("jobs", sa.Column("title", sa.String(120), nullable=False, server_default=""))
    op.add_column(
        "jobs", sa.Column("media_bytes", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("jobs", sa.Column("photo_deleted_at", UTCDateTime(), nullable=True))
    op.create_index("ix_jobs_status_finished_at", "jobs", ["status", "finished_at"])
    # Jobs that succeeded before this revision were made by the provider they asked for.
    op.execute("UPDATE jobs SET provider_used = provider WHERE status = 'succeeded'")

    with op.batch_alter_table("purchases") as batch:
        batch.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("gateway_ref", existing_type=sa.String(255), nullable=True)
        batch.add_column(sa.Column("credits", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("tax_minor", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("checkout_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("failure_reason", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column(
                "updated_at",
                UTCDateTime(),
                nullable=False,
                server_default=sa.text("CURRENT_TIMESTAMP"),
            )
        )
        batch.drop_constraint("fk_purchases_user_id_users", type_="foreignkey")
        batch.create_foreign_key(
            "fk_purchases_user_id_users", "users", ["user_id"], ["id"], ondelete="SET NULL"
        )

    op.create_table(
        "job_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "job_id",
            sa.String(36),
            sa.ForeignKey("jobs.id", ondelete="CASCADE", name="fk_job_attempts_job_id_jobs"),
            nullable=False,
        ),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("remote_id", sa.String(255), nullable=True),
        sa.Column("error_class", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_job_attempts"),
    )
    op.create_index("ix_job_attempts_job_id", "job_attempts", ["job_id"])

    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_events"),
        sa.UniqueConstraint("gateway", "event_id", name="uq_webhook_events_gateway_event_id"),
    )
    op.create_index("ix_webhook_events_received_at", "webhook_events", ["received_at"])

    op.create_table(
        "share_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "job_id",
            sa.String(36),
            sa.ForeignKey("jobs.id", ondelete="CASCADE", name="fk_share_links_job_id_jobs"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_share_links_user_id_users"),
            nullable=False,
        ),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_share_links"),
        sa.UniqueConstraint("token_hash", name="uq_share_links_token_hash"),
    )
    op.create_index("ix_share_links_job_id", "share_links", ["job_id"])

    op.create_table(
        "health_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_health_samples"),
    )
    op.create_index("ix_health_samples_ts", "health_samples", ["ts"])


def downgrade() -> None:
    op.drop_table("health_samples")
    op.drop_table("share_links")
    op.drop_table("webhook_events")
    op.drop_table("job_attempts")
    # Purchases that never reached a gateway, or whose owner was deleted, cannot satisfy
    # 0002's NOT NULL columns.
    op.execute("DELETE FROM purchases WHERE gateway_ref IS NULL OR user_id IS NULL")
    with op.batch_alter_table("purchases") as batch:
        batch.drop_constraint("fk_purchases_user_id_users", type_="foreignkey")
        batch.create_foreign_key("fk_purchases_user_id_users", "users", ["user_id"], ["id"])
        for column in ("updated_at", "failure_reason", "checkout_url", "tax_minor", "credits"):
            batch.drop_column(column)
        batch.alter_column("gateway_ref", existing_type=sa.String(255), nullable=False)
        batch.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_jobs_status_finished_at", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        for column in ("photo_deleted_at", "media_bytes", "title", "provider_used"):
            batch.drop_column(column)
    # No table rebuild for users (credit_ledger and events point at it): SQLite >= 3.35 and
    # every server database drop a column in place.
    for column in ("last_login_at", "currency", "is_guest", "auth_method"):
        op.execute(f"ALTER TABLE users DROP COLUMN {column}")
