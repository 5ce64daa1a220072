"""Scale-out without servers: the heartbeat reaper, fenced claims, the [jobs] settings, and
``cli.py submit`` / ``cli.py job`` with the thread executor. (The same paths against real
Redis, Postgres and Celery worker processes are in tests/test_scale_servers.py.)"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

import background_tasks
import cli
from db.models import CreditEntry, Job, utcnow
from db.session import session_scope
from errors import ConfigError
from secrets_manager import get_settings, load_settings
from services import accounts, credits, job_status, jobs
from services.celery_app import CeleryExecutor, make_app
from tests import fakes
from tests.test_jobs import SCRIPT, submit


def wait_for(predicate: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def row(job_id: str) -> Job:
    with session_scope() as session:
        return session.get_one(Job, job_id)


def job_ledger(job_id: str) -> list[tuple[str, int]]:
    with session_scope() as session:
        rows = session.execute(
            select(CreditEntry.reference, CreditEntry.amount)
            .where(CreditEntry.reference.like(f"job:{job_id}:%"))
            .order_by(CreditEntry.id)
        ).all()
    return [(ref, amount) for ref, amount in rows]


def as_if_claimed_by_a_dead_worker(job_id: str, *, heartbeat_age_s: float = 120.0) -> None:
    """The row a worker leaves when it is killed mid-render: running, its name, an old beat."""
    then = utcnow() - timedelta(seconds=heartbeat_age_s)
    with session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status="running",
                stage="animate",
                percent=40.0,
                attempts=Job.attempts + 1,
                worker="dead-worker",
                started_at=then,
                heartbeat_at=then,
            )
        )


@pytest.fixture
def held(jobs_env: fakes.Plan) -> fakes.ManualExecutor:
    executor = fakes.ManualExecutor()
    background_tasks.set_executor(executor)
    return executor


# ------------------------------------------------------------------------------ the reaper


def test_a_dead_workers_job_is_requeued_finishes_elsewhere_and_is_charged_once(
    held: fakes.ManualExecutor,
) -> None:
    user = accounts.current_user()
    job = submit(user.id)
    held.submitted.clear()  # the first delivery went to the worker that then died
    as_if_claimed_by_a_dead_worker(job.id)

    report = background_tasks.reap_stale_jobs()

    assert report.requeued == (job.id,)
    assert row(job.id).status == "queued" and row(job.id).heartbeat_at is None
    assert [args for _fn, args in held.submitted] == [(job.id,)]  # handed to the runner again
    held.run_all()
    done = row(job.id)
    assert done.status == "succeeded"
    assert done.worker == background_tasks.worker_name() != "dead-worker"
    assert done.attempts == 2
    assert job_ledger(job.id) == [(credits.job_debit_reference(job.id), -job.cost_credits)]
    assert credits.balance(user.id) == 20 - job.cost_credits
    assert job_status.describe(job.id)["credits_charged"] == job.cost_credits


def test_a_live_heartbeat_is_left_alone(held: fakes.ManualExecutor) -> None:
    job = submit(accounts.current_user().id)
    as_if_claimed_by_a_dead_worker(job.id, heartbeat_age_s=5.0)  # default stale_after_s: 60
    assert background_tasks.reap_stale_jobs() == background_tasks.ReapReport()
    assert row(job.id).status == "running"


def test_a_stale_job_flagged_for_cancel_is_cancelled_and_refunded(
    held: fakes.ManualExecutor,
) -> None:
    user = accounts.current_user()
    job = submit(user.id)
    held.submitted.clear()
    as_if_claimed_by_a_dead_worker(job.id)
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job.id).values(cancel_requested=True))

    report = background_tasks.reap_stale_jobs()

    assert report.cancelled == 1 and report.requeued == () and held.submitted == []
    assert row(job.id).status == "cancelled"
    assert credits.balance(user.id) == 20
    assert job_status.describe(job.id)["credits_charged"] == 0


def test_a_job_whose_workers_keep_dying_fails_once_with_a_refund(
    held: fakes.ManualExecutor,
) -> None:
    user = accounts.current_user()
    job = submit(user.id)
    held.submitted.clear()
    for _ in range(background_tasks.MAX_RESUME_ATTEMPTS):
        as_if_claimed_by_a_dead_worker(job.id)
        background_tasks.reap_stale_jobs()
    failed = row(job.id)
    assert failed.status == "failed" and failed.attempts == background_tasks.MAX_RESUME_ATTEMPTS
    assert failed.error_message == background_tasks.RESTART_FAILURE
    assert credits.balance(user.id) == 20
    assert len(held.submitted) == background_tasks.MAX_RESUME_ATTEMPTS - 1


def test_a_worker_whose_claim_was_taken_back_stops_and_writes_nothing(
    jobs_env: fakes.Plan, settings_env: Callable[..., None]
) -> None:
    """A worker that was only slow (its heartbeat looked stale) must not finish, fail or
    refund the job that another claim now owns."""
    settings_env(jobs__heartbeat_s=0.5, jobs__stale_after_s=2)
    pool = background_tasks.ThreadPoolJobExecutor(workers=1)
    background_tasks.set_executor(pool)
    plan = jobs_env
    plan.mode = "block"
    user = accounts.current_user()
    job = submit(user.id)
    assert plan.started.wait(60)
    assert row(job.id).attempts == 1

    # Everything running counts as stale with a zero threshold: the live claim is taken back.
    assert background_tasks.reap_stale_jobs(stale_after_s=0.0).requeued == (job.id,)
    wait_for(lambda: plan.saw_cancel)  # the first claim's heartbeat found it lost and stopped
    plan.release.set()
    wait_for(lambda: row(job.id).status == "succeeded")

    done = row(job.id)
    assert done.attempts == 2 and done.cancel_requested is False
    assert job_ledger(job.id) == [(credits.job_debit_reference(job.id), -job.cost_credits)]
    assert len(plan.requests) == 2


def test_the_heartbeat_touches_the_row_while_the_job_runs(
    jobs_env: fakes.Plan, settings_env: Callable[..., None]
) -> None:
    settings_env(jobs__heartbeat_s=0.5, jobs__stale_after_s=2)
    background_tasks.set_executor(background_tasks.ThreadPoolJobExecutor(workers=1))
    jobs_env.mode = "block"
    job = submit(accounts.current_user().id)
    assert jobs_env.started.wait(60)
    first = row(job.id).heartbeat_at
    assert first is not None
    wait_for(lambda: (row(job.id).heartbeat_at or first) > first)
    # A live worker's job is never reaped with the configured threshold.
    assert background_tasks.reap_stale_jobs().requeued == ()
    jobs_env.release.set()
    wait_for(lambda: row(job.id).status == "succeeded")


# ---------------------------------------------------------------------------- the settings


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TALKINGPHOTO__JOBS__EXECUTOR": "celery"}, "needs broker_url"),
        ({"TALKINGPHOTO__JOBS__BROKER_URL": "amqp://x"}, "expected a Redis URL"),
        ({"TALKINGPHOTO__JOBS__EXECUTOR": "rq"}, "executor"),
        (
            {"TALKINGPHOTO__JOBS__HEARTBEAT_S": "40", "TALKINGPHOTO__JOBS__STALE_AFTER_S": "60"},
            "at least twice heartbeat_s",
        ),
    ],
)
def test_bad_jobs_settings_are_refused_by_name(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    empty = tmp_path / "secrets.toml"
    empty.write_text("", "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(empty, environ=env)
    shown = f"{caught.value.user_message} {caught.value.detail or ''}"
    assert "jobs" in shown and message in shown


def test_the_broker_password_is_a_secret(tmp_path: Path) -> None:
    empty = tmp_path / "secrets.toml"
    empty.write_text("", "utf-8")
    settings = load_settings(
        empty,
        environ={
            "TALKINGPHOTO__JOBS__EXECUTOR": "celery",
            "TALKINGPHOTO__JOBS__BROKER_URL": "redis://:s3cret-broker-pw@redis.internal:6379/0",
        },
    )
    assert "s3cret-broker-pw" in settings.secret_values()
    assert "s3cret-broker-pw" not in repr(settings.jobs)


def test_the_celery_app_acks_late_and_prefetches_one(settings_env: Callable[..., None]) -> None:
    settings_env(
        jobs__executor="celery", jobs__broker_url="redis://127.0.0.1:1/0", limits__workers=3
    )
    conf = make_app(get_settings()).conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_concurrency == 3


def test_the_celery_executor_queues_the_job_id_only(settings_env: Callable[..., None]) -> None:
    settings_env(jobs__executor="celery", jobs__broker_url="redis://127.0.0.1:1/0")
    sent: list[tuple[str, object]] = []

    class Recorder:
        def send_task(self, name: str, args: object, queue: str) -> None:
            sent.append((name, args))

    executor = CeleryExecutor(get_settings(), app=Recorder())  # type: ignore[arg-type]
    executor.submit(background_tasks.run_job, "job-1")
    assert sent == [("talkingphoto.run_job", ["job-1"])]
    with pytest.raises(TypeError):
        executor.submit(print, "job-1")


def test_with_celery_a_starting_replica_leaves_running_jobs_to_the_reaper(
    held: fakes.ManualExecutor, settings_env: Callable[..., None]
) -> None:
    job = submit(accounts.current_user().id)
    as_if_claimed_by_a_dead_worker(job.id, heartbeat_age_s=1.0)  # alive on another machine
    settings_env(jobs__executor="celery", jobs__broker_url="redis://127.0.0.1:1/0")
    assert background_tasks.recover_jobs() == background_tasks.RecoveryReport()
    assert row(job.id).status == "running"


# ------------------------------------------------------------------- cli.py submit and job


def test_cli_submit_and_job_with_the_thread_executor(
    jobs_env: fakes.Plan, astronaut_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["submit", "--photo", str(astronaut_path), "--script", SCRIPT, "--language", "en"]
    argv += ["--provider", "fake", "--voice", "fake-en-2", "--email", "New@Example.com"]
    assert cli.main([*argv, "--json"]) == 0
    job_id = json.loads(capsys.readouterr().out)["job_id"]

    assert cli.main(["job", job_id, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "succeeded"
    assert report["worker"] == background_tasks.worker_name()
    assert report["credits_charged"] == 1
    assert report["duration_s"] == pytest.approx(jobs_env.duration_s)
    creator = accounts.get_or_create_user("new@example.com")
    assert report["user_id"] == creator.id
    assert credits.balance(creator.id) == get_settings().credits.signup_grant - 1


def test_cli_submit_a_csv_batch(
    jobs_env: fakes.Plan, astronaut_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "batch.csv"
    batch.write_text(
        "photo,script,language,email\n"
        f"{astronaut_path},Hello from row one.,en,one@example.com\n"
        f"{astronaut_path},Hello from row two.,en,two@example.com\n",
        "utf-8",
    )
    argv = ["submit", "--csv", str(batch), "--provider", "fake", "--voice", "fake-en-1", "--json"]
    assert cli.main(argv) == 0
    ids = json.loads(capsys.readouterr().out)["job_ids"]
    assert len(ids) == 2
    owners = {job_status.describe(i)["user_id"] for i in ids}
    assert owners == {
        accounts.get_or_create_user("one@example.com").id,
        accounts.get_or_create_user("two@example.com").id,
    }
    assert {job_status.describe(i)["status"] for i in ids} == {"succeeded"}


def test_cli_job_unknown_and_submit_bad_input(
    jobs_env: fakes.Plan, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["job", "no-such-job"])
    assert caught.value.code == 1
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        cli.main(["submit", "--script", "Hi", "--language", "en"])
    assert caught.value.code == 2
    assert jobs.list_for_user(accounts.current_user().id) == []


def test_a_cloud_job_whose_worker_died_resumes_its_vendor_job_instead_of_paying_again(
    jobs_env: fakes.Plan, held: fakes.ManualExecutor
) -> None:
    """The vendor accepted the job (its id is on the row) and then the worker was killed:
    the reaper re-queues it, and the next worker polls that remote job rather than
    creating a second one; the creator pays once."""
    user = accounts.current_user()
    job = submit(user.id)
    held.submitted.clear()
    as_if_claimed_by_a_dead_worker(job.id)
    with session_scope() as session:
        session.execute(
            update(Job).where(Job.id == job.id).values(remote_id="vendor-42", provider_used="fake")
        )

    assert background_tasks.reap_stale_jobs().requeued == (job.id,)
    held.run_all()

    assert jobs_env.remote_ids == ["vendor-42"]  # resumed: handed the saved id
    assert row(job.id).status == "succeeded"
    assert job_ledger(job.id) == [(credits.job_debit_reference(job.id), -job.cost_credits)]


def _backdate(job_id: str, seconds: float) -> None:
    with session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(updated_at=utcnow() - timedelta(seconds=seconds))
        )


def test_a_queued_job_whose_message_never_reached_the_broker_is_sent_again(
    held: fakes.ManualExecutor, settings_env: Callable[..., None]
) -> None:
    """The app committed the job and died before sending its id: no hand-off is noted on
    the row, so after stale_after_s the reaper sends it; a job that was handed off, or is
    younger than the threshold, is left to the queue."""
    settings_env(limits__max_active_jobs_per_user=5)
    user = accounts.current_user()
    lost, sent, fresh = (submit(user.id, script=f"{SCRIPT} {i}") for i in range(3))
    held.submitted.clear()
    background_tasks.mark_sent(sent.id)
    _backdate(lost.id, 120)
    _backdate(sent.id, 120)

    report = background_tasks.reap_stale_jobs()

    assert report.resent == (lost.id,) and report.requeued == ()
    assert [args for _fn, args in held.submitted] == [(lost.id,)]
    held.run_all()
    assert row(lost.id).status == "succeeded"
    assert row(sent.id).status == row(fresh.id).status == "queued"


def test_the_celery_executor_notes_each_hand_off_on_the_row(
    held: fakes.ManualExecutor, settings_env: Callable[..., None]
) -> None:
    job = submit(accounts.current_user().id)
    assert row(job.id).heartbeat_at is None
    settings_env(jobs__executor="celery", jobs__broker_url="redis://127.0.0.1:1/0")

    class Recorder:
        def send_task(self, name: str, args: object, queue: str) -> None:
            return None

    executor = CeleryExecutor(
        get_settings(),
        app=Recorder(),  # type: ignore[arg-type]
        on_sent=background_tasks.mark_sent,
    )
    executor.submit(background_tasks.run_job, job.id)
    assert row(job.id).heartbeat_at is not None
    _backdate(job.id, 120)
    assert background_tasks.reap_stale_jobs().resent == ()
