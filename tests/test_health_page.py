"""The admin's health page, driven by AppTest: refused to non-admins, live cards and charts for
admins, and the queue and memory moving while a video is being made."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
ENTRY = str(ROOT / "app_streamlit_cloud.py")
PAGE = "views/health.py"
TIMEOUT_S = 120


@pytest.fixture
def page_env(jobs_env, settings_env, monkeypatch) -> Iterator[Any]:
    """Isolated data, the fake provider as default, inline jobs, fresh Streamlit caches."""
    import streamlit as st

    import health_monitor
    from services import startup

    # health__memory_mb_max: this pytest process (not the app) may exceed the app's budget.
    settings_env(
        providers__default="fake",
        features__enable_analytics="true",
        health__memory_mb_max=100_000,
    )
    startup.reset_for_tests()
    health_monitor.reset_for_tests()
    st.cache_resource.clear()
    st.cache_data.clear()
    yield jobs_env
    startup.reset_for_tests()
    health_monitor.reset_for_tests()


def _local_user(admin: bool) -> Any:
    """The developer's local user (who every session is in development), made admin or not."""
    from sqlalchemy import update

    from db.models import User
    from db.session import session_scope
    from services import accounts

    user = accounts.current_user()
    with session_scope() as session:
        session.execute(update(User).where(User.id == user.id).values(is_admin=admin))
    return user


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _number(text: str) -> float:
    return float(text.split()[0].replace(",", "").rstrip("%"))


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss / 1024 / 1024)


def _health_page(at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S).run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ------------------------------------------------------------------------------- access


def test_the_page_refuses_a_non_admin(page_env) -> None:
    _local_user(admin=False)
    shell = AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S).run()
    with pytest.raises(ValueError, match="Could not find"):
        shell.switch_page(PAGE)  # not in the navigation at all

    # Reached anyway (the page file run on its own): the page checks the role itself.
    at = AppTest.from_file(str(ROOT / PAGE), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["This page is for administrators only."]
    assert not at.metric and not at.get("vega_lite_chart") and not at.dataframe


def test_the_page_renders_cards_charts_errors_and_analytics_for_an_admin(page_env) -> None:
    import logging

    import health_monitor
    from observability import logs as logging_setup
    from services import analytics

    user = _local_user(admin=True)
    for _ in range(3):
        health_monitor.store_sample(health_monitor.snapshot())
    for name in ("visit", "visit", "upload", "generate", "success", "download"):
        analytics.record(name, user_id=user.id)
    logging_setup.configure(stream=io.StringIO())
    try:
        logging.getLogger("talkingphoto.ui").error(
            "unexpected error in page (ref %s)", "abad1dea", extra={"ref": "abad1dea"}
        )
        at = _health_page()
    finally:
        logging_setup.reset()

    assert at.title[0].value == "Health"
    assert "All systems normal" in at.success[0].value
    cards = _metrics(at)
    assert _number(cards["Memory (app)"]) > 10
    assert cards["Queued videos"] == "0" and cards["Making now"] == "0"
    assert len(at.get("vega_lite_chart")) == 4  # memory, CPU, queue, events per day
    frames = [d.value for d in at.dataframe]
    providers = next(f for f in frames if "Provider" in f.columns and "Key check" in f.columns)
    assert "local" in list(providers["Provider"])
    errors = next(f for f in frames if "Reference id" in f.columns)
    assert "abad1dea" in list(errors["Reference id"])
    funnel = next(f for f in frames if "Funnel step" in f.columns)
    assert list(funnel["Event count"]) == [2, 1, 1, 1, 1, 0, 0]
    assert list(funnel["Of previous step"])[:2] == ["—", "50%"]
    # Which session mode is on (the cookie routes are checked by the server, not in AppTest).
    assert any("Session cookies" in c.value for c in at.caption)


def test_the_page_in_hindi(page_env) -> None:
    _local_user(admin=True)
    at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S)
    at.query_params["lang"] = "hi"
    at = _health_page(at.run())
    assert "सब कुछ सामान्य है" in at.success[0].value
    assert "कतार में वीडियो" in _metrics(at)


def test_reasons_are_shown_translated(page_env, settings_env) -> None:
    settings_env(health__memory_mb_max=64)
    _local_user(admin=True)
    at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S)
    at.query_params["lang"] = "hi"
    at = _health_page(at.run())
    (warning,) = at.warning
    assert "आंशिक रूप से प्रभावित" in warning.value and "सीमा 64 MB है" in warning.value


# ------------------------------------------------------------ watching a generation


def _photo() -> Any:
    from services.photos import PreparedPhoto

    buf = io.BytesIO()
    Image.fromarray(np.full((512, 512, 3), 128, np.uint8)).save(buf, "JPEG")
    return PreparedPhoto(data=buf.getvalue(), width=512, height=512, format="JPEG")


def test_an_admin_watches_the_queue_and_memory_move_during_a_generation(page_env) -> None:
    import background_tasks
    from services import jobs
    from tests.fakes import ManualExecutor

    plan = page_env
    admin = _local_user(admin=True)
    executor = ManualExecutor()
    background_tasks.set_executor(executor)
    at = _health_page()
    before = _metrics(at)
    assert (before["Queued videos"], before["Making now"]) == ("0", "0")

    job = jobs.submit(
        admin.id,
        photo=_photo(),
        script="Watch me on the health page.",
        params=jobs.JobParams(language="en", provider="fake"),
    )
    at.run()
    assert (_metrics(at)["Queued videos"], _metrics(at)["Making now"]) == ("1", "0")
    assert _number(_metrics(at)["Oldest in queue"]) >= 0

    plan.mode = "block"  # the worker picks it up and renders until released
    worker = threading.Thread(target=executor.run_all)
    worker.start()
    try:
        assert plan.started.wait(30)
        ballast = b"x" * (300 * 1024 * 1024)  # the render's frames, as far as RSS can tell
        # The page shows this process's RSS at the moment it runs: bracket it with our own
        # readings (other threads may free or take tens of MB meanwhile, so a fixed margin
        # around the ballast could miss; the bracket cannot).
        low = _rss_mb()
        at.run()
        high = _rss_mb()
        during = _metrics(at)
        assert (during["Queued videos"], during["Making now"]) == ("0", "1")
        shown = _number(during["Memory (app)"])
        assert min(low, high) - 5 <= shown <= max(low, high) + 5, (low, shown, high)
        del ballast
    finally:
        plan.release.set()
        worker.join(30)
    at.run()
    after = _metrics(at)
    assert (after["Queued videos"], after["Making now"]) == ("0", "0")
    assert after["Success, last hour"] == "100%"
    assert jobs.get(job.id, admin.id).status == "succeeded"


@pytest.mark.slow
def test_watching_a_real_local_render(page_env, settings_env, astronaut_rgb) -> None:
    """The same with the local engine on a worker thread: the page is polled while it runs."""
    import background_tasks
    from services import jobs

    settings_env(providers__default="local")
    admin = _local_user(admin=True)
    pool = background_tasks.ThreadPoolJobExecutor(1)
    background_tasks.set_executor(pool)
    buf = io.BytesIO()
    Image.fromarray(astronaut_rgb).save(buf, "JPEG", quality=90)
    from services.photos import PreparedPhoto

    photo = PreparedPhoto(data=buf.getvalue(), width=1024, height=1024, format="JPEG")
    at = _health_page()
    start_rss = _number(_metrics(at)["Memory (app)"])
    job = jobs.submit(
        admin.id,
        photo=photo,
        script="Hello! I am speaking on the health page.",
        params=jobs.JobParams(language="en", provider="local", resolution=480),
    )
    seen: list[tuple[str, str, float]] = []
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    while jobs.get(job.id, admin.id).active and dt.datetime.now(dt.UTC) < deadline:
        at.run()
        cards = _metrics(at)
        seen.append((cards["Queued videos"], cards["Making now"], _number(cards["Memory (app)"])))
    pool.shutdown(wait=True)
    at.run()
    assert jobs.get(job.id, admin.id).status == "succeeded"
    assert ("0", "1") in {(q, r) for q, r, _m in seen}, seen
    # The memory card is live: it moves while the video is made (in a fresh app it rises;
    # in this long-lived test process it may also fall as memory is returned).
    assert {m for _q, _r, m in seen} - {start_rss}, seen
    assert _metrics(at)["Making now"] == "0"


def test_with_the_database_down_the_page_still_shows_the_status(page_env, monkeypatch) -> None:
    from sqlalchemy.exc import OperationalError

    from observability import probes as health_checks

    _local_user(admin=True)
    at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S).run()
    at.switch_page(PAGE)

    def broken() -> Any:
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setattr(health_checks, "read_scope", broken)
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert "The database does not answer." in errors[0] and "Down" in errors[0]
    assert any("quote reference" in e for e in errors[1:])  # the error list could not load
    assert _metrics(at)["Queued videos"] == "—"
