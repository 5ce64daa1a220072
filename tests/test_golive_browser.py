"""Go-live in a real browser (Debian's Chromium, desktop viewport) against `streamlit run`
with e-mail through an SMTP server on loopback:

* every page (signed out, creator, admin) ends with the Terms / Privacy / Help footer links,
  and they open the documents;
* sign-up refuses until the terms are accepted, and records the accepted version;
* a creator opens a ticket on Help; the admin answers on Support; the creator sees the reply
  on Help (and gets it by e-mail);
* a creator rates a video with stars and a comment; the admin's Launch numbers page shows it.

Screenshots for the README (golive_help.png, golive_launch.png) go to docs/ with
TP_UPDATE_SCREENSHOTS=1, else to $TMPDIR/talkingphoto-screenshots.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
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

from tests.test_alerts import Inbox  # noqa: E402
from tests.test_app_server import free_port, running_app  # noqa: E402
from tests.test_e2e import (  # noqa: E402
    PASSWORD,
    _loaded,
    _make_video,
    _nav,
    portrait,  # noqa: F401  (fixture)
)

ROOT = Path(__file__).resolve().parents[1]
# The README's pictures are rewritten only when asked, so a test run leaves the tree clean:
# TP_UPDATE_SCREENSHOTS=1 python -m pytest tests/test_golive_browser.py
DOCS = (
    ROOT / "docs"
    if os.environ.get("TP_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "talkingphoto-screenshots"
)
ADMIN = "chief@example.com"
FOOTER = ("Terms of service", "Privacy policy", "Help & support")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    port = free_port()
    box = Inbox()
    box.port = port  # type: ignore[attr-defined]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, inbox: Inbox) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("golive")
    env = {
        "TALKINGPHOTO__SMTP__HOST": "127.0.0.1",
        "TALKINGPHOTO__SMTP__PORT": str(inbox.port),  # type: ignore[attr-defined]
        "TALKINGPHOTO__SMTP__STARTTLS": "false",
        "TALKINGPHOTO__ACCOUNTS__ADMINS": f'["{ADMIN}"]',
        "TALKINGPHOTO__SUPPORT__EMAIL": "help@talkingphoto.example",
        "TALKINGPHOTO__SUPPORT__PHONE_INDIA": "+91 80 4000 0000",
        "TALKINGPHOTO__LEGAL__COMPANY_NAME": "Asha Media Pvt Ltd",
        "TALKINGPHOTO__LEGAL__GRIEVANCE_OFFICER_NAME": "R. Sharma",
        "TALKINGPHOTO__LEGAL__GRIEVANCE_OFFICER_EMAIL": "grievance@asha.example",
        "TALKINGPHOTO__HEALTH__SAMPLE_EVERY_S": "5",
    }
    with running_app(tmp, env) as base:
        yield base, tmp / "data" / "talkingphoto.db"


@pytest.fixture
def chromium() -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _page(chromium: object) -> object:
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.viewport_name = "desktop"
    return page


def _open(page: object, base: str, path: str = "") -> None:
    page.goto(f"{base}/{path}")  # type: ignore[attr-defined]
    _loaded(page)


def _email() -> str:
    return f"creator-{uuid.uuid4().hex[:8]}@example.com"


def _fill_sign_up(page: object, base: str, email: str) -> object:
    _open(page, base, "account")
    form = page.get_by_test_id("stForm").first  # type: ignore[attr-defined]
    form.get_by_role("textbox", name="Your name").fill("Asha Creator")
    form.get_by_role("textbox", name="E-mail").fill(email)
    form.get_by_label("Password", exact=True).and_(form.locator("input")).fill(PASSWORD)
    return form


def _sign_up(page: object, base: str, email: str) -> None:
    form = _fill_sign_up(page, base, email)
    accept = form.get_by_role("checkbox", name=re.compile("I accept"))  # type: ignore[attr-defined]
    accept.press("Space")  # the box's input is visually hidden: use the keyboard
    sync_api.expect(accept).to_be_checked()
    form.get_by_test_id("stBaseButton-primaryFormSubmit").click()  # type: ignore[attr-defined]
    signed_in = page.get_by_role("button", name="Sign out", include_hidden=True)  # type: ignore[attr-defined]
    sync_api.expect(signed_in).to_be_attached(timeout=30_000)
    _loaded(page)


def _wait_mail(inbox: Inbox, to: str, needle: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        for message in reversed(inbox.messages):
            if message["To"] == to and needle in inbox.body(message):
                return inbox.body(message)
        assert time.monotonic() < deadline, f"no e-mail to {to} containing {needle!r}"
        time.sleep(0.2)


_ADMIN_MADE: list[bool] = []


def _sign_up_admin(page: object, base: str, inbox: Inbox) -> None:
    """The admin address counts only once verified: follow the e-mailed link. (Signs in
    when an earlier test of this module's server already made the account.)"""
    if _ADMIN_MADE:
        _open(page, base, "account")
        form = page.get_by_test_id("stForm").filter(  # type: ignore[attr-defined]
            has=page.get_by_role("button", name="Sign in", exact=True)  # type: ignore[attr-defined]
        )
        form.get_by_role("textbox", name="E-mail").fill(ADMIN)
        form.get_by_label("Password", exact=True).and_(form.locator("input")).fill(PASSWORD)
        form.get_by_role("button", name="Sign in").click()
        _loaded(page)
        sync_api.expect(
            page.get_by_test_id("stSidebarNavLink").filter(has_text="Support")
        ).to_be_visible()  # type: ignore[attr-defined]
        return
    _ADMIN_MADE.append(True)
    _sign_up(page, base, ADMIN)
    body = _wait_mail(inbox, ADMIN, "verify=")
    token = re.search(r"verify=([A-Za-z0-9._-]+)", body).group(1)  # type: ignore[union-attr]
    _open(page, base, f"account?verify={token}")
    sync_api.expect(page.get_by_text("your e-mail address is confirmed")).to_be_visible()  # type: ignore[attr-defined]
    page.reload()  # type: ignore[attr-defined]
    _loaded(page)
    sync_api.expect(
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Support")
    ).to_be_visible()  # type: ignore[attr-defined]


def _expect_footer(page: object, where: str) -> None:
    footer = page.get_by_role("navigation", name="Footer")  # type: ignore[attr-defined]
    sync_api.expect(footer, where).to_be_visible()
    hrefs = {
        label: footer.get_by_role("link", name=label, exact=True).get_attribute("href")
        for label in FOOTER
    }
    assert hrefs["Terms of service"].startswith("/legal?doc=terms"), where
    assert hrefs["Privacy policy"].startswith("/legal?doc=privacy"), where
    assert hrefs["Help & support"].startswith("/help"), where


def _nav_links(page: object) -> list[str]:
    links = page.get_by_test_id("stSidebarNavLink")  # type: ignore[attr-defined]
    return [t.strip().splitlines()[-1].strip() for t in links.all_inner_texts()]  # no icon


# ----------------------------------------------------------------------------------- tests


def test_footer_links_on_every_page_and_they_open_the_documents(
    chromium: object, server: tuple[str, Path], inbox: Inbox
) -> None:
    base, _db = server
    expect = sync_api.expect
    page = _page(chromium)
    for path in ("", "account", "help", "legal?doc=terms"):
        _open(page, base, path)
        _expect_footer(page, f"signed out /{path}")
    page.get_by_role("navigation", name="Footer").get_by_role("link", name="Privacy policy").click()
    _loaded(page)
    expect(page.get_by_role("heading", name="Privacy policy")).to_be_visible()
    expect(page.get_by_text("Template — review with counsel", exact=False)).to_be_visible()
    expect(page.get_by_text("R. Sharma")).to_be_visible()
    expect(page.get_by_role("heading", name="Grievance officer")).to_be_visible()

    _sign_up_admin(page, base, inbox)  # an admin sees every page a creator sees, and more
    labels = _nav_links(page)
    assert {"Create", "My videos", "Receipts", "Account", "Health", "Launch numbers", "Support",
            "Help", "Terms and privacy"} <= set(labels), labels  # fmt: skip
    for label in labels:
        _nav(page, label)
        _expect_footer(page, f"admin page {label}")
    page.get_by_role("navigation", name="Footer").get_by_role(
        "link", name="Terms of service"
    ).click()
    _loaded(page)
    expect(page.get_by_role("heading", name="Terms of service")).to_be_visible()
    expect(page.get_by_text("Asha Media Pvt Ltd").first).to_be_visible()


def test_sign_up_requires_accepting_the_terms_and_records_the_version(
    chromium: object, server: tuple[str, Path]
) -> None:
    base, db = server
    expect = sync_api.expect
    page = _page(chromium)
    email = _email()
    form = _fill_sign_up(page, base, email)
    form.get_by_test_id("stBaseButton-primaryFormSubmit").click()
    _loaded(page)
    expect(
        page.get_by_text("Please accept the terms of service and the privacy policy.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_have_count(0)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM users WHERE email = ?", (email,)).fetchone() == (
            0,
        )
    finally:
        conn.close()
    _sign_up(page, base, email)
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT a.terms_version, a.privacy_version FROM terms_acceptances a "
            "JOIN users u ON u.id = a.user_id WHERE u.email = ?",
            (email,),
        ).fetchall()
    finally:
        conn.close()
    assert row == [("2026-12-01", "2026-12-01")]


def test_a_creator_opens_a_ticket_and_sees_the_admins_reply(
    chromium: object, server: tuple[str, Path], inbox: Inbox
) -> None:
    base, _db = server
    expect = sync_api.expect
    creator = _page(chromium)
    email = _email()
    _sign_up(creator, base, email)
    _nav(creator, "Help")
    expect(creator.get_by_text("Phone (India): +91 80 4000 0000")).to_be_visible()
    creator.get_by_text("My payment is pending").click()
    expect(creator.get_by_text("I have paid: check now", exact=False)).to_be_visible()
    form = creator.get_by_test_id("stForm")
    form.get_by_role("textbox", name="Subject").fill("UPI paid, no credits")
    form.get_by_role("textbox", name="Message").fill("I paid 199 rupees by UPI ten minutes ago.")
    form.get_by_role("button", name="Send to support").click()
    _loaded(creator)
    expect(creator.get_by_text(re.compile(r"Ticket #\d+ sent"))).to_be_visible()
    ticket = re.search(
        r"#(\d+)", creator.get_by_text(re.compile(r"Ticket #\d+ sent")).inner_text()
    ).group(1)  # type: ignore[union-attr]
    expect(
        creator.get_by_text(f"#{ticket} · UPI paid, no credits · Waiting for support")
    ).to_be_visible()
    expect(creator.get_by_test_id("stToast")).to_have_count(0, timeout=30_000)  # the welcome
    creator.set_viewport_size({"width": 1280, "height": 2000})
    creator.get_by_role("heading", name="Help", exact=True).scroll_into_view_if_needed()
    creator.wait_for_timeout(500)
    creator.screenshot(path=str(DOCS / "golive_help.png"))
    creator.set_viewport_size({"width": 1280, "height": 1000})
    assert "I paid 199 rupees" in _wait_mail(inbox, "help@talkingphoto.example", f"#{ticket}")

    admin = _page(chromium)
    _sign_up_admin(admin, base, inbox)
    _nav(admin, "Support")
    card = admin.get_by_test_id("stExpander").filter(has_text=f"#{ticket} · UPI paid")
    expect(card.get_by_text(email).first).to_be_visible()
    card.get_by_role("textbox", name="Reply").fill("We found the payment and added 20 credits.")
    card.get_by_role("button", name="Send reply").click()
    _loaded(admin)
    expect(admin.get_by_text(f"Reply to ticket #{ticket} sent.")).to_be_visible()
    assert "added 20 credits" in _wait_mail(inbox, email, "added 20 credits")

    creator.reload()
    _loaded(creator)
    _nav(creator, "Help")
    answered = creator.get_by_test_id("stExpander").filter(
        has_text=f"#{ticket} · UPI paid, no credits · Answered"
    )
    expect(answered.get_by_text("We found the payment and added 20 credits.")).to_be_visible()


def test_a_rating_appears_on_the_admin_launch_page(
    chromium: object,
    server: tuple[str, Path],
    inbox: Inbox,
    portrait: Path,  # noqa: F811
) -> None:
    base, _db = server
    expect = sync_api.expect
    creator = _page(chromium)
    _sign_up(creator, base, _email())
    _make_video(creator, portrait)
    _nav(creator, "My videos")
    creator.get_by_role("button", name="Play").first.click()
    _loaded(creator)
    expect(creator.get_by_test_id("stVideo")).to_be_visible()
    expect(creator.get_by_text("How did this video turn out?")).to_be_visible()
    stars = creator.locator("[class*='st-key-rating_'] button")
    expect(stars).to_have_count(5)
    stars.nth(3).click()  # four stars
    _loaded(creator)
    creator.get_by_role("textbox", name="Anything to add? (optional)").fill("Lips match well!")
    creator.get_by_role("button", name="Send feedback").click()
    _loaded(creator)
    expect(creator.get_by_text("Thank you for your rating!")).to_be_visible()

    admin = _page(chromium)
    _sign_up_admin(admin, base, inbox)
    _nav(admin, "Launch numbers")
    satisfaction = admin.locator(".st-key-launch_satisfaction")
    expect(satisfaction.get_by_text(re.compile(r"^4(\.0+)? / 5$"))).to_be_visible()  # 4 stars
    expect(admin.get_by_text("Lips match well!")).to_be_visible()
    expect(admin.get_by_test_id("stToast")).to_have_count(0, timeout=30_000)
    admin.set_viewport_size({"width": 1280, "height": 1700})
    admin.get_by_role("heading", name="Launch numbers").scroll_into_view_if_needed()
    admin.wait_for_timeout(1500)  # charts draw
    admin.screenshot(path=str(DOCS / "golive_launch.png"))


def test_the_new_pages_have_no_serious_accessibility_violation(
    chromium: object, server: tuple[str, Path], inbox: Inbox
) -> None:
    """axe-core (tests/a11y.py) on Help, the legal texts in Hindi, Launch numbers and Support."""
    from tests.a11y import axe_violations, describe, wait_for_app

    base, _db = server
    page = _page(chromium)
    _sign_up_admin(page, base, inbox)
    for path in ("help", "legal?doc=privacy&lang=hi", "launch", "support"):
        page.goto(f"{base}/{path}")
        wait_for_app(page)
        page.wait_for_timeout(1000)  # charts
        found = axe_violations(page)
        assert not found, f"axe, /{path}:\n{describe(found)}"
