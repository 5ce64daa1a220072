"""Job lifecycle as a creator and an operator would notice it: states, files, money, limits."""

from __future__ import annotations

import dataclasses
import io
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select, update

import background_tasks
from background_tasks import CancelPoller, ProgressWriter, ThreadPoolJobExecutor
from db.models import CreditEntry, Event, Job, utcnow
from db.session import session_scope
from errors import (
    InputError,
    InsufficientCredits,
    JobError,
    JobNotFound,
    LanguageError,
    QueueFull,
    ScriptError,
    VoiceError,
)
from services import accounts, credits, jobs, media
from services.photos import PreparedPhoto
from tests import fakes
from tests.fakes import stored_file

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "Hello! This is a short test video."  # 1 credit at the default price


def make_photo(fmt: str = "JPEG") -> PreparedPhoto:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 400), (200, 150, 120)).save(buffer, fmt)
    return PreparedPhoto(data=buffer.getvalue(), width=320, height=400, format=fmt)


def params(**changes: object) -> jobs.JobParams:
    base = jobs.JobParams(language="en", voice="fake-en-2", provider="fake", captions="srt")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def submit(user_id: int, **kwargs: object) -> jobs.JobView:
    return jobs.submit(
        user_id,
        photo=kwargs.pop("photo", None) or make_photo(),  # type: ignore[arg-type]
        script=str(kwargs.pop("script", SCRIPT)),
        params=kwargs.pop("params", None) or params(),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def wait_for(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


def ledger(user_id: int) -> list[tuple[str, int]]:
    with session_scope() as session:
        rows = session.execute(
            select(CreditEntry.reference, CreditEntry.amount)
            .where(CreditEntry.user_id == user_id)
            .order_by(CreditEntry.id)
        ).all()
    return [(ref, amount) for ref, amount in rows]


def count(model: type) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def media_files(data_dir: Path) -> list[Path]:
    root = data_dir / "media"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def user(jobs_env: fakes.Plan) -> accounts.UserView:
    return accounts.current_user()  # 20 credits


@pytest.fixture
def pool(jobs_env: fakes.Plan) -> ThreadPoolJobExecutor:
    executor = ThreadPoolJobExecutor(workers=1)
    background_tasks.set_executor(executor)
    return executor  # the jobs_env fixture shuts it down


@pytest.fixture
def held(jobs_env: fakes.Plan) -> fakes.ManualExecutor:
    executor = fakes.ManualExecutor()
    background_tasks.set_executor(executor)
    return executor


# -------------------------------------------------------------------------------- success


def test_a_job_succeeds_with_its_files_and_is_charged(
    jobs_env: fakes.Plan, user: accounts.UserView, foundation_env: Path
) -> None:
    job = submit(user.id)
    assert job.status == "succeeded"
    assert (job.stage, job.percent) == ("done", 100.0)
    assert job.cost_credits == 1
    assert job.duration_s == pytest.approx(4.2)
    assert job.provider == "fake"
    assert job.notes == ("several faces: used the largest",)
    assert job.error_message is None
    assert (
        stored_file(job.video_key) is not None
        and stored_file(job.video_key).read_bytes() == fakes.VIDEO_BYTES
    )
    assert (
        stored_file(job.thumbnail_key) is not None
        and stored_file(job.thumbnail_key).read_bytes() == fakes.THUMB_BYTES
    )
    assert stored_file(job.srt_key) is not None and SCRIPT in stored_file(job.srt_key).read_text(
        "utf-8"
    )
    assert stored_file(job.vtt_key) is not None and stored_file(job.vtt_key).read_text(
        "utf-8"
    ).startswith("WEBVTT")
    assert stored_file(job.vtt_key).suffix == ".vtt" and stored_file(job.srt_key).suffix == ".srt"
    outputs = [job.video_key, job.thumbnail_key, job.srt_key, job.vtt_key]
    photo = media.job_key(job.id, "photo.jpg")
    assert job.media_bytes == media.total_size(photo, *outputs) > media.size(photo) > 0
    assert job.started_at is not None and job.finished_at is not None
    assert job.created_at <= job.started_at <= job.finished_at
    assert credits.balance(user.id) == 19
    assert ledger(user.id)[-1] == (f"job:{job.id}:debit", -1)
    # The provider got the stored photo and the creator's choices.
    request = jobs_env.requests[0]
    assert request.voice == "fake-en-2" and request.captions == "srt" and request.script == SCRIPT
    # The work folder is gone; only media remains.
    assert not (foundation_env / "work" / job.id).exists()


def test_progress_is_visible_while_running(
    jobs_env: fakes.Plan, user: accounts.UserView, pool: ThreadPoolJobExecutor
) -> None:
    jobs_env.mode = "block"
    job = submit(user.id)
    assert job.status in ("queued", "running")
    assert jobs_env.started.wait(10)
    running = jobs.get(job.id, user.id)
    assert running.status == "running"
    assert running.stage == "animate" and running.percent in (40.0, 60.0)
    assert running.started_at is not None and running.finished_at is None
    jobs_env.release.set()
    wait_for(lambda: jobs.get(job.id, user.id).status == "succeeded")
    assert jobs_env.threads[0].startswith("tp-job")  # off the page thread


def test_default_runner_is_a_pool_sized_by_settings(
    jobs_env: fakes.Plan, settings_env: Callable[..., None]
) -> None:
    settings_env(limits__workers=3)
    background_tasks.set_executor(None)
    runner = background_tasks.get_runner()
    assert isinstance(runner, ThreadPoolJobExecutor) and runner.workers == 3
    assert background_tasks.get_runner() is runner


def test_png_photos_keep_their_format(jobs_env: fakes.Plan, user: accounts.UserView) -> None:
    submit(user.id, photo=make_photo("PNG"))
    assert jobs_env.requests[0].photo_path.suffix == ".png"


def test_job_views_are_frozen_values(user: accounts.UserView) -> None:
    job = submit(user.id)
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.status = "failed"  # type: ignore[misc]
    assert isinstance(job.params, jobs.JobParams) and job.params.voice == "fake-en-2"


# -------------------------------------------------------------------------------- failures


def test_provider_rejection_shows_its_message_and_refunds(
    jobs_env: fakes.Plan, user: accounts.UserView, foundation_env: Path
) -> None:
    jobs_env.mode = "reject"
    job = submit(user.id)
    assert job.status == "failed"
    assert job.error_message == "The video service could not use this photo."
    assert stored_file(job.video_key) is None
    assert credits.balance(user.id) == 20
    assert ledger(user.id)[-2:] == [(f"job:{job.id}:debit", -1), (f"job:{job.id}:refund", 1)]
    with session_scope() as session:
        event = session.scalars(select(Event).where(Event.job_id == job.id)).one()
    assert (event.kind, event.level) == ("job.failed", "error")


def test_unexpected_error_is_user_safe_logged_and_redacted(
    jobs_env: fakes.Plan,
    settings_env: Callable[..., None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings_env(d_id__api_key="did_SECRET_key_987")
    user = accounts.current_user()
    jobs_env.mode = "crash"
    jobs_env.crash_text = "auth did_SECRET_key_987 rejected"
    with caplog.at_level(logging.ERROR, logger="talkingphoto.jobs"):
        job = submit(user.id)
    assert job.status == "failed"
    # Stored as its template and params, so a page can translate it; English on demand.
    assert (job.error_message, job.error_params) == (
        background_tasks.GENERIC_FAILURE,
        {"ref": job.id},
    )
    assert job.error_text == (
        "Something went wrong while making your video. Your credits were refunded. "
        f"Reference: {job.id}"
    )
    assert credits.balance(user.id) == 20
    # The operator gets the traceback under the same reference, without the secret.
    assert f"reference {job.id}" in caplog.text and "RuntimeError" in caplog.text
    assert "did_SECRET_key_987" not in caplog.text
    with session_scope() as session:
        detail = session.scalar(select(Job.error_detail).where(Job.id == job.id))
    assert detail is not None and "RuntimeError" in detail
    assert "did_SECRET_key_987" not in detail and "**********" in detail


def test_a_missing_photo_fails_cleanly(held: fakes.ManualExecutor, user: accounts.UserView) -> None:
    job = submit(user.id)
    with session_scope() as session:
        photo_key = session.scalar(select(Job.photo_key).where(Job.id == job.id))
    assert photo_key is not None
    media.delete(photo_key)
    held.run_all()
    failed = jobs.get(job.id, user.id)
    assert failed.status == "failed"
    assert failed.error_message is not None and "photo" in failed.error_message
    assert credits.balance(user.id) == 20


# ---------------------------------------------------------------------------------- cancel


def test_cancel_a_queued_job_refunds_at_once(
    jobs_env: fakes.Plan, held: fakes.ManualExecutor, user: accounts.UserView
) -> None:
    job = submit(user.id)
    assert job.status == "queued" and credits.balance(user.id) == 19
    cancelled = jobs.cancel(job.id, user.id)
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    assert credits.balance(user.id) == 20
    held.run_all()  # the worker picks it up later: nothing happens
    assert jobs.get(job.id, user.id).status == "cancelled"
    assert jobs_env.requests == []
    assert jobs.cancel(job.id, user.id).status == "cancelled"  # again: unchanged
    assert credits.balance(user.id) == 20


def test_cancel_a_running_job_stops_the_worker_and_refunds(
    jobs_env: fakes.Plan, pool: ThreadPoolJobExecutor, user: accounts.UserView
) -> None:
    jobs_env.mode = "block"
    job = submit(user.id)
    assert jobs_env.started.wait(10)
    flagged = jobs.cancel(job.id, user.id)
    assert flagged.status == "running" and flagged.cancel_requested
    wait_for(lambda: jobs.get(job.id, user.id).status == "cancelled")
    assert jobs_env.saw_cancel
    final = jobs.get(job.id, user.id)
    assert final.error_message is None and stored_file(final.video_key) is None
    assert credits.balance(user.id) == 20
    assert ledger(user.id)[-1] == (f"job:{job.id}:refund", 1)


# ---------------------------------------------------------------------------- queue limits


def test_per_user_limit(
    held: fakes.ManualExecutor, settings_env: Callable[..., None], foundation_env: Path
) -> None:
    settings_env(limits__max_active_jobs_per_user=2)
    user = accounts.current_user()
    submit(user.id)
    submit(user.id)
    files_before = media_files(foundation_env)
    with pytest.raises(QueueFull) as info:
        submit(user.id)
    assert "You already have 2 videos in progress" in info.value.user_message
    assert count(Job) == 2 and credits.balance(user.id) == 18
    assert media_files(foundation_env) == files_before  # the refused photo was not kept
    held.run_all()  # once they finish, the user may submit again
    assert submit(user.id).status == "queued"


def test_global_limit_says_busy(
    held: fakes.ManualExecutor, settings_env: Callable[..., None]
) -> None:
    settings_env(limits__max_queued_jobs=2, limits__max_active_jobs_per_user=5)
    first = accounts.get_or_create_user("a@example.com")
    second = accounts.get_or_create_user("b@example.com")
    submit(first.id)
    submit(second.id)
    with pytest.raises(QueueFull) as info:
        submit(second.id)
    assert info.value.user_message == "We are busy right now; please try again in a minute."
    assert count(Job) == 2


def test_insufficient_credits_creates_nothing(
    jobs_env: fakes.Plan, settings_env: Callable[..., None], foundation_env: Path
) -> None:
    settings_env(credits__signup_grant=1)
    user = accounts.current_user()
    long_script = "word " * 120  # about 35 s: two blocks
    with pytest.raises(InsufficientCredits) as info:
        submit(user.id, script=long_script)
    assert info.value.user_message == "This video needs 2 credits; you have 1."
    assert count(Job) == 0
    assert ledger(user.id) == [(f"grant:signup:{user.id}", 1)]
    assert media_files(foundation_env) == []
    assert jobs_env.requests == []


# --------------------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    ("change", "error", "text"),
    [
        ({"language": "xx"}, LanguageError, "Choose: en, hi"),
        ({"voice": "nobody"}, VoiceError, "fake-en-1, fake-en-2"),
        ({"language": "hi", "voice": "fake-en-1"}, VoiceError, "fake-hi-1"),
        ({"resolution": 999}, InputError, "480p, 720p, 1080p"),
        ({"aspect": "4:3"}, InputError, "9:16"),
        ({"captions": "maybe"}, InputError, "none, srt, burn"),
        ({"speed": 3.0}, InputError, "between 0.5 and 2"),
    ],
)
def test_bad_choices_are_refused_before_anything_is_stored(
    user: accounts.UserView,
    foundation_env: Path,
    change: dict[str, object],
    error: type[Exception],
    text: str,
) -> None:
    with pytest.raises(error, match=text):
        submit(user.id, params=params(**change))
    assert count(Job) == 0 and credits.balance(user.id) == 20
    assert media_files(foundation_env) == []


def test_script_is_cleaned_and_validated(user: accounts.UserView) -> None:
    with pytest.raises(ScriptError):
        submit(user.id, script="   ")
    job = submit(user.id, script="Hi\x00 there\x07")
    assert job.script == "Hi there"


# ------------------------------------------------------------------------ double submits


def test_same_idempotency_key_creates_one_job(
    jobs_env: fakes.Plan, user: accounts.UserView
) -> None:
    first = submit(user.id, idempotency_key="click-1")
    again = submit(user.id, idempotency_key="click-1")
    assert again.id == first.id
    assert count(Job) == 1 and credits.balance(user.id) == 19
    assert len(jobs_env.requests) == 1
    assert submit(user.id, idempotency_key="click-2").id != first.id


def test_a_job_handed_to_the_runner_twice_runs_once(
    jobs_env: fakes.Plan, held: fakes.ManualExecutor, user: accounts.UserView
) -> None:
    job = submit(user.id)
    background_tasks.enqueue(job.id)
    held.run_all()
    assert len(jobs_env.requests) == 1
    with session_scope() as session:
        attempts = session.scalar(select(Job.attempts).where(Job.id == job.id))
    assert attempts == 1


# ---------------------------------------------------------------------- crash recovery


def leave_running(job_id: str, **values: object) -> None:
    """What a crash leaves: the row says 'running' and nobody is running it."""
    with session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="running", started_at=utcnow(), attempts=1, **values)
        )


def test_recovery_fails_and_refunds_orphans_exactly_once(
    jobs_env: fakes.Plan, held: fakes.ManualExecutor, user: accounts.UserView
) -> None:
    orphan = submit(user.id)
    leave_running(orphan.id)
    assert credits.balance(user.id) == 19
    held.submitted.clear()  # the process died: its in-memory queue is gone

    report = background_tasks.recover_jobs()
    assert report.failed == 1
    again = background_tasks.recover_jobs()
    assert again.failed == 0

    job = jobs.get(orphan.id, user.id)
    assert job.status == "failed"
    assert job.error_message == background_tasks.RESTART_FAILURE
    assert credits.balance(user.id) == 20
    refs = [ref for ref, _ in ledger(user.id)]
    assert refs.count(f"job:{orphan.id}:refund") == 1
    assert sum(amount for _, amount in ledger(user.id)) == credits.balance(user.id)
    assert jobs_env.requests == []


def test_recovery_runs_queued_jobs_again(
    jobs_env: fakes.Plan, held: fakes.ManualExecutor, user: accounts.UserView
) -> None:
    waiting = submit(user.id)
    held.submitted.clear()  # lost with the old process
    background_tasks.set_executor(background_tasks.SyncExecutor())
    report = background_tasks.recover_jobs()
    assert report.requeued == 1
    assert jobs.get(waiting.id, user.id).status == "succeeded"
    assert credits.balance(user.id) == 19  # charged once, delivered once


def test_recovery_settles_a_cancel_that_was_in_flight(
    held: fakes.ManualExecutor, user: accounts.UserView
) -> None:
    job = submit(user.id)
    leave_running(job.id, cancel_requested=True)
    assert background_tasks.recover_jobs().cancelled == 1
    assert jobs.get(job.id, user.id).status == "cancelled"
    assert credits.balance(user.id) == 20


def test_recovery_resumes_a_cloud_job_instead_of_paying_twice(
    jobs_env: fakes.Plan, held: fakes.ManualExecutor, user: accounts.UserView
) -> None:
    job = submit(user.id)
    leave_running(job.id, remote_id="tlk_remote_42")
    held.submitted.clear()
    report = background_tasks.recover_jobs()
    assert (report.resumed, report.requeued) == (1, 1)
    held.run_all()
    assert jobs_env.remote_ids == ["tlk_remote_42"]  # the provider was told to resume
    assert jobs.get(job.id, user.id).status == "succeeded"
    assert credits.balance(user.id) == 19


def test_remote_id_is_saved_as_soon_as_the_provider_has_one(
    jobs_env: fakes.Plan, user: accounts.UserView
) -> None:
    jobs_env.new_remote_id = "vid_abc"
    job = submit(user.id)
    with session_scope() as session:
        assert session.scalar(select(Job.remote_id).where(Job.id == job.id)) == "vid_abc"


# ---------------------------------------------------------------- ownership, delete, retry


def test_other_users_jobs_are_not_found(user: accounts.UserView) -> None:
    job = submit(user.id)
    stranger = accounts.get_or_create_user("stranger@example.com")
    for action in (jobs.get, jobs.cancel, jobs.delete, jobs.retry):
        with pytest.raises(JobNotFound):
            action(job.id, stranger.id)
    with pytest.raises(JobNotFound):
        jobs.get("no-such-job", user.id)
    assert jobs.list_for_user(stranger.id) == []


def test_list_is_newest_first(user: accounts.UserView) -> None:
    ids = [submit(user.id).id for _ in range(3)]
    # Same-second submits: make the order unambiguous.
    with session_scope() as session:
        for offset, job_id in enumerate(ids):
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(created_at=utcnow() + timedelta(seconds=offset))
            )
    assert [job.id for job in jobs.list_for_user(user.id)] == ids[::-1]
    assert len(jobs.list_for_user(user.id, limit=2)) == 2


def test_delete_removes_files_and_row(user: accounts.UserView, foundation_env: Path) -> None:
    job = submit(user.id)
    assert len(media_files(foundation_env)) == 5  # photo, video, thumbnail, srt, vtt
    jobs.delete(job.id, user.id)
    assert media_files(foundation_env) == []
    with pytest.raises(JobNotFound):
        jobs.get(job.id, user.id)
    assert credits.balance(user.id) == 19  # a delivered video stays paid


def test_delete_refuses_an_active_job(held: fakes.ManualExecutor, user: accounts.UserView) -> None:
    job = submit(user.id)
    with pytest.raises(JobError, match="cancel it first"):
        jobs.delete(job.id, user.id)


def test_retry_makes_a_new_paid_job_from_the_same_input(
    jobs_env: fakes.Plan, user: accounts.UserView
) -> None:
    jobs_env.mode = "reject"
    failed = submit(user.id, params=params(captions="none", speed=1.25))
    jobs_env.mode = "ok"
    retried = jobs.retry(failed.id, user.id)
    assert retried.id != failed.id and retried.status == "succeeded"
    assert retried.script == failed.script and retried.params == failed.params
    first, second = jobs_env.requests
    assert first.photo_path.read_bytes() == second.photo_path.read_bytes()
    assert first.photo_path != second.photo_path  # deleting one job keeps the other's photo
    assert credits.balance(user.id) == 19
    with pytest.raises(JobError, match="Only a failed or cancelled"):
        jobs.retry(retried.id, user.id)


# ------------------------------------------------------------- throttling and isolation


def test_progress_writes_are_throttled(jobs_env: fakes.Plan, user: accounts.UserView) -> None:
    now = [0.0]
    writer = ProgressWriter(submit(user.id).id, clock=lambda: now[0])
    for i in range(200):  # one call per frame within 0.4 s
        now[0] = i * 0.002
        writer("animate", i / 2)
    assert writer.writes == 1
    writer("encode", 99.0)  # a new stage is written at once
    assert writer.writes == 2
    now[0] += 0.5
    writer("encode", 99.5)
    assert writer.writes == 3


def test_cancel_flag_is_read_at_most_twice_a_second(
    held: fakes.ManualExecutor, user: accounts.UserView
) -> None:
    job = submit(user.id)
    now = [0.0]
    poller = CancelPoller(job.id, clock=lambda: now[0])
    for i in range(100):
        now[0] = i * 0.004
        assert poller() is False
    assert poller.reads == 1
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job.id).values(cancel_requested=True))
    now[0] = 0.6
    assert poller() is True and poller.reads == 2
    now[0] = 5.0
    assert poller() is True and poller.reads == 2  # once seen, no more reads


def test_a_busy_database_does_not_fail_the_cancel_check(
    held: fakes.ManualExecutor, user: accounts.UserView, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contextlib import contextmanager

    from sqlalchemy.exc import OperationalError

    job = submit(user.id)
    now = [0.0]
    poller = CancelPoller(job.id, clock=lambda: now[0])
    real = background_tasks.read_scope

    @contextmanager
    def locked():  # type: ignore[no-untyped-def]
        raise OperationalError("BEGIN", {}, Exception("database is locked"))
        yield

    monkeypatch.setattr(background_tasks, "read_scope", locked)
    assert poller() is False and poller.reads == 0  # skipped, not raised
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job.id).values(cancel_requested=True))
    monkeypatch.setattr(background_tasks, "read_scope", real)
    now[0] = 0.6
    assert poller() is True and poller.reads == 1  # the next check reads the flag


def test_media_keys_cannot_escape_the_media_folder(foundation_env: Path) -> None:
    for bad in ("../x", "/etc/passwd", "jobs/../../x", "jobs\\x", "", "jobs//x"):
        with pytest.raises(ValueError):
            media.put(bad, b"x")
    key = media.put(media.job_key("j1", "photo.jpg"), b"data")
    assert media.local_path(key).read_bytes() == b"data" and media.exists(key)
    media.delete(key)
    media.delete(key)  # twice is fine
    assert not media.exists(key)
    assert (foundation_env / "media" / "jobs").is_dir()  # shared top folder stays
    assert not (foundation_env / "media" / "jobs" / "j1").exists()


def test_a_video_shorter_than_estimated_is_repriced_once_through_the_ledger(
    jobs_env: fakes.Plan, user: accounts.UserView
) -> None:
    # About 50 s of speech by the estimate (2 blocks of 30 s); the video is 4.2 s (1 block).
    long_script = " ".join(["This sentence pads the script to a longer estimate."] * 14)
    estimate = jobs.job_cost(long_script, params(), "fake")
    assert estimate == 2
    job = submit(user.id, script=long_script)
    assert job.status == "succeeded" and job.duration_s == pytest.approx(4.2)
    assert job.cost_credits == 1
    entries = dict(ledger(user.id))
    assert entries[f"job:{job.id}:debit"] == -2 and entries[f"job:{job.id}:adjust"] == 1
    assert credits.balance(user.id) == 20 - 1
    # Settling again (a retried success, a second worker) moves nothing more.
    with session_scope() as session:
        assert credits.adjust_job(session, user.id, job.id, 1, "again") == 0
    assert credits.balance(user.id) == 19


def test_a_video_longer_than_estimated_costs_no_more_than_the_estimate() -> None:
    from services.job_spec import JobParams, final_cost

    p = JobParams(language="en", provider="local")
    script = "A short line."
    assert final_cost(script, p, "local", duration_s=95.0) == jobs.job_cost(script, p, "local")
    assert final_cost(script, p, "local", duration_s=3.0) == 1
