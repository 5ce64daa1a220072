"""First-party product events (visit, upload, generate, success, download, share, purchase).

Stored in the ``events`` table with ``kind = "analytics.<name>"`` when
``[features] enable_analytics`` is on; nothing is recorded otherwise. Recording never raises:
a lost analytics event must not break a creator's action.

For the admin page: :func:`funnel` (events and distinct users per step, with the share of the
previous step) and :func:`daily_counts` (per UTC day and event, zeros included).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select

from db.models import Event, utcnow
from db.session import session_scope
from secrets_manager import get_settings

log = logging.getLogger("talkingphoto.analytics")

EVENTS: tuple[str, ...] = (
    "visit",
    "upload",
    "generate",
    "success",
    "download",
    "share",
    "purchase",
)
PREFIX = "analytics."


def record(
    name: str,
    *,
    user_id: int | None = None,
    job_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> bool:
    """Append one event; returns whether it was stored."""
    if name not in EVENTS:
        raise ValueError(f"unknown analytics event {name!r}; known: {', '.join(EVENTS)}")
    try:
        if not get_settings().features.enable_analytics:
            return False
        with session_scope() as session:
            session.add(
                Event(kind=PREFIX + name, user_id=user_id, job_id=job_id, data=data or None)
            )
        return True
    except Exception:
        log.warning("analytics event %s not recorded", name, exc_info=True)
        return False


# ------------------------------------------------------------------------------ for admins


@dataclass(frozen=True)
class FunnelStep:
    name: str  # one of EVENTS
    events: int  # how many times it happened
    users: int  # distinct signed-in users it happened to
    # events as a share of the previous step's events (None for the first step or after 0)
    of_previous: float | None


def funnel(since: dt.datetime, until: dt.datetime | None = None) -> list[FunnelStep]:
    """The product funnel (visit -> upload -> generate -> success -> download -> share ->
    purchase) between ``since`` and ``until`` (default: now), every step listed."""
    until = until or utcnow()
    kinds = [PREFIX + name for name in EVENTS]
    with session_scope() as session:
        rows = session.execute(
            select(Event.kind, func.count(), func.count(func.distinct(Event.user_id)))
            .where(Event.kind.in_(kinds), Event.ts >= since, Event.ts < until)
            .group_by(Event.kind)
        ).all()
    found = {str(kind)[len(PREFIX) :]: (int(n), int(users)) for kind, n, users in rows}
    steps: list[FunnelStep] = []
    previous: int | None = None
    for name in EVENTS:
        events, users = found.get(name, (0, 0))
        share = round(events / previous, 4) if previous else None
        steps.append(FunnelStep(name, events, users, share))
        previous = events
    return steps


def _utc_day(dialect: str) -> ColumnElement[Any]:
    # SQLite stores UTC text; PostgreSQL converts timestamptz to the session's zone unless told.
    if dialect == "postgresql":
        return func.date(func.timezone("UTC", Event.ts))
    return func.date(Event.ts)


def daily_counts(days: int = 14, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Events per UTC day and name for the last ``days`` days (today included), oldest first,
    with a zero for every day and name that had none: ``{"day": date, "name": str, "count": n}``.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    today = (now or utcnow()).astimezone(dt.UTC).date()
    first = today - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    with session_scope() as session:
        day = _utc_day(session.get_bind().dialect.name)
        rows = session.execute(
            select(day, Event.kind, func.count())
            .where(Event.kind.in_([PREFIX + n for n in EVENTS]), Event.ts >= start)
            .group_by(day, Event.kind)
        ).all()
    counts = {
        (dt.date.fromisoformat(str(d)[:10]), str(kind)[len(PREFIX) :]): int(n)
        for d, kind, n in rows
    }
    dates = [first + dt.timedelta(days=i) for i in range(days)]
    return [{"day": d, "name": n, "count": counts.get((d, n), 0)} for d in dates for n in EVENTS]
