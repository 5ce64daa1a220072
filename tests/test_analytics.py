"""Product analytics: first-party events, the funnel and daily counts for the admin page, and a
Google Analytics tag only when configured (then named in the privacy text)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from db.models import Event
from db.session import session_scope
from services import analytics

ROOT = Path(__file__).resolve().parents[1]


def _event(name: str, ts: dt.datetime, user_id: int | None = None) -> None:
    with session_scope() as session:
        session.add(Event(kind=analytics.PREFIX + name, ts=ts, user_id=user_id))


def _user(email: str) -> int:
    from services import accounts

    return accounts.get_or_create_user(email).id


def test_nothing_is_recorded_unless_enabled(settings_env: Callable[..., None]) -> None:
    settings_env()
    assert analytics.record("visit") is False
    settings_env(features__enable_analytics="true")
    assert analytics.record("visit") is True
    with pytest.raises(ValueError, match="unknown analytics event"):
        analytics.record("clicked_ad")
    now = dt.datetime.now(dt.UTC)
    assert analytics.funnel(now - dt.timedelta(hours=1))[0].events == 1


def test_funnel_counts_events_people_and_conversion(settings_env: Callable[..., None]) -> None:
    settings_env()
    now = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
    a, b = _user("a@example.com"), _user("b@example.com")
    for user in (a, b, None, None):
        _event("visit", now - dt.timedelta(hours=2), user)
    _event("upload", now - dt.timedelta(hours=1), a)
    _event("upload", now - dt.timedelta(hours=1), b)
    _event("generate", now - dt.timedelta(minutes=30), a)
    _event("visit", now - dt.timedelta(days=3), a)  # before the window
    _event("visit", now + dt.timedelta(minutes=1), a)  # after it
    steps = analytics.funnel(now - dt.timedelta(days=1), now)
    assert [s.name for s in steps] == list(analytics.EVENTS)
    assert [(s.events, s.users) for s in steps] == [
        (4, 2),
        (2, 2),
        (1, 1),
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 0),
    ]
    assert [s.of_previous for s in steps] == [None, 0.5, 0.5, 0.0, None, None, None]


def test_daily_counts_fill_every_day_with_zeros(settings_env: Callable[..., None]) -> None:
    settings_env()
    now = dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC)
    _event("visit", dt.datetime(2026, 11, 25, 0, 0, 1, tzinfo=dt.UTC))
    _event("visit", dt.datetime(2026, 11, 24, 23, 59, 59, tzinfo=dt.UTC))
    _event("visit", dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC))
    _event("download", dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC))
    _event("download", dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC))  # outside 3 days
    rows = analytics.daily_counts(3, now)
    assert len(rows) == 3 * len(analytics.EVENTS)
    table = {(r["day"].isoformat(), r["name"]): r["count"] for r in rows}
    assert table[("2026-11-25", "visit")] == 1
    assert table[("2026-11-24", "visit")] == 2
    assert table[("2026-11-23", "download")] == 1
    assert sum(table.values()) == 4
    assert rows[0]["day"] == dt.date(2026, 11, 23)
    with pytest.raises(ValueError):
        analytics.daily_counts(0, now)


# ------------------------------------------------------------------------- Google Analytics

GA_APP = """
from views._analytics import inject_ga, privacy_text
import streamlit as st
inject_ga()
st.markdown(privacy_text())
"""


def _run(lang: str = "en") -> AppTest:
    import i18n

    i18n.set_locale_getter(lambda: lang)
    try:
        at = AppTest.from_string(GA_APP, default_timeout=30).run()
    finally:
        i18n.set_locale_getter(lambda: i18n.DEFAULT_LANGUAGE)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _html(at: AppTest) -> list[str]:
    return [el.proto.body for el in at.get("html")]


def test_no_tag_and_no_tracking_text_by_default(settings_env: Callable[..., None]) -> None:
    settings_env()
    at = _run()
    assert not any("googletagmanager" in body for body in _html(at))
    assert [m.value for m in at.markdown] == ["This app uses no analytics or tracking cookies."]


def test_the_tag_is_added_and_named_when_configured(settings_env: Callable[..., None]) -> None:
    settings_env(analytics__ga_measurement_id="G-AB12CD34EF", features__enable_analytics="true")
    at = _run()
    (tag,) = [body for body in _html(at) if "googletagmanager" in body]
    assert "gtag/js?id=G-AB12CD34EF" in tag and "anonymize_ip: true" in tag
    text = at.markdown[-1].value
    assert "Google Analytics" in text and "our own database" in text
    hindi = _run("hi").markdown[-1].value
    assert "Google Analytics" in hindi and "कुकी" in hindi


def test_a_malformed_measurement_id_adds_no_script(settings_env: Callable[..., None]) -> None:
    settings_env(analytics__ga_measurement_id="G-1');alert(1);//")
    at = _run()
    assert not any("googletagmanager" in body for body in _html(at))
    assert "Google Analytics" not in at.markdown[-1].value
