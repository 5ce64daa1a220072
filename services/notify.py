""" "Your video is ready" / "could not be made" e-mails to the creator (``mail``).

:func:`job_finished` is called by the job runner after a job's outcome is committed
(``background_tasks``). It mails once per job: the ``jobs.notified_at`` column is claimed
with a conditional UPDATE before sending, so a job delivered twice, re-queued by the reaper,
or finished in two processes at once still sends one mail. A mail the server refuses gives
the claim back (a later call may send it) and never fails the job.

Who gets it: real accounts (password or OIDC) with ``users.notify_video_done`` on (the
account page's switch, on by default). Never guests or the local developer user, who have
no address of their own; never for a cancelled video (the creator stopped it themselves).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update

import mail
from db.models import Job, User, utcnow
from db.session import session_scope
from mail import templates
from secrets_manager import get_settings

log = logging.getLogger("talkingphoto.notify")

OUTCOMES: tuple[str, ...] = ("succeeded", "failed")
ACCOUNT_METHODS: tuple[str, ...] = ("password", "oidc")


def wants_mail(user: User) -> bool:
    """Whether this user can and wants to hear about finished videos."""
    return (
        user.deleted_at is None
        and not user.is_guest
        and user.auth_method in ACCOUNT_METHODS
        and bool(user.notify_video_done)
        and "@" in (user.email or "")
    )


def _links() -> tuple[str, str]:
    base = get_settings().app.base_url.rstrip("/")
    return f"{base}/videos", f"{base}/account"


def job_finished(job_id: str, *, now: datetime | None = None) -> bool:
    """Mail the creator about the job's outcome, once; True when a mail went out."""
    stamp = now or utcnow()
    with session_scope() as session:
        row = session.execute(
            select(Job, User).join(User, User.id == Job.user_id).where(Job.id == job_id)
        ).first()
        if row is None:
            return False
        job, user = row
        if job.status not in OUTCOMES or job.notified_at is not None or not wants_mail(user):
            return False
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.notified_at.is_(None), Job.status == job.status)
            .values(notified_at=stamp)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            return False
        videos_link, account_link = _links()
        error = None
        if job.status == "failed" and job.error_message:
            error = (job.error_message, dict(job.error_params or {}))
        elif job.status == "failed":
            error = ("Something went wrong.", {})
        message = templates.video_done(
            user.email,
            user.display_name,
            job.title or "TalkingPhoto",
            videos_link=videos_link,
            account_link=account_link,
            error=error,
            language=user.locale,
        )
    try:
        mail.send(message)
    except mail.MailError as exc:
        log.warning("video-done e-mail for job %s not sent: %s", job_id, exc.detail)
        with session_scope() as session:  # give the claim back: a later call may send it
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.notified_at == stamp)
                .values(notified_at=None)
                .execution_options(synchronize_session=False)
            )
        return False
    return True


def set_preference(user_id: int, enabled: bool) -> bool:
    """Turn the user's "video done" e-mails on or off; returns the new setting."""
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            return False
        user.notify_video_done = bool(enabled)
        return bool(user.notify_video_done)


def preference(user_id: int) -> bool:
    """The user's setting (False for unknown or deleted users)."""
    with session_scope() as session:
        user = session.get(User, user_id)
        return bool(user and user.deleted_at is None and user.notify_video_done)
