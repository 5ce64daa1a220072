"""The launch numbers, each with its goal and a small daily series, from our own tables.

    numbers(now, days)   every launch number (the admin Launch page, the alerts)
    goal_checks(now)     the numbers that have a goal and enough data to judge it

| key            | what                                                          | goal       |
| -------------- | ------------------------------------------------------------- | ---------- |
| uptime         | time the health sampler saw the app not ``down`` (a gap in     | >= 99.5 %  |
|                | the samples longer than 3 intervals counts as down)           |            |
| response       | page run time p50 / p95 / average, this process's last 15 min | avg < 3 s  |
|                | (series: the sampled p95 per day)                             |            |
| success        | videos succeeded / (succeeded + failed)                       | >= 95 %    |
| errors         | failed page runs / page runs, this process's last 15 min      | <= 2 %     |
|                | (series: error-level events per day)                          |            |
| satisfaction   | average star rating of videos (video_feedback)                | >= 4.5 / 5 |
| session        | median minutes from sign-in to last activity (sessions)       | —          |
| registrations  | accounts created per day (guests excluded)                    | —          |
| conversion     | visitors -> first video -> first purchase (distinct users)    | —          |
| revenue        | paid purchases per paying user, INR and USD                   | —          |
| retention      | of accounts at least 7 / 30 days old, the share active again  | —          |
|                | on or after day 7 / 30 (a video, or a signed-in visit)        |            |

Every query reads (``read_scope``); nothing here calls the network. Figures without enough
data are ``None`` and say so, never a made-up zero.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import func, select

from db.golive_models import VideoFeedback
from db.models import AuthSession, Event, HealthSample, Job, Purchase, User, utcnow
from db.session import read_scope
from errors import N_
from observability.probes import REQUESTS, percentile
from secrets_manager import get_settings

# Goals of the launch checklist.
UPTIME_GOAL = 0.995
RESPONSE_GOAL_S = 3.0
SUCCESS_GOAL = 0.95
ERROR_RATE_GOAL = 0.02
SATISFACTION_GOAL = 4.5
# Below these counts a rate says little: it is shown, but not judged (no alert).
MIN_JOBS = 10
MIN_REQUESTS = 50
MIN_RATINGS = 5
MIN_UPTIME_SAMPLES = 10

Direction = Literal["min", "max"]


@dataclass(frozen=True)
class Number:
    key: str
    label: str  # an N_ template
    value: float | None
    unit: str  # "percent" (0-1), "seconds", "stars", "minutes", "count", "text"
    goal: float | None = None
    direction: Direction | None = None  # the value must be >= goal ("min") or <= ("max")
    judged: bool = False  # enough data to say whether the goal is met
    series: list[dict[str, Any]] = field(default_factory=list)  # [{"day": date, "value": x}]
    detail: dict[str, Any] = field(default_factory=dict)
    basis: int = 0  # how many observations the value rests on

    @property
    def ok(self) -> bool | None:
        if self.goal is None or self.value is None or not self.judged:
            return None
        return self.value >= self.goal if self.direction == "min" else self.value <= self.goal


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _days(now: dt.datetime, days: int) -> list[dt.date]:
    today = now.astimezone(dt.UTC).date()
    return [today - dt.timedelta(days=days - 1 - i) for i in range(days)]


# ------------------------------------------------------------------------------------ uptime


def uptime(now: dt.datetime, days: int = 30, chart_days: int = 14) -> Number:
    every = get_settings().health.sample_every_s
    since = now - dt.timedelta(days=days)
    with read_scope() as db:
        rows = db.execute(
            select(HealthSample.ts, HealthSample.status)
            .where(HealthSample.ts >= since)
            .order_by(HealthSample.ts)
        ).all()
    samples = [(_aware(ts), status) for ts, status in rows]
    up_s: dict[dt.date, float] = defaultdict(float)
    all_s: dict[dt.date, float] = defaultdict(float)
    for (ts, status), (nxt, _next_status) in itertools.pairwise(samples):
        gap = (nxt - ts).total_seconds()
        day = ts.date()
        all_s[day] += gap
        if status != "down" and gap <= 3 * every:
            up_s[day] += gap
    total = sum(all_s.values())
    value = sum(up_s.values()) / total if total else None
    series = [
        {"day": d, "value": up_s[d] / all_s[d] if all_s.get(d) else None}
        for d in _days(now, chart_days)
    ]
    return Number(
        "uptime",
        N_("Uptime"),
        value,
        "percent",
        UPTIME_GOAL,
        "min",
        judged=len(samples) >= MIN_UPTIME_SAMPLES,
        series=series,
        basis=len(samples),
    )


# ------------------------------------------------------------------------- response, errors


def _recent_requests() -> list[tuple[float, bool]]:
    # The in-memory window the health page's summary reads (it gives only p95 and the error
    # rate; the launch page also wants p50 and the average).
    cutoff = time.monotonic() - REQUESTS.window_s
    with REQUESTS._lock:
        return [(d, e) for t, d, e in REQUESTS._items if t >= cutoff]


def response(now: dt.datetime, chart_days: int = 14) -> Number:
    durations = [d for d, _e in _recent_requests()]
    avg = statistics.fmean(durations) if durations else None
    since = dt.datetime.combine(_days(now, chart_days)[0], dt.time(), tzinfo=dt.UTC)
    with read_scope() as db:
        rows = db.execute(
            select(HealthSample.ts, HealthSample.data).where(HealthSample.ts >= since)
        ).all()
    per_day: dict[dt.date, list[float]] = defaultdict(list)
    for ts, data in rows:
        p95 = (data or {}).get("response_p95_s")
        if isinstance(p95, int | float):
            per_day[_aware(ts).date()].append(float(p95))
    series = [
        {"day": d, "value": statistics.fmean(per_day[d]) if per_day.get(d) else None}
        for d in _days(now, chart_days)
    ]
    return Number(
        "response",
        N_("Page response time (average)"),
        avg,
        "seconds",
        RESPONSE_GOAL_S,
        "max",
        judged=len(durations) >= MIN_REQUESTS,
        series=series,
        detail={"p50_s": percentile(durations, 50), "p95_s": percentile(durations, 95)},
        basis=len(durations),
    )


def error_rate(now: dt.datetime, chart_days: int = 14) -> Number:
    recent = _recent_requests()
    errors = sum(1 for _d, e in recent if e)
    since = dt.datetime.combine(_days(now, chart_days)[0], dt.time(), tzinfo=dt.UTC)
    with read_scope() as db:
        rows = db.execute(select(Event.ts).where(Event.level == "error", Event.ts >= since)).all()
    per_day: dict[dt.date, int] = defaultdict(int)
    for (ts,) in rows:
        per_day[_aware(ts).date()] += 1
    return Number(
        "errors",
        N_("Error rate"),
        errors / len(recent) if recent else None,
        "percent",
        ERROR_RATE_GOAL,
        "max",
        judged=len(recent) >= MIN_REQUESTS,
        series=[{"day": d, "value": per_day.get(d, 0)} for d in _days(now, chart_days)],
        detail={"errors": errors, "requests": len(recent), "series_is": "error events per day"},
        basis=len(recent),
    )


# ----------------------------------------------------------------------------------- videos


def success_rate(now: dt.datetime, days: int = 30, chart_days: int = 14) -> Number:
    since = now - dt.timedelta(days=days)
    with read_scope() as db:
        rows = db.execute(
            select(Job.finished_at, Job.status).where(
                Job.status.in_(("succeeded", "failed")), Job.finished_at >= since
            )
        ).all()
    ok: dict[dt.date, int] = defaultdict(int)
    done: dict[dt.date, int] = defaultdict(int)
    for finished, status in rows:
        if finished is None:
            continue
        day = _aware(finished).date()
        done[day] += 1
        ok[day] += status == "succeeded"
    total = sum(done.values())
    return Number(
        "success",
        N_("Video success rate"),
        sum(ok.values()) / total if total else None,
        "percent",
        SUCCESS_GOAL,
        "min",
        judged=total >= MIN_JOBS,
        series=[
            {"day": d, "value": ok[d] / done[d] if done.get(d) else None}
            for d in _days(now, chart_days)
        ],
        detail={"succeeded": sum(ok.values()), "failed": total - sum(ok.values())},
        basis=total,
    )


def satisfaction(now: dt.datetime, days: int = 30, chart_days: int = 14) -> Number:
    since = now - dt.timedelta(days=days)
    with read_scope() as db:
        rows = db.execute(
            select(VideoFeedback.updated_at, VideoFeedback.rating).where(
                VideoFeedback.updated_at >= since
            )
        ).all()
    per_day: dict[dt.date, list[int]] = defaultdict(list)
    for ts, rating in rows:
        per_day[_aware(ts).date()].append(int(rating))
    ratings = [r for _ts, r in rows]
    return Number(
        "satisfaction",
        N_("Satisfaction (stars)"),
        statistics.fmean(ratings) if ratings else None,
        "stars",
        SATISFACTION_GOAL,
        "min",
        judged=len(ratings) >= MIN_RATINGS,
        series=[
            {"day": d, "value": statistics.fmean(per_day[d]) if per_day.get(d) else None}
            for d in _days(now, chart_days)
        ],
        basis=len(ratings),
    )


# ------------------------------------------------------------------------------------ people


def session_length(now: dt.datetime, days: int = 30, chart_days: int = 14) -> Number:
    since = now - dt.timedelta(days=days)
    with read_scope() as db:
        rows = db.execute(
            select(AuthSession.created_at, AuthSession.last_seen_at).where(
                AuthSession.created_at >= since
            )
        ).all()
    per_day: dict[dt.date, list[float]] = defaultdict(list)
    for created, seen in rows:
        per_day[_aware(created).date()].append(
            max(0.0, (_aware(seen) - _aware(created)).total_seconds() / 60)
        )
    minutes = [m for values in per_day.values() for m in values]
    return Number(
        "session",
        N_("Session length (median)"),
        statistics.median(minutes) if minutes else None,
        "minutes",
        series=[
            {"day": d, "value": statistics.median(per_day[d]) if per_day.get(d) else None}
            for d in _days(now, chart_days)
        ],
        basis=len(minutes),
    )


def _accounts() -> Any:
    return (User.is_guest.is_(False)) & (User.auth_method != "guest")


def registrations(now: dt.datetime, chart_days: int = 14) -> Number:
    days = _days(now, chart_days)
    since = dt.datetime.combine(days[0], dt.time(), tzinfo=dt.UTC)
    with read_scope() as db:
        rows = db.execute(
            select(User.created_at).where(_accounts(), User.created_at >= since)
        ).all()
    per_day: dict[dt.date, int] = defaultdict(int)
    for (created,) in rows:
        per_day[_aware(created).date()] += 1
    counts = [per_day.get(d, 0) for d in days]
    series: list[dict[str, Any]] = [
        {"day": d, "value": n} for d, n in zip(days, counts, strict=True)
    ]
    return Number(
        "registrations",
        N_("Registrations per day"),
        statistics.fmean(counts),
        "count",
        series=series,
        detail={"today": per_day.get(days[-1], 0), "total": len(rows)},
        basis=len(rows),
    )


def conversion(now: dt.datetime, days: int = 30) -> Number:
    since = now - dt.timedelta(days=days)
    with read_scope() as db:
        visitors = {
            uid
            for (uid,) in db.execute(
                select(User.id).where(User.created_at >= since, User.deleted_at.is_(None))
            )
        }
        visit_events = db.scalar(
            select(func.count(func.distinct(Event.user_id))).where(
                Event.kind == "analytics.visit", Event.ts >= since
            )
        )
        first_video = {
            uid
            for (uid,) in db.execute(
                select(Job.user_id).where(Job.status == "succeeded", Job.created_at >= since)
            )
        }
        buyers = {
            uid
            for (uid,) in db.execute(
                select(Purchase.user_id).where(Purchase.status == "paid", Purchase.paid_at >= since)
            )
            if uid is not None
        }
    base = max(len(visitors), int(visit_events or 0))
    steps = [
        {"step": "visitors", "users": base},
        {"step": "first video", "users": len(first_video)},
        {"step": "purchase", "users": len(buyers)},
    ]
    return Number(
        "conversion",
        N_("Conversion (visitor to purchase)"),
        len(buyers) / base if base else None,
        "percent",
        detail={
            "steps": steps,
            "to_video": len(first_video) / base if base else None,
            "video_to_purchase": len(buyers & first_video) / len(first_video)
            if first_video
            else None,
        },
        basis=base,
    )


def revenue_per_paying_user(now: dt.datetime, days: int = 30) -> Number:
    since = now - dt.timedelta(days=days)
    with read_scope() as db:
        rows = db.execute(
            select(Purchase.currency, Purchase.user_id, Purchase.amount_minor).where(
                Purchase.status == "paid", Purchase.paid_at >= since
            )
        ).all()
    by_currency: dict[str, dict[str, Any]] = {}
    for currency in ("INR", "USD"):
        mine = [(uid, amount) for cur, uid, amount in rows if cur == currency]
        payers = {uid for uid, _a in mine}
        total = sum(a for _u, a in mine) / 100
        by_currency[currency] = {
            "revenue": total,
            "payers": len(payers),
            "per_payer": total / len(payers) if payers else None,
        }
    return Number(
        "revenue",
        N_("Revenue per paying user"),
        None,
        "text",
        detail=by_currency,
        basis=len(rows),
    )


def retention(now: dt.datetime, after_days: int) -> Number:
    """Of accounts at least ``after_days`` old (made in the last 90 days), the share that made
    a video or was seen signed in on or after day ``after_days``."""
    cutoff = now - dt.timedelta(days=after_days)
    with read_scope() as db:
        users = db.execute(
            select(User.id, User.created_at).where(
                _accounts(),
                User.deleted_at.is_(None),
                User.created_at <= cutoff,
                User.created_at >= now - dt.timedelta(days=90 + after_days),
            )
        ).all()
        ids = [uid for uid, _c in users]
        last_job = dict(
            db.execute(
                select(Job.user_id, func.max(Job.created_at))
                .where(Job.user_id.in_(ids))
                .group_by(Job.user_id)
            ).all()
        )
        last_seen = dict(
            db.execute(
                select(AuthSession.user_id, func.max(AuthSession.last_seen_at))
                .where(AuthSession.user_id.in_(ids))
                .group_by(AuthSession.user_id)
            ).all()
        )
    kept = 0
    for uid, created in users:
        due = _aware(created) + dt.timedelta(days=after_days)
        seen = [_aware(t) for t in (last_job.get(uid), last_seen.get(uid)) if t is not None]
        kept += any(t >= due for t in seen)
    label = N_("7-day retention") if after_days == 7 else N_("30-day retention")
    return Number(
        f"retention_{after_days}",
        label,
        kept / len(users) if users else None,
        "percent",
        detail={"cohort": len(users), "returned": kept},
        basis=len(users),
    )


# -------------------------------------------------------------------------------- together


def numbers(now: dt.datetime | None = None) -> list[Number]:
    now = now or utcnow()
    return [
        uptime(now),
        response(now),
        success_rate(now),
        error_rate(now),
        satisfaction(now),
        session_length(now),
        registrations(now),
        conversion(now),
        revenue_per_paying_user(now),
        retention(now, 7),
        retention(now, 30),
    ]


def goal_checks(now: dt.datetime | None = None) -> list[Number]:
    """The numbers with a goal and enough data to judge it (for alerts)."""
    now = now or utcnow()
    found = [uptime(now), response(now), success_rate(now), error_rate(now), satisfaction(now)]
    return [n for n in found if n.ok is not None]
