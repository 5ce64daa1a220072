"""The data lifecycle: retention, orphan repair, storage use per creator.

:func:`run_cleanup` (every ``[storage] cleanup_every_s`` in the app through
:func:`start_scheduler`, or from a cron job) does, in order:

1. **Photos**: an uploaded photo is deleted ``photo_retention_days`` after its job finished
   (``Job.photo_deleted_at`` set, ``photo_key`` cleared). Until then a failed job keeps its
   photo, and only its photo, so "Try again" works.
2. **Videos**: with ``video_retention_days`` > 0, a video older than that goes the way a
   creator's delete goes (``services.jobs.delete``: share links, row, files). 0 keeps videos
   until the creator deletes them.
3. **Orphans**: objects under ``jobs/`` that no row names and older than
   :data:`ORPHAN_GRACE` (a crash between "file written" and "row updated", a delete whose
   file removal failed, a half-written temporary file) are deleted; rows naming an object
   that is gone are *marked*: the key is cleared (a photo also gets ``photo_deleted_at``), so
   pages say "no longer stored" instead of offering a broken player.
4. **Sizes**: ``Job.media_bytes`` is filled in where it is still 0 (:func:`storage_used`).
5. Old downloaded copies in ``<data_dir>/cache/media`` are removed.

Every step is idempotent and catches storage errors per object (counted in the report), so
one bad object never stops the rest; a failed listing skips step 3 entirely (an empty
listing must never be read as "everything is gone").
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import case, func, select, update

from db.models import ACTIVE_STATUSES, Job, utcnow
from db.session import read_scope, session_scope
from errors import StorageError, TalkingPhotoError
from secrets_manager import get_settings
from services import jobs, media
from services.job_spec import MEDIA_COLUMNS
from storage import get_storage

log = logging.getLogger("talkingphoto.lifecycle")

ORPHAN_GRACE = timedelta(hours=1)
CACHE_MAX_AGE = timedelta(days=1)
SIZE_BACKFILL_BATCH = 200
KEY_COLUMNS = tuple(MEDIA_COLUMNS)
JOBS_PREFIX = "jobs/"


@dataclass(frozen=True)
class CleanupReport:
    photos_deleted: int = 0
    videos_expired: int = 0
    orphans_deleted: int = 0
    rows_marked: int = 0
    sizes_filled: int = 0
    cache_files_deleted: int = 0
    errors: int = 0

    def __add__(self, other: CleanupReport) -> CleanupReport:
        return CleanupReport(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


def run_cleanup(now: datetime | None = None) -> CleanupReport:
    """One pass of the whole lifecycle (see the module docstring); ``now`` is for tests."""
    now = now or utcnow()
    settings = get_settings().storage
    report = (
        _expire_photos(now, settings.photo_retention_days)
        + _expire_videos(now, settings.video_retention_days)
        + _reconcile(now)
        + _fill_sizes()
        + _sweep_cache(now)
    )
    if report != CleanupReport():
        log.info("cleanup: %s", report)
    return report


# ---------------------------------------------------------------------------- retention


def _expire_photos(now: datetime, days: int) -> CleanupReport:
    cutoff = now - timedelta(days=days)
    with session_scope() as session:
        rows = session.execute(
            select(Job.id, Job.photo_key).where(
                Job.status.not_in(ACTIVE_STATUSES),
                Job.photo_key.is_not(None),
                Job.finished_at.is_not(None),
                Job.finished_at <= cutoff,
            )
        ).all()
    deleted = errors = 0
    for job_id, key in rows:
        try:
            photo_bytes = media.size(key)
            media.delete(key)
        except StorageError as exc:
            log.warning("cleanup: photo %s not deleted: %s", key, exc.detail)
            errors += 1
            continue
        deleted += _forget_key(job_id, "photo_key", key, now, photo_bytes)
    return CleanupReport(photos_deleted=deleted, errors=errors)


def _forget_key(job_id: str, column: str, key: str, now: datetime, freed: int = 0) -> int:
    """Clear ``column`` if it still names ``key`` (a concurrent retry may have changed it)."""
    values: dict[str, object] = {column: None}
    if column == "photo_key":
        values["photo_deleted_at"] = now
    if freed:
        values["media_bytes"] = case((Job.media_bytes > freed, Job.media_bytes - freed), else_=0)
    with session_scope() as session:
        changed = session.execute(
            update(Job).where(Job.id == job_id, getattr(Job, column) == key).values(**values)
        ).rowcount  # type: ignore[attr-defined]
    return int(changed or 0)


def _expire_videos(now: datetime, days: int) -> CleanupReport:
    if days <= 0:
        return CleanupReport()

    cutoff = now - timedelta(days=days)
    with session_scope() as session:
        rows = session.execute(
            select(Job.id, Job.user_id).where(
                Job.status == "succeeded", Job.finished_at.is_not(None), Job.finished_at <= cutoff
            )
        ).all()
    expired = errors = 0
    for job_id, user_id in rows:
        try:
            jobs.delete(job_id, user_id)
            expired += 1
        except TalkingPhotoError as exc:
            log.warning("cleanup: video %s not expired: %s", job_id, exc.detail or exc)
            errors += 1
    return CleanupReport(videos_expired=expired, errors=errors)


# ------------------------------------------------------------------------ orphan repair


def _reconcile(now: datetime) -> CleanupReport:

    store = get_storage()
    try:
        objects = list(store.list(JOBS_PREFIX))
    except StorageError as exc:
        log.warning("cleanup: listing failed, orphan repair skipped: %s", exc.detail)
        return CleanupReport(errors=1)
    settled = now - ORPHAN_GRACE
    with session_scope() as session:
        rows = session.execute(
            select(Job.id, Job.status, Job.updated_at, *(getattr(Job, c) for c in KEY_COLUMNS))
        ).all()
    referenced = {key for row in rows for key in row[3:] if key}
    stored = {obj.key for obj in objects}

    orphans = errors = 0
    for obj in objects:
        if obj.key in referenced or obj.modified > settled:
            continue  # in use, or maybe written a moment ago by a job about to record it
        try:
            store.delete(obj.key)
            orphans += 1
        except StorageError as exc:
            log.warning("cleanup: orphan %s not deleted: %s", obj.key, exc.detail)
            errors += 1

    marked = 0
    for job_id, status, updated_at, *keys in rows:
        if status in ACTIVE_STATUSES or (updated_at is not None and updated_at > settled):
            continue
        for column, key in zip(KEY_COLUMNS, keys, strict=True):
            if not key or key in stored:
                continue
            try:
                gone = not store.exists(key)  # ask once more before touching the row
            except StorageError:
                errors += 1
                continue
            if gone:
                marked += _forget_key(job_id, column, key, now)
                log.warning("cleanup: job %s: %s %s is gone; marked", job_id, column, key)
    return CleanupReport(orphans_deleted=orphans, rows_marked=marked, errors=errors)


# ------------------------------------------------------------------------------- sizes


def _fill_sizes(user_id: int | None = None) -> CleanupReport:
    query = select(Job.id, *(getattr(Job, c) for c in KEY_COLUMNS)).where(
        Job.status.not_in(ACTIVE_STATUSES), Job.media_bytes == 0
    )
    if user_id is not None:
        query = query.where(Job.user_id == user_id)
    with session_scope() as session:
        rows = session.execute(query.limit(SIZE_BACKFILL_BATCH)).all()
    filled = errors = 0
    for job_id, *keys in rows:
        if not any(keys):
            continue
        try:
            total = media.total_size(*keys)
        except StorageError:
            errors += 1
            continue
        if total:
            with session_scope() as session:
                session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.media_bytes == 0)
                    .values(media_bytes=total)
                )
            filled += 1
    return CleanupReport(sizes_filled=filled, errors=errors)


def storage_used(user_id: int) -> int:
    """Bytes a creator's videos, photos, thumbnails and captions take in storage."""
    _fill_sizes(user_id)
    with read_scope() as session:
        total = session.scalar(
            select(func.coalesce(func.sum(Job.media_bytes), 0)).where(Job.user_id == user_id)
        )
    return int(total or 0)


def _sweep_cache(now: datetime) -> CleanupReport:
    folder = Path(get_settings().app.data_dir) / "cache" / "media"
    if not folder.is_dir():
        return CleanupReport()
    cutoff = (now - CACHE_MAX_AGE).timestamp()
    deleted = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except OSError:
            continue
    return CleanupReport(cache_files_deleted=deleted)


# ---------------------------------------------------------------------------- scheduler

_scheduler_lock = threading.Lock()
_scheduler: threading.Thread | None = None
_stop = threading.Event()


def start_scheduler() -> None:
    """Run :func:`run_cleanup` every ``[storage] cleanup_every_s`` seconds in a daemon thread
    (idempotent: one thread per process). The first pass runs one interval after start, so
    start-up stays fast. Several replicas may each run it: every step is idempotent."""
    global _scheduler
    with _scheduler_lock:
        if _scheduler is not None and _scheduler.is_alive():
            return
        _stop.clear()
        _scheduler = threading.Thread(target=_loop, name="tp-cleanup", daemon=True)
        _scheduler.start()


def stop_scheduler(timeout_s: float = 5.0) -> None:
    """Stop the thread (tests; interpreter shutdown does not need it)."""
    global _scheduler
    with _scheduler_lock:
        thread, _scheduler = _scheduler, None
    _stop.set()
    if thread is not None:
        thread.join(timeout_s)


def _loop() -> None:
    while not _stop.wait(get_settings().storage.cleanup_every_s):
        started = time.monotonic()
        try:
            run_cleanup()
        except Exception:  # the scheduler must survive a bad pass; the next one retries
            log.exception("cleanup pass failed")
        log.debug("cleanup pass took %.1f s", time.monotonic() - started)
