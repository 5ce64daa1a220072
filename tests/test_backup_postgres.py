"""Backup and restore of a real Postgres (Debian's server, started by ``.ci/run`` through
``deploy/test-servers.sh``) through the real ``pg_dump`` and ``pg_restore``: every row of a
populated database comes back in an empty one. Skips with the reason without the server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db.models import Purchase
from db.session import dispose_engines, session_scope
from secrets_manager import reset_settings_cache
from services import accounts, backup, credits

POSTGRES_ENV = "TALKINGPHOTO_TEST_POSTGRES_URL"
TABLES = ("users", "purchases", "credit_ledger", "auth_events", "alembic_version")

pytestmark = [
    pytest.mark.servers,
    pytest.mark.skipif(
        not os.environ.get(POSTGRES_ENV),
        reason=f"{POSTGRES_ENV} is not set (.ci/run starts Postgres; or deploy/test-servers.sh)",
    ),
]


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """Two new, empty databases on the test server: the one backed up, the one restored to."""
    admin_url = os.environ[POSTGRES_ENV]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    names = [f"tp_backup_{uuid.uuid4().hex[:10]}_{side}" for side in ("src", "dst")]
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    urls = [
        make_url(admin_url).set(database=n).render_as_string(hide_password=False) for n in names
    ]
    try:
        yield urls[0], urls[1]
    finally:
        dispose_engines()
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _use(monkeypatch: pytest.MonkeyPatch, url: str, data_dir: Path) -> None:
    dispose_engines()
    monkeypatch.setenv("TALKINGPHOTO__DATABASE__URL", url)
    monkeypatch.setenv("TALKINGPHOTO_DATA_DIR", str(data_dir))
    reset_settings_cache()


def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
                for t in TABLES
            }
    finally:
        engine.dispose()


def test_a_postgres_backup_restores_every_row_into_an_empty_database(
    databases: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = databases
    _use(monkeypatch, source, tmp_path / "data")
    for n in range(2):
        user = accounts.sign_up(f"pg{n}@example.com", "correct horse battery staple")
        with session_scope() as session:
            session.add(
                Purchase(
                    user_id=user.id,
                    gateway="razorpay",
                    gateway_ref=f"plink_{n}",
                    pack_id="starter",
                    credits=20,
                    currency="INR",
                    amount_minor=19900,
                    tax_minor=3036,
                    status="paid",
                )
            )
            session.flush()
            credits.post(session, user.id, 20, f"razorpay:plink_{n}", "pack starter")
    before = _rows(source)
    assert len(before["users"]) == 2 and len(before["credit_ledger"]) >= 4

    report = backup.backup(tmp_path / "backup")
    assert report.database == "postgresql"
    assert (tmp_path / "backup" / "database.pgdump").stat().st_size > 0

    _use(monkeypatch, target, tmp_path / "fresh")
    backup.restore(tmp_path / "backup")
    assert _rows(target) == before
    # The app reads it back through its services: the creator signs in, the credits are there.
    user = accounts.sign_in("pg1@example.com", "correct horse battery staple")
    assert credits.balance(user.id) == sum(
        amount for (_, uid, amount, *_rest) in before["credit_ledger"] if uid == user.id
    )
