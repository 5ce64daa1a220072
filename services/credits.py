"""The credits ledger and the price of a video.

Credits are never stored as a number on the user: the balance is ``SUM(amount)`` of the user's
ledger entries (grants > 0, debits < 0). Every entry carries a unique ``reference``
(``grant:signup:<user>``, ``job:<id>:debit``, ``job:<id>:refund``, ``stripe:<session>``...),
and :func:`post` ignores a reference it has seen, so a rerun, a second tab, a replayed webhook
or a worker that runs twice can never move credits twice.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import CreditEntry, utcnow
from db.session import read_scope
from secrets_manager import get_settings

# ----------------------------------------------------------------------------------- ledger


def post(session: Session, user_id: int, amount: int, reference: str, reason: str) -> bool:
    """Add a ledger entry in the caller's transaction; False (and no change) if the reference
    already exists. The caller commits, so the entry lands with whatever it pays for."""
    if not reference:
        raise ValueError("a ledger entry needs a reference")
    values = {
        "user_id": user_id,
        "amount": int(amount),
        "reference": reference,
        "reason": reason,
        "created_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        stmt = (
            insert(CreditEntry)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["reference"])
            .returning(CreditEntry.id)
        )
        # A row comes back only when it was inserted. (rowcount cannot tell: Postgres reports
        # -1 for an INSERT ... RETURNING, which SQLAlchemy adds to fetch the new id.)
        return session.execute(stmt).first() is not None
    # Other databases: a SAVEPOINT keeps the caller's transaction alive on a duplicate.
    try:
        with session.begin_nested():
            session.add(CreditEntry(**values))
    except IntegrityError:
        return False
    return True


def balance_in(session: Session, user_id: int) -> int:
    """The balance inside an open session (see :func:`balance`)."""
    total = session.scalar(
        select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(CreditEntry.user_id == user_id)
    )
    return int(total or 0)


def balance(user_id: int) -> int:
    """The user's credits now: the sum of their ledger."""
    with read_scope() as session:
        return balance_in(session, user_id)


def job_debit_reference(job_id: str) -> str:
    return f"job:{job_id}:debit"


def job_refund_reference(job_id: str) -> str:
    return f"job:{job_id}:refund"


def job_adjust_reference(job_id: str) -> str:
    return f"job:{job_id}:adjust"


def adjust_job(session: Session, user_id: int, job_id: str, final_cost: int, reason: str) -> int:
    """Make the job's net charge ``final_cost`` (the provider that really made it may price
    differently from the one charged at submit): one idempotent entry for the difference.
    Returns the credits given back (negative: charged extra); 0 when nothing moved."""
    debit = session.scalar(
        select(CreditEntry.amount).where(CreditEntry.reference == job_debit_reference(job_id))
    )
    if debit is None:
        return 0
    delta = -debit - int(final_cost)
    if delta == 0:
        return 0
    return delta if post(session, user_id, delta, job_adjust_reference(job_id), reason) else 0


def refund_job(session: Session, user_id: int, job_id: str, reason: str) -> bool:
    """Give back exactly what the job's debit took, once; False if nothing was (re)paid."""
    debit = session.scalar(
        select(CreditEntry.amount).where(CreditEntry.reference == job_debit_reference(job_id))
    )
    if debit is None or debit >= 0:
        return False
    return post(session, user_id, -debit, job_refund_reference(job_id), reason)


@dataclass(frozen=True)
class LedgerEntryView:
    amount: int
    reference: str
    reason: str
    created_at: datetime


def entries(user_id: int, limit: int = 200) -> list[LedgerEntryView]:
    """The user's ledger, newest first (the receipts page)."""
    with read_scope() as session:
        rows = session.scalars(
            select(CreditEntry)
            .where(CreditEntry.user_id == user_id)
            .order_by(CreditEntry.created_at.desc(), CreditEntry.id.desc())
            .limit(limit)
        )
        return [LedgerEntryView(e.amount, e.reference, e.reason, e.created_at) for e in rows]


# ------------------------------------------------------------------------------------ price

# Letters (and combining marks) spoken per second at speed 1.0, per writing system, measured
# with eSpeak NG's default voices on everyday sentences (pauses at punctuation included).
# Digits are read as words and cost about a quarter second each.
_LETTERS_PER_S: dict[str, float] = {
    "LATIN": 13.8,
    "CYRILLIC": 14.2,
    "GREEK": 13.5,
    "DEVANAGARI": 11.5,
    "GUJARATI": 11.5,
    "GURMUKHI": 11.5,
    "BENGALI": 9.6,
    "ORIYA": 10.0,
    "TAMIL": 13.7,
    "TELUGU": 10.0,
    "KANNADA": 10.0,
    "MALAYALAM": 10.0,
    "ARABIC": 9.0,
    "HEBREW": 10.0,
    "THAI": 12.0,
    "HANGUL": 6.0,
    "HIRAGANA": 7.0,
    "KATAKANA": 7.0,
    "CJK": 4.0,
}
# Arabic script is written without most vowels in Arabic but with more letters in Urdu.
_LANGUAGE_LETTERS_PER_S: dict[tuple[str, str], float] = {
    ("ar", "ARABIC"): 7.7,
    ("ur", "ARABIC"): 10.2,
}
_DEFAULT_LETTERS_PER_S = 12.0
_DIGIT_S = 0.25


def _family(char: str) -> str:
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0]


def estimate_duration_s(script: str, language: str, speed: float = 1.0) -> float:
    """Seconds of speech ``script`` will take in ``language`` at ``speed`` (0.5-2.0).

    Counts letters per writing system (so mixed Hindi/English text is priced fairly) and
    divides by that system's speaking rate. An estimate for pricing and the UI, rounded to
    0.1 s; the real length comes from the speech engine.
    """
    if speed <= 0:
        raise ValueError("speed must be positive")
    seconds = 0.0
    for char in script:
        category = unicodedata.category(char)
        if category[0] in ("L", "M"):
            family = _family(char)
            rate = _LANGUAGE_LETTERS_PER_S.get((language, family)) or _LETTERS_PER_S.get(
                family, _DEFAULT_LETTERS_PER_S
            )
            seconds += 1.0 / rate
        elif category == "Nd":
            seconds += _DIGIT_S
    return round(seconds / speed, 1)


def estimate_cost(duration_s: float, per_started_30s: int | None = None) -> int:
    """Credits for a video of ``duration_s``: every started 30 s costs
    ``[credits] per_started_30s`` (default from settings); never less than one block."""
    per_block = (
        per_started_30s if per_started_30s is not None else (get_settings().credits.per_started_30s)
    )
    blocks = max(1, math.ceil(max(duration_s, 0.0) / 30.0))
    return blocks * per_block
