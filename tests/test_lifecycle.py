"""Retention, orphan repair and storage use (services.lifecycle), with storage faults injected."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

import storage
from db.models import Job, utcnow
from db.session import session_scope
from errors import StorageUnavailable
from services import accounts, credits, jobs, lifecycle, media, sharing
from storage.local import LocalStorage
from tests.fakes import stored_file
from tests.test_sharing import make_video


@pytest.fixture
def user(jobs_env) -> accounts.UserView:
    return accounts.current_user()


def files(data_dir: Path) -> set[str]:
    root = data_dir / "media"
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def row(job_id: str) -> Job | None:
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is not None:
            session.expunge(job)
        return job


def finished_at(job_id: str) -> datetime:
    found = row(job_id)
    assert found is not None and found.finished_at is not None
    return found.finished_at


def age_files(data_dir: Path, seconds: float) -> None:
    """Make every stored file look ``seconds`` old (what time does to a crash's leftovers)."""
    stamp = time.time() - seconds
    for path in (data_dir / "media").rglob("*"):
        if path.is_file():
            os.utime(path, (stamp, stamp))


# ------------------------------------------------------------------------------ retention


def test_photos_go_after_the_retention_and_nothing_else(
    user: accounts.UserView, foundation_env: Path
) -> None:
    job = make_video(user.id)
    photo = row(job.id).photo_key  # type: ignore[union-attr]
    assert photo is not None and photo in files(foundation_env)
    done = finished_at(job.id)

    report = lifecycle.run_cleanup(now=done + timedelta(days=6, hours=23))
    assert report.photos_deleted == 0 and photo in files(foundation_env)

    before = files(foundation_env)
    report = lifecycle.run_cleanup(now=done + timedelta(days=7, seconds=1))
    assert report.photos_deleted == 1 and report.errors == 0
    assert files(foundation_env) == before - {photo}  # exactly the photo
    after = row(job.id)
    assert after is not None and after.photo_key is None and after.photo_deleted_at is not None
    view = jobs.get(job.id, user.id)
    assert view.photo_deleted_at is not None and view.video_key is not None
    assert lifecycle.run_cleanup(now=done + timedelta(days=8)).photos_deleted == 0  # idempotent


def test_videos_are_kept_until_deleted_unless_a_retention_is_set(
    user: accounts.UserView, foundation_env: Path, settings_env
) -> None:
    settings_env(features__enable_social_sharing="true")
    job = make_video(user.id)
    made = sharing.create(job.id, user.id)
    done = finished_at(job.id)
    assert lifecycle.run_cleanup(now=done + timedelta(days=1000)).videos_expired == 0
    assert jobs.get(job.id, user.id).video_key is not None

    settings_env(storage__video_retention_days=30)
    assert lifecycle.run_cleanup(now=done + timedelta(days=29)).videos_expired == 0
    report = lifecycle.run_cleanup(now=done + timedelta(days=30, seconds=1))
    assert report.videos_expired == 1
    assert row(job.id) is None and files(foundation_env) == set()
    assert not sharing.link_is_active(made.link.id)
    assert credits.balance(user.id) == 19  # a delivered video stays paid


# -------------------------------------------------------------------------- orphan repair


def test_orphans_are_removed_once_they_are_old_enough(
    user: accounts.UserView, foundation_env: Path
) -> None:
    job = make_video(user.id)
    kept = files(foundation_env)
    media.put("jobs/ghost/video.mp4", b"no row names me")  # a crash after the write
    media.put(media.job_key(job.id, "video-old.mp4"), b"left by an earlier attempt")
    (foundation_env / "media" / "jobs" / job.id / "tmp-00ff00ff00ff00ff.partial").write_bytes(b"x")

    now = utcnow()
    report = lifecycle.run_cleanup(now=now)
    assert report.orphans_deleted == 0  # young: maybe a job about to record them

    age_files(foundation_env, 2 * 3600)
    report = lifecycle.run_cleanup(now=now)
    assert report.orphans_deleted == 3 and report.errors == 0
    assert files(foundation_env) == kept
    assert lifecycle.run_cleanup(now=now).orphans_deleted == 0


def test_rows_whose_files_are_gone_are_marked(
    user: accounts.UserView, foundation_env: Path
) -> None:
    job = make_video(user.id)
    (foundation_env / "media" / job.video_key).unlink()  # type: ignore[operator]
    (foundation_env / "media" / row(job.id).photo_key).unlink()  # type: ignore[operator, union-attr]

    assert lifecycle.run_cleanup(now=utcnow()).rows_marked == 0  # just updated: not yet
    report = lifecycle.run_cleanup(now=utcnow() + timedelta(hours=2))
    assert report.rows_marked == 2
    after = jobs.get(job.id, user.id)
    assert after.video_key is None and stored_file(after.video_key) is None
    assert after.photo_deleted_at is not None
    assert after.thumbnail_key is not None  # still there, still named


def test_a_failed_listing_never_marks_or_deletes(
    user: accounts.UserView, foundation_env: Path
) -> None:
    job = make_video(user.id)

    class ListsNothing(LocalStorage):  # e.g. the wrong bucket: empty, no error
        def list(self, prefix: str) -> Iterator[storage.StoredObject]:
            return iter(())

    class ListingFails(LocalStorage):
        def list(self, prefix: str) -> Iterator[storage.StoredObject]:
            raise StorageUnavailable(detail="listing down")

    later = utcnow() + timedelta(hours=2)
    for store in (ListsNothing(foundation_env / "media"), ListingFails(foundation_env / "media")):
        previous = storage.use_storage(store)
        try:
            report = lifecycle.run_cleanup(now=later)
        finally:
            storage.use_storage(previous)
        assert report.rows_marked == 0 and report.orphans_deleted == 0
    assert jobs.get(job.id, user.id).video_key == job.video_key


# ---------------------------------------------------------------------- faults at saving


class FailingStore(LocalStorage):
    """Local disk that fails to save (or delete) keys containing a word."""

    def __init__(self, root: Path, put_fails: str, delete_fails: str = "") -> None:
        super().__init__(root)
        self.put_fails, self.delete_fails = put_fails, delete_fails

    def put(self, key: str, source: bytes | Path) -> None:
        if self.put_fails in key:
            raise StorageUnavailable(detail=f"injected: put {key}")
        super().put(key, source)

    def delete(self, key: str) -> None:
        if self.delete_fails and self.delete_fails in key:
            raise StorageUnavailable(detail=f"injected: delete {key}")
        super().delete(key)


@pytest.fixture
def failing(foundation_env: Path) -> Iterator[FailingStore]:
    store = FailingStore(foundation_env / "media", put_fails="never")
    previous = storage.use_storage(store)
    yield store
    storage.use_storage(previous)


def test_a_job_whose_results_cannot_be_saved_leaves_only_its_photo(
    user: accounts.UserView, foundation_env: Path, failing: FailingStore
) -> None:
    failing.put_fails = "thumb"  # the video is saved first, then the thumbnail fails
    job = make_video(user.id)
    assert job.status == "failed"
    assert job.error_text == "File storage is unavailable right now; please try again."
    assert credits.balance(user.id) == 20  # refunded
    photo = row(job.id).photo_key  # type: ignore[union-attr]
    assert files(foundation_env) == {photo}  # the saved video was rolled back
    lifecycle.run_cleanup(now=finished_at(job.id) + timedelta(days=7, seconds=1))
    assert files(foundation_env) == set()


def test_what_a_failed_rollback_leaves_the_cleanup_removes(
    user: accounts.UserView, foundation_env: Path, failing: FailingStore
) -> None:
    failing.put_fails, failing.delete_fails = "thumb", "video"
    job = make_video(user.id)
    assert job.status == "failed"
    photo = row(job.id).photo_key  # type: ignore[union-attr]
    left = files(foundation_env) - {photo}
    assert left == {f"jobs/{job.id}/video.mp4"}  # the rollback could not delete it

    failing.delete_fails = ""  # storage is back
    age_files(foundation_env, 2 * 3600)
    report = lifecycle.run_cleanup(now=utcnow())
    assert report.orphans_deleted == 1 and files(foundation_env) == {photo}


def test_a_crash_between_writing_files_and_updating_the_row_is_repaired(
    user: accounts.UserView, foundation_env: Path, failing: FailingStore
) -> None:
    import background_tasks

    job = make_video(user.id)
    # What a killed worker leaves: its results written, the row still 'running' without keys.
    with session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(
                status="running", video_key=None, thumbnail_key=None, srt_key=None, vtt_key=None
            )
        )
    failing.delete_fails = "jobs/"  # and storage is down when the app restarts
    background_tasks.recover_jobs()  # failed + refunded; its outputs could not be removed
    assert jobs.get(job.id, user.id).status == "failed"
    photo = row(job.id).photo_key  # type: ignore[union-attr]
    assert len(files(foundation_env) - {photo}) == 4

    failing.delete_fails = ""
    age_files(foundation_env, 2 * 3600)
    report = lifecycle.run_cleanup(now=utcnow())
    assert report.orphans_deleted == 4  # video, thumbnail, two caption files
    assert files(foundation_env) == {photo}


def test_deleting_a_video_when_storage_is_down_still_deletes_it(
    user: accounts.UserView, foundation_env: Path, failing: FailingStore
) -> None:
    job = make_video(user.id)
    failing.delete_fails = "jobs/"
    jobs.delete(job.id, user.id)  # the creator's delete succeeds
    assert row(job.id) is None and files(foundation_env)  # files stay behind for now
    failing.delete_fails = ""
    age_files(foundation_env, 2 * 3600)
    lifecycle.run_cleanup(now=utcnow())
    assert files(foundation_env) == set()


# ---------------------------------------------------------------------------------- usage


def test_storage_used_per_creator(user: accounts.UserView, foundation_env: Path) -> None:
    assert lifecycle.storage_used(user.id) == 0
    first, second = make_video(user.id), make_video(user.id)
    on_disk = sum(p.stat().st_size for p in (foundation_env / "media").rglob("*") if p.is_file())
    assert lifecycle.storage_used(user.id) == on_disk
    assert jobs.get(first.id, user.id).media_bytes > 0
    other = accounts.get_or_create_user("other@example.com")
    assert lifecycle.storage_used(other.id) == 0

    photo_bytes = media.size(row(first.id).photo_key)  # type: ignore[arg-type, union-attr]
    lifecycle.run_cleanup(now=finished_at(second.id) + timedelta(days=7, seconds=1))
    assert lifecycle.storage_used(user.id) == on_disk - 2 * photo_bytes
    with session_scope() as session:
        assert all(b > 0 for b in session.scalars(select(Job.media_bytes)))


# ------------------------------------------------------------------------------ scheduler


def test_the_scheduler_runs_passes_and_survives_a_bad_one(
    foundation_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    waits = iter([False, False, True])  # two ticks, then stop

    def fake_cleanup(now: datetime | None = None) -> lifecycle.CleanupReport:
        calls.append("run")
        if len(calls) == 1:
            raise RuntimeError("a bad pass")
        return lifecycle.CleanupReport()

    monkeypatch.setattr(lifecycle, "run_cleanup", fake_cleanup)
    monkeypatch.setattr(lifecycle._stop, "wait", lambda timeout: next(waits))
    lifecycle._loop()
    assert calls == ["run", "run"]


def test_start_scheduler_is_idempotent(foundation_env: Path) -> None:
    import threading

    try:
        lifecycle.start_scheduler()
        lifecycle.start_scheduler()
        names = [t.name for t in threading.enumerate() if t.name == "tp-cleanup"]
        assert names == ["tp-cleanup"]
    finally:
        lifecycle.stop_scheduler()
    assert not any(t.name == "tp-cleanup" for t in threading.enumerate())
