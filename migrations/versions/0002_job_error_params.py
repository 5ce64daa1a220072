"""Jobs keep the params of their failure message, so pages can translate it later.

``jobs.error_message`` holds the message template (an English catalog msgid) from now on and
``jobs.error_params`` the values that fill it. Rows failed earlier keep a finished English
message and NULL params; the pages show those as they are.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("error_params", sa.JSON(), nullable=True))


def downgrade() -> None:
    # Back to finished English messages, as 0001's code expects them: params fill the template
    # here (the Python side has no catalog; the English text is the template itself).
    jobs = sa.table(
        "jobs",
        sa.column("id", sa.String()),
        sa.column("error_message", sa.Text()),
        sa.column("error_params", sa.JSON()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(jobs.c.id, jobs.c.error_message, jobs.c.error_params).where(
            jobs.c.error_params.is_not(None)
        )
    ).all()
    for job_id, message, params in rows:
        if message and params:
            try:
                text = message.format(**params)
            except (KeyError, IndexError, ValueError):
                text = message
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(error_message=text))
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("error_params")
