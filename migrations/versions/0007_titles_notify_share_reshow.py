"""Creator experience v2: video titles, "video done" e-mails, share links shown again.

* jobs.title (added empty in 0003, never filled): every existing video gets the default
  title the app now gives new ones, the first words of its script;
* jobs.notified_at: when the "video done / failed" e-mail was claimed, so a retried or
  re-delivered job mails its creator once per outcome;
* users.notify_video_done: the creator's opt-out of those e-mails (on by default);
* share_links.token_salt: links made from now on derive their token from this salt and the
  server's key (``services.sharing``), so the owner can copy the link again at any time while
  a copy of the database alone still opens nothing. Older links (no salt) keep working but
  cannot be shown again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TITLE_WORDS = 6
TITLE_CHARS = 60


def _title(script: str) -> str:
    """A frozen copy of ``services.titles.default_title`` as it was at this revision (a
    migration must not change when the app's code does)."""
    words = " ".join(str(script or "").split()).split(" ")
    title = " ".join(words[:TITLE_WORDS])
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1].rstrip() + "…"
    elif len(words) > TITLE_WORDS:
        title += "…"
    return title


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): other tables' foreign keys point at users and jobs.
    op.add_column(
        "users",
        sa.Column("notify_video_done", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column("jobs", sa.Column("notified_at", UTCDateTime(), nullable=True))
    op.add_column("share_links", sa.Column("token_salt", sa.String(32), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, script FROM jobs WHERE title = ''")).all()
    for job_id, script in rows:
        conn.execute(
            sa.text("UPDATE jobs SET title = :title WHERE id = :id"),
            {"title": _title(script), "id": job_id},
        )


def downgrade() -> None:
    # No table rebuilds (other tables' foreign keys point at users and jobs): SQLite >= 3.35
    # and every server database drop a column in place. Titles stay (0003 owns the column).
    op.execute("ALTER TABLE share_links DROP COLUMN token_salt")
    op.execute("ALTER TABLE jobs DROP COLUMN notified_at")
    op.execute("ALTER TABLE users DROP COLUMN notify_video_done")
