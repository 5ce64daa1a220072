"""Video ratings: one 1-5 star rating (and an optional comment) per creator and video.

    rate(user_id, job_id, rating, comment)   store or replace; bad input changes nothing
    my_rating(user_id, job_id)               what this creator gave, or None
    recent(limit)                            the newest ratings with comments (admins)
    erase_user(user_id)                      a creator's ratings (delete-my-data)

The average and its trend are :func:`services.launch_metrics.satisfaction`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select

from db.golive_models import VideoFeedback
from db.models import Job, User, utcnow
from db.session import read_scope, session_scope
from errors import N_, InputError, JobNotFound

MAX_COMMENT = 1000


@dataclass(frozen=True)
class Rating:
    job_id: str
    rating: int
    comment: str
    updated_at: dt.datetime
    user_email: str = ""
    job_title: str = ""


def _clean_comment(comment: str | None) -> str:
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise InputError(
            N_("The comment is too long ({n} characters; at most {max})."),
            params={"n": len(text), "max": MAX_COMMENT},
        )
    return text


def rate(user_id: int, job_id: str, rating: int, comment: str | None = "") -> Rating:
    """Store the creator's rating of one of their finished videos (rating again replaces it).

    Raises InputError (rating not 1-5, comment too long) and JobNotFound (not their video,
    or not finished)."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InputError(N_("Choose from 1 to 5 stars."))
    text = _clean_comment(comment)
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None or job.user_id != user_id or job.status != "succeeded":
            raise JobNotFound()
        row = session.execute(
            select(VideoFeedback).where(
                VideoFeedback.user_id == user_id, VideoFeedback.job_id == job_id
            )
        ).scalar_one_or_none()
        now = utcnow()
        if row is None:
            row = VideoFeedback(user_id=user_id, job_id=job_id, created_at=now)
            session.add(row)
        row.rating = rating
        row.comment = text
        row.updated_at = now
        return Rating(job_id, rating, text, now)


def my_rating(user_id: int, job_id: str) -> Rating | None:
    with read_scope() as db:
        row = db.execute(
            select(VideoFeedback).where(
                VideoFeedback.user_id == user_id, VideoFeedback.job_id == job_id
            )
        ).scalar_one_or_none()
        return None if row is None else Rating(row.job_id, row.rating, row.comment, row.updated_at)


def recent(limit: int = 20) -> list[Rating]:
    with read_scope() as db:
        rows = db.execute(
            select(VideoFeedback, User.email, Job.title)
            .join(User, User.id == VideoFeedback.user_id)
            .outerjoin(Job, Job.id == VideoFeedback.job_id)
            .order_by(VideoFeedback.updated_at.desc())
            .limit(limit)
        ).all()
        return [
            Rating(f.job_id, f.rating, f.comment, f.updated_at, email, title or "")
            for f, email, title in rows
        ]


def erase_user(user_id: int) -> int:
    with session_scope() as session:
        result = session.execute(delete(VideoFeedback).where(VideoFeedback.user_id == user_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
