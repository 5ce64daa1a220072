"""The job runner: executes queued video jobs off the page thread and records every step.

The database row is the truth; this module only moves a row through its life:

    queued ──claim──> running ──> succeeded            (files stored, duration, notes)
       │                 ├──────> failed   + refund   (message template + params; details logged)
       └──cancel──> cancelled + refund <── cancel flag seen by the worker

``run_job(job_id)`` is the whole job function, and the only thing an executor runs, so a
Celery worker (scale-out) calls it unchanged. Executors implement :class:`Executor`:
:class:`ThreadPoolJobExecutor` (a bounded pool in the Streamlit process, the default),
:class:`SyncExecutor` (inline, for tests) and, with ``[jobs] executor = "celery"``,
``services.celery_app.CeleryExecutor`` (the queue carries only the job id). Claiming is an
atomic ``UPDATE ... WHERE status='queued'``, so a job handed to the runner twice still runs
once.

Each claim bumps ``attempts`` and records the worker's name; the claimer then touches
``heartbeat_at`` every ``[jobs] heartbeat_s`` and writes the outcome only while ``attempts``
still equals its own claim (a fence). :func:`reap_stale_jobs` (run by the Celery workers on a
timer, one at a time under a database lock) puts a running job whose heartbeat is older than
``[jobs] stale_after_s`` back in the queue, so a job whose worker was killed finishes on
another one; a worker that was only slow finds its claim fenced off and stops.

Workers never import streamlit: pages poll the row (see ``services.jobs.get``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import and_, null, or_, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db.models import Event, Job, JobAttempt, utcnow
from db.session import read_scope, session_scope
from errors import N_, JobCancelled, JobError, TalkingPhotoError
from observability import memory
from providers import router
from providers.base import CancelToken, GenerationResult, JobContext
from secrets_manager import get_settings, redact
from services import credits, media, notify
from services.job_spec import (
    MEDIA_COLUMNS,
    PHOTO_GONE,
    RESULT_COLUMNS,
    JobParams,
    build_request,
    final_cost,
)

log = logging.getLogger("talkingphoto.jobs")

PROGRESS_EVERY_S = 0.5  # at most two progress writes per second per job (SQLite friendly)
CANCEL_CHECK_EVERY_S = 0.5  # the cancel flag is read from the database at most this often
MAX_RESUME_ATTEMPTS = 3  # a cloud job resumed after restarts this often is given up
DETAIL_MAX_CHARS = 8000
WORKER_NAME_ENV = "TALKINGPHOTO_WORKER_NAME"
REAPER_LOCK_KEY = 0x7461_6C6B  # pg_advisory_xact_lock key of the reaper ("talk")

GENERIC_FAILURE = N_(
    "Something went wrong while making your video. Your credits were refunded. Reference: {ref}"
)
RESTART_FAILURE = N_(
    "The app restarted while your video was being made. Your credits were refunded; "
    "please try again."
)


# ------------------------------------------------------------------------------- executors


class Executor(Protocol):
    """Runs ``fn(*args)`` some time later; never raises for the job's own failures."""

    def submit(self, fn: Callable[..., object], *args: Any) -> None: ...

    def shutdown(self, wait: bool = True) -> None: ...


class ThreadPoolJobExecutor:
    """A fixed number of worker threads (``[limits] workers``) in this process.

    Its queue is unbounded in memory, but the number of jobs it can be handed is bounded by
    ``[limits] max_queued_jobs`` in ``services.jobs.submit``.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tp-job")

    def submit(self, fn: Callable[..., object], *args: Any) -> None:
        future = self._pool.submit(fn, *args)
        future.add_done_callback(_log_unhandled)

    def shutdown(self, wait: bool = True) -> None:
        # Jobs not started stay 'queued' in the database; recover_jobs() re-submits them.
        self._pool.shutdown(wait=wait, cancel_futures=True)


def _log_unhandled(future: Future[object]) -> None:
    if not future.cancelled() and (exc := future.exception()) is not None:
        detail = redact("".join(traceback.format_exception(exc)))
        log.error("job runner: unhandled error outside a job\n%s", detail)


class SyncExecutor:
    """Runs each job inline, before ``submit`` returns (tests, AppTest, the CLI)."""

    def submit(self, fn: Callable[..., object], *args: Any) -> None:
        fn(*args)

    def shutdown(self, wait: bool = True) -> None:
        return None


_runner: Executor | None = None
_runner_lock = threading.Lock()


def get_runner() -> Executor:
    """The process's executor, unless one was set: a :class:`ThreadPoolJobExecutor`, or the
    Celery one with ``[jobs] executor = "celery"``."""
    global _runner
    with _runner_lock:
        if _runner is None:
            settings = get_settings()
            if settings.jobs.executor == "celery":
                # Imported here: Celery is an optional back end the default app never loads.
                from services.celery_app import CeleryExecutor

                _runner = CeleryExecutor(settings, on_sent=mark_sent)
            else:
                _runner = ThreadPoolJobExecutor(settings.limits.workers)
        return _runner


def worker_name() -> str:
    """This process's name on the job rows: ``TALKINGPHOTO_WORKER_NAME`` or the host name."""
    return (os.environ.get(WORKER_NAME_ENV) or socket.gethostname())[:100]


def set_executor(executor: Executor | None) -> Executor | None:
    """Replace the process executor (tests: ``SyncExecutor()``); returns the previous one.

    The previous executor is not shut down; ``None`` makes the next ``get_runner()`` build
    the default pool again.
    """
    global _runner
    with _runner_lock:
        previous, _runner = _runner, executor
        return previous


def enqueue(job_id: str) -> None:
    """Hand a committed, queued job to the runner."""
    get_runner().submit(run_job, job_id)


# ---------------------------------------------------------------------------- the job body


@dataclass(frozen=True)
class _Claim:
    id: str
    user_id: int
    provider: str
    script: str
    params: dict[str, Any]
    photo_key: str | None
    remote_id: str | None
    provider_used: str | None
    attempt: int  # the job's ``attempts`` after this claim: the fence for every write


def run_job(job_id: str) -> None:
    """Run one job to a terminal state. Returns quietly if the job is not queued any more.

    Every outcome is written to the row; failures and cancellations are refunded. Only
    ``BaseException`` (interpreter shutdown) escapes, leaving the row 'running' for
    :func:`recover_jobs`.
    """
    settings = get_settings()
    claim = _claim(job_id, worker_name())
    if claim is None:
        return
    # Per attempt: a re-queued job may land on another worker sharing this disk.
    work_dir = settings.app.data_dir / "work" / job_id / str(claim.attempt)
    heartbeat = Heartbeat(job_id, claim.attempt, every_s=settings.jobs.heartbeat_s)
    fence = claim.attempt
    try:
        heartbeat.start()
        shutil.rmtree(work_dir, ignore_errors=True)  # leftovers of an earlier run
        work_dir.mkdir(parents=True)
        result = _generate(claim, work_dir, heartbeat)
        _succeed(claim, result)
    except JobCancelled:
        _finish(job_id, "cancelled", None, None, attempt=fence)
    except TalkingPhotoError as exc:
        detail = f"{type(exc).__name__}: {exc.detail or exc.user_message}"
        log.warning("job %s failed: %s", job_id, redact(detail))
        _finish(job_id, "failed", exc, detail, attempt=fence)
    except Exception:
        # The job boundary: anything unexpected is a bug. The creator gets a safe message and
        # their credits back; the traceback goes to the log under the same reference.
        detail = traceback.format_exc()
        log.error("job %s failed unexpectedly (reference %s)\n%s", job_id, job_id, redact(detail))
        error = JobError(GENERIC_FAILURE, params={"ref": job_id})
        _finish(job_id, "failed", error, detail, attempt=fence)
    finally:
        heartbeat.stop()
        shutil.rmtree(work_dir, ignore_errors=True)
        with contextlib.suppress(OSError):  # the job's folder, unless another attempt works
            work_dir.parent.rmdir()
        memory.release_free_memory()  # a video's frames and buffers: back to the OS


def _claim(job_id: str, worker: str) -> _Claim | None:
    now = utcnow()
    with session_scope() as session:
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(
                status="running",
                started_at=now,
                updated_at=now,
                attempts=Job.attempts + 1,
                worker=worker,
                heartbeat_at=now,
            )
        ).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            return None
        job = session.get_one(Job, job_id)
        return _Claim(
            id=job.id,
            user_id=job.user_id,
            provider=job.provider,
            script=job.script,
            params=dict(job.params),
            photo_key=job.photo_key,
            remote_id=job.remote_id,
            provider_used=job.provider_used,
            attempt=job.attempts,
        )


def _generate(claim: _Claim, work_dir: Path, heartbeat: Heartbeat) -> GenerationResult:
    """The router picks the provider (fallback, breakers) and records each attempt; a job
    with a saved remote id resumes on the provider that accepted it."""
    if claim.photo_key is None or not media.exists(claim.photo_key):
        raise JobError(PHOTO_GONE)
    photo = media.materialize(claim.photo_key, work_dir)
    request = build_request(photo, claim.script, claim.params)
    ctx = JobContext(
        work_dir=work_dir,
        progress=ProgressWriter(claim.id),
        # A claim the reaper took away (our heartbeat went stale) stops the work like a cancel.
        cancel=CancelToken(is_cancelled=_either(heartbeat.lost.is_set, CancelPoller(claim.id))),
        client_ref=claim.id,
        photo_url=media.public_url(claim.photo_key),
    )
    ctx.cancel.raise_if_cancelled()
    resume = None
    if claim.remote_id:
        owner = claim.provider_used or (claim.provider if claim.provider != router.AUTO else None)
        resume = (owner, claim.remote_id) if owner else None
    return router.generate(
        claim.provider, request, ctx, attempts=DbAttemptLog(claim.id), resume=resume
    )


def _store_results(job_id: str, result: GenerationResult) -> dict[str, str]:
    files = dict(
        zip(
            RESULT_COLUMNS,
            (result.video_path, result.thumbnail_path, result.srt_path, result.vtt_path),
            strict=True,
        )
    )
    stored: dict[str, str] = {}
    try:
        for column, path in files.items():
            if path is None or not Path(path).is_file():
                if column == "video_key":
                    raise JobError(detail=f"provider returned no video file at {path}")
                continue
            name = MEDIA_COLUMNS[column] + Path(path).suffix.lower()
            stored[column] = media.put(media.job_key(job_id, name), Path(path))
    except BaseException:
        for key in stored.values():
            media.delete(key)
        raise
    return stored


def _succeed(claim: _Claim, result: GenerationResult) -> None:
    keys = _store_results(claim.id, result)
    stored_bytes = media.total_size(claim.photo_key, *keys.values())  # "storage used"
    now = utcnow()
    used = result.provider or claim.provider
    with session_scope() as session:
        done = session.execute(
            update(Job)
            .where(Job.id == claim.id, Job.status == "running", Job.attempts == claim.attempt)
            .values(
                status="succeeded",
                stage="done",
                percent=100.0,
                duration_s=float(result.duration_s),
                provider_used=used,
                media_bytes=stored_bytes,
                voice=result.voice or None,
                notes=list(result.notes),
                error_message=None,
                error_params=null(),
                cancel_requested=False,
                finished_at=now,
                updated_at=now,
                **keys,
            )
        ).rowcount  # type: ignore[attr-defined]
        if done == 1:
            _charge_provider_used(session, claim, used, float(result.duration_s))
    if done != 1:  # deleted (or finished elsewhere) while we rendered: keep no orphans
        for key in keys.values():
            media.delete(key)
        return
    _notify(claim.id)


def _charge_provider_used(session: Any, claim: _Claim, used: str, duration_s: float) -> None:
    """The creator pays the price of the provider that made the video, for the length it
    really has (``job_spec.final_cost``): when that differs from the estimate charged at
    submit (auto fell back, or the video is shorter), one ``job:<id>:adjust`` entry settles
    the difference, so the job's ledger entries add up to exactly that price."""
    params = JobParams.from_dict(claim.params)
    final = final_cost(claim.script, params, used, duration_s)
    reason = f"price of {used} for {duration_s:.1f} s"
    if credits.adjust_job(session, claim.user_id, claim.id, final, reason):
        session.execute(update(Job).where(Job.id == claim.id).values(cost_credits=final))


def cancel_queued(job_id: str) -> bool:
    """queued -> cancelled + refund at once; False (no change) for any other status."""
    return _finish(job_id, "cancelled", None, None, ("queued",))


def _finish(
    job_id: str,
    status: str,
    error: TalkingPhotoError | None,
    detail: str | None,
    from_statuses: tuple[str, ...] = ("queued", "running"),
    *,
    attempt: int | None = None,
) -> bool:
    """``from_statuses`` -> failed|cancelled with a refund, in one transaction; False if the
    job was in another state (then nothing changes, so calling this twice refunds once).
    A worker passes its claim's ``attempt``: once the job was re-queued (or re-queued and
    claimed again), the old claim's outcome changes nothing.

    A failure stores ``error``'s template and params (pages translate them later); a
    cancellation stores no message."""
    shown = error if status == "failed" else None
    now = utcnow()
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None:
            return False
        guard = [Job.id == job_id, Job.status.in_(from_statuses)]
        if attempt is not None:  # a worker's claim: still running, and still this claim
            guard += [Job.status == "running", Job.attempts == attempt]
        changed = session.execute(
            update(Job)
            .where(*guard)
            .values(
                status=status,
                error_message=shown.template if shown else None,
                # SQL NULL, not JSON null: "no params" reads the same on every database.
                error_params=shown.params if shown and shown.params else null(),
                error_detail=_clip(redact(detail)) if detail else None,
                cancel_requested=False,
                finished_at=now,
                updated_at=now,
            )
        ).rowcount  # type: ignore[attr-defined]
        if changed != 1:
            return False
        credits.refund_job(session, job.user_id, job_id, f"refund: job {status}")
        # Attempts a dead process left open end with the job.
        session.execute(
            update(JobAttempt)
            .where(JobAttempt.job_id == job_id, JobAttempt.outcome == "running")
            .values(outcome=status, finished_at=now)
        )
        if shown is not None:
            session.add(
                Event(
                    level="error",
                    kind="job.failed",
                    user_id=job.user_id,
                    job_id=job_id,
                    message=shown.user_message,  # operators read English
                    data={"provider": job.provider, "provider_used": job.provider_used},
                )
            )
    _remove_outputs(job_id)
    if status == "failed":
        _notify(job_id)
    return True


def _notify(job_id: str) -> None:
    """The creator's "video done / failed" e-mail (once per job, see services.notify),
    after the outcome is committed; a mail problem never changes the job."""
    try:
        notify.job_finished(job_id)
    except Exception:
        log.warning("job %s: video-done e-mail failed", job_id, exc_info=True)


def _remove_outputs(job_id: str) -> None:
    """A failed or cancelled job keeps no output files (only its photo, for a retry)."""
    try:
        media.delete_job_files(job_id, keep_photo=True)
    except Exception:  # storage trouble must not undo the refund; the cleanup sweeps later
        log.warning("job %s: output files not removed", job_id, exc_info=True)


def _clip(text: str) -> str:
    return text if len(text) <= DETAIL_MAX_CHARS else "..." + text[-DETAIL_MAX_CHARS:]


class DbAttemptLog:
    """The router's :class:`providers.router.AttemptLog` for one job: ``JobAttempt`` rows,
    and the job's ``provider_used`` / ``remote_id`` kept in step with the current attempt."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id

    def started(self, provider: str, remote_id: str | None) -> int:
        now = utcnow()
        with session_scope() as session:
            if remote_id:  # a resume continues the attempt the dead process left open
                open_id = session.scalar(
                    select(JobAttempt.id).where(
                        JobAttempt.job_id == self.job_id,
                        JobAttempt.provider == provider,
                        JobAttempt.remote_id == remote_id,
                        JobAttempt.outcome == "running",
                    )
                )
                if open_id is not None:
                    return int(open_id)
            row = JobAttempt(
                job_id=self.job_id,
                provider=provider,
                outcome="running",
                remote_id=remote_id,
                started_at=now,
            )
            session.add(row)
            # A new provider has no remote job yet: a restart now must not resume the last one.
            session.execute(
                update(Job)
                .where(Job.id == self.job_id)
                .values(provider_used=provider, remote_id=remote_id, updated_at=now)
            )
            session.flush()
            return int(row.id)

    def saved_remote_id(self, attempt: int, provider: str, remote_id: str) -> None:
        # Written at once: after a restart we resume this remote job, not pay twice.
        now = utcnow()
        with session_scope() as session:
            session.execute(
                update(JobAttempt).where(JobAttempt.id == attempt).values(remote_id=remote_id)
            )
            session.execute(
                update(Job)
                .where(Job.id == self.job_id)
                .values(remote_id=remote_id, provider_used=provider, updated_at=now)
            )

    def finished(self, attempt: int, outcome: str, error: BaseException | None) -> None:
        with session_scope() as session:
            session.execute(
                update(JobAttempt)
                .where(JobAttempt.id == attempt)
                .values(outcome=outcome, finished_at=utcnow(), **_error_columns(error))
            )

    def skipped(self, provider: str, error: TalkingPhotoError) -> None:
        now = utcnow()
        with session_scope() as session:
            session.add(
                JobAttempt(
                    job_id=self.job_id,
                    provider=provider,
                    outcome="skipped",
                    started_at=now,
                    finished_at=now,
                    **_error_columns(error),
                )
            )


def _error_columns(error: BaseException | None) -> dict[str, Any]:
    if error is None:
        return {"error_class": None, "error_message": None}
    message = error.user_message if isinstance(error, TalkingPhotoError) else None
    return {"error_class": type(error).__name__[:64], "error_message": message}


# ------------------------------------------------------------------ progress and cancellation


class ProgressWriter:
    """``progress(stage, percent)`` for a job: writes the row on a stage change or at most
    every ``every_s`` seconds otherwise, so a provider may call it for every frame."""

    def __init__(
        self,
        job_id: str,
        *,
        every_s: float = PROGRESS_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job_id = job_id
        self.every_s = every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._stage: str | None = None
        self._last = float("-inf")
        self.writes = 0

    def __call__(self, stage: str, percent: float) -> None:
        percent = min(100.0, max(0.0, float(percent)))
        with self._lock:
            now = self._clock()
            if stage == self._stage and now - self._last < self.every_s:
                return
            self._stage, self._last = stage, now
        try:
            with session_scope() as session:
                session.execute(
                    update(Job)
                    .where(Job.id == self.job_id, Job.status == "running")
                    .values(stage=stage[:16], percent=percent, updated_at=utcnow())
                )
            self.writes += 1
        except OperationalError:
            # Progress is advisory: a busy database must not fail the render.
            log.warning("job %s: progress write skipped (database busy)", self.job_id)


class CancelPoller:
    """``is_cancelled()`` for a job's CancelToken: reads ``cancel_requested`` from the row at
    most every ``every_s`` seconds (providers check the token every frame)."""

    def __init__(
        self,
        job_id: str,
        *,
        every_s: float = CANCEL_CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job_id = job_id
        self.every_s = every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._cancelled = False
        self.reads = 0

    def __call__(self) -> bool:
        with self._lock:
            now = self._clock()
            if self._cancelled or now - self._last < self.every_s:
                return self._cancelled
            self._last = now
        try:
            with read_scope() as session:
                flag = session.scalar(select(Job.cancel_requested).where(Job.id == self.job_id))
        except OperationalError:
            # Like progress, the check is advisory: a busy database must not fail the render;
            # the next check, a moment later, reads the flag.
            log.warning("job %s: cancel check skipped (database busy)", self.job_id)
            return self._cancelled
        self.reads += 1
        # A deleted row also stops the work: nobody is waiting for it.
        self._cancelled = flag is None or bool(flag)
        return self._cancelled


def _either(*checks: Callable[[], bool]) -> Callable[[], bool]:
    return lambda: any(check() for check in checks)


class Heartbeat:
    """Touches ``heartbeat_at`` of a running job every ``every_s`` seconds from a daemon
    thread, while the claim (``attempt``) is still the job's. When it is not (the reaper gave
    the job to another worker, or the row is gone), :attr:`lost` is set and the job stops."""

    def __init__(self, job_id: str, attempt: int, *, every_s: float) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.every_s = every_s
        self.lost = threading.Event()
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"tp-heartbeat-{job_id[:8]}")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.every_s + 5)

    def beat(self) -> bool:
        """One touch; False once the claim is no longer this job's."""
        try:
            with session_scope() as session:
                touched = session.execute(
                    update(Job)
                    .where(
                        Job.id == self.job_id,
                        Job.status == "running",
                        Job.attempts == self.attempt,
                    )
                    .values(heartbeat_at=utcnow())
                ).rowcount  # type: ignore[attr-defined]
        except OperationalError:
            log.warning("job %s: heartbeat skipped (database busy)", self.job_id)
            return True
        self.beats += 1
        if touched != 1:
            self.lost.set()
            log.warning("job %s: claim %s was taken back; stopping", self.job_id, self.attempt)
        return touched == 1

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            if not self.beat():
                return


# --------------------------------------------------------------------------------- recovery


@dataclass(frozen=True)
class RecoveryReport:
    failed: int = 0
    cancelled: int = 0
    resumed: int = 0
    requeued: int = 0


def recover_jobs() -> RecoveryReport:
    """Run once at process start, before new work: settle jobs a crash left behind.

    * 'running' with the cancel flag set -> cancelled + refund;
    * 'running' with a cloud ``remote_id`` (and attempts left) -> queued again, so the
      provider resumes polling the remote job instead of paying for a new one;
    * other 'running' -> failed with a user-safe message + refund;
    * 'queued' -> handed to the runner again.

    Idempotent: a second call finds nothing running and re-submits only still-queued jobs,
    which the atomic claim in :func:`run_job` runs once. With the in-process pool every
    'running' row at start belongs to a dead process. With the Celery executor a running row
    may belong to a live worker on another machine, so this does nothing there: the workers'
    :func:`reap_stale_jobs` settles jobs by their heartbeat instead.
    """
    if get_settings().jobs.executor == "celery":
        return RecoveryReport()
    failed = cancelled = resumed = 0
    with session_scope() as session:
        stuck = session.execute(
            select(Job.id, Job.cancel_requested, Job.remote_id, Job.attempts).where(
                Job.status == "running"
            )
        ).all()
        for job_id, cancel_requested, remote_id, attempts in stuck:
            if remote_id and not cancel_requested and attempts < MAX_RESUME_ATTEMPTS:
                session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == "running")
                    .values(status="queued", updated_at=utcnow())
                )
                resumed += 1
    for job_id, cancel_requested, remote_id, attempts in stuck:
        if remote_id and not cancel_requested and attempts < MAX_RESUME_ATTEMPTS:
            continue
        if cancel_requested:
            cancelled += _finish(job_id, "cancelled", None, None)
        else:
            detail = "recovered at start: the process running this job stopped"
            failed += _finish(job_id, "failed", JobError(RESTART_FAILURE), detail)
    with session_scope() as session:
        queued = list(
            session.scalars(select(Job.id).where(Job.status == "queued").order_by(Job.created_at))
        )
    runner = get_runner()
    for job_id in queued:
        runner.submit(run_job, job_id)
    report = RecoveryReport(failed, cancelled, resumed, len(queued))
    if stuck or queued:
        log.info("job recovery: %s", report)
    return report


@dataclass(frozen=True)
class ReapReport:
    requeued: tuple[str, ...] = ()
    failed: int = 0
    cancelled: int = 0
    locked_out: bool = False  # another worker held the reaper's lock
    resent: tuple[str, ...] = ()  # queued jobs whose hand-off to the broker never happened


def mark_sent(job_id: str) -> None:
    """Record that a queued job's id reached the broker (``heartbeat_at`` of a queued row:
    when it was handed off). The Celery executor calls this after each send; a queued row
    without it, older than ``stale_after_s``, lost its message (the process died between
    the commit and the send) and the reaper sends it again."""
    with session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(heartbeat_at=utcnow())
        )


def _reaper_lock(session: Session) -> bool:
    """One reaper at a time across workers: a transaction-scoped advisory lock on Postgres
    (released at commit); SQLite's ``BEGIN IMMEDIATE`` already serialises writers."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    got = session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": REAPER_LOCK_KEY})
    return bool(got)


def reap_stale_jobs(stale_after_s: float | None = None) -> ReapReport:
    """Put running jobs whose worker stopped beating back in the queue; returns what moved.

    A job's heartbeat older than ``stale_after_s`` (``[jobs] stale_after_s``) means its
    worker died (SIGKILL, lost machine): the job goes back to 'queued' and is handed to the
    runner, and the next claim fences the dead one off. A cloud job keeps its ``remote_id``,
    so the new worker resumes polling the vendor instead of paying again; the creator's debit
    was taken once at submit and is never taken again. A job flagged for cancelling is
    cancelled and refunded; one that has used up ``MAX_RESUME_ATTEMPTS`` claims fails with a
    refund. A queued job never handed to the broker (see :func:`mark_sent`) and older than
    the threshold is sent again.
    """
    settings = get_settings()
    stale_s = settings.jobs.stale_after_s if stale_after_s is None else stale_after_s
    now = utcnow()
    cutoff = now - timedelta(seconds=stale_s)
    requeued: list[str] = []
    give_up: list[tuple[str, bool]] = []
    with session_scope() as session:
        if not _reaper_lock(session):
            return ReapReport(locked_out=True)
        stale = session.execute(
            select(Job.id, Job.cancel_requested, Job.attempts, Job.worker).where(
                Job.status == "running",
                or_(
                    Job.heartbeat_at < cutoff,
                    and_(Job.heartbeat_at.is_(None), Job.updated_at < cutoff),
                ),
            )
        ).all()
        unsent = list(
            session.scalars(
                select(Job.id).where(
                    Job.status == "queued", Job.heartbeat_at.is_(None), Job.updated_at < cutoff
                )
            )
        )
        for job_id, cancel_requested, attempts, worker in stale:
            if cancel_requested or attempts >= MAX_RESUME_ATTEMPTS:
                give_up.append((job_id, bool(cancel_requested)))
                continue
            moved = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running", Job.attempts == attempts)
                .values(status="queued", stage="queued", heartbeat_at=None, updated_at=now)
            ).rowcount  # type: ignore[attr-defined]
            if moved == 1:
                requeued.append(job_id)
                log.warning("job %s: worker %s stopped beating; re-queued", job_id, worker)
    failed = cancelled = 0
    for job_id, cancel_requested in give_up:
        if cancel_requested:
            cancelled += _finish(job_id, "cancelled", None, None, ("running",))
        else:
            detail = f"re-queued {MAX_RESUME_ATTEMPTS} times after its workers stopped"
            failed += _finish(job_id, "failed", JobError(RESTART_FAILURE), detail, ("running",))
    runner = get_runner()
    for job_id in [*requeued, *unsent]:
        runner.submit(run_job, job_id)
    if unsent:
        log.warning("reaper: %d queued job(s) had never reached the broker; sent", len(unsent))
    return ReapReport(tuple(requeued), failed, cancelled, resent=tuple(unsent))
