"""Password reset, the admin role and a payment's return, in a real browser (phone and
desktop), with e-mail through a real SMTP server on loopback (aiosmtpd).

* reset end to end: "Forgot your password?" -> the e-mail -> its link -> a new password ->
  signed in; the old password no longer works;
* an address in ``[accounts] admins`` that is not verified gets no health page; after its
  verification link it does;
* a Stripe Checkout or Razorpay Payment Link payment, opened in a new tab, comes back to
  that tab signed in.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

sync_api = pytest.importorskip("playwright.sync_api")

from tests.fakes.razorpay_api import FakeRazorpay  # noqa: E402
from tests.fakes.stripe_api import FakeStripe  # noqa: E402
from tests.test_app_server import free_port, running_app  # noqa: E402
from tests.test_e2e import PASSWORD, _close_sidebar, _loaded, _nav, _open_sidebar  # noqa: E402
from tests.test_mail_smtp import Inbox  # noqa: E402
from tests.test_sessions_browser import (  # noqa: E402
    _context,
    _open,
    _page,
    _shot,
    _sign_up,
    _signed_in_as,
    browser,  # noqa: F401  (fixture)
)

ADMIN = "Chief@Example.com"  # as an operator might type it; users type it in lower case


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    port = free_port()
    box = Inbox("127.0.0.1", port)
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def stripe() -> Iterator[FakeStripe]:
    with FakeStripe("sk_test_auth_browser") as fake:
        yield fake


@pytest.fixture(scope="module")
def razorpay() -> Iterator[FakeRazorpay]:
    with FakeRazorpay("rzp_test_auth_browser", "rzp_auth_browser_secret") as fake:
        yield fake


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    inbox: Inbox,
    stripe: FakeStripe,
    razorpay: FakeRazorpay,
) -> Iterator[str]:
    env = {
        "TALKINGPHOTO__SMTP__HOST": "127.0.0.1",
        "TALKINGPHOTO__SMTP__PORT": str(inbox.port),
        "TALKINGPHOTO__SMTP__STARTTLS": "false",
        "TALKINGPHOTO__ACCOUNTS__ADMINS": f'["{ADMIN}"]',
        # Every browser here signs up from 127.0.0.1: more than the default 5 an hour.
        "TALKINGPHOTO__RATELIMIT__SIGNUP": "100/hour",
        "TALKINGPHOTO__FEATURES__ENABLE_PAYMENTS": "true",
        "TALKINGPHOTO__STRIPE__SECRET_KEY": stripe.secret_key,
        "TALKINGPHOTO__STRIPE__WEBHOOK_SECRET": "whsec_auth_browser_not_used",
        "TALKINGPHOTO__STRIPE__API_BASE": stripe.url,
        "TALKINGPHOTO__RAZORPAY__KEY_ID": razorpay.key_id,
        "TALKINGPHOTO__RAZORPAY__KEY_SECRET": razorpay.key_secret,
        "TALKINGPHOTO__RAZORPAY__WEBHOOK_SECRET": "rzp_webhook_auth_browser",
        "TALKINGPHOTO__RAZORPAY__API_BASE": razorpay.url,
    }
    with running_app(tmp_path_factory.mktemp("auth-browser"), env) as base:
        yield base


def _mail(inbox: Inbox, to: str, kind: str) -> str:
    """The token of the newest ``kind`` link (verify / reset) mailed to ``to``."""
    import time

    deadline = time.monotonic() + 30
    while True:
        found = [m for m in inbox.to(to) if f"{kind}=" in inbox.body(m)]
        if found:
            return inbox.link(found[-1], kind)
        assert time.monotonic() < deadline, f"no {kind} e-mail for {to}"
        time.sleep(0.2)


def _email() -> str:
    return f"reset-{uuid.uuid4().hex[:8]}@example.com"


def test_password_reset_end_to_end_through_the_smtp_server(
    browser: tuple[object, str],  # noqa: F811
    server: str,
    inbox: Inbox,
) -> None:
    expect = sync_api.expect
    viewport = browser[1]
    email = _email()
    first = _context(browser)
    page = _page(first, viewport)
    _sign_up(page, server, email)
    _open_sidebar(page)
    page.get_by_role("button", name="Sign out", exact=True).click()
    _loaded(page)
    _close_sidebar(page)

    page.get_by_text("Forgot your password?").click()
    form = page.get_by_test_id("stForm").filter(has_text="Send me a reset link")
    form.get_by_role("textbox", name="E-mail").fill(email.upper())
    form.get_by_role("button", name="Send me a reset link").click()
    expect(page.get_by_text(re.compile("If an account uses that address"))).to_be_visible()
    _shot(page, "a01-reset-asked")
    token = _mail(inbox, email, "reset")

    mail_tab = _page(first, viewport)
    _open(mail_tab, server, f"account?reset={token}")
    expect(mail_tab.get_by_text("Choose a new password")).to_be_visible()
    assert "reset=" not in mail_tab.url  # the token left the address bar
    mail_tab.get_by_label("New password", exact=True).fill("a fresh and long passphrase")
    mail_tab.get_by_role("button", name="Set the new password").click()
    expect(mail_tab.get_by_text("Your new password is set.", exact=False)).to_be_visible()
    _shot(mail_tab, "a02-reset-done")
    expect(mail_tab.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()
    _loaded(mail_tab)
    _signed_in_as(mail_tab, email)
    _shot(mail_tab, "a02-reset-done")

    # The link is spent; the old password is refused and the new one works elsewhere.
    again = _page(first, viewport)
    _open(again, server, f"account?reset={token}")
    expect(again.get_by_text("This link was already used.")).to_be_visible()
    first.close()

    fresh = _context(browser)
    other = _page(fresh, viewport)
    _open(other, server, "account")
    _sign_in(other, email, PASSWORD)
    expect(other.get_by_text("The e-mail or password is not right.")).to_be_visible()
    _sign_in(other, email, "a fresh and long passphrase")
    expect(other.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()
    fresh.close()


def _sign_in(page: object, email: str, password: str) -> None:
    form = page.get_by_test_id("stForm").filter(
        has=page.get_by_role("button", name="Sign in", exact=True)
    )
    form.get_by_role("textbox", name="E-mail").fill(email)
    form.get_by_label("Password", exact=True).and_(form.locator("input")).fill(password)
    form.get_by_role("button", name="Sign in", exact=True).click()
    _loaded(page)


def test_the_admin_address_needs_verifying_before_the_health_page(
    browser: tuple[object, str],  # noqa: F811
    server: str,
    inbox: Inbox,
) -> None:
    if browser[1] == "phone":
        pytest.skip("the admin's pages are desktop pages; phone layout is covered elsewhere")
    expect = sync_api.expect
    context = _context(browser)
    page = _page(context, browser[1])
    _sign_up(page, server, ADMIN.lower())
    links = page.get_by_test_id("stSidebarNavLink")
    expect(links.filter(has_text="Account")).to_be_visible()
    expect(links.filter(has_text="Health")).to_have_count(0)
    _open(page, server, "health")  # by URL: not registered, so not reachable
    expect(page.get_by_text("Memory (app)")).to_have_count(0)
    _shot(page, "a03-admin-unverified")

    token = _mail(inbox, ADMIN.lower(), "verify")
    _open(page, server, f"account?verify={token}")
    expect(page.get_by_text("Thank you: your e-mail address is confirmed.")).to_be_visible()
    _nav(page, "Health")  # in the menu at once, no reload needed
    expect(page.get_by_role("heading", name=re.compile("Health"))).to_be_visible()
    expect(page.get_by_text("Memory (app)")).to_be_visible()
    # A bookmark of the health page works after a reload too (the session cookie).
    _open(page, server, "health")
    expect(page.get_by_text("Memory (app)")).to_be_visible()
    _shot(page, "a04-admin-verified-health")
    context.close()


@pytest.mark.parametrize("currency", ["USD", "INR"])  # Stripe Checkout, Razorpay Payment Links
def test_a_payment_in_a_new_tab_comes_back_signed_in(
    browser: tuple[object, str],  # noqa: F811
    server: str,
    currency: str,
) -> None:
    expect = sync_api.expect
    viewport = browser[1]
    email = _email()
    context = _context(browser)
    page = _page(context, viewport)
    _sign_up(page, server, email)
    _nav(page, "Buy credits")
    label = "$ US dollars" if currency == "USD" else "₹ Indian rupees"
    page.get_by_text(label, exact=True).click()
    _loaded(page)
    page.locator(".st-key-pack_starter").get_by_role("button", name="Buy").click()
    _loaded(page)
    pay_link = page.get_by_role("link", name=re.compile("securely"))
    with context.expect_page() as popup:
        pay_link.click()
    gateway = popup.value
    gateway.wait_for_load_state()
    gateway.get_by_role("button", name="Pay").click()
    gateway.wait_for_url(re.compile(re.escape(server) + ".*credits"))
    gateway.viewport_name = viewport
    _loaded(gateway)
    expect(gateway.get_by_text(re.compile("20 credits")).first).to_be_visible()
    # Signed in as the buyer in the new tab: their account, not a sign-in page or a guest.
    expect(gateway.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()
    expect(gateway.get_by_text("Please sign in", exact=False)).to_have_count(0)
    _open(gateway, server, "account")
    _signed_in_as(gateway, email)
    _shot(gateway, f"a05-payment-returned-signed-in-{currency}")
    context.close()
