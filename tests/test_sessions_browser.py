"""Identity that lasts, in a real browser (Debian's Chromium), on a phone and a desktop.

Sign up, reload, open a new tab: still signed in (the HttpOnly session cookie). A second
browser (a new context: no cookies) is its own guest and sees none of the first one's
videos or credits. Sign out: the cookie is gone and the old cookie, replayed, is refused.
Screenshots go to ``$TMPDIR/talkingphoto-e2e/`` like test_e2e.py's.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from tests.test_app_server import running_app  # noqa: E402
from tests.test_e2e import (  # noqa: E402
    ARTEFACTS,
    PASSWORD,
    VIEWPORTS,
    _loaded,
    _open_sidebar,
)

COOKIE = "tp_session"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(tmp_path_factory.mktemp("sessions-dev")) as base:
        yield base


@pytest.fixture(params=list(VIEWPORTS))
def browser(request: pytest.FixtureRequest) -> Iterator[tuple[object, str]]:
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium, request.param
        finally:
            chromium.close()


def _context(browser: tuple[object, str]) -> object:
    chromium, viewport = browser
    context = chromium.new_context(**VIEWPORTS[viewport])
    context.set_default_timeout(30_000)
    return context


def _page(context: object, viewport: str) -> object:
    page = context.new_page()
    page.viewport_name = viewport
    return page


def _shot(page: object, name: str) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}-{page.viewport_name}.png"))


def _session_cookie(context: object, timeout_s: float = 20.0) -> dict[str, object] | None:
    """The session cookie once the page's fetch has set it (or None after the wait)."""
    deadline = time.monotonic() + timeout_s
    while True:
        for cookie in context.cookies():
            if cookie["name"] == COOKIE:
                return cookie
        if time.monotonic() > deadline:
            return None
        time.sleep(0.2)


def _cookie_value(context: object) -> str | None:
    found = [c["value"] for c in context.cookies() if c["name"] == COOKIE]
    return found[0] if found else None


def _wait_cookie_changes(context: object, old: str | None, timeout_s: float = 20.0) -> str | None:
    deadline = time.monotonic() + timeout_s
    while (value := _cookie_value(context)) == old:
        assert time.monotonic() < deadline, "the session cookie did not change"
        time.sleep(0.2)
    return value


def _open(page: object, base: str, path: str = "") -> None:
    page.goto(f"{base}/{path}")
    _loaded(page)


def _sign_up(page: object, base: str, email: str) -> None:
    expect = sync_api.expect
    _open(page, base, "account")
    form = page.get_by_test_id("stForm").first
    form.get_by_role("textbox", name="Your name").fill("Asha Creator")
    form.get_by_role("textbox", name="E-mail").fill(email)
    form.get_by_label("Password", exact=True).and_(form.locator("input")).fill(PASSWORD)
    # Go-live: accept the terms to continue (the keyboard: the box's input is visually hidden).
    form.get_by_role("checkbox", name=re.compile("I accept")).press("Space")
    form.get_by_role("button", name=re.compile("create", re.IGNORECASE)).click()
    signed_in = page.get_by_role("button", name="Sign out", include_hidden=True)
    expect(signed_in.first).to_be_attached(timeout=30_000)
    _loaded(page)


def _signed_in_as(page: object, email: str) -> None:
    expect = sync_api.expect
    expect(page.get_by_role("textbox", name="E-mail").first).to_have_value(email)
    expect(page.get_by_text("You are using TalkingPhoto without an account.")).to_have_count(0)


def _balance_text(page: object) -> str:
    _open_sidebar(page)
    text = page.get_by_test_id("stSidebarContent").get_by_text(re.compile(r"^\d[\d,]* credits?$"))
    return str(text.first.inner_text())


def test_signed_in_survives_reload_and_new_tab_but_not_another_browser_or_sign_out(
    browser: tuple[object, str], dev_server: str
) -> None:
    expect = sync_api.expect
    viewport = browser[1]
    email = f"lasting-{uuid.uuid4().hex[:8]}@example.com"

    first = _context(browser)
    page = _page(first, viewport)
    _open(page, dev_server, "account")
    guest_cookie = _session_cookie(first)
    assert guest_cookie is not None, "a development browser gets its own guest session"
    _sign_up(page, dev_server, email)
    cookie_value = _wait_cookie_changes(first, str(guest_cookie["value"]))  # rotated
    cookie = _session_cookie(first)
    assert cookie is not None and cookie_value
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # http://127.0.0.1: Secure only when base_url is https
    assert cookie["expires"] > time.time() + 80 * 86400  # the absolute 90 days
    _shot(page, "s01-signed-up")

    page.reload()
    _loaded(page)
    _signed_in_as(page, email)
    assert _balance_text(page) == "20 credits"  # the guest's 3, topped up to the grant
    _shot(page, "s02-reloaded")

    tab = _page(first, viewport)
    _open(tab, dev_server, "account")
    _signed_in_as(tab, email)
    _shot(tab, "s03-new-tab")

    second = _context(browser)
    other = _page(second, viewport)
    _open(other, dev_server, "account")
    expect(other.get_by_text("You are using TalkingPhoto without an account.")).to_be_visible()
    expect(other.get_by_text(email)).to_have_count(0)
    assert _balance_text(other) == "3 credits"  # its own guest grant, not the first's
    _open(other, dev_server, "videos")
    expect(other.get_by_test_id("stVideo")).to_have_count(0)
    _shot(other, "s04-second-browser")
    second.close()

    _open_sidebar(page)
    page.get_by_role("button", name="Sign out", exact=True).click()
    _loaded(page)
    deadline = time.monotonic() + 20
    while _cookie_value(first) is not None:
        assert time.monotonic() < deadline, "sign-out left the cookie in the browser"
        time.sleep(0.2)
    _shot(page, "s05-signed-out")

    # The old cookie, replayed by a third browser, is refused: it is a new guest.
    third = _context(browser)
    third.add_cookies(
        [{"name": COOKIE, "value": cookie_value, "url": dev_server, "httpOnly": True}]
    )
    replay = _page(third, viewport)
    _open(replay, dev_server, "account")
    expect(replay.get_by_text("You are using TalkingPhoto without an account.")).to_be_visible()
    expect(replay.get_by_text(email)).to_have_count(0)
    _shot(replay, "s06-old-cookie-refused")
    third.close()
    first.close()
