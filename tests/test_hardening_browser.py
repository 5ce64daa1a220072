"""Hardening v2, item 8, in a real browser: Streamlit's own responses carry our security
headers (``st.App(middleware=...)``), and the app still works under the Content-Security-Policy:
no violation reported by Chromium on the pages, Vega charts (``eval``) included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from tests.a11y import wait_for_app  # noqa: E402
from tests.test_app_server import running_app  # noqa: E402

# Every CSP violation the page sees, from the DOM event (console text varies by version).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
  e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));
"""


@pytest.fixture(scope="module")
def server_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("csp")


@pytest.fixture(scope="module")
def server(server_tmp: Path) -> Iterator[str]:
    with running_app(server_tmp, {"TALKINGPHOTO__FEATURES__ENABLE_PAYMENTS": "true"}) as base:
        requests.get(base + "/api/health", timeout=10)  # the schema exists once this answers
        yield base


def _make_the_local_user_admin(server_tmp: Path) -> None:
    """The admin pages (Health and Launch numbers draw Vega charts, which need ``eval``)."""
    import sqlite3

    db = server_tmp / "data" / "talkingphoto.db"
    with sqlite3.connect(db) as con:
        con.execute("UPDATE users SET is_admin = 1")


def test_streamlit_responses_carry_the_security_headers(server: str) -> None:
    for path in ("/", "/_stcore/health", "/api/health"):
        headers = requests.get(server + path, timeout=10).headers
        assert "frame-ancestors 'self'" in headers["Content-Security-Policy"], path
        assert headers["X-Frame-Options"] == "SAMEORIGIN", path
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.mark.parametrize("path", ["/", "/credits", "/health", "/launch", "/help"])
def test_the_pages_work_under_the_policy(
    server: str, server_tmp: Path, page: Any, path: str
) -> None:
    console: list[str] = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    if path in ("/health", "/launch"):
        page.goto(f"{server}/?lang=en")  # creates the local user
        wait_for_app(page)
        _make_the_local_user_admin(server_tmp)
    page.goto(f"{server}{path}?lang=en")
    wait_for_app(page)
    page.wait_for_timeout(1500)  # late scripts, fonts, charts
    assert page.get_by_test_id("stException").count() == 0
    assert page.url.split("?")[0].rstrip("/") == f"{server}{path}".rstrip("/")
    if path in ("/health", "/launch"):
        charts = page.locator("[data-testid='stVegaLiteChart'] :is(svg.marks, canvas.marks)")
        sync_api.expect(charts.first).to_be_visible(timeout=20_000)
    violations = page.evaluate("window.__csp")
    assert violations == [] and console == [], (violations, console)
