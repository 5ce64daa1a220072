"""Engine, sessions and schema migration.

``get_engine()`` builds one engine per database URL for the process (``[database] url``, or
SQLite at ``<data_dir>/talkingphoto.db``) and brings the schema to the newest Alembic revision
the first time, so any service call works on a fresh data folder. ``session_scope()`` is the
unit of work: commit on success, rollback on error. ``read_scope()`` is for reads only (the
pages' polls, the workers' cancel checks): it never takes the write lock and refuses writes.

SQLite is tuned for one web process with a few worker threads: WAL (readers never block the
writer), ``busy_timeout`` (writers wait instead of failing), foreign keys ON, and every
transaction opened with ``BEGIN IMMEDIATE`` so that a read-then-write transaction (check the
balance, then debit) takes the write lock up front — no lost updates, no "database is locked"
when two transactions both try to upgrade from reading to writing. Read-only sessions open a
plain deferred ``BEGIN`` with ``PRAGMA query_only`` on: under WAL they read a snapshot without
waiting for (or holding up) the writer, so ten pages polling their jobs every second do not
queue behind a worker saving progress.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

from secrets_manager import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000

READ_ONLY = "talkingphoto_read_only"  # execution option set on read_scope()'s connections

_lock = threading.RLock()
# Per URL: the engine, its sessionmaker, and a sessionmaker for read_scope().
_engines: dict[str, tuple[Engine, sessionmaker[Session], sessionmaker[Session]]] = {}


def database_url() -> str:
    """The configured URL, or the SQLite file under the data folder."""
    settings = get_settings()
    if settings.database.url:
        return settings.database.url
    return f"sqlite:///{settings.app.data_dir / 'talkingphoto.db'}"


def create_app_engine(url: str, *, echo: bool = False) -> Engine:
    """A new engine for ``url`` with the SQLite pragmas above (no migration)."""
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if is_sqlite:
        # Worker threads share the pool; SQLAlchemy hands each connection to one thread at a time.
        kwargs["connect_args"] = {"check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; fewer fsyncs
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("PRAGMA query_only = ON")
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("PRAGMA query_only = OFF")
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _private_database_file(path: Path) -> None:
    """The SQLite file 0600 (SQLite gives its -wal/-shm files the same mode) and, when it
    lives in the data folder, that folder 0700: accounts, sessions and purchases are
    nobody else's business on a shared machine. A folder we did not choose is left alone."""
    data_dir = get_settings().app.data_dir
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.parent.resolve() == data_dir.resolve():
        os.chmod(path.parent, 0o700)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
        with contextlib.suppress(FileNotFoundError):  # files from before this rule
            os.chmod(path.with_name(name), 0o600)


def _engine_and_sessionmakers() -> tuple[Engine, sessionmaker[Session], sessionmaker[Session]]:
    url = database_url()
    with _lock:
        found = _engines.get(url)
        if found is None:
            parsed = make_url(url)
            on_disk = parsed.database not in (None, "", ":memory:")
            if parsed.get_backend_name() == "sqlite" and on_disk:
                _private_database_file(Path(str(parsed.database)))
            engine = create_app_engine(url, echo=get_settings().database.echo)
            init_db(engine)
            reader = engine.execution_options(**{READ_ONLY: True})
            found = (
                engine,
                sessionmaker(engine, expire_on_commit=False),
                sessionmaker(reader, expire_on_commit=False),
            )
            _engines[url] = found
        return found


def get_engine() -> Engine:
    """The process engine for the configured database, migrated to head on first use."""
    return _engine_and_sessionmakers()[0]


def get_sessionmaker() -> sessionmaker[Session]:
    return _engine_and_sessionmakers()[1]


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on error.

    Objects stay readable after the block (``expire_on_commit=False``), but services convert
    them to frozen views before returning; ORM objects never leave the services layer.
    """
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_scope() -> Iterator[Session]:
    """A session for reads only, rolled back when the block ends. On SQLite it reads a WAL
    snapshot without the write lock, and a write in it fails (``query_only``) instead of
    silently taking the lock; on other databases it is an ordinary transaction."""
    session = _engine_and_sessionmakers()[2]()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code (no ini needed); ``connection`` is used when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


MIGRATION_LOCK_KEY = 0x7461_6D67  # pg_advisory_xact_lock key of the start-up upgrade


def init_db(engine: Engine | None = None) -> None:
    """Apply every Alembic migration up to head; a no-op when the schema is current.

    On Postgres the upgrade runs under a transaction-scoped advisory lock, so app replicas
    and workers starting together migrate one at a time: the first upgrades, the others wait
    and then find the schema current (Postgres DDL is transactional; the lock is released at
    commit)."""
    engine = engine or get_engine()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        command.upgrade(alembic_config(connection), "head")


def dispose_engines() -> None:
    """Close every pooled connection and forget engines (tests; after changing settings)."""
    with _lock:
        for engine, _maker, _reader in _engines.values():
            engine.dispose()
        _engines.clear()
