"""Alerts that reach someone: health turning degraded or down, a launch number missing its
goal — sent to ``[alerts] emails`` (through :mod:`mail`) and ``[alerts] webhooks`` (a JSON
POST that Slack and Microsoft Teams incoming webhooks, and any JSON receiver, accept).

    on_sample(status, reasons)   the health sampler's hook: evaluate and notify
    evaluate(conditions, now)    the state machine below, for any set of conditions
    Condition                    one thing that is wrong now: key, severity, message

Per alert ``key`` (``health``, ``launch.uptime``, ...) the state lives in the ``alert_state``
table, so de-duplication survives a restart and is shared by replicas:

* a condition that starts firing is sent once ("FIRING");
* while it keeps firing nothing more is sent, unless the severity gets worse (degraded ->
  down) or ``cooldown_s`` has passed since the last send (a reminder);
* when it stops firing a "RESOLVED" message is sent once.

A delivery that fails on every channel is not counted as sent, so the next sample tries
again; a channel failing is logged without its URL (webhook URLs embed a token).
Launch numbers are read at most every :data:`LAUNCH_EVERY_S` seconds (they query tables).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import mail
from db.golive_models import AlertState
from db.models import utcnow
from db.session import session_scope
from errors import TalkingPhotoError
from secrets_manager import Settings, get_settings

log = logging.getLogger("talkingphoto.alerts")

SEVERITIES: tuple[str, ...] = ("ok", "degraded", "down")
LAUNCH_EVERY_S = 600.0

Sender = Callable[[str, str, Settings], bool]


@dataclass(frozen=True)
class Condition:
    key: str  # "health" or "launch.<number>"
    severity: str  # "degraded" | "down"
    title: str
    message: str


@dataclass(frozen=True)
class Notice:
    key: str
    kind: str  # "firing" | "reminder" | "resolved"
    title: str
    text: str
    delivered: bool


# ------------------------------------------------------------------------------ channels


def _send_email(subject: str, text: str, settings: Settings) -> bool:
    ok = False
    for address in settings.alerts.emails:
        try:
            mail.send(mail.Message(to=address, subject=subject, text=text, kind="alert"))
            ok = True
        except TalkingPhotoError as exc:
            log.warning("alert e-mail to %s failed: %s", address, exc.detail or type(exc).__name__)
    return ok


def _post_json(url: str, payload: dict[str, Any], timeout_s: float) -> int:
    # urllib, not httpx: httpx logs every request URL at INFO, and this URL holds a token.
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "TalkingPhoto-alerts"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _send_webhooks(subject: str, text: str, settings: Settings) -> bool:
    ok = False
    payload = {"text": f"*{subject}*\n{text}", "title": subject, "summary": subject}
    for n, secret in enumerate(settings.alerts.webhooks, start=1):
        url = secret.get_secret_value()
        host = urlsplit(url).hostname or "?"
        try:
            status = _post_json(url, payload, settings.alerts.timeout_s)
        except (OSError, ValueError) as exc:  # refused, timed out, DNS, bad URL
            log.warning("alert webhook #%d (%s) failed: %s", n, host, type(exc).__name__)
            continue
        if status >= 300:
            log.warning("alert webhook #%d (%s) answered %d", n, host, status)
            continue
        ok = True
    return ok


def _deliver(subject: str, text: str, settings: Settings) -> bool:
    emailed = _send_email(subject, text, settings)
    posted = _send_webhooks(subject, text, settings)
    return emailed or posted


def configured(settings: Settings | None = None) -> bool:
    cfg = (settings or get_settings()).alerts
    return bool(cfg.emails or cfg.webhooks)


# ------------------------------------------------------------------------------- evaluate


def _subject(settings: Settings, kind: str, cond_title: str, severity: str) -> str:
    label = {"firing": "FIRING", "reminder": "STILL FIRING", "resolved": "RESOLVED"}[kind]
    level = f" [{severity}]" if kind != "resolved" else ""
    return f"[{settings.app.name}] {label}{level}: {cond_title}"


def evaluate(
    conditions: Iterable[Condition],
    now: dt.datetime | None = None,
    *,
    keys: Sequence[str] | None = None,
    settings: Settings | None = None,
    deliver: Sender | None = None,
) -> list[Notice]:
    """Compare what is wrong now with the stored state and send what is due.

    ``keys`` limits which stored alerts may resolve (the health hook passes only "health",
    so it never resolves a launch alert it did not look at); default: every key seen.
    """
    settings = settings or get_settings()
    deliver = deliver or _deliver
    now = now or utcnow()
    current = {c.key: c for c in conditions}
    cooldown = dt.timedelta(seconds=settings.alerts.cooldown_s)
    notices: list[Notice] = []
    with session_scope() as session:
        states = {s.key: s for s in session.query(AlertState).all()}
        scope = set(keys) if keys is not None else set(states) | set(current)
        for key in sorted(scope | set(current)):
            cond = current.get(key)
            state = states.get(key)
            if cond is not None:
                if state is None:
                    state = AlertState(key=key, firing=False, severity="", message="", sends=0)
                    session.add(state)
                worse = state.firing and SEVERITIES.index(cond.severity) > SEVERITIES.index(
                    state.severity or "ok"
                )
                last = state.last_sent_at
                due = last is None or now - last >= cooldown
                if not state.firing or worse:
                    kind = "firing"
                elif due:
                    kind = "reminder"
                else:
                    kind = ""
                previous = (state.firing, state.severity)
                if not state.firing:
                    state.since = now
                state.firing = True
                state.severity = cond.severity
                state.message = cond.message
                if kind:
                    subject = _subject(settings, kind, cond.title, cond.severity)
                    text = (
                        f"{cond.message}\n\nSince {state.since:%Y-%m-%d %H:%M} UTC."
                        f"\nHealth: {settings.app.base_url}/health · "
                        f"Launch numbers: {settings.app.base_url}/launch"
                    )
                    delivered = deliver(subject, text, settings)
                    if delivered:
                        state.last_sent_at = now
                        state.sends += 1
                    elif kind == "firing":
                        state.firing, state.severity = previous  # not announced: retry next time
                    notices.append(Notice(key, kind, subject, text, delivered))
            elif state is not None and state.firing and key in scope:
                subject = _subject(settings, "resolved", _title_for(key), "")
                text = f"Back to normal after {_duration(now - (state.since or now))}."
                delivered = deliver(subject, text, settings)
                if delivered:
                    state.firing = False
                    state.severity = ""
                    state.last_sent_at = now
                    state.sends += 1
                notices.append(Notice(key, "resolved", subject, text, delivered))
    for notice in notices:
        log.warning(
            "alert %s %s (%s)",
            notice.key,
            notice.kind,
            "sent" if notice.delivered else "NOT delivered",
        )
    return notices


def _duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


_TITLES: dict[str, str] = {
    "health": "Health",
    "launch.uptime": "Uptime below 99.5%",
    "launch.response": "Page response time above 3 s",
    "launch.success": "Video success rate below 95%",
    "launch.errors": "Error rate above 2%",
    "launch.satisfaction": "Satisfaction below 4.5/5",
}


def _title_for(key: str) -> str:
    return _TITLES.get(key, key)


# ------------------------------------------------------------------------------ conditions


def health_conditions(status: str, reasons: Iterable[str]) -> list[Condition]:
    if status not in ("degraded", "down"):
        return []
    listed = "\n".join(f"- {r}" for r in reasons) or "- (no reason given)"
    return [
        Condition(
            "health",
            status,
            f"health is {status}",
            f"The health check says {status.upper()}:\n{listed}",
        )
    ]


def _format(value: float, unit: str) -> str:
    if unit == "percent":
        return f"{value * 100:.2f}%"
    if unit == "seconds":
        return f"{value:.2f} s"
    if unit == "stars":
        return f"{value:.2f}/5"
    return f"{value:g}"


def launch_conditions(now: dt.datetime | None = None) -> list[Condition]:
    from services import launch_metrics

    found: list[Condition] = []
    for number in launch_metrics.goal_checks(now):
        if number.ok is False and number.value is not None and number.goal is not None:
            found.append(
                Condition(
                    f"launch.{number.key}",
                    "degraded",
                    _title_for(f"launch.{number.key}"),
                    f"{number.label}: {_format(number.value, number.unit)} "
                    f"(goal {'>=' if number.direction == 'min' else '<='} "
                    f"{_format(number.goal, number.unit)}; {number.basis} observations).",
                )
            )
    return found


LAUNCH_KEYS: tuple[str, ...] = tuple(k for k in _TITLES if k.startswith("launch."))

_launch_lock = threading.Lock()
_launch_next = -float("inf")


def on_sample(
    status: str, reasons: Iterable[str], *, clock: Callable[[], float] = time.monotonic
) -> list[Notice]:
    """The health sampler's hook (every ``[health] sample_every_s``): alerts, and the
    scheduled backup when one is due (``[backup]``, in its own thread). Never raises."""
    global _launch_next
    try:
        settings = get_settings()
        from services import backup

        backup.start_if_due()  # the scheduled backup rides on the same clock
        if not configured(settings):
            return []
        notices = evaluate(health_conditions(status, reasons), keys=("health",))
        with _launch_lock:
            due = settings.alerts.launch_numbers and clock() >= _launch_next
            if due:
                _launch_next = clock() + LAUNCH_EVERY_S
        if due:
            notices += evaluate(launch_conditions(), keys=LAUNCH_KEYS)
        return notices
    except Exception:
        log.exception("alerts: evaluation failed")
        return []


def reset_for_tests() -> None:
    global _launch_next
    with _launch_lock:
        _launch_next = -float("inf")


def state() -> list[dict[str, Any]]:
    """The stored alert states (admin page)."""
    with session_scope() as session:
        return [
            {
                "key": s.key,
                "firing": s.firing,
                "severity": s.severity,
                "since": s.since,
                "last_sent_at": s.last_sent_at,
                "sends": s.sends,
                "message": s.message,
            }
            for s in session.query(AlertState).order_by(AlertState.key).all()
        ]
