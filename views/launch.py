"""Admin: the launch numbers, each with its goal and a small daily chart (all from our own
tables, ``services.launch_metrics``), the latest ratings, and where alerts go."""

from __future__ import annotations

import logging
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

import ui_theme
from i18n import _, format_datetime, format_number
from services import feedback, launch_metrics
from services.launch_metrics import Number
from views._session import current_user

log = logging.getLogger("talkingphoto.ui")


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return format_number(value * 100, decimals=2) + " %"
    if unit == "seconds":
        return format_number(value, decimals=2) + " s"
    if unit == "stars":
        return format_number(value, decimals=2) + " / 5"
    if unit == "minutes":
        return format_number(value, decimals=1) + " " + _("min")
    return format_number(value, decimals=1)


def _verdict(number: Number) -> str:
    if number.goal is None:
        return ""
    sign = "≥" if number.direction == "min" else "≤"
    goal = _("Goal {sign} {goal}").format(sign=sign, goal=_fmt(number.goal, number.unit))
    if number.ok is None:
        return goal + " · " + _("not enough data yet ({n})").format(n=number.basis)
    return goal + " · " + (_("met") if number.ok else _("missed"))


def _scaled(number: Number, value: float | None) -> float | None:
    if value is None:
        return None
    return value * 100 if number.unit == "percent" and number.key != "errors" else value


def _chart(number: Number, kind: str = "line") -> None:
    """A small daily chart: the series (points joined by a line, or bars) and the goal as a
    dashed rule."""
    points = [p for p in number.series if p.get("value") is not None]
    if not points:
        st.caption(_("No data in the last 14 days."))
        return
    frame = pd.DataFrame(
        {
            "day": [pd.Timestamp(p["day"]) for p in number.series],
            "value": [_scaled(number, p.get("value")) for p in number.series],
        }
    )
    x = alt.X("day:T", title=None, axis=alt.Axis(format="%d %b", labelAngle=0, tickCount=4))
    counts = number.key in ("errors", "registrations")  # whole numbers per day
    axis = alt.Axis(tickCount=3, format="d") if counts else alt.Axis(tickCount=3)
    y = alt.Y("value:Q", title=None, axis=axis)
    base = alt.Chart(frame)
    if kind == "bar":
        layer = base.mark_bar(color=ui_theme.PRIMARY).encode(x=x, y=y)
    else:
        layer = base.mark_line(color=ui_theme.PRIMARY, point=True).encode(x=x, y=y)
    if number.goal is not None and number.key != "errors":
        goal = number.goal * 100 if number.unit == "percent" else number.goal
        rule = (
            alt.Chart(pd.DataFrame({"goal": [goal]}))
            .mark_rule(color=ui_theme.ACCENT, strokeDash=[4, 3])
            .encode(y="goal:Q")
        )
        layer = layer + rule
    st.altair_chart(layer.properties(height=110), width="stretch")


def _card(number: Number, *, chart: str = "line", help_text: str = "") -> None:
    with st.container(border=True, key=f"launch_{number.key}"):
        delta = None
        if number.goal is not None and number.value is not None:
            diff = number.value - number.goal
            delta = (
                _fmt(diff, number.unit)
                if number.unit != "percent"
                else (format_number(diff * 100, decimals=2) + " pp")
            )
        st.metric(
            _(number.label),
            _fmt(number.value, number.unit),
            delta=delta,
            delta_color="inverse" if number.direction == "max" else "normal",
            help=help_text or None,
        )
        verdict = _verdict(number)
        if verdict:
            ui_theme.plain_caption(verdict)
        if number.series:
            _chart(number, chart)


def _response_help(number: Number) -> str:
    p50, p95 = number.detail.get("p50_s"), number.detail.get("p95_s")
    return _(
        "p50 {p50} · p95 {p95} · {n} page runs in the last 15 minutes; chart: daily p95"
    ).format(p50=_fmt(p50, "seconds"), p95=_fmt(p95, "seconds"), n=number.basis)


def _conversion(number: Number) -> None:
    with st.container(border=True, key="launch_conversion"):
        st.metric(_(number.label), _fmt(number.value, "percent"))
        steps: list[dict[str, Any]] = number.detail.get("steps", [])
        names = {
            "visitors": _("Visitors"),
            "first video": _("First video"),
            "purchase": _("Purchase"),
        }
        frame = pd.DataFrame(
            {"step": [names[s["step"]] for s in steps], "people": [s["users"] for s in steps]}
        )
        chart = (
            alt.Chart(frame)
            .mark_bar(color=ui_theme.PRIMARY)
            .encode(
                y=alt.Y("step:N", sort=None, title=None),
                x=alt.X("people:Q", title=None, axis=alt.Axis(tickCount=3)),
            )
            .properties(height=110)
        )
        st.altair_chart(chart, width="stretch")


def _revenue(number: Number) -> None:
    with st.container(border=True, key="launch_revenue"):
        st.markdown(f"**{_(number.label)}**")
        left, right = st.columns(2)
        for column, currency, symbol in ((left, "INR", "₹"), (right, "USD", "$")):
            data = number.detail.get(currency, {})
            per = data.get("per_payer")
            column.metric(currency, "—" if per is None else symbol + format_number(per, decimals=2))
            with column:  # plain_caption: a "$" must not start LaTeX
                ui_theme.plain_caption(
                    _("{n} paying · {total} in total").format(
                        n=data.get("payers", 0),
                        total=symbol + format_number(data.get("revenue", 0), decimals=2),
                    )
                )


def _ratings() -> None:
    st.subheader(_("Latest ratings"))
    rows = feedback.recent(10)
    if not rows:
        st.caption(_("No ratings yet."))
        return
    tz = st.context.timezone if isinstance(st.context.timezone, str) else None
    with st.container(key="launch_ratings"):
        for r in rows:
            stars = "★" * r.rating + "☆" * (5 - r.rating)
            when = format_datetime(r.updated_at, tz_name=tz)
            # Typed by creators: shown inert (no Markdown, no links).
            ui_theme.plain_caption(
                f"{stars} · {when} · {r.job_title or r.job_id[:8]} · {r.user_email}"
            )
            if r.comment:
                ui_theme.script_excerpt(r.comment)


def main() -> None:
    user = current_user()
    if user is None or not user.is_admin:
        log.warning("launch page refused for user %s", user.id if user else "(signed out)")
        st.error(_("This page is for administrators only."), icon=":material/lock:")
        st.stop()
    st.title(_("Launch numbers"))
    st.caption(_("Last 30 days unless said otherwise; charts show the last 14 days."))
    numbers = {n.key: n for n in launch_metrics.numbers()}
    row = st.columns(3)
    with row[0]:
        _card(numbers["uptime"], help_text=_("Share of time the health check saw the app up."))
    with row[1]:
        _card(numbers["response"], help_text=_response_help(numbers["response"]))
    with row[2]:
        _card(numbers["success"])
    row = st.columns(3)
    with row[0]:
        _card(
            numbers["errors"],
            chart="bar",
            help_text=_("Failed page runs in the last 15 minutes; chart: error events per day."),
        )
    with row[1]:
        _card(numbers["satisfaction"])
    with row[2]:
        _card(numbers["session"])
    row = st.columns(3)
    with row[0]:
        _card(numbers["registrations"], chart="bar")
    with row[1]:
        _conversion(numbers["conversion"])
    with row[2]:
        _revenue(numbers["revenue"])
    for column, key in zip(st.columns(2), ("retention_7", "retention_30"), strict=True):
        with column, st.container(border=True, key=f"launch_{key}"):
            number = numbers[key]
            st.metric(_(number.label), _fmt(number.value, "percent"))
            ui_theme.plain_caption(
                _("{returned} of {cohort} accounts came back").format(
                    returned=number.detail.get("returned", 0), cohort=number.detail.get("cohort", 0)
                )
            )
    _ratings()


main()
