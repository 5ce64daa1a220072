"""Accessibility: the theme's contrast, axe-core on every page, the create flow by keyboard.

The browser tests run `streamlit run` (no secrets, local engine) in headless Debian Chromium,
inject axe-core (tests/a11y.py) and require no serious or critical violation, in English and
Hindi, on a laptop and a phone, in every state the create flow passes through. The keyboard
test reaches and works every control with Tab, Enter, Space, arrows and typing only; the one
mouse-free shortcut is the file picker itself (an OS dialog), answered with set_files after
the Upload button was activated from the keyboard.
"""

from __future__ import annotations

import io
import itertools
import re
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import ui_theme
from tests.a11y import axe_available, axe_violations, describe, focused, tab_to, wait_for_app

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Markup a creator might type; it must show as typed and create no element on any page.
MARKUP_SCRIPT = "Hi <script>alert(1)</script> **bold** [x](javascript:alert(1)) :material/home:"
LONG_SCRIPT = "This video is long enough to be cancelled before it is ready. " * 5


# --------------------------------------------------------------------- contrast (no browser)


def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #RRGGBB colours."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _mix(a: str, b: str, t: float) -> str:
    ca = [int(a.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]
    cb = [int(b.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(x + (y - x) * t):02X}" for x, y in zip(ca, cb, strict=True))


def _theme() -> dict[str, object]:
    with (ROOT / ".streamlit" / "config.toml").open("rb") as fh:
        return tomllib.load(fh)["theme"]


def test_theme_text_colours_meet_wcag_aa() -> None:
    theme = _theme()
    backgrounds = [
        str(theme["backgroundColor"]),
        str(theme["secondaryBackgroundColor"]),
        str(theme["sidebar"]["backgroundColor"]),  # type: ignore[index]
        "#FFFFFF",  # cards
    ]
    assert set(backgrounds) <= set(ui_theme.BACKGROUNDS), "ui_theme.BACKGROUNDS is out of date"
    for bg in backgrounds:
        assert contrast(str(theme["textColor"]), bg) >= 7, bg
        assert contrast(str(theme["linkColor"]), bg) >= 4.5, bg
        assert contrast(ui_theme.MUTED, bg) >= 4.5, bg  # captions (the CSS override)
        assert contrast(ui_theme.PRIMARY, bg) >= 4.5, bg  # the credit cost in bold
    # Primary buttons and the step numbers: white on the primary colour.
    assert contrast("#FFFFFF", str(theme["primaryColor"])) >= 4.5
    assert contrast("#FFFFFF", ui_theme.PRIMARY) >= 4.5


def test_hero_banner_text_is_readable_across_its_gradient() -> None:
    """axe cannot judge text on a gradient (it reports "needs review"), so check every
    point of the gradient against the white title and tagline here."""
    stops = ui_theme.HERO_STOPS
    assert ui_theme.HERO_STOPS[0] in ui_theme._CSS and stops[-1] in ui_theme._CSS
    for a, b in itertools.pairwise(stops):
        for step in range(11):
            shade = _mix(a, b, step / 10)
            assert contrast("#FFFFFF", shade) >= 4.5, shade
    assert "opacity" not in ui_theme._CSS.split(".tp-hero p")[1].split("}")[0]


def test_status_badges_are_readable() -> None:
    for status, (bg, fg) in ui_theme._BADGE_COLOURS.items():
        assert contrast(fg, bg) >= 4.5, status


# ------------------------------------------------------------------------------ the browser

browser = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    pytest.importorskip("playwright.sync_api")
    if not axe_available():
        pytest.skip("axe-core is not installed: run `npm ci` first (package.json pins it)")
    from tests.test_app_server import running_app

    env = {  # every page on: payments (demo gateway), sharing, and the developer as admin
        "TALKINGPHOTO__FEATURES__ENABLE_PAYMENTS": "true",
        "TALKINGPHOTO__FEATURES__ENABLE_SOCIAL_SHARING": "true",
        "TALKINGPHOTO__ACCOUNTS__ADMINS": '["local@talkingphoto.local"]',
    }
    with running_app(tmp_path_factory.mktemp("a11y"), env) as base:
        yield base


@pytest.fixture(scope="module")
def chromium(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        engine = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield engine
        engine.close()


def _page(chromium, viewport: dict[str, int]):  # -> Page
    context = chromium.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


@pytest.fixture
def page(chromium) -> Iterator[object]:
    page = _page(chromium, LAPTOP)
    try:
        yield page
    finally:
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "talkingphoto_a11y_last.png"))
        page.context.close()


def _files(tmp_path: Path) -> tuple[Path, Path]:
    from PIL import Image
    from skimage import data

    photo = tmp_path / "portrait.jpg"
    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((1024, 1024)).save(buf, "JPEG", quality=90)
    photo.write_bytes(buf.getvalue())
    notes = tmp_path / "notes.jpg"  # text with a photo's name
    notes.write_text("not a photo\n" * 50, "utf-8")
    return photo, notes


def _assert_no_violations(page, state: str) -> None:
    found = axe_violations(page)
    assert not found, f"axe, {state}:\n{describe(found)}"


def _assert_images_have_alt(page) -> None:
    missing = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=stMain] img')]"
        ".filter(img => !img.hasAttribute('alt')).map(img => img.outerHTML.slice(0, 120))"
    )
    assert missing == [], missing


def _pick_file(page, button, key: str, path: Path) -> None:
    """Activate the focused Upload ``button`` with ``key``; answer the OS file picker.

    When a real picker closes, the window gets focus back; the uploader (react-dropzone)
    waits for that event before it lets the picker open again, and Playwright's set_files
    does not send it, so the test does.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(3):
        wait_for_app(page)
        assert button.evaluate("el => el === document.activeElement"), focused(page)
        try:
            # A rerun that lands as the key goes down can swallow it (seen on a busy
            # machine): press again, the way a person would.
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press(key)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.evaluate("() => window.dispatchEvent(new Event('focus'))")
    chooser.value.set_files(str(path))
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")


def _press_and_wait(page, key: str) -> None:
    page.keyboard.press(key)
    page.wait_for_timeout(300)  # let Streamlit start the rerun the key caused
    wait_for_app(page)


# Every page in English; Hindi on the pages it had; each newer language on the pages with the
# most text (create, help, account) and one more page each, so every page is seen in at least
# one Indic script while the suite stays a few minutes long.
A11Y_CASES: list[tuple[str, str, str, dict[str, int]]] = [
    ("create-laptop", "/", "en", LAPTOP),
    ("create-phone", "/", "en", PHONE),
    ("videos-laptop", "/videos", "en", LAPTOP),
    ("credits-phone", "/credits", "en", PHONE),
    ("receipts-laptop", "/receipts", "en", LAPTOP),
    ("account-phone", "/account", "en", PHONE),
    ("help-laptop", "/help", "en", LAPTOP),
    ("legal-phone", "/legal", "en", PHONE),
    ("health-laptop", "/health", "en", LAPTOP),
    ("outbox-laptop", "/outbox", "en", LAPTOP),
    ("launch-laptop", "/launch", "en", LAPTOP),
    ("support-laptop", "/support_admin", "en", LAPTOP),
    ("share-gone-phone", "/share", "en", PHONE),
    ("create-hindi", "/", "hi", LAPTOP),
    ("videos-hindi-phone", "/videos", "hi", PHONE),
    ("credits-hindi", "/credits", "hi", LAPTOP),
    ("account-hindi", "/account", "hi", LAPTOP),
    ("help-hindi-phone", "/help", "hi", PHONE),
    ("legal-hindi", "/legal", "hi", LAPTOP),
]
_ONE_MORE_PAGE = {"ta": "/videos", "te": "/credits", "bn": "/receipts", "mr": "/videos"}
for _i, (_lang, _extra) in enumerate(_ONE_MORE_PAGE.items()):
    A11Y_CASES += [
        (f"create-{_lang}", "/", _lang, PHONE if _i % 2 else LAPTOP),
        (f"help-{_lang}", "/help", _lang, LAPTOP if _i % 2 else PHONE),
        (f"account-{_lang}", "/account", _lang, PHONE),
        (f"{_extra.strip('/')}-{_lang}", _extra, _lang, LAPTOP),
    ]
# The script each translated page is mostly written in (checked so that axe really ran on
# the translation, not on an English fallback).
SCRIPT_BLOCKS = {
    "hi": (0x0900, 0x0980),
    "mr": (0x0900, 0x0980),
    "ta": (0x0B80, 0x0C00),
    "te": (0x0C00, 0x0C80),
    "bn": (0x0980, 0x0A00),
}


def test_axe_cases_cover_every_page_and_language() -> None:
    import i18n

    assert {lang for _, _, lang, _ in A11Y_CASES} == set(i18n.UI_LANGUAGES)
    pages = {path for _, path, _, _ in A11Y_CASES}
    assert set(_all_pages()) <= pages


def _all_pages() -> list[str]:
    views = {p.stem for p in (ROOT / "views").glob("*.py") if not p.stem.startswith("_")}
    # "/" when guests are off (this server lets guests in); /health for a non-admin (this
    # server's visitor is an admin; tests/test_app_pages.py covers that page)
    views -= {"signin", "admins_only"}
    return sorted("/" if v == "create" else f"/{v}" for v in views)


@browser
@pytest.mark.slow
@pytest.mark.parametrize("lang", ["hi", "ta", "te", "bn", "mr"])
def test_every_other_page_in_each_language(chromium, server: str, lang: str) -> None:
    """The pages A11Y_CASES does not open in ``lang``, walked in one tab (phone width, the
    harder layout): axe finds nothing serious, images have alt text, <html lang> is set, and
    the page is mostly in the language's script. With A11Y_CASES, every page is checked in
    all six languages."""
    from playwright.sync_api import expect

    seen = {path for _, path, case_lang, _ in A11Y_CASES if case_lang == lang}
    page = _page(chromium, PHONE)
    try:
        for path in [p for p in _all_pages() if p not in seen]:
            page.goto(f"{server}{path}?lang={lang}")
            wait_for_app(page)
            _assert_no_violations(page, f"{path} in {lang} at {PHONE['width']} px")
            _assert_images_have_alt(page)
            expect(page.locator("html")).to_have_attribute("lang", lang)
            _assert_in_script(page, lang)
    finally:
        page.context.close()


def _assert_in_script(page, lang: str) -> None:
    """Most letters on the page are in ``lang``'s script (brand names, MP4 etc. stay Latin)."""
    if lang == "en":
        return
    lo, hi = SCRIPT_BLOCKS[lang]
    letters = page.evaluate(
        "() => [...document.querySelector('[data-testid=stMain]').innerText]"
        ".filter(c => /\\p{L}/u.test(c)).map(c => c.codePointAt(0))"
    )
    share = sum(lo <= c < hi for c in letters) / max(1, len(letters))
    assert share > 0.5, f"only {share:.0%} of the page's letters are in the {lang} script"


@browser
@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "lang", "viewport"),
    [case[1:] for case in A11Y_CASES],
    ids=[case[0] for case in A11Y_CASES],
)
def test_every_page_has_no_serious_violation(
    chromium, server: str, path: str, lang: str, viewport: dict[str, int]
) -> None:
    from playwright.sync_api import expect

    page = _page(chromium, viewport)
    try:
        page.goto(f"{server}{path}?lang={lang}")
        wait_for_app(page)
        _assert_no_violations(page, f"{path} in {lang} at {viewport['width']} px")
        _assert_images_have_alt(page)
        # Screen readers pick their voice from <html lang>.
        expect(page.locator("html")).to_have_attribute("lang", lang)
        _assert_in_script(page, lang)
    finally:
        page.context.close()


# The language switcher names each language in its own script: drawn with the shipped fonts.
SWITCHER_FONTS = {
    "हिन्दी": "Noto Sans Devanagari",
    "मराठी": "Noto Sans Devanagari",
    "தமிழ்": "Noto Sans Tamil",
    "తెలుగు": "Noto Sans Telugu",
    "বাংলা": "Noto Sans Bengali",
}
_MEASURE = """
async (pairs) => {
  await document.fonts.ready;
  const labels = [...document.querySelectorAll('[data-testid=stSidebar] [role=radiogroup] label')];
  const out = {};
  for (const [text, family] of pairs) {
    const label = labels.find(l => l.innerText.trim() === text);
    if (!label) { out[text] = null; continue; }
    const node = label.querySelector('[data-testid=stMarkdownContainer] p') || label;
    const style = getComputedStyle(node);
    const range = document.createRange();
    range.selectNodeContents(node);
    const probe = document.createElement('span');
    probe.textContent = text;
    probe.style.cssText = `white-space:nowrap;font-size:${style.fontSize};` +
      `font-weight:${style.fontWeight};font-family:"${family}"`;
    document.body.appendChild(probe);
    const shipped = probe.getBoundingClientRect().width;
    probe.remove();
    out[text] = {
      width: range.getBoundingClientRect().width, shipped,
      loaded: [...document.fonts].some(f => f.family === family && f.status === 'loaded'),
      fetched: performance.getEntriesByType('resource').some(
        e => e.name.includes('/app/static/fonts/' + family.toLowerCase().replaceAll(' ', '-'))),
    };
  }
  return out;
}
"""


@browser
@pytest.mark.slow
def test_indic_scripts_are_drawn_with_the_shipped_web_fonts(chromium, server: str) -> None:
    """Without these fonts a device that has none for a script shows boxes (this machine has
    no Devanagari, Tamil, Telugu or Bengali font installed): each name in the switcher must be
    drawn with the matching Noto Sans face served from /app/static/fonts.

    Each visit is a first visit, in a browser just started (no font in its caches): that is
    when Chromium once kept boxes after a face with a unicode-range had loaded."""
    for lang in ("ta", "bn", "hi"):
        fresh = chromium.browser_type.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = _page(fresh, LAPTOP)
            page.goto(f"{server}/?lang={lang}")
            wait_for_app(page)
            page.wait_for_timeout(1_000)  # let a late font load land before measuring
            found = page.evaluate(_MEASURE, list(SWITCHER_FONTS.items()))
            for text, family in SWITCHER_FONTS.items():
                got = found[text]
                assert got is not None, f"{text} is not in the language switcher"
                assert got["loaded"] and got["fetched"], f"{family} not loaded for {text}: {got}"
                assert abs(got["width"] - got["shipped"]) < 0.5, f"{lang}: {text} not in {family}"
        finally:
            fresh.close()


_BOLD_MEASURE = """
async () => {
  await document.fonts.ready;
  const node = document.querySelector('[data-testid=stSidebar] strong');
  if (!node) return null;
  const style = getComputedStyle(node);
  const probe = document.createElement('span');
  probe.textContent = node.innerText;
  probe.style.cssText = `white-space:nowrap;font-size:${style.fontSize};` +
    `font-weight:${style.fontWeight};font-family:"Noto Sans Tamil", sans-serif`;
  document.body.appendChild(probe);
  const shipped = probe.getBoundingClientRect().width;
  probe.remove();
  const range = document.createRange();
  range.selectNodeContents(node);
  return {text: node.innerText, width: range.getBoundingClientRect().width, shipped};
}
"""


@browser
@pytest.mark.slow
def test_bold_indic_text_is_drawn_with_the_shipped_face_not_boxes(chromium, server: str) -> None:
    """The sidebar's balance is bold (600). With the generic sans-serif first in the theme's
    font list, this machine's sans-serif claimed the Tamil code points and drew boxes for
    "3 கிரெடிட்கள்" although the Noto Sans Tamil faces had loaded."""
    page = _page(chromium, LAPTOP)
    try:
        page.goto(f"{server}/?lang=ta")
        wait_for_app(page)
        page.wait_for_timeout(1_000)
        got = page.evaluate(_BOLD_MEASURE)
        assert got is not None and "கிரெடிட்" in got["text"], got
        assert abs(got["width"] - got["shipped"]) < 0.5, got
    finally:
        page.context.close()


@browser
@pytest.mark.slow
def test_phone_menu_works_with_the_keyboard(chromium, server: str) -> None:
    from playwright.sync_api import expect

    page = _page(chromium, PHONE)
    try:
        page.goto(f"{server}/?lang=en")
        wait_for_app(page)
        expect(page.get_by_test_id("stSidebar")).not_to_be_in_viewport()
        # The closed menu's links are off screen: Tab must not wander into them.
        for _ in range(25):
            page.keyboard.press("Tab")
            where = page.evaluate(
                "() => document.activeElement.closest('[data-testid=stSidebar]') ? "
                "document.activeElement.outerHTML.slice(0, 80) : ''"
            )
            assert where == "", f"Tab reached the closed menu: {where}"
        opener = page.get_by_role("button", name="Expand sidebar")
        tab_to(page, opener)
        _press_and_wait(page, "Enter")
        link = page.get_by_test_id("stSidebarNavLink").filter(has_text="My videos")
        tab_to(page, link)
        _press_and_wait(page, "Enter")
        expect(page.get_by_role("heading", name="My videos")).to_be_visible()
        _assert_no_violations(page, "My videos on a phone after the menu")
    finally:
        page.context.close()


@browser
@pytest.mark.slow
def test_create_flow_with_the_keyboard_alone(page, server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    photo, notes = _files(tmp_path)
    page.goto(f"{server}/?lang=en")
    wait_for_app(page)
    main = page.get_by_test_id("stMain")

    # 1. The uploader's button opens the file picker from the keyboard. A wrong file first.
    upload = page.get_by_test_id("stFileUploader").locator("button", has_text="Upload")
    tab_to(page, upload)
    _pick_file(page, upload, "Enter", notes)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text(
        "not a JPEG, PNG or WebP image", timeout=30_000
    )
    wait_for_app(page)
    _assert_no_violations(page, "create page showing a refused upload")

    remove = page.get_by_role("button", name="Remove notes.jpg")
    tab_to(page, remove, backwards=True)
    _press_and_wait(page, "Enter")
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    tab_to(page, upload)
    _pick_file(page, upload, "Space", photo)
    expect(page.get_by_text("Face found — ready to animate.")).to_be_visible(timeout=30_000)
    wait_for_app(page)
    _assert_images_have_alt(page)
    _assert_no_violations(page, "create page with a photo")

    # 2. Language: open the list with the keyboard, type to filter, Enter picks.
    language = page.get_by_role("combobox", name="Language of the script")
    tab_to(page, language)
    page.keyboard.type("Hindi")
    _press_and_wait(page, "Enter")
    expect(language).to_have_value(re.compile("Hindi"))
    tab_to(page, language, backwards=True)  # a no-op when the list kept the focus
    page.keyboard.type("English")
    _press_and_wait(page, "Enter")
    expect(language).to_have_value(re.compile("English"))

    # 3. The script: typed, committed by leaving the box with Tab. A long one first, to
    #    be cancelled.
    script = page.get_by_role("textbox", name="Script", exact=True)
    tab_to(page, script)
    page.keyboard.type(LONG_SCRIPT)
    _press_and_wait(page, "Tab")
    expect(main.get_by_text(re.compile(r"characters · about"))).to_be_visible()

    # 4. Voice sample, advanced options (an expander, a select, a slider).
    sample = page.get_by_role("button", name="Play sample")
    tab_to(page, sample)
    _press_and_wait(page, "Enter")
    expect(page.get_by_test_id("stAudio")).to_be_visible(timeout=30_000)

    advanced = page.locator("summary").filter(has_text="Advanced options")
    tab_to(page, advanced)
    _press_and_wait(page, "Enter")
    resolution = page.get_by_role("combobox", name="Resolution")
    tab_to(page, resolution)
    # 1080p: long enough a render that Cancel is still there to be pressed (a square photo
    # now makes a square video, which renders faster than the old 9:16 frame).
    page.keyboard.type("1080")
    _press_and_wait(page, "Enter")
    expect(resolution).to_have_value("1080p")
    motion = page.get_by_role("slider").first
    tab_to(page, motion)
    before = motion.get_attribute("aria-valuenow")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_for_app(page)
    expect(motion).not_to_have_attribute("aria-valuenow", before or "")
    _assert_no_violations(page, "create page ready, options open")

    # 5. Generate, then Cancel from the keyboard while the bar moves: the button keeps its
    #    focus through the once-a-second progress refresh.
    generate = page.get_by_role("button", name="Generate video")
    expect(generate).to_be_enabled()
    tab_to(page, generate)
    page.keyboard.press("Enter")
    card = page.locator(".st-key-progress_card")
    expect(card).to_be_visible(timeout=30_000)
    cancel = card.get_by_role("button", name="Cancel")
    tab_to(page, cancel, backwards=True, limit=80)
    _assert_no_violations(page, "create page while the video is made")
    page.wait_for_timeout(1_500)  # at least one refresh of the progress card
    assert cancel.evaluate("el => el === document.activeElement"), focused(page)
    page.keyboard.press("Enter")
    result = page.locator(".st-key-result_card")
    expect(result).to_contain_text("The video was cancelled.", timeout=30_000)
    wait_for_app(page)
    _assert_no_violations(page, "create page after cancelling")
    another = result.get_by_role("button", name="Make another")
    tab_to(page, another, backwards=True, limit=80)
    _press_and_wait(page, "Enter")

    # The short script replaces the long one (select all, type), and this one is made.
    tab_to(page, script, backwards=True, limit=80)
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(MARKUP_SCRIPT)
    _press_and_wait(page, "Tab")
    tab_to(page, generate, limit=80)
    expect(generate).to_be_enabled()
    page.keyboard.press("Enter")

    # 6. The result: the MP4 downloads from the keyboard.
    expect(result.get_by_test_id("stVideo")).to_be_visible(timeout=180_000)
    wait_for_app(page)
    _assert_no_violations(page, "create page with the finished video")
    download = result.get_by_role("button", name="Download MP4").or_(
        result.get_by_role("link", name="Download MP4")
    )
    tab_to(page, download, backwards=True, limit=80)
    with page.expect_download() as got:
        page.keyboard.press("Enter")
    assert Path(got.value.path()).read_bytes()[4:8] == b"ftyp"

    # 7. My videos from the sidebar, by keyboard: the title (the script's first words) is
    # shown as typed, inert.
    nav = page.get_by_test_id("stSidebarNavLink").filter(has_text="My videos")
    tab_to(page, nav, backwards=True, limit=120)
    _press_and_wait(page, "Enter")
    expect(page.get_by_role("heading", name="My videos")).to_be_visible()
    wait_for_app(page)
    from services.jobs import default_title

    excerpt = main.locator(".tp-title").first
    expect(excerpt).to_have_text(default_title(MARKUP_SCRIPT))  # "Hi <script>… [x](java…"
    inert = main.evaluate(
        "m => ({links: [...m.querySelectorAll('a')].filter(a => /javascript/i.test(a.href))"
        ".length, strong: [...m.querySelectorAll('strong,b')]"
        ".filter(e => e.textContent === 'bold').length, scripts: m.querySelectorAll("
        "'.tp-title *').length})"
    )
    assert inert == {"links": 0, "strong": 0, "scripts": 0}
    _assert_images_have_alt(page)
    _assert_no_violations(page, "My videos with one video")

    # 8. Play, then Delete -> the dialog -> "Keep it", all from the keyboard.
    play = main.get_by_role("button", name="Play")
    tab_to(page, play)
    _press_and_wait(page, "Enter")
    expect(main.get_by_test_id("stVideo")).to_be_visible()
    more = main.get_by_role("button", name="More").first  # the newest video's menu
    tab_to(page, more)
    page.keyboard.press("Enter")
    delete = page.get_by_test_id("stPopoverBody").get_by_role("button", name="Delete")
    tab_to(page, delete, limit=20)
    _press_and_wait(page, "Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    _assert_no_violations(page, "My videos, delete dialog")
    keep = dialog.get_by_role("button", name="Keep it")
    tab_to(page, keep, limit=20)
    assert dialog.evaluate("d => d.contains(document.activeElement)"), focused(page)
    _press_and_wait(page, "Enter")
    expect(dialog).to_be_hidden()
    expect(main.locator(".tp-title")).to_have_count(2)  # the made and the cancelled video


def _shown_text(locator) -> str:
    """What a person sees in an element: its ::before, its visible text, its ::after."""
    return locator.evaluate(
        """el => {
          const part = p => { const c = getComputedStyle(el, p).content;
            return c && c !== 'none' && c !== 'normal' ? JSON.parse(c) : ''; };
          const own = getComputedStyle(el).visibility === 'hidden' ||
            parseFloat(getComputedStyle(el).fontSize) === 0 ? '' : el.innerText;
          return (part('::before') + own + part('::after')).trim();
        }"""
    )


@browser
@pytest.mark.slow
def test_streamlit_widget_words_follow_the_ui_language(chromium, server: str) -> None:
    """Streamlit writes "Upload", "25MB per file", "Take Photo", "Clear photo" and its camera
    prompt in English only; a Hindi page shows (and announces) them in Hindi, an English page
    keeps Streamlit's words. (CSS shrinks the English words but cannot take them out of the
    accessibility tree without leaving axe a button with no text: a screen reader hears
    "Upload अपलोड करें", "Take Photo फ़ोटो खींचें".)"""
    from playwright.sync_api import expect

    page = _page(chromium, PHONE)
    try:
        page.goto(f"{server}/?lang=en")
        wait_for_app(page)
        dropzone = page.get_by_test_id("stFileUploaderDropzone")
        expect(dropzone.get_by_role("button", name="Upload", exact=True)).to_be_visible()
        assert (
            _shown_text(dropzone.locator("button [data-testid=stMarkdownContainer] p")) == "Upload"
        )

        page.goto(f"{server}/?lang=hi")
        wait_for_app(page)
        button = dropzone.get_by_role("button", name="अपलोड करें")  # "Upload अपलोड करें"
        expect(button).to_be_visible()
        words = dropzone.locator("button [data-testid=stMarkdownContainer] p")
        assert _shown_text(words) == "अपलोड करें"
        limits = page.get_by_test_id("stFileUploaderDropzoneInstructions").locator("div").first
        assert _shown_text(limits) == "25 MB तक · JPG, PNG या WebP"
        assert button.bounding_box()["width"] > 60  # the words take room, not zero width
        # No permission to use a camera here: Streamlit's request, and its help link.
        page.get_by_role("tab", name="फ़ोटो खींचें").click()
        ask = page.get_by_test_id("stCameraInputWebcamComponent").locator("p").first
        expect(ask).to_be_visible()
        assert _shown_text(ask).startswith("यह ऐप आपके कैमरे का उपयोग करना चाहता है।")
        expect(ask.get_by_role("link", name="अनुमति देने का तरीका जानें।")).to_be_visible()
        _assert_no_violations(page, "Hindi camera tab without a camera")
    finally:
        page.context.close()

    # A camera (Chromium's fake one): "Take Photo", then "Clear photo" under the shot.
    fresh = chromium.browser_type.launch(
        executable_path=str(CHROMIUM),
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
        ],
    )
    try:
        context = fresh.new_context(viewport=PHONE, permissions=["camera"])
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{server}/?lang=hi")
        wait_for_app(page)
        page.get_by_role("tab", name="फ़ोटो खींचें").click()
        take = page.get_by_role("button", name="फ़ोटो खींचें")
        expect(take).to_be_enabled()
        assert _shown_text(take) == "फ़ोटो खींचें"
        take.click()
        clear = page.get_by_role("button", name="फ़ोटो हटाएँ")  # "Clear photo फ़ोटो हटाएँ"
        expect(clear).to_be_visible()
        assert _shown_text(clear.locator("span")) == "फ़ोटो हटाएँ"
        expect(clear.locator("svg")).to_be_visible()  # the icon beside the words stays
    finally:
        fresh.close()
