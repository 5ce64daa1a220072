"""Fault injection: the app keeps its promises when the process, the disk or the database fails.

Promises checked after every fault: the job ends in a clear state (resumed, or failed with a
user-safe message), the creator's credits balance (a failed job is refunded exactly once),
and no output file is left behind. Vendor faults (timeouts mid-poll, bursts of 5xx) are in
the providers' contract suite; storage failing at save is in the storage tests.
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

import background_tasks
from db.models import CreditEntry, Job
from db.session import get_engine, session_scope
from services import accounts, credits, jobs, media
from tests import fakes
from tests.fakes import stored_file
from tests.test_jobs import SCRIPT, make_photo, params

ROOT = Path(__file__).resolve().parents[1]

# A child process that runs one job on the blocking fake provider and says when it started.
CHILD = """
import sys, threading
sys.path.insert(0, {root!r})
import providers, background_tasks
from tests import fakes
providers.REGISTRY["fake"] = fakes.FAKE_PROVIDER
plan = fakes.PLAN
plan.mode = "block"
plan.new_remote_id = sys.argv[2] or None
def announce():
    plan.started.wait()
    print("started", flush=True)
threading.Thread(target=announce, daemon=True).start()
background_tasks.run_job(sys.argv[1])
print("finished", flush=True)
"""


@pytest.fixture
def held(jobs_env: fakes.Plan) -> Iterator[fakes.ManualExecutor]:
    """Jobs stay queued until a test runs them (or hands them to another process)."""
    executor = fakes.ManualExecutor()
    previous = background_tasks.set_executor(executor)
    yield executor
    background_tasks.set_executor(previous)


@pytest.fixture
def user(foundation_env: Path) -> accounts.UserView:
    return accounts.get_or_create_user("faults@example.com", "Fault Tester")


def _ledger_sum(user_id: int) -> int:
    with session_scope() as session:
        amounts = session.scalars(select(CreditEntry.amount).where(CreditEntry.user_id == user_id))
        return sum(amounts)


def _job_files(job_id: str) -> set[str]:
    folder = media.root() / "jobs" / job_id
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _run_child_until_started(job_id: str, remote_id: str = "") -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(root=str(ROOT)), job_id, remote_id],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),  # the test's settings file and data folder
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "started", proc.stderr.read() if proc.stderr else line
    return proc


@pytest.mark.slow
def test_process_killed_mid_job_is_failed_and_refunded_after_restart(
    held: fakes.ManualExecutor, user: accounts.UserView
) -> None:
    before = credits.balance(user.id)
    job = jobs.submit(user.id, photo=make_photo(), script=SCRIPT, params=params())
    assert credits.balance(user.id) == before - job.cost_credits
    proc = _run_child_until_started(job.id)
    assert jobs.get(job.id, user.id).status == "running"
    proc.send_signal(signal.SIGKILL)  # no cleanup, no finally blocks: a real crash
    proc.wait(timeout=30)

    report = background_tasks.recover_jobs()  # what the next process does at start

    assert report.failed == 1
    view = jobs.get(job.id, user.id)
    assert view.status == "failed"
    assert "restarted" in (view.error_text or "")
    assert credits.balance(user.id) == before == _ledger_sum(user.id)
    assert _job_files(job.id) <= {name for name in _job_files(job.id) if name.startswith("photo")}
    background_tasks.recover_jobs()  # a second start refunds nothing more
    assert credits.balance(user.id) == before


@pytest.mark.slow
def test_process_killed_mid_cloud_job_resumes_the_remote_job_instead_of_paying_again(
    held: fakes.ManualExecutor, user: accounts.UserView, jobs_env: fakes.Plan
) -> None:
    before = credits.balance(user.id)
    job = jobs.submit(user.id, photo=make_photo(), script=SCRIPT, params=params())
    proc = _run_child_until_started(job.id, remote_id="vendor-job-42")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with session_scope() as session:
        assert session.get_one(Job, job.id).remote_id == "vendor-job-42"

    report = background_tasks.recover_jobs()
    assert report.resumed == 1
    held.run_all()  # the restarted worker picks the job up again

    view = jobs.get(job.id, user.id)
    assert view.status == "succeeded"
    assert jobs_env.remote_ids == ["vendor-job-42"]  # resumed with the saved vendor id
    assert credits.balance(user.id) == before - job.cost_credits  # charged once


@pytest.mark.slow
def test_disk_full_while_encoding_fails_the_job_cleanly(
    foundation_env: Path,
    user: accounts.UserView,
    astronaut_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ffmpeg (the real encoder, a child process) may not write more than 64 KB: the write
    fails mid-video as on a full disk. The job fails with a user-safe message, the credits
    come back, and no partial video is stored."""
    from providers.local import encode
    from services.photos import prepare_photo

    real_popen = subprocess.Popen

    def tiny_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    def popen(cmd: list[str], *args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        if cmd and "ffmpeg" in Path(str(cmd[0])).name:
            kwargs["preexec_fn"] = tiny_disk
        return real_popen(cmd, *args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(encode.subprocess, "Popen", popen)
    previous = background_tasks.set_executor(background_tasks.SyncExecutor())
    try:
        before = credits.balance(user.id)
        photo = prepare_photo(astronaut_path.read_bytes())
        job = jobs.submit(
            user.id,
            photo=photo,
            script="Hello there. This video will not fit on the disk, and that is fine.",
            params=jobs.JobParams(language="en", provider="local", resolution=720),
        )
    finally:
        background_tasks.set_executor(previous)

    view = jobs.get(job.id, user.id)
    assert view.status == "failed"
    assert view.error_text and "Traceback" not in view.error_text
    assert credits.balance(user.id) == before == _ledger_sum(user.id)
    leftovers = {name for name in _job_files(job.id) if not name.startswith("photo")}
    assert leftovers == set(), leftovers
    assert stored_file(view.video_key) is None or not Path(stored_file(view.video_key)).exists()


def test_database_locked_for_a_while_does_not_lose_the_job(
    jobs_env: fakes.Plan, user: accounts.UserView
) -> None:
    """Another writer holds SQLite's write lock for 1.5 s while the worker reports progress
    and finishes: writers wait (busy_timeout) instead of failing the job."""
    if get_engine().dialect.name != "sqlite":
        pytest.skip("SQLite's file lock; a server database has row locks instead")
    before = credits.balance(user.id)
    executor = background_tasks.ThreadPoolJobExecutor(1)
    previous = background_tasks.set_executor(executor)
    jobs_env.mode = "block"
    locked = threading.Event()
    unlock = threading.Event()

    def hold_lock() -> None:
        # A plain sqlite3 connection: another program (a backup, a second replica) writing.
        conn = sqlite3.connect(str(get_engine().url.database), isolation_level=None)
        try:
            conn.execute("BEGIN EXCLUSIVE")
            locked.set()
            unlock.wait(60)
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    try:
        job = jobs.submit(user.id, photo=make_photo(), script=SCRIPT, params=params())
        assert jobs_env.started.wait(120)
        holder = threading.Thread(target=hold_lock)
        holder.start()
        assert locked.wait(60)
        jobs_env.release.set()  # the fake finishes and the runner must write its result
        time.sleep(1.5)
        unlock.set()
        holder.join(10)
        deadline = time.monotonic() + 30
        while jobs.get(job.id, user.id).active and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        unlock.set()
        background_tasks.set_executor(previous)
        executor.shutdown(wait=True)

    view = jobs.get(job.id, user.id)
    assert view.status == "succeeded"
    assert credits.balance(user.id) == before - job.cost_credits == _ledger_sum(user.id)
