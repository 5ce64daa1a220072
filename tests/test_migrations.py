"""Schema: Alembic builds it from nothing, re-running is a no-op, and it matches the models."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, select, text
from sqlalchemy.orm import Session

from db.models import Base, Event, Job, User
from db.session import (
    alembic_config,
    create_app_engine,
    get_engine,
    init_db,
    read_scope,
    session_scope,
)
from services import jobs

TABLES = {
    "users",
    "jobs",
    "job_attempts",
    "credit_ledger",
    "purchases",
    "webhook_events",
    "share_links",
    "events",
    # 0005: go-live
    "terms_acceptances",
    "support_tickets",
    "ticket_messages",
    "video_feedback",
    "alert_state",
    "health_samples",
    "sessions",
    "auth_events",
    "used_tokens",
    # 0008: the create form's draft
    "drafts",
}


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = create_app_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    yield engine  # type: ignore[misc]
    engine.dispose()


def head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_snapshot(engine: Engine) -> dict[str, object]:
    insp = inspect(engine)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)],
            sorted(i["name"] for i in insp.get_indexes(table)),
            sorted(str(u["name"]) for u in insp.get_unique_constraints(table)),
        )
        for table in insp.get_table_names()
    }


def test_init_on_an_empty_database_creates_every_table(engine: Engine) -> None:
    assert inspect(engine).get_table_names() == []
    init_db(engine)
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    assert current_revision(engine) == head() == "0008"
    indexes = {i["name"] for i in inspect(engine).get_indexes("jobs")}
    assert {"ix_jobs_user_id_created_at", "ix_jobs_status"} <= indexes


def test_init_twice_is_a_no_op(engine: Engine) -> None:
    init_db(engine)
    before = schema_snapshot(engine)
    init_db(engine)
    assert schema_snapshot(engine) == before
    assert current_revision(engine) == head()


def test_models_and_migrations_agree(engine: Engine) -> None:
    init_db(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diffs == []


def test_downgrade_and_upgrade_again(engine: Engine) -> None:
    init_db(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    init_db(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES


def _insert_failed_job(conn: Connection, job_id: str, message: str) -> None:
    """A failed job as 0001's code wrote it (raw SQL: the models are already at head)."""
    now = "2026-11-20 10:00:00.000000"
    conn.execute(
        text(
            "INSERT INTO users (id, email, display_name, is_admin, locale, created_at) "
            "VALUES (1, 'old@example.com', '', 0, 'en', :now)"
        ),
        {"now": now},
    )
    conn.execute(
        text(
            "INSERT INTO jobs (id, user_id, status, stage, percent, script, language, provider, "
            "params, cost_credits, error_message, notes, attempts, cancel_requested, "
            "created_at, updated_at) VALUES (:id, 1, 'failed', 'done', 100, 'Hi', 'en', "
            "'local', '{\"language\": \"en\"}', 1, :message, '[]', 1, 0, :now, :now)"
        ),
        {"id": job_id, "message": message, "now": now},
    )


def test_upgrade_from_0001_keeps_failed_jobs_readable(engine: Engine) -> None:
    """An existing database upgrades in place; its finished English messages still show."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        _insert_failed_job(conn, "old-job", "The photo is 3.0 MB; the limit is 1 MB.")
    init_db(engine)
    assert current_revision(engine) == head()
    assert "error_params" in {c["name"] for c in inspect(engine).get_columns("jobs")}
    with Session(engine) as session:
        job = session.get_one(Job, "old-job")
        view = jobs._view(job)
    assert job.error_params is None
    assert view.error_params == {}
    assert view.error_text == "The photo is 3.0 MB; the limit is 1 MB."


def test_downgrade_to_0001_writes_finished_messages_back(engine: Engine) -> None:
    init_db(engine)
    with engine.begin() as conn:
        _insert_failed_job(conn, "new-job", "Something failed. Reference: {ref}")
        conn.execute(text('UPDATE jobs SET error_params = \'{"ref": "abc"}\''))
        command.downgrade(alembic_config(conn), "0001")
    assert "error_params" not in {c["name"] for c in inspect(engine).get_columns("jobs")}
    with engine.connect() as conn:
        message = conn.execute(text("SELECT error_message FROM jobs")).scalar_one()
    assert message == "Something failed. Reference: abc"
    init_db(engine)  # and up again
    assert current_revision(engine) == head()


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    init_db(engine)
    with Session(engine) as session, pytest.raises(IntegrityError):
        session.add(Event(kind="x", user_id=12345))
        session.commit()


@pytest.mark.skipif(
    bool(os.environ.get("TP_TEST_DATABASE_URL")), reason="runs against an external database"
)
def test_default_database_lives_in_the_data_dir_and_is_migrated(foundation_env: Path) -> None:
    engine = get_engine()
    assert Path(str(engine.url.database)) == foundation_env / "talkingphoto.db"
    assert (foundation_env / "talkingphoto.db").is_file()
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_datetimes_come_back_aware_in_utc(foundation_env: Path) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    local = datetime(2026, 1, 2, 8, 0, tzinfo=ist)
    with session_scope() as session:
        session.add(User(email="a@example.com", created_at=local))
    with session_scope() as session:
        stored = session.scalars(select(User.created_at)).one()
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == local and stored == datetime(2026, 1, 2, 2, 30, tzinfo=UTC)


def test_naive_datetimes_are_refused(foundation_env: Path) -> None:
    from sqlalchemy.exc import StatementError

    with pytest.raises(StatementError, match="naive datetime"), session_scope() as session:
        session.add(User(email="b@example.com", created_at=datetime(2026, 1, 1)))
        session.flush()


def test_session_scope_rolls_back_on_error(foundation_env: Path) -> None:
    with pytest.raises(RuntimeError), session_scope() as session:
        session.add(User(email="c@example.com"))
        session.flush()
        raise RuntimeError("stop")
    with session_scope() as session:
        assert session.scalars(select(User)).all() == []


def test_read_scope_reads_while_a_writer_holds_the_lock(foundation_env: Path) -> None:
    """A page's poll must not queue behind a worker's write (with BEGIN IMMEDIATE it would
    wait out the busy timeout and then fail with "database is locked")."""
    with session_scope() as session:
        session.add(User(email="before@example.com"))
    with session_scope() as writer:  # holds SQLite's write lock until the block ends
        writer.add(User(email="pending@example.com"))
        writer.flush()
        with read_scope() as reader:
            emails = reader.scalars(select(User.email)).all()
        assert emails == ["before@example.com"]  # the last committed snapshot
    with read_scope() as reader:
        assert len(reader.scalars(select(User)).all()) == 2


def test_read_scope_refuses_writes_and_leaves_the_connection_writable(
    foundation_env: Path,
) -> None:
    from sqlalchemy.exc import OperationalError

    with pytest.raises(OperationalError, match="readonly"), read_scope() as reader:
        reader.add(User(email="sneaky@example.com"))
        reader.flush()
    with session_scope() as session:  # the same pooled connection, writable again
        session.add(User(email="fine@example.com"))
    with read_scope() as reader:
        assert reader.scalars(select(User.email)).all() == ["fine@example.com"]


def test_upgrade_to_0007_titles_old_videos_and_opts_everyone_in(engine: Engine) -> None:
    """Videos made before titles existed get the first words of their script; every
    existing creator gets the "video done" mail until they turn it off."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0006")
        _insert_failed_job(conn, "old-job", "x")
        conn.execute(
            text("UPDATE jobs SET script = :s"),
            {"s": "  Hello   friends, welcome to my shop in Jaipur today"},
        )
    init_db(engine)
    with Session(engine) as session:
        job = session.get_one(Job, "old-job")
        user = session.get_one(User, 1)
        assert job.title == "Hello friends, welcome to my shop…"
        assert job.notified_at is None
        assert user.notify_video_done is True
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0006")
    columns = {c["name"] for c in inspect(engine).get_columns("users")}
    assert "notify_video_done" not in columns


def test_upgrade_to_0008_adds_drafts_that_go_with_their_user(engine: Engine) -> None:
    """A draft row per creator; deleting the user row deletes the draft (ON DELETE CASCADE);
    a downgrade drops the table and nothing else."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0007")
        assert "drafts" not in inspect(conn).get_table_names()
    init_db(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, display_name, is_admin, locale, "
                "auth_method, is_guest, created_at, notify_video_done) VALUES "
                "(7, 'd@example.com', '', 0, 'en', 'guest', 1, "
                "'2026-12-05 00:00:00', 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO drafts (user_id, script, options, photo_key, updated_at) "
                "VALUES (7, 'Hello', '{}', NULL, '2026-12-05 00:00:00')"
            )
        )
        conn.execute(text("DELETE FROM users WHERE id = 7"))
        assert conn.execute(text("SELECT COUNT(*) FROM drafts")).scalar() == 0
        command.downgrade(alembic_config(conn), "0007")
    assert "drafts" not in inspect(engine).get_table_names()
    assert "users" in inspect(engine).get_table_names()
