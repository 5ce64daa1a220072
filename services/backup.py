"""Backup and restore: a consistent copy of the database and the media, with checksums.

    backup(out)            write a backup folder (``out`` must be new or empty)
    restore(src)           load one into an empty data folder / database; refuses a tampered
                           backup (any file added, missing or changed) before touching anything
    verify(src)            check a backup's checksums (what restore does first)
    run_scheduled(now)     ``[backup] dir`` + ``every_hours``: one dated backup when due, the
                           oldest beyond ``keep`` deleted

A backup folder holds:

* ``database.sqlite3`` — SQLite through its *online backup API* (``sqlite3.Connection.backup``):
  a consistent snapshot while the app keeps writing; or ``database.pgdump`` — PostgreSQL
  through ``pg_dump --format=custom`` (restored with ``pg_restore``);
* ``media/<key>`` — every object of the local storage back end, read through the storage
  contract; for S3 or Cloudinary (which keep their own copies and versioning) ``media.json``
  lists each key and size instead, so a restore can tell what the database points at;
* ``jwt_secret.key`` — the development signing key, when the data folder has one (share
  links stay valid after a restore);
* ``manifest.json`` — format, time, app version, schema revision, back ends, and the SHA-256
  and size of every other file.

The database is copied *before* the media: a video finished in between is a file without a
row (harmless), never a row without its file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

import storage
from db.models import utcnow
from db.session import database_url, dispose_engines, get_engine
from errors import N_, TalkingPhotoError
from observability.release import app_version
from secrets_manager import get_settings

log = logging.getLogger("talkingphoto.backup")

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
MEDIA_DIR = "media"
MEDIA_LIST = "media.json"
DEV_KEY_FILE = "jwt_secret.key"
CHUNK = 1 << 20


class BackupError(TalkingPhotoError):
    """A backup could not be written or restored (the message says why; nothing changed)."""

    default_message = N_("The backup could not be made or restored.")


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    database: str  # "sqlite" | "postgresql"
    media_backend: str
    media_files: int
    media_bytes: int
    files: int  # entries in the manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _dialect(url: str) -> str:
    return make_url(url).get_backend_name()


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(N_("An in-memory database cannot be backed up."))
    return Path(database)


def _pg_env(url: str) -> dict[str, str]:
    # The password goes in the environment, never on the command line (visible in `ps`).
    env = dict(os.environ)
    password = make_url(url).password
    if password:
        env["PGPASSWORD"] = str(password)
    return env


def _pg_url_plain(url: str) -> str:
    """The libpq URL (no SQLAlchemy ``+driver``) without its password."""
    u = make_url(url)
    plain = URL.create(
        "postgresql", username=u.username, host=u.host, port=u.port, database=u.database,
        query=u.query,
    )  # fmt: skip
    return plain.render_as_string(hide_password=False)


def _current_revision(url: str) -> str | None:
    from sqlalchemy import text

    try:
        with get_engine().connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        log.warning("backup: schema revision unknown", exc_info=True)
        return None


# ------------------------------------------------------------------------------------ backup


def backup(out: Path) -> BackupReport:
    """Write a backup into ``out`` (created; must not hold files). Raises BackupError."""
    settings = get_settings()
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(
            N_("The backup folder {folder} is not empty; choose a new folder."),
            params={"folder": str(out)},
        )
    out.mkdir(parents=True, exist_ok=True)
    url = database_url()
    dialect = _dialect(url)
    revision = _current_revision(url)
    if dialect == "sqlite":
        _backup_sqlite(_sqlite_path(url), out / SQLITE_FILE)
    elif dialect == "postgresql":
        _backup_postgres(url, out / PG_FILE)
    else:
        raise BackupError(
            N_("Backups support SQLite and PostgreSQL, not {dialect}."),
            params={"dialect": dialect},
        )

    store = storage.get_storage(settings)
    media_files = media_bytes = 0
    if store.name == "local":
        for obj in store.list(""):
            target = out / MEDIA_DIR / obj.key
            store.download(obj.key, target)
            media_files += 1
            media_bytes += target.stat().st_size
    else:
        objects = list(store.list(""))
        listing = [{"key": o.key, "size": o.size} for o in objects]
        (out / MEDIA_LIST).write_text(json.dumps(listing, indent=1), "utf-8")
        media_files = len(objects)
        media_bytes = sum(o.size for o in objects)

    dev_key = Path(settings.app.data_dir) / DEV_KEY_FILE
    if dev_key.is_file():
        shutil.copy2(dev_key, out / DEV_KEY_FILE)
        (out / DEV_KEY_FILE).chmod(0o600)

    files = {
        path.relative_to(out).as_posix(): {"sha256": _sha256(path), "size": path.stat().st_size}
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }
    manifest = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(timespec="seconds"),
        "app_version": app_version(),
        "schema_revision": revision,
        "database": {"dialect": dialect, "file": SQLITE_FILE if dialect == "sqlite" else PG_FILE},
        "media": {
            "backend": store.name,
            "copied": store.name == "local",
            "objects": media_files,
            "bytes": media_bytes,
        },
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), "utf-8")
    log.info(
        "backup written to %s: %s database, %d media objects (%s)",
        out,
        dialect,
        media_files,
        store.name,
    )
    return BackupReport(out, dialect, store.name, media_files, media_bytes, len(files))


def _backup_sqlite(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(
            N_("There is no database at {path} to back up."), params={"path": str(source)}
        )
    # The online backup API copies page by page under SQLite's own locking: a consistent
    # snapshot even while the app writes (a plain file copy could catch a half-written page
    # or miss what is still in the WAL).
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()


def _run_pg(args: list[str], url: str) -> None:
    tool = shutil.which(args[0])
    if tool is None:
        raise BackupError(
            N_("{tool} is not installed; install the PostgreSQL client tools."),
            params={"tool": args[0]},
        )
    done = subprocess.run(  # fixed arguments, no shell
        [tool, *args[1:]], env=_pg_env(url), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        # stderr names the host and database, never the password (it is in PGPASSWORD).
        detail = (done.stderr or "").strip().splitlines()[-1:] or [""]
        raise BackupError(
            N_("{tool} failed: {detail}"), params={"tool": args[0], "detail": detail[0][:300]}
        )


def _backup_postgres(url: str, target: Path) -> None:
    _run_pg(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _pg_url_plain(url)],
        url,
    )


# ------------------------------------------------------------------------------------ verify


def verify(src: Path) -> dict[str, Any]:
    """The manifest, after checking that every file is present, unchanged, and that no file
    was added. Raises BackupError naming the first problem."""
    src = Path(src)
    manifest_path = src / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(
            N_("{folder} is not a backup (no manifest.json)."), params={"folder": str(src)}
        )
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
        files: dict[str, dict[str, Any]] = manifest["files"]
        if manifest.get("format") != FORMAT:
            raise ValueError("format")
    except (ValueError, KeyError, TypeError):
        raise BackupError(N_("The backup's manifest is damaged.")) from None
    present = {
        p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file() and p.name != MANIFEST
    }
    added = sorted(present - set(files))
    if added:
        raise BackupError(
            N_("The backup was changed: {name} is not in its manifest."), params={"name": added[0]}
        )
    for name, entry in sorted(files.items()):
        path = src / name
        if name not in present:
            raise BackupError(
                N_("The backup is incomplete: {name} is missing."), params={"name": name}
            )
        if path.stat().st_size != entry.get("size") or _sha256(path) != entry.get("sha256"):
            raise BackupError(
                N_("The backup was changed: {name} does not match its checksum."),
                params={"name": name},
            )
    return manifest


# ----------------------------------------------------------------------------------- restore


def restore(src: Path) -> BackupReport:
    """Restore a verified backup into the configured, *empty* data folder and database."""
    src = Path(src)
    manifest = verify(src)
    settings = get_settings()
    data_dir = Path(settings.app.data_dir)
    url = database_url()
    dialect = _dialect(url)
    if manifest["database"]["dialect"] != dialect:
        raise BackupError(
            N_("This backup holds a {backup} database; the settings point at {current}."),
            params={"backup": manifest["database"]["dialect"], "current": dialect},
        )
    store = storage.get_storage(settings)
    copied = bool(manifest["media"].get("copied"))
    if copied and store.name != "local":
        raise BackupError(
            N_("This backup's media are files; restore them with local storage configured.")
        )
    # Refuse to overwrite anything: restoring is for an empty data folder.
    if dialect == "sqlite":
        target = _sqlite_path(url)
        if target.exists() and target.stat().st_size > 0:
            raise BackupError(
                N_("The data folder already has a database ({path}); restore into an empty one."),
                params={"path": str(target)},
            )
    if copied and next(iter(store.list("")), None) is not None:
        raise BackupError(N_("The media store is not empty; restore into an empty one."))

    dispose_engines()  # no pooled connection may hold the file we are about to write
    if dialect == "sqlite":
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restoring")
        shutil.copyfile(src / SQLITE_FILE, partial)
        partial.replace(target)
    else:
        _run_pg(
            ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction",
             f"--dbname={_pg_url_plain(url)}", str(src / PG_FILE)],
            url,
        )  # fmt: skip

    files = 0
    size = 0
    if copied:
        media_root = src / MEDIA_DIR
        staging = data_dir / "restore-staging"
        staging.mkdir(parents=True, exist_ok=True)
        try:
            for path in sorted(media_root.rglob("*")) if media_root.is_dir() else []:
                if path.is_file():
                    # put() may move its source: hand it a copy, the backup stays whole.
                    copy = staging / f"{files}.part"
                    shutil.copyfile(path, copy)
                    size += copy.stat().st_size
                    store.put(path.relative_to(media_root).as_posix(), copy)
                    files += 1
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if (src / DEV_KEY_FILE).is_file() and not (data_dir / DEV_KEY_FILE).exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / DEV_KEY_FILE, data_dir / DEV_KEY_FILE)
        (data_dir / DEV_KEY_FILE).chmod(0o600)
    log.info("backup %s restored: %s database, %d media files", src, dialect, files)
    return BackupReport(
        src,
        dialect,
        str(manifest["media"]["backend"]),
        files if copied else int(manifest["media"].get("objects", 0)),
        size if copied else int(manifest["media"].get("bytes", 0)),
        len(manifest["files"]),
    )


# --------------------------------------------------------------------------------- schedule


def run_scheduled(now: dt.datetime | None = None) -> Path | None:
    """Make a backup in ``[backup] dir`` when ``every_hours`` have passed since the newest
    one there, and delete the oldest beyond ``keep``. Returns the new folder, if any."""
    cfg = get_settings().backup
    if cfg.dir is None or cfg.every_hours == 0:
        return None
    now = now or utcnow()
    root = Path(cfg.dir)
    root.mkdir(parents=True, exist_ok=True)
    existing = sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file())
    newest = _folder_time(existing[-1]) if existing else None
    if newest is not None and now - newest < dt.timedelta(hours=cfg.every_hours):
        return None
    folder = root / now.strftime("%Y%m%dT%H%M%SZ")
    try:
        backup(folder)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)  # a half-written backup is not a backup
        raise
    done = sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file())
    for old in done[: max(0, len(done) - cfg.keep)]:
        shutil.rmtree(old, ignore_errors=True)
        log.info("old backup removed: %s", old)
    return folder


_scheduled_lock = threading.Lock()
_scheduled_thread: threading.Thread | None = None


def start_if_due() -> None:
    """Run :func:`run_scheduled` in a background thread (one at a time) when a schedule is
    set: the health sampler calls this, and a long media copy must not delay its samples."""
    global _scheduled_thread
    cfg = get_settings().backup
    if cfg.dir is None or cfg.every_hours == 0:
        return

    def run() -> None:
        try:
            run_scheduled()
        except Exception:
            log.exception("scheduled backup failed")

    with _scheduled_lock:
        if _scheduled_thread is not None and _scheduled_thread.is_alive():
            return
        _scheduled_thread = threading.Thread(target=run, name="tp-backup", daemon=True)
        _scheduled_thread.start()


def _folder_time(folder: Path) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(folder.name, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def describe(report: BackupReport) -> dict[str, Any]:
    return {
        "folder": str(report.folder),
        "database": report.database,
        "media_backend": report.media_backend,
        "media_files": report.media_files,
        "media_bytes": report.media_bytes,
        "files": report.files,
    }


__all__ = [
    "BackupError",
    "BackupReport",
    "backup",
    "describe",
    "restore",
    "run_scheduled",
    "verify",
]
