"""Operators' view of one job, whoever owns it (``python cli.py job ID``, the scale
benchmark): status, who ran it, what it cost, how long it waited.

``credits_charged`` is what the job's ledger entries (``job:<id>:debit``, ``:adjust``,
``:refund``) took from the creator in total, so a job that was re-queued after its worker
died, or delivered twice, still shows the one price it was charged (0 once refunded).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from db.models import CreditEntry, Job
from db.session import read_scope
from errors import JobNotFound, render


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def describe(job_id: str) -> dict[str, Any]:
    """The job as a JSON-ready dict; JobNotFound if there is no such job."""
    with read_scope() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise JobNotFound()
        taken = session.scalar(
            select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
                CreditEntry.reference.like(f"job:{job_id}:%")
            )
        )
        waited = (
            (job.started_at - job.created_at).total_seconds()
            if job.started_at is not None
            else None
        )
        return {
            "job_id": job.id,
            "user_id": job.user_id,
            "status": job.status,
            "stage": job.stage,
            "percent": float(job.percent),
            "worker": job.worker,
            "attempts": job.attempts,
            "provider": job.provider,
            "provider_used": job.provider_used,
            "credits_charged": -int(taken or 0),
            "duration_s": job.duration_s,
            "video_key": job.video_key,
            "error": render(job.error_message, dict(job.error_params or {}))
            if job.error_message
            else None,
            "created_at": _iso(job.created_at),
            "started_at": _iso(job.started_at),
            "finished_at": _iso(job.finished_at),
            "heartbeat_at": _iso(job.heartbeat_at),
            "queue_wait_s": waited,
        }
