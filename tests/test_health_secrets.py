"""A planted secret — in a log call, in an exception a page hits, and in a provider's error —
never reaches the log file, a page, the health JSON or a Sentry event, while the things around
it (the reference id, the provider's name, the error) do."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any, ClassVar

import pytest
from streamlit.testing.v1 import AppTest

from errors import ProviderUnavailable
from tests.fakes import FakeProvider
from tests.test_sentry import _events, fake_sentry  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[1]
SECRET = "tp-PLANTED-7c1d2e3f4a5b6c7d"  # configured as [d_id] api_key
UNLISTED = "Bearer unlisted-token-0a1b2c3d4e5f"  # not in settings: caught by its pattern


class LeakyProvider(FakeProvider):
    """A vendor whose errors quote our key back at us."""

    name = "leaky"
    failures: ClassVar[list[Exception]] = []

    def check(self) -> str:
        raise self.failures.pop(0)


def _page_text(at: AppTest) -> str:
    parts: list[str] = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "text"):
        parts += [str(el.value) for el in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [d.value.to_csv() for d in at.dataframe]
    return "\n".join(parts)


def test_a_planted_secret_never_leaks(
    jobs_env,
    settings_env,
    monkeypatch,
    tmp_path: Path,
    fake_sentry,  # noqa: F811
) -> None:
    import sentry_sdk
    import streamlit as st
    from sqlalchemy import update

    import health_monitor
    import providers
    from db.models import User
    from db.session import session_scope
    from observability import logs as logging_setup
    from observability import probes as health_checks
    from observability import sentry as error_tracking
    from secrets_manager import get_settings
    from services import accounts, startup
    from web import health as web_health

    dsn, received = fake_sentry
    log_file = tmp_path / "logs" / "app.log"
    settings_env(
        d_id__api_key=SECRET,
        sentry__dsn=dsn,
        logging__file=str(log_file),
        providers__default="fake",
        # This pytest process (not the app) may exceed the app's memory budget.
        health__memory_mb_max=100_000,
    )
    stream = io.StringIO()
    logging_setup.configure(get_settings(), stream=stream)
    error_tracking.init_sentry(get_settings())
    health_monitor.reset_for_tests()
    startup.reset_for_tests()
    st.cache_resource.clear()
    monkeypatch.setitem(providers.REGISTRY, "leaky", f"{__name__}:LeakyProvider")
    monkeypatch.setattr(health_checks, "configured_providers", lambda s=None: ["local", "leaky"])
    user = accounts.current_user()
    with session_scope() as session:
        session.execute(update(User).where(User.id == user.id).values(is_admin=True))

    # 1. A careless log call.
    logging.getLogger("talkingphoto.test").warning("retrying with key %s and %s", SECRET, UNLISTED)

    # 2. A provider error that quotes the key, in its detail and in an unexpected exception.
    LeakyProvider.failures = [
        ProviderUnavailable(provider="leaky", detail=f"401 for key {SECRET}"),
        RuntimeError(f"vendor body: invalid key {SECRET}; {UNLISTED}"),
    ]
    health_monitor.check_provider_keys()
    first = health_monitor.cached_key_check("leaky")
    health_monitor.check_provider_keys()

    # 3. A page hits an exception carrying the key: the user sees a reference only.
    real_snapshot = health_monitor.snapshot

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"snapshot failed near {SECRET} / {UNLISTED}")

    monkeypatch.setattr(health_monitor, "snapshot", broken)
    at = AppTest.from_file(str(ROOT / "app_streamlit_cloud.py"), default_timeout=120).run()
    at.switch_page("views/health.py").run()
    assert not at.exception
    (shown,) = [e.value for e in at.error]
    assert "quote reference" in shown
    ref = shown.rsplit("reference ", 1)[1].rstrip(".")
    broken_page = _page_text(at)

    # The admin looks again once it works: the error is listed with its reference.
    monkeypatch.setattr(health_monitor, "snapshot", real_snapshot)
    at.run()
    assert not at.exception
    page = _page_text(at)
    assert ref in page and "leaky" in page
    assert "cannot be reached" in page

    body = web_health.health_snapshot()  # the detailed report an operator with the token gets
    assert body["status"] == "degraded"
    assert "Provider leaky cannot be reached" in body["reasons"][0]["message"]

    sentry_sdk.get_client().flush(timeout=10)
    events = _events(received)
    error_tracking.shutdown()
    logging_setup.reset()  # closes the log file
    logs = stream.getvalue() + log_file.read_text("utf-8")
    assert ref in logs and "RuntimeError" in logs and "retrying with key" in logs
    assert first is not None and first.ok is False
    assert {e.get("tags", {}).get("ref") for e in events} >= {ref}

    for where, text in {
        "log": logs,
        "page (broken)": broken_page,
        "page": page,
        "health JSON": json.dumps(body),
        "Sentry": json.dumps(events),
    }.items():
        assert SECRET not in text, where
        assert "unlisted-token-0a1b2c3d4e5f" not in text, where


@pytest.fixture(autouse=True)
def _clean() -> Any:
    yield
    import health_monitor
    from observability import logs as logging_setup

    health_monitor.reset_for_tests()
    logging_setup.reset()
