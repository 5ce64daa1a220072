""" "Delete my account and my data" (India's DPDP Act 2023: erasure on request).

What goes: every video job through :func:`services.jobs.delete` (its files, photo, captions,
share links and row), the create form's draft (script, options and photo), the credit
ledger, support tickets and video ratings, analytics links to the person, and the personal
fields of the user row (e-mail, name, password hash, preferences), which is kept only as an
anonymous tombstone so old foreign keys stay valid.
What stays, anonymised: purchases, which tax records need (amount, GST part, gateway
reference, date), with ``user_id`` NULL.

A video still being made is cancelled first; one whose worker has not stopped yet makes
the deletion wait (AccountError; nothing else is touched), so no worker writes files for an
erased account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from db.models import ACTIVE_STATUSES, CreditEntry, Event, Job, Purchase, ShareLink, User, utcnow
from db.session import session_scope
from errors import N_, AccountError
from services import drafts, feedback, jobs, support

log = logging.getLogger("talkingphoto.accounts")


@dataclass(frozen=True)
class DeletionReport:
    videos_deleted: int
    ledger_entries_deleted: int
    purchases_anonymised: int


def _job_ids(user_id: int) -> list[tuple[str, str]]:
    with session_scope() as session:
        rows = session.execute(select(Job.id, Job.status).where(Job.user_id == user_id)).all()
        return [(str(job_id), str(status)) for job_id, status in rows]


def delete_account(user_id: int) -> DeletionReport:
    """Erase ``user_id``'s data as described above; AccountError if the account is gone or
    a video is still being made (try again in a moment)."""
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise AccountError(N_("Your account was not found; please sign in again."))

    for job_id, status in _job_ids(user_id):
        if status in ACTIVE_STATUSES:
            jobs.cancel(job_id, user_id)
    if any(status in ACTIVE_STATUSES for _id, status in _job_ids(user_id)):
        raise AccountError(
            N_("A video is still being made. It is being stopped; please try again in a minute.")
        )

    videos = 0
    for job_id, _status in _job_ids(user_id):
        jobs.delete(job_id, user_id)
        videos += 1

    with session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        ledger = session.execute(delete(CreditEntry).where(CreditEntry.user_id == user_id))
        purchases = session.execute(
            update(Purchase).where(Purchase.user_id == user_id).values(user_id=None)
        )
        session.execute(update(Event).where(Event.user_id == user_id).values(user_id=None))
        session.execute(delete(ShareLink).where(ShareLink.user_id == user_id))
        user.email = f"deleted-{user_id}@deleted.invalid"
        user.display_name = ""
        user.password_hash = None
        user.is_admin = False
        user.is_guest = False
        user.currency = None
        user.last_login_at = None
        user.deleted_at = utcnow()
        report = DeletionReport(
            videos_deleted=videos,
            ledger_entries_deleted=int(ledger.rowcount or 0),
            purchases_anonymised=int(purchases.rowcount or 0),
        )
    support.erase_user(user_id)  # go-live: their tickets and ratings go too (privacy policy)
    feedback.erase_user(user_id)
    drafts.erase_user(user_id)  # the create form's draft and its photo
    # A video submitted from another tab while this ran (now refused: the user is deleted).
    for job_id, status in _job_ids(user_id):
        if status in ACTIVE_STATUSES:
            jobs.cancel(job_id, user_id)
            log.warning("account %s: job %s was started during deletion", user_id, job_id)
        else:
            jobs.delete(job_id, user_id)
    log.info(
        "account %s erased: %d videos, %d ledger entries, %d purchases anonymised",
        user_id,
        report.videos_deleted,
        report.ledger_entries_deleted,
        report.purchases_anonymised,
    )
    return report
