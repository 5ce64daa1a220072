"""Video jobs as the pages see them: submit, watch, cancel, delete, retry.

Every function returns frozen :class:`JobView` values (never ORM objects) and raises only
errors from :mod:`errors` with user-safe messages. Submitting validates everything first, then
writes the job row *and* its ledger debit in one transaction, and only after the commit hands
the job to :mod:`background_tasks` — a crash in between leaves a queued, paid job that
``recover_jobs()`` picks up, never a debit without a job.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import background_tasks
from db.models import ACTIVE_STATUSES, Job, JobAttempt, User, utcnow
from db.session import read_scope, session_scope
from errors import (
    N_,
    InsufficientCredits,
    JobError,
    JobNotFound,
    QueueFull,
    StorageError,
    TitleError,
    render,
)
from secrets_manager import get_settings
from services import credits, generation, media, ratelimit, sharing
from services.job_spec import PHOTO_GONE, JobParams, job_cost, media_keys
from services.photos import PreparedPhoto

log = logging.getLogger("talkingphoto.jobs")

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
TITLE_MAX_CHARS = 80  # a card's line on a phone; the column holds 120
TITLE_WORDS = 6
DEFAULT_TITLE_CHARS = 60


def default_title(script: str) -> str:
    """A new video's title: the first words of its script (``…`` when cut), whitespace folded.
    Migration 0007 gave older videos the same (keep the two in step)."""
    words = " ".join(str(script or "").split()).split(" ")
    title = " ".join(words[:TITLE_WORDS])
    if len(title) > DEFAULT_TITLE_CHARS:
        title = title[: DEFAULT_TITLE_CHARS - 1].rstrip() + "…"
    elif len(words) > TITLE_WORDS:
        title += "…"
    return title


def clean_title(title: str) -> str:
    """The title as stored: whitespace folded, control characters dropped. TitleError when
    it is empty or longer than :data:`TITLE_MAX_CHARS` (nothing is cut silently)."""
    text = " ".join("".join(ch for ch in str(title) if ch.isprintable() or ch.isspace()).split())
    if not text:
        raise TitleError(N_("Please give the video a title."))
    if len(text) > TITLE_MAX_CHARS:
        raise TitleError(
            N_("A title can be at most {limit} characters; this one has {n}."),
            params={"limit": TITLE_MAX_CHARS, "n": len(text)},
        )
    return text


@dataclass(frozen=True)
class JobView:
    id: str
    user_id: int
    status: JobStatus
    stage: str
    percent: float
    script: str
    params: JobParams
    cost_credits: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error_message: str | None  # user-safe template (a catalog msgid); see error_text
    duration_s: float | None
    provider: str | None
    notes: tuple[str, ...]
    cancel_requested: bool = False  # running and asked to stop; the worker has not yet
    error_params: dict[str, Any] = dataclasses.field(default_factory=dict)  # fill the template
    # Storage keys, for any back end: pages ask services.media for URLs.
    video_key: str | None = None
    thumbnail_key: str | None = None
    srt_key: str | None = None
    vtt_key: str | None = None
    media_bytes: int = 0
    photo_deleted_at: datetime | None = None
    provider_used: str | None = None  # who made (or last tried) it; ``provider`` is as asked
    title: str = ""  # the creator's name for it (default: the script's first words)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def error_text(self) -> str | None:
        """The failure message in English (pages translate ``error_message`` instead)."""
        if self.error_message is None:
            return None
        return render(self.error_message, self.error_params)


def _view(job: Job) -> JobView:
    return JobView(
        id=job.id,
        user_id=job.user_id,
        status=job.status,  # type: ignore[arg-type]
        stage=job.stage,
        percent=float(job.percent),
        script=job.script,
        params=JobParams.from_dict(job.params),
        cost_credits=job.cost_credits,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error_message=job.error_message,
        duration_s=job.duration_s,
        provider=job.provider,
        notes=tuple(job.notes or ()),
        cancel_requested=job.cancel_requested,
        # Rows failed before migration 0002 have no params: their message is plain English.
        error_params=dict(job.error_params or {}),
        video_key=job.video_key,
        thumbnail_key=job.thumbnail_key,
        srt_key=job.srt_key,
        vtt_key=job.vtt_key,
        media_bytes=int(job.media_bytes or 0),
        photo_deleted_at=job.photo_deleted_at,
        provider_used=job.provider_used,
        title=job.title or default_title(job.script),
    )


# ----------------------------------------------------------------------------------- submit


def submit(
    user_id: int,
    *,
    photo: PreparedPhoto,
    script: str,
    params: JobParams,
    idempotency_key: str | None = None,
) -> JobView:
    """Queue a video and charge for it; returns the queued (or, with a synchronous executor,
    finished) job.

    Raises ScriptError/LanguageError/VoiceError/InputError for bad input, QueueFull when the
    user or the app has too many jobs in flight, InsufficientCredits when the balance is short.
    Nothing is stored or charged when it raises. The same ``idempotency_key`` (a token per
    click) returns the job it created the first time instead of creating another.
    """
    return _submit(user_id, photo.data, script, params, idempotency_key)


def _submit(
    user_id: int,
    photo_data: bytes,
    script: str,
    params: JobParams,
    idempotency_key: str | None,
) -> JobView:
    if idempotency_key is not None:
        existing = _find_by_idempotency_key(user_id, idempotency_key)
        if existing is not None:
            return existing
    script, charged_by = generation.validate(script, params)
    cost = job_cost(script, params, charged_by)
    ratelimit.hit("generate", user_id)  # after the input checks: a typo costs no attempt
    job_id = str(uuid.uuid4())
    photo_key = media.put(media.job_key(job_id, "photo" + _photo_suffix(photo_data)), photo_data)
    try:
        with session_scope() as session:
            _check_can_submit(session, user_id, cost)
            session.add(
                Job(
                    id=job_id,
                    user_id=user_id,
                    status="queued",
                    stage="queued",
                    percent=0.0,
                    script=script,
                    title=default_title(script),
                    language=params.language,
                    voice=params.voice,
                    provider=params.provider,
                    params=dataclasses.asdict(params),
                    cost_credits=cost,
                    idempotency_key=idempotency_key,
                    photo_key=photo_key,
                    notes=[],
                )
            )
            session.flush()  # the job row before its debit: the debit refers to it
            credits.post(session, user_id, -cost, credits.job_debit_reference(job_id), "video job")
    except IntegrityError:
        media.delete(photo_key)
        # Lost a race against the same click in another tab: return the winner's job.
        if idempotency_key is not None:
            existing = _find_by_idempotency_key(user_id, idempotency_key)
            if existing is not None:
                return existing
        raise
    except BaseException:
        media.delete(photo_key)
        raise
    background_tasks.enqueue(job_id)
    return get(job_id, user_id)


def _find_by_idempotency_key(user_id: int, key: str) -> JobView | None:
    with session_scope() as session:
        job = session.scalar(select(Job).where(Job.user_id == user_id, Job.idempotency_key == key))
        return _view(job) if job is not None else None


def _photo_suffix(data: bytes) -> str:
    return ".png" if data.startswith(b"\x89PNG\r\n\x1a\n") else ".jpg"


def _check_can_submit(session: Session, user_id: int, cost: int) -> None:
    """Queue limits and balance, inside the submitting transaction.

    The user row is locked first (FOR UPDATE on Postgres; SQLite's BEGIN IMMEDIATE already
    serialises writers), so two tabs cannot both pass the checks and overspend.
    """
    user = session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None or user.deleted_at is not None:
        raise JobError(N_("Your account was not found; please sign in again."))
    limits = get_settings().limits
    mine = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.user_id == user_id, Job.status.in_(ACTIVE_STATUSES))
    )
    if (mine or 0) >= limits.max_active_jobs_per_user:
        raise QueueFull(
            N_(
                "You already have {n} videos in progress (the limit is {limit}). "
                "Wait for one to finish or cancel it."
            ),
            params={"n": mine, "limit": limits.max_active_jobs_per_user},
        )
    everyone = session.scalar(
        select(func.count()).select_from(Job).where(Job.status.in_(ACTIVE_STATUSES))
    )
    if (everyone or 0) >= limits.max_queued_jobs:
        raise QueueFull()  # the default message: "We are busy right now; ..."
    have = credits.balance_in(session, user_id)
    if have < cost:
        raise InsufficientCredits(
            N_("This video needs {cost} credit; you have {have}.")
            if cost == 1
            else N_("This video needs {cost} credits; you have {have}."),
            params={"cost": cost, "have": have},
        )


# ------------------------------------------------------------------------------- read, act


def _owned(session: Session, job_id: str, user_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or job.user_id != user_id:
        raise JobNotFound()  # same answer for "not yours" and "not there"
    return job


def get(job_id: str, user_id: int) -> JobView:
    """A fresh read of the job; JobNotFound unless it exists and belongs to ``user_id``."""
    with read_scope() as session:
        return _view(_owned(session, job_id, user_id))


@dataclass(frozen=True)
class AttemptView:
    """One provider tried for a job (``outcome``: running, succeeded, failed, cancelled,
    skipped); ``error_message`` is user-safe English, for operators and the job's details."""

    provider: str
    outcome: str
    remote_id: str | None
    error_class: str | None
    error_message: str | None
    started_at: datetime
    finished_at: datetime | None


def attempts(job_id: str, user_id: int) -> list[AttemptView]:
    """The providers tried for a job, in order; JobNotFound unless it is the user's."""
    with read_scope() as session:
        _owned(session, job_id, user_id)
        rows = session.scalars(
            select(JobAttempt).where(JobAttempt.job_id == job_id).order_by(JobAttempt.id)
        )
        return [
            AttemptView(
                a.provider,
                a.outcome,
                a.remote_id,
                a.error_class,
                a.error_message,
                a.started_at,
                a.finished_at,
            )
            for a in rows
        ]


def list_for_user(user_id: int, limit: int = 50) -> list[JobView]:
    """The user's jobs, newest first."""
    with read_scope() as session:
        rows = session.scalars(
            select(Job)
            .where(Job.user_id == user_id)
            .order_by(Job.created_at.desc(), Job.id)
            .limit(limit)
        )
        return [_view(job) for job in rows]


def rename(job_id: str, user_id: int, title: str) -> JobView:
    """Give the creator's video a new title (see :func:`clean_title`); JobNotFound unless it
    is theirs. Any status: a video being made can be named too."""
    text = clean_title(title)
    with session_scope() as session:
        job = _owned(session, job_id, user_id)
        job.title = text
        return _view(job)


def cancel(job_id: str, user_id: int) -> JobView:
    """Stop a job. Queued: cancelled now and refunded. Running: flagged; the worker stops at
    its next check and then cancels and refunds. Finished jobs are returned unchanged."""
    with session_scope() as session:
        _owned(session, job_id, user_id)
    # Queued: the same transition a worker-side cancel makes. Its status guard settles a race
    # with a worker claiming the job; then the job is running and gets the flag instead.
    if not background_tasks.cancel_queued(job_id):
        with session_scope() as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running")
                .values(cancel_requested=True, updated_at=utcnow())
            )
    return get(job_id, user_id)


def delete(job_id: str, user_id: int) -> None:
    """The one way a video goes (the creator, account deletion, video retention): its share
    links are revoked, its row deleted, then its files removed. Raises JobError while it is
    queued or running.

    Files go after the commit (a failed commit must not leave a row without its files). If
    the store fails then, the row is already gone and the files are orphans, which
    ``services.lifecycle.run_cleanup`` removes; the creator's delete still succeeds.
    """
    with session_scope() as session:
        job = _owned(session, job_id, user_id)
        if job.status in ACTIVE_STATUSES:
            raise JobError(N_("This video is still being made; cancel it first."))
        keys = media_keys(job)
        sharing.revoke_for_job(session, job_id)
        session.delete(job)
    try:
        for key in keys:
            media.delete(key)
        media.delete_job_files(job_id)  # anything else under the job's prefix
    except StorageError as exc:
        log.warning("job %s deleted; files left for the cleanup: %s", job_id, exc.detail)


def retry(job_id: str, user_id: int, *, idempotency_key: str | None = None) -> JobView:
    """A new job with the same photo, script and settings (failed or cancelled jobs only);
    charged like a new submit."""
    with session_scope() as session:
        job = _owned(session, job_id, user_id)
        if job.status not in ("failed", "cancelled"):
            raise JobError(N_("Only a failed or cancelled video can be tried again."))
        photo_key, script, params = job.photo_key, job.script, JobParams.from_dict(job.params)
    if not photo_key or not media.exists(photo_key):
        raise JobError(PHOTO_GONE)
    photo_data = media.local_path(photo_key).read_bytes()
    return _submit(user_id, photo_data, script, params, idempotency_key)
