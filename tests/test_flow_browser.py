"""The answer to a tap is where the creator is looking (issue 15, item 4), in Debian's
Chromium on a phone (390x844) and a laptop (1366x800) against ``streamlit run``.

* Create: Generate sits below the form; after the tap the progress card, and then the result
  card, are scrolled into view (they used to appear at the top while the view stayed at the
  bottom).
* Buy credits: the payment panel opens under the packs (two screens below on a phone) and is
  brought into view; after paying, the "Payment received" banner at the top is in view.

Screenshots go to the temp folder (``talkingphoto-e2e/flow-*.png``).
"""

from __future__ import annotations

import re
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
from tests.test_e2e import ARTEFACTS, _loaded, _sign_up  # noqa: E402
from tests.test_e2e import CHROMIUM_ARGS as ARGS  # noqa: E402
from tests.test_e2e import VIEWPORTS as E2E_VIEWPORTS  # noqa: E402

# The end-to-end phone; a common laptop screen (the 1366x800) for the desktop.
VIEWPORTS = {**E2E_VIEWPORTS, "desktop": {"viewport": {"width": 1366, "height": 800}}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Development settings with payments on and no gateway keys: the demo gateway."""
    env = {"TALKINGPHOTO__FEATURES__ENABLE_PAYMENTS": "true"}
    with running_app(tmp_path_factory.mktemp("flow"), env) as base:
        yield base


@pytest.fixture(scope="module")
def portrait(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.portraits import write_astronaut_jpeg

    return write_astronaut_jpeg(tmp_path_factory.mktemp("photo") / "astronaut.jpg")


@pytest.fixture(params=list(VIEWPORTS))
def page(request: pytest.FixtureRequest, server: str) -> Iterator[object]:
    """A fresh browser (its own creator) on the given screen."""
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = chromium.new_context(**VIEWPORTS[request.param])
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.viewport_name = request.param  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            chromium.close()


def shot(page: object, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"flow-{name}-{page.viewport_name}.png"))  # type: ignore[attr-defined]


def top_in_view(page: object, selector: str, timeout: float = 30_000) -> None:
    """Waits until the element's top is in the upper half of the screen (where the eye is
    after a tap that scrolled it there), or all of it is on screen (at the page's end it can
    go no higher); not merely a sliver of it at the bottom edge."""
    page.wait_for_function(  # type: ignore[attr-defined]
        """sel => { const e = document.querySelector(sel); if (!e) return false;
                    const r = e.getBoundingClientRect();
                    return r.height > 0 && r.top >= 0 &&
                           (r.top < innerHeight * 0.5 || r.bottom <= innerHeight); }""",
        arg=selector,
        timeout=timeout,
    )


def upload(page: object, server: str, portrait: Path) -> None:
    page.goto(server)  # type: ignore[attr-defined]
    _loaded(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(portrait))  # type: ignore[attr-defined]
    sync_api.expect(page.get_by_text("Face found — ready to animate.")).to_be_visible(  # type: ignore[attr-defined]
        timeout=60_000
    )


def test_progress_then_result_are_scrolled_into_view(
    page: object, server: str, portrait: Path
) -> None:
    expect = sync_api.expect
    upload(page, server, portrait)
    box = page.get_by_role("textbox", name="Script")  # type: ignore[attr-defined]
    expect(box).to_have_count(1)
    box.fill("Hello from the top of the page. Where did my video go?")
    generate = page.get_by_role("button", name="Generate video")  # type: ignore[attr-defined]
    generate.scroll_into_view_if_needed()
    shot(page, "create")
    generate.click()
    # Whichever card is showing when we look (a short clip may already be done), it is on
    # screen; then the finished video's card is.
    top_in_view(page, ".st-key-progress_card, .st-key-result_card", timeout=60_000)
    if page.locator(".st-key-progress_card").count():  # type: ignore[attr-defined]
        page.wait_for_timeout(800)  # type: ignore[attr-defined]
        shot(page, "progress")
    result = page.locator(".st-key-result_card")  # type: ignore[attr-defined]
    expect(result.get_by_text("Your video is ready")).to_be_visible(timeout=180_000)
    top_in_view(page, ".st-key-result_card")
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]
    top_in_view(page, ".st-key-result_card", timeout=5_000)  # and it stays there
    shot(page, "result")
    # Not on every rerun: scrolled away, the page stays where the creator put it.
    page.mouse.wheel(0, 2000)  # type: ignore[attr-defined]
    page.wait_for_timeout(2500)  # type: ignore[attr-defined]
    expect(page.locator(".st-key-result_card [data-testid='stVideo']")).not_to_be_in_viewport()  # type: ignore[attr-defined]


def test_payment_panel_and_banner_are_scrolled_into_view(page: object, server: str) -> None:
    expect = sync_api.expect
    _sign_up(page, server, f"flow-{uuid.uuid4().hex[:8]}@example.com")
    page.goto(f"{server}/credits")  # type: ignore[attr-defined]
    _loaded(page)
    buy = page.locator(".st-key-pack_starter").get_by_role("button", name="Buy")  # type: ignore[attr-defined]
    buy.scroll_into_view_if_needed()
    buy.click()
    panel = page.locator(".st-key-checkout_panel")  # type: ignore[attr-defined]
    expect(panel).to_be_visible()
    top_in_view(page, ".st-key-checkout_panel")
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]
    expect(panel).to_be_in_viewport(ratio=0.9)
    shot(page, "checkout")
    page.get_by_role("button", name=re.compile("Complete test payment")).click()  # type: ignore[attr-defined]
    banner = page.get_by_text(re.compile("Payment received"))  # type: ignore[attr-defined]
    expect(banner).to_be_visible()
    expect(banner).to_be_in_viewport(ratio=1)
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]
    expect(banner).to_be_in_viewport(ratio=1)
    shot(page, "paid")


def _settled(page: object) -> None:
    """The rerun after the last input has finished (and with it the draft's save)."""
    page.locator(  # type: ignore[attr-defined]
        "[data-testid='stApp'][data-test-script-state='notRunning']"
    ).wait_for(state="attached")
    page.wait_for_timeout(500)  # type: ignore[attr-defined]


def test_a_reload_keeps_the_form_and_generate_starts_a_fresh_one(
    page: object, server: str, portrait: Path
) -> None:
    """Issue 15, item 8: photo, script and language survive a browser reload; after
    Generate a reload shows the video and a fresh form in the same language."""
    expect = sync_api.expect
    upload(page, server, portrait)
    combo = page.get_by_role("combobox", name="Language of the script", exact=True)  # type: ignore[attr-defined]
    expect(combo).to_have_count(1)  # a rerun may show the old form beside the new for a moment
    combo.click()
    page.keyboard.type("Hindi")  # type: ignore[attr-defined]
    expect(page.get_by_role("option", name=re.compile("Hindi")).first).to_be_attached()  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    _settled(page)
    script = "नमस्ते! यह वीडियो रीलोड के बाद भी रहना चाहिए।"
    box = page.get_by_role("textbox", name="Script", exact=True)  # type: ignore[attr-defined]
    box.fill(script)
    box.press("Tab")  # the box sends its value when it loses focus
    expect(page.get_by_text(re.compile("characters · about"))).to_be_visible()  # type: ignore[attr-defined]
    _settled(page)

    page.reload()  # type: ignore[attr-defined]
    _loaded(page)
    expect(page.get_by_text("Face found — ready to animate.")).to_be_visible(timeout=60_000)  # type: ignore[attr-defined]
    expect(page.get_by_text(re.compile("Your photo from last time is kept"))).to_be_visible()  # type: ignore[attr-defined]
    box = page.get_by_role("textbox", name="Script", exact=True)  # type: ignore[attr-defined]
    expect(box).to_have_value(script)
    expect(combo).to_have_value(re.compile("Hindi"))
    shot(page, "restored")

    page.get_by_role("button", name="Generate video").click()  # type: ignore[attr-defined]
    result = page.locator(".st-key-result_card")  # type: ignore[attr-defined]
    expect(result.get_by_text("Your video is ready")).to_be_visible(timeout=180_000)
    _settled(page)
    page.reload()  # type: ignore[attr-defined]
    _loaded(page)
    expect(result.get_by_text("Your video is ready")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("textbox", name="Script", exact=True)).to_have_value("")  # type: ignore[attr-defined]
    expect(page.get_by_text("Face found — ready to animate.")).to_have_count(0)  # type: ignore[attr-defined]
    expect(combo).to_have_value(re.compile("Hindi"))


def test_sign_up_says_welcome(page: object, server: str) -> None:
    """Issue 15, item 11: a new account is greeted once, on the page the creator lands on."""
    expect = sync_api.expect
    page.goto(f"{server}/account")  # type: ignore[attr-defined]
    _loaded(page)
    form = page.get_by_test_id("stForm").first  # type: ignore[attr-defined]
    form.get_by_role("textbox", name="Your name").fill("Asha Creator")
    form.get_by_role("textbox", name="E-mail").fill(f"hi-{uuid.uuid4().hex[:8]}@example.com")
    form.get_by_label("Password", exact=True).and_(form.locator("input")).fill(
        "correct horse battery staple"
    )
    form.get_by_role("checkbox", name=re.compile("I accept")).press("Space")
    form.get_by_test_id("stBaseButton-primaryFormSubmit").click()
    welcome = page.get_by_text(re.compile("Welcome to TalkingPhoto"))  # type: ignore[attr-defined]
    expect(welcome.first).to_be_visible(timeout=15_000)
    expect(welcome.first).to_be_in_viewport()
    shot(page, "welcome")
    # Once: the next visit to a page does not greet again.
    page.goto(f"{server}/videos")  # type: ignore[attr-defined]
    _loaded(page)
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]
    expect(welcome).to_have_count(0)


TARGETS = {
    "sidebar open button": "[data-testid='stExpandSidebarButton']",
    "remove-photo x": "[data-testid='stFileChipDeleteBtn']",
    "help ?": "[data-testid='stTooltipIcon'] [data-testid='stTooltipHoverTarget']",
}


def test_small_controls_are_big_enough_to_tap_on_a_phone(
    page: object, server: str, portrait: Path
) -> None:
    """Issue 15, item 10: on a phone the sidebar's open button, the photo's remove x and a
    help "?" are at least 44x44 px (their boxes, measured); a desktop keeps Streamlit's
    sizes (the look does not change there)."""
    upload(page, server, portrait)
    advanced = page.get_by_text("Advanced options")  # type: ignore[attr-defined]
    sync_api.expect(advanced).to_have_count(1)  # a rerun may show the old form for a moment
    advanced.click()
    help_icon = page.locator(TARGETS["help ?"]).first  # type: ignore[attr-defined]
    sync_api.expect(help_icon).to_be_attached()
    sizes = {}
    for name, selector in TARGETS.items():
        found = page.locator(selector)  # type: ignore[attr-defined]
        if name == "sidebar open button" and page.viewport_name == "desktop":  # type: ignore[attr-defined]
            continue  # the sidebar is open on a desktop: there is no open button
        box = found.first.bounding_box()
        assert box is not None, name
        sizes[name] = (round(box["width"]), round(box["height"]))
    if page.viewport_name == "phone":  # type: ignore[attr-defined]
        small = {n: s for n, s in sizes.items() if min(s) < 44}
        assert not small, f"under 44x44 px on a phone: {small}"
        # The bigger box is a hit area: a tap on its edge still reaches the control.
        opener = page.locator(TARGETS["sidebar open button"]).first  # type: ignore[attr-defined]
        box = opener.bounding_box()
        page.touchscreen.tap(box["x"] + 3, box["y"] + 3)  # type: ignore[attr-defined]
        sync_api.expect(page.get_by_test_id("stSidebar")).to_be_in_viewport()  # type: ignore[attr-defined]
    else:
        assert all(max(s) < 30 for s in sizes.values()), sizes  # Streamlit's own sizes
