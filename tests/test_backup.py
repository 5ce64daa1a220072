"""Backup and restore round trip: users, purchases, credits, jobs and their videos come back
intact in a fresh data folder; a tampered backup is refused before anything is written."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

import cli
import storage
from db.models import Purchase
from db.session import dispose_engines, session_scope
from secrets_manager import get_settings, reset_settings_cache
from services import accounts, backup, credits, jobs
from services.photos import PreparedPhoto
from tests import fakes
from tests.fakes import stored_file

pytestmark = pytest.mark.slow

TABLES = ("users", "purchases", "credit_ledger", "jobs", "job_attempts")


def _photo() -> PreparedPhoto:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 400), (200, 150, 120)).save(buffer, "JPEG")
    return PreparedPhoto(data=buffer.getvalue(), width=320, height=400, format="JPEG")


def _params() -> jobs.JobParams:
    base = jobs.JobParams(language="en", voice="fake-en-2", provider="fake", captions="srt")
    return dataclasses.replace(base)


def _rows(db_file: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(db_file)
    try:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}
    finally:
        conn.close()


def _media(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _switch_data_dir(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    dispose_engines()
    monkeypatch.setenv("TALKINGPHOTO_DATA_DIR", str(folder))
    reset_settings_cache()
    storage.reset_storage_cache()


@pytest.fixture
def populated(jobs_env: fakes.Plan, foundation_env: Path) -> Path:
    """Two creators with purchases, credits and finished videos; returns the data folder."""
    made = []
    for n in range(2):
        user = accounts.sign_up(f"creator{n}@example.com", "correct horse battery staple")
        made.append(user)
        with session_scope() as session:
            purchase = Purchase(
                user_id=user.id,
                gateway="razorpay",
                gateway_ref=f"order_{n}",
                pack_id="starter",
                credits=20,
                currency="INR",
                amount_minor=19900,
                tax_minor=3036,
                status="paid",
            )
            session.add(purchase)
            session.flush()
            credits.post(session, user.id, 20, f"razorpay:order_{n}", "pack starter")
        for _ in range(2):
            job = jobs.submit(user.id, photo=_photo(), script="Hello there.", params=_params())
            assert job.status == "succeeded"
    return foundation_env


def test_backup_and_restore_into_a_fresh_folder_keeps_every_row_and_file(
    populated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before_rows = _rows(populated / "talkingphoto.db")
    before_media = _media(populated / "media")
    assert len(before_rows["users"]) >= 2 and len(before_rows["purchases"]) == 2
    assert len(before_rows["jobs"]) == 4
    assert sum(name.endswith(".mp4") for name in before_media) == 4

    out = tmp_path / "backup-1"
    report = backup.backup(out)
    assert report.database == "sqlite" and report.media_backend == "local"
    assert report.media_files == len(before_media)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["schema_revision"] is not None
    assert set(manifest["files"]) >= {"database.sqlite3"} | {f"media/{k}" for k in before_media}

    fresh = tmp_path / "fresh-data"
    _switch_data_dir(monkeypatch, fresh)
    assert get_settings().app.data_dir == fresh.resolve()
    restored = backup.restore(out)
    assert restored.media_files == len(before_media)

    assert _rows(fresh / "talkingphoto.db") == before_rows
    assert _media(fresh / "media") == before_media
    # The app reads them back through its services: balances and videos are there.
    user = accounts.sign_in("creator1@example.com", "correct horse battery staple")
    assert credits.balance(user.id) == 20 + 20 - 2  # grant + purchase - two videos
    videos = jobs.list_for_user(user.id)
    assert len(videos) == 2
    assert all(
        stored_file(v.video_key) is not None and stored_file(v.video_key).is_file() for v in videos
    )


def test_a_tampered_backup_is_refused_and_nothing_is_written(
    populated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "backup"
    backup.backup(out)
    video = next((out / "media").rglob("*.mp4"))
    original = video.read_bytes()
    video.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))

    fresh = tmp_path / "fresh"
    _switch_data_dir(monkeypatch, fresh)
    with pytest.raises(backup.BackupError, match="does not match its checksum"):
        backup.restore(out)
    assert not (fresh / "talkingphoto.db").exists()
    assert not (fresh / "media").exists() or not any((fresh / "media").rglob("*"))

    video.write_bytes(original)
    (out / "media" / "planted.sh").write_text("echo hi", "utf-8")
    with pytest.raises(backup.BackupError, match="not in its manifest"):
        backup.restore(out)
    (out / "media" / "planted.sh").unlink()
    (out / "database.sqlite3").unlink()
    with pytest.raises(backup.BackupError, match="missing"):
        backup.restore(out)
    assert not (fresh / "talkingphoto.db").exists()


def test_restore_refuses_a_folder_that_already_has_data(populated: Path, tmp_path: Path) -> None:
    out = tmp_path / "backup"
    backup.backup(out)
    with pytest.raises(backup.BackupError, match="already has a database"):
        backup.restore(out)  # the live data folder
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.backup(out)  # never writes over an earlier backup


def test_cli_backup_and_restore(
    populated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "cli-backup"
    assert cli.main(["backup", "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["database"] == "sqlite"
    (out / "manifest.json").write_text(
        (out / "manifest.json").read_text("utf-8").replace('"size": ', '"size": 1', 1), "utf-8"
    )
    _switch_data_dir(monkeypatch, tmp_path / "fresh")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["restore", str(out)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: The backup was changed") and "Traceback" not in err


def test_scheduled_backups_keep_the_newest(populated: Path, tmp_path: Path, settings_env) -> None:
    import datetime as dt

    settings_env(backup__dir=tmp_path / "scheduled", backup__every_hours=6, backup__keep=2)
    start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    made = [backup.run_scheduled(start + dt.timedelta(hours=h)) for h in (0, 1, 6, 12, 13, 18)]
    assert [m is not None for m in made] == [True, False, True, True, False, True]
    kept = sorted(p.name for p in (tmp_path / "scheduled").iterdir())
    assert kept == ["20261201T120000Z", "20261201T180000Z"]
    backup.verify(tmp_path / "scheduled" / kept[-1])


def test_postgres_goes_through_pg_dump_and_pg_restore_without_the_password_in_argv(
    foundation_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wiring to the PostgreSQL client tools (stand-ins on PATH that record what they
    were given): libpq URL without SQLAlchemy's driver, the password only in PGPASSWORD."""
    tools = tmp_path / "bin"
    tools.mkdir()
    record = tmp_path / "calls.txt"
    for name in ("pg_dump", "pg_restore"):
        script = tools / name
        script.write_text(
            "#!/bin/sh\n"
            f'echo "{name} $* PGPASSWORD=$PGPASSWORD" >> {record}\n'
            'for a in "$@"; do case "$a" in --file=*) echo dump > "${a#--file=}";; esac; done\n',
            "utf-8",
        )
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")
    monkeypatch.setenv(
        "TALKINGPHOTO__DATABASE__URL", "postgresql+psycopg://tp:S3cret-pw@127.0.0.1:1/tp"
    )
    reset_settings_cache()
    storage.reset_storage_cache()
    out = tmp_path / "pg-backup"
    report = backup.backup(out)
    assert report.database == "postgresql" and (out / "database.pgdump").read_text() == "dump\n"
    backup.restore(out)
    calls = record.read_text("utf-8").splitlines()
    assert calls[0].startswith("pg_dump --format=custom --no-owner --file=")
    assert calls[0].endswith("postgresql://tp@127.0.0.1:1/tp PGPASSWORD=S3cret-pw")
    assert calls[1].startswith("pg_restore --no-owner --exit-on-error --single-transaction")
    assert "--dbname=postgresql://tp@127.0.0.1:1/tp" in calls[1]
    assert all("S3cret-pw" not in c.split(" PGPASSWORD=")[0] for c in calls)
