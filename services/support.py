"""Support tickets: a creator asks, support answers; both sides are e-mailed.

    open_ticket(user_id, category, subject, body)  a new ticket (job and payment references
                                                   attached automatically), e-mailed to
                                                   ``[support] email``
    my_tickets(user_id)                            the creator's tickets with every message
    add_message(user_id, ticket_id, body)          the creator writes again (re-opens it)
    all_tickets(status)                            admins: the queue, oldest open first
    reply(admin_id, ticket_id, body)               admins: answer (e-mailed to the creator
                                                   in their language); ``close`` ends it
    erase_user(user_id)                            a creator's tickets (delete-my-data)

Bad input raises :class:`errors.InputError` and stores nothing. A mail server that is down
never loses a ticket: the ticket is stored first and the failure logged (the admin page
lists every ticket anyway).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import mail
from db.golive_models import TICKET_CATEGORIES, SupportTicket, TicketMessage
from db.models import Job, Purchase, User, utcnow
from db.session import read_scope, session_scope
from errors import N_, InputError, TalkingPhotoError
from i18n import normalize_language, translations
from secrets_manager import get_settings
from services import accounts

log = logging.getLogger("talkingphoto.support")

SUBJECT_MAX = 200
BODY_MIN = 10
BODY_MAX = 5000
OPEN_TICKETS_MAX = 5

CATEGORY_LABELS: dict[str, str] = {
    "no_face": N_("No face found in my photo"),
    "payment": N_("Payment pending or failed"),
    "video_failed": N_("My video failed"),
    "refund": N_("Refund"),
    "other": N_("Something else"),
}

_NEW_SUBJECT = N_("New support ticket #{id}: {subject}")
_NEW_BODY = N_(
    "Ticket #{id} from {email}\n"
    "Category: {category}\n"
    "Video: {job}\n"
    "Payment: {purchase}\n\n"
    "{body}\n\n"
    "Answer it on the admin Support page: {link}"
)
_REPLY_SUBJECT = N_("Reply to your TalkingPhoto ticket #{id}")
_REPLY_BODY = N_(
    "Hello,\n\n"
    "Our support team answered your ticket #{id} ({subject}):\n\n"
    "{body}\n\n"
    "You can read the whole conversation and write back on the Help page: {link}\n\n"
    "— TalkingPhoto"
)


class TicketNotFound(InputError):
    default_message = N_("That ticket was not found.")


@dataclass(frozen=True)
class MessageView:
    author: str  # "creator" | "support"
    body: str
    created_at: dt.datetime


@dataclass(frozen=True)
class TicketView:
    id: int
    user_id: int
    user_email: str
    category: str
    subject: str
    status: str
    job_id: str | None
    purchase_id: int | None
    purchase_label: str
    created_at: dt.datetime
    updated_at: dt.datetime
    messages: tuple[MessageView, ...]


def _body(text: str | None) -> str:
    body = (text or "").strip()
    if len(body) < BODY_MIN:
        raise InputError(
            N_("Please describe the problem in at least {min} characters."),
            params={"min": BODY_MIN},
        )
    if len(body) > BODY_MAX:
        raise InputError(
            N_("The message is too long ({n} characters; at most {max})."),
            params={"n": len(body), "max": BODY_MAX},
        )
    return body


def _subject(text: str | None) -> str:
    subject = " ".join((text or "").split())
    if not subject:
        raise InputError(N_("Please give the ticket a subject."))
    if len(subject) > SUBJECT_MAX:
        raise InputError(
            N_("The subject is too long ({n} characters; at most {max})."),
            params={"n": len(subject), "max": SUBJECT_MAX},
        )
    return subject


def _send(message: mail.Message) -> bool:
    try:
        mail.send(message)
        return True
    except TalkingPhotoError as exc:  # MailError, ConfigError: the ticket is kept anyway
        log.warning("support e-mail (%s) not sent: %s", message.kind, exc.detail or exc)
        return False


def _t(language: str, msgid: str) -> str:
    return translations(normalize_language(language)).gettext(msgid)


def _link(path: str) -> str:
    return f"{get_settings().app.base_url}/{path}"


def _purchase_label(purchase: Purchase | None) -> str:
    if purchase is None:
        return ""
    amount = f"{purchase.amount_minor / 100:.2f} {purchase.currency}"
    return f"#{purchase.id} {purchase.gateway} {purchase.status} {amount}"


def _auto_references(
    session: Session, user_id: int, category: str
) -> tuple[str | None, int | None]:
    """The job and the purchase the creator most likely means: for a video problem the latest
    failed video (else the latest), for a payment the latest pending purchase (else the
    latest); for anything else the latest of each."""
    job_q = select(Job.id).where(Job.user_id == user_id).order_by(Job.created_at.desc())
    if category in ("video_failed", "no_face"):
        failed = session.scalar(job_q.where(Job.status == "failed").limit(1))
        job_id = failed or session.scalar(job_q.limit(1))
    else:
        job_id = session.scalar(job_q.limit(1))
    pay_q = (
        select(Purchase.id).where(Purchase.user_id == user_id).order_by(Purchase.created_at.desc())
    )
    purchase_id = None
    if category in ("payment", "refund"):
        purchase_id = session.scalar(pay_q.where(Purchase.status == "pending").limit(1))
    purchase_id = purchase_id or session.scalar(pay_q.limit(1))
    return job_id, purchase_id


def open_ticket(
    user_id: int,
    category: str,
    subject: str | None,
    body: str | None,
    *,
    job_id: str | None = None,
) -> TicketView:
    """Store a ticket, attach references, e-mail the support inbox. Raises InputError."""
    if category not in TICKET_CATEGORIES:
        raise InputError(N_("Please choose what the problem is about."))
    clean_subject, clean_body = _subject(subject), _body(body)
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise InputError(N_("Please sign in to contact support."))
        open_count = len(
            session.scalars(
                select(SupportTicket.id).where(
                    SupportTicket.user_id == user_id, SupportTicket.status != "closed"
                )
            ).all()
        )
        if open_count >= OPEN_TICKETS_MAX:
            raise InputError(
                N_("You already have {n} open tickets; please wait for our answer."),
                params={"n": open_count},
            )
        auto_job, purchase_id = _auto_references(session, user_id, category)
        if job_id is not None:
            job = session.get(Job, job_id)
            job_id = job.id if job is not None and job.user_id == user_id else None
        now = utcnow()
        ticket = SupportTicket(
            user_id=user_id,
            category=category,
            subject=clean_subject,
            status="open",
            job_id=job_id or auto_job,
            purchase_id=purchase_id,
            created_at=now,
            updated_at=now,
        )
        session.add(ticket)
        session.flush()
        session.add(
            TicketMessage(
                ticket_id=ticket.id,
                author="creator",
                author_user_id=user_id,
                body=clean_body,
                created_at=now,
            )
        )
        ticket_id, email = ticket.id, user.email
        purchase = session.get(Purchase, purchase_id) if purchase_id else None
        references = (ticket.job_id or "-", _purchase_label(purchase) or "-")
    inbox = get_settings().support.email
    if inbox:
        _send(
            mail.Message(
                to=inbox,
                subject=_t("en", _NEW_SUBJECT).format(id=ticket_id, subject=clean_subject),
                text=_t("en", _NEW_BODY).format(
                    id=ticket_id,
                    email=email,
                    category=CATEGORY_LABELS[category],
                    job=references[0],
                    purchase=references[1],
                    body=clean_body,
                    link=_link("support"),
                ),
                kind="support-ticket",
            )
        )
    log.info("support ticket #%d opened (%s)", ticket_id, category)
    return get_ticket(ticket_id)


def _view(session: Session, ticket: SupportTicket, email: str) -> TicketView:
    messages = session.scalars(
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket.id)
        .order_by(TicketMessage.created_at, TicketMessage.id)
    ).all()
    purchase = session.get(Purchase, ticket.purchase_id) if ticket.purchase_id else None
    return TicketView(
        id=ticket.id,
        user_id=ticket.user_id,
        user_email=email,
        category=ticket.category,
        subject=ticket.subject,
        status=ticket.status,
        job_id=ticket.job_id,
        purchase_id=ticket.purchase_id,
        purchase_label=_purchase_label(purchase),
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        messages=tuple(MessageView(m.author, m.body, m.created_at) for m in messages),
    )


def get_ticket(ticket_id: int) -> TicketView:
    with read_scope() as db:
        row = db.execute(
            select(SupportTicket, User.email)
            .join(User, User.id == SupportTicket.user_id)
            .where(SupportTicket.id == ticket_id)
        ).first()
        if row is None:
            raise TicketNotFound()
        return _view(db, row[0], row[1])


def my_tickets(user_id: int) -> list[TicketView]:
    with read_scope() as db:
        rows = db.execute(
            select(SupportTicket, User.email)
            .join(User, User.id == SupportTicket.user_id)
            .where(SupportTicket.user_id == user_id)
            .order_by(SupportTicket.updated_at.desc())
        ).all()
        return [_view(db, t, e) for t, e in rows]


def all_tickets(status: str | None = None, limit: int = 100) -> list[TicketView]:
    """Admins: open tickets first (oldest waiting first), then the rest, newest first."""
    with read_scope() as db:
        query = select(SupportTicket, User.email).join(User, User.id == SupportTicket.user_id)
        if status is not None:
            query = query.where(SupportTicket.status == status)
        rows = db.execute(query.order_by(SupportTicket.updated_at.desc()).limit(limit)).all()
        views = [_view(db, t, e) for t, e in rows]
    waiting = sorted((v for v in views if v.status == "open"), key=lambda v: v.updated_at)
    return waiting + [v for v in views if v.status != "open"]


def add_message(user_id: int, ticket_id: int, body: str | None) -> TicketView:
    """The creator writes again on their own ticket (it becomes open again)."""
    clean = _body(body)
    with session_scope() as session:
        ticket = session.get(SupportTicket, ticket_id)
        if ticket is None or ticket.user_id != user_id:
            raise TicketNotFound()
        now = utcnow()
        session.add(
            TicketMessage(
                ticket_id=ticket_id,
                author="creator",
                author_user_id=user_id,
                body=clean,
                created_at=now,
            )
        )
        ticket.status = "open"
        ticket.updated_at = now
    return get_ticket(ticket_id)


def _require_admin(session: Session, admin_id: int) -> None:
    # The role as accounts computes it ([accounts] admins count once their e-mail is verified).
    admin = accounts.get_user(admin_id)
    if admin is None or not admin.is_admin:
        raise InputError(N_("Only an administrator can answer tickets."))


def reply(admin_id: int, ticket_id: int, body: str | None) -> TicketView:
    """Support answers; the creator is e-mailed in their language."""
    clean = _body(body)
    with session_scope() as session:
        _require_admin(session, admin_id)
        ticket = session.get(SupportTicket, ticket_id)
        if ticket is None:
            raise TicketNotFound()
        now = utcnow()
        session.add(
            TicketMessage(
                ticket_id=ticket_id,
                author="support",
                author_user_id=admin_id,
                body=clean,
                created_at=now,
            )
        )
        ticket.status = "answered"
        ticket.updated_at = now
        creator = session.get(User, ticket.user_id)
        to = creator.email if creator is not None and creator.deleted_at is None else None
        language = creator.locale if creator is not None else "en"
        subject = ticket.subject
    if to:
        _send(
            mail.Message(
                to=to,
                subject=_t(language, _REPLY_SUBJECT).format(id=ticket_id),
                text=_t(language, _REPLY_BODY).format(
                    id=ticket_id, subject=subject, body=clean, link=_link("help")
                ),
                kind="support-reply",
            )
        )
    log.info("support ticket #%d answered", ticket_id)
    return get_ticket(ticket_id)


def close(admin_id: int, ticket_id: int) -> TicketView:
    with session_scope() as session:
        _require_admin(session, admin_id)
        ticket = session.get(SupportTicket, ticket_id)
        if ticket is None:
            raise TicketNotFound()
        ticket.status = "closed"
        ticket.updated_at = utcnow()
    return get_ticket(ticket_id)


def erase_user(user_id: int) -> int:
    with session_scope() as session:
        result = session.execute(delete(SupportTicket).where(SupportTicket.user_id == user_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
