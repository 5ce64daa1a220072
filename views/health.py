"""Health (admins only): the live status, charts over time, recent errors, product analytics.

The app shell lists this page for admins only; the page checks again, because a URL can be
typed. Live figures refresh on their own (``st.fragment(run_every=...)``) from
``health_monitor.snapshot()``, which reads cached key checks and never calls a vendor.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

import health_monitor
from errors import N_, TalkingPhotoError
from i18n import _, format_datetime, format_number
from secrets_manager import get_settings
from services import analytics
from views._components import localized, show_error, show_unexpected
from views._session import current_user, session_mode_text

log = logging.getLogger("talkingphoto.ui")

LIVE_EVERY_S = 5
CHARTS_EVERY_S = 60

STATUS_TEXT: dict[str, str] = {
    "ok": N_("All systems normal"),
    "degraded": N_("Degraded"),
    "down": N_("Down"),
}
RANGES: dict[str, tuple[str, dt.timedelta]] = {
    "1h": (N_("Last hour"), dt.timedelta(hours=1)),
    "24h": (N_("Last 24 hours"), dt.timedelta(days=1)),
    "7d": (N_("Last 7 days"), dt.timedelta(days=7)),
}
EVENT_LABELS: dict[str, str] = {
    "visit": N_("Visits"),
    "upload": N_("Photo uploads"),
    "generate": N_("Videos requested"),
    "success": N_("Videos made"),
    "download": N_("Video downloads"),
    "share": N_("Video shares"),
    "purchase": N_("Credit purchases"),
}


F = TypeVar("F", bound=Callable[..., None])


def _boundary(fn: F) -> F:
    """An error boundary per section: Streamlit renders a fragment's exception itself
    (bypassing the app shell's boundary), and one broken section (the database is down)
    should not hide the others."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except TalkingPhotoError as exc:
            show_error(exc)
        except Exception as exc:
            show_unexpected(exc, "health page")

    return run  # type: ignore[return-value]


def _require_admin() -> None:
    user = current_user()
    if user is None or not user.is_admin:
        log.warning("health page refused for user %s", user.id if user else "(signed out)")
        st.error(_("This page is for administrators only."), icon=":material/lock:")
        st.stop()


def _num(value: float | None, decimals: int = 0, unit: str = "") -> str:
    if value is None:
        return "—"
    return format_number(value, decimals=decimals) + unit


def _pct(value: float | None) -> str:
    return "—" if value is None else format_number(value * 100, decimals=1) + "%"


def _status_banner(snap: health_monitor.Snapshot) -> None:
    title = _(STATUS_TEXT[snap.status])
    lines = [f"**{title}**"] + [
        "- " + localized(reason.template, reason.params) for reason in snap.reasons
    ]
    show = {"ok": st.success, "degraded": st.warning, "down": st.error}[snap.status]
    show("\n".join(lines), icon=":material/monitor_heart:")


def _cards(checks: dict[str, dict[str, Any]]) -> None:
    proc, mach, jobs = checks["process"], checks["machine"], checks["jobs"]
    db, req, errs = checks["database"], checks["requests"], checks["errors"]
    row = st.columns(4)
    row[0].metric(_("Memory (app)"), _num(proc.get("rss_mb"), unit=" MB"))
    row[1].metric(_("CPU (app)"), _num(proc.get("cpu_percent"), 1, "%"))
    row[2].metric(_("Queued videos"), _num(jobs.get("queued")))
    row[3].metric(_("Making now"), _num(jobs.get("running")))
    row = st.columns(4)
    row[0].metric(_("Success, last hour"), _pct(jobs.get("last_hour", {}).get("success_rate")))
    row[1].metric(_("Oldest in queue"), _num(jobs.get("oldest_queued_s"), unit=" s"))
    row[2].metric(_("Free disk"), _num(mach.get("disk_free_mb"), unit=" MB"))
    row[3].metric(_("Database ping"), _num(db.get("latency_ms"), 1, " ms"))
    row = st.columns(4)
    row[0].metric(_("CPU (machine)"), _num(mach.get("cpu_percent"), 1, "%"))
    row[1].metric(_("Errors, last hour"), _num(errs.get("last_hour")))
    row[2].metric(_("Pages, 95th percentile"), _num(req.get("p95_s"), 2, " s"))
    row[3].metric(_("App threads"), _num(proc.get("threads")))


def _providers_table(providers: dict[str, Any]) -> None:
    rows = []
    for name, info in providers.items():
        check = info.get("key_check") or {}
        ok = check.get("ok")
        rows.append(
            {
                _("Provider"): name,
                _("Circuit breaker"): info.get("breaker") or "—",
                _("Key check"): "—" if ok is None else (_("Passing") if ok else _("Failing")),
                _("Latency (ms)"): check.get("latency_ms"),
                _("Check result"): check.get(
                    "result", _("Not checked yet") if name != "local" else ""
                ),
                _("Checked at"): check.get("checked_at", ""),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _details(checks: dict[str, dict[str, Any]]) -> None:
    jobs, pay = checks["jobs"], checks["payments"]
    store, tools = checks["storage"], checks["tools"]
    left, right = st.columns(2)
    with left:
        st.markdown("**" + _("Run time by provider") + "**")
        durations = jobs.get("duration_s") or {}
        if durations:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            _("Provider"): n,
                            _("Finished videos"): d["n"],
                            "p50 (s)": d["p50"],
                            "p95 (s)": d["p95"],
                        }
                        for n, d in durations.items()
                    ]
                ),
                hide_index=True,
            )
        else:
            st.caption(_("No finished videos in the last day."))
        st.markdown("**" + _("Payment webhooks") + "**")
        hooks = pay.get("last_webhook") or {}
        for gateway, info in hooks.items():
            st.caption(
                _("Last {gateway} webhook: {age} s ago").format(
                    gateway=gateway, age=_num(info.get("age_s"))
                )
            )
        if not hooks:
            st.caption(_("No payment webhooks received yet."))
        st.caption(_("Pending purchases: {n}").format(n=_num(pay.get("pending_purchases"))))
    with right:
        st.markdown("**" + _("Storage and tools") + "**")
        writable = _("writable") if store.get("writable") else _("NOT writable")
        st.caption(
            _("Storage ({backend}): {state}, {used} MB of videos").format(
                backend=store.get("backend", "?"), state=writable, used=_num(store.get("used_mb"))
            )
        )
        yes, no = _("present"), _("missing")
        st.caption(
            _("ffmpeg: {ffmpeg} · eSpeak NG: {espeak} · voices: {voices}").format(
                ffmpeg=yes if tools.get("ffmpeg") else no,
                espeak=yes if tools.get("espeak") else no,
                voices=_num(tools.get("voices")),
            )
        )


@st.fragment(run_every=LIVE_EVERY_S)
@_boundary
def _live() -> None:
    snap = health_monitor.snapshot()
    _status_banner(snap)
    _cards(snap.checks)
    st.subheader(_("Providers"))
    _providers_table(snap.checks.get("providers") or {})
    _details(snap.checks)
    st.caption(session_mode_text())
    st.caption(
        _("Updated {time} · took {ms} ms").format(
            time=format_datetime(snap.time), ms=_num(snap.took_ms, 1)
        )
    )


@st.fragment(run_every=CHARTS_EVERY_S)
@_boundary
def _charts(range_key: str) -> None:
    since = dt.datetime.now(dt.UTC) - RANGES[range_key][1]
    samples = health_monitor.load_samples(since)
    if not samples:
        every = get_settings().health.sample_every_s
        st.info(_("No samples yet; one is stored every {n} seconds.").format(n=every))
        return
    frame = pd.DataFrame(samples).set_index("ts")
    charts = (
        (_("Memory (MB)"), {"rss_mb": _("App memory")}),
        (_("CPU (%)"), {"cpu_percent": _("This app"), "machine_cpu_percent": _("Whole machine")}),
        (_("Video queue"), {"queued": _("Queued"), "running": _("Making now")}),
    )
    for title, columns in charts:
        present = {c: label for c, label in columns.items() if c in frame}
        if not present:
            continue
        st.markdown("**" + title + "**")
        st.line_chart(frame[list(present)].rename(columns=present), height=180)


@_boundary
def _errors() -> None:
    st.subheader(_("Recent errors"))
    items = health_monitor.recent_errors(30)
    if not items:
        st.caption(_("No errors recorded."))
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    _("When"): format_datetime(e["time"]),
                    _("Source"): e["source"],
                    _("Reference id"): e["ref"] or "",
                    _("Error message"): e["message"],
                }
                for e in items
            ]
        ),
        hide_index=True,
        width="stretch",
    )


@_boundary
def _analytics() -> None:
    st.subheader(_("Product analytics"))
    if not get_settings().features.enable_analytics:
        st.info(_("Product analytics is off ([features] enable_analytics)."))
        return
    days = st.selectbox(
        _("Analytics period"),
        (7, 14, 30),
        index=1,
        key="health_days",
        format_func=lambda d: _("Last {n} days").format(n=d),
    )
    now = dt.datetime.now(dt.UTC)
    steps = analytics.funnel(now - dt.timedelta(days=days), now)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    _("Funnel step"): _(EVENT_LABELS[s.name]),
                    _("Event count"): s.events,
                    _("Distinct users"): s.users,
                    _("Of previous step"): _pct(s.of_previous),
                }
                for s in steps
            ]
        ),
        hide_index=True,
    )
    daily = pd.DataFrame(analytics.daily_counts(days, now))
    daily["name"] = daily["name"].map(lambda n: _(EVENT_LABELS[n]))
    table = daily.pivot(index="day", columns="name", values="count")
    st.markdown("**" + _("Events per day") + "**")
    st.line_chart(table, height=220)


def render() -> None:
    _require_admin()
    st.title(_("Health"))
    _live()
    st.subheader(_("Over time"))
    range_key = (
        st.segmented_control(
            _("Chart range"),
            list(RANGES),
            default="24h",
            key="health_range",
            format_func=lambda k: _(RANGES[k][0]),
        )
        or "24h"
    )
    _charts(range_key)
    _errors()
    _analytics()


render()
