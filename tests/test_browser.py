"""A creator's whole visit in headless Chromium against `streamlit run` (real engine).

Upload a portrait, pick Hindi and a Hindi voice, type a Hindi script, generate, watch the
progress, reload mid-generation and find the job again, then play and download the video.
Screenshots for the README are written to docs/.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from tests.test_app_server import running_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# Screenshots go to docs/ (the README's pictures) only when asked, so a test run leaves the
# work tree clean: TP_UPDATE_SCREENSHOTS=1 python -m pytest tests/test_browser.py
DOCS = (
    ROOT / "docs"
    if os.environ.get("TP_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "talkingphoto-screenshots"
)
HINDI_SCRIPT = (
    "नमस्ते! मैं एक तस्वीर हूँ, लेकिन आज मैं बोल सकती हूँ। "
    "टॉकिंगफ़ोटो से आप किसी भी पोर्ट्रेट को अपनी भाषा में बोलता हुआ वीडियो बना सकते हैं। "
    "बस एक फ़ोटो चुनिए, कुछ शब्द लिखिए, और एक मिनट में वीडियो तैयार।"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(tmp_path_factory.mktemp("browser")) as base:
        yield base


@pytest.fixture(scope="module")
def portrait(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image
    from skimage import data

    path = tmp_path_factory.mktemp("photo") / "astronaut.jpg"
    buf = io.BytesIO()
    # A phone-sized portrait (the 512 px original's face is below min_face_px).
    image = Image.fromarray(data.astronaut()).resize((1024, 1024), Image.Resampling.LANCZOS)
    image.save(buf, "JPEG", quality=92)
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def page(server: str) -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(
            viewport={"width": 1280, "height": 1240}, device_scale_factor=1, accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            # Left for whoever debugs a failure: what the page looked like at the end.
            page.screenshot(path=str(Path(tempfile.gettempdir()) / "talkingphoto_browser_last.png"))
            context.close()
            browser.close()


def _wait_loaded(page) -> None:
    expect = sync_api.expect
    expect(page.get_by_test_id("stAppViewContainer")).to_be_visible(timeout=30_000)
    expect(
        page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']")
    ).to_be_attached()
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)


def _to_top(page) -> None:
    page.evaluate(
        "() => { for (const el of document.querySelectorAll('[data-testid=stMain],"
        " [data-testid=stAppViewContainer], [data-testid=stMainBlockContainer]'))"
        " el.scrollTo(0, 0); window.scrollTo(0, 0); }"
    )
    page.wait_for_timeout(300)


def _choose(page, label: str, option_text: str) -> None:
    """Pick from a selectbox; retried because a rerun can close an open list under us."""
    combo = page.get_by_role("combobox", name=label, exact=True)
    # While a rerun replaces the form, Streamlit shows the old widget beside the new one for a
    # moment (seen in CI: two "Language of the script" boxes): wait until one is left.
    sync_api.expect(combo).to_have_count(1, timeout=15_000)
    sync_api.expect(combo).to_be_visible()
    for attempt in range(3):
        combo.click()
        option = page.get_by_role("option", name=re.compile(option_text)).first
        try:
            option.click(timeout=5_000)
        except sync_api.TimeoutError:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
            continue
        sync_api.expect(combo).to_have_value(re.compile(option_text))
        return


def test_creator_flow_in_hindi(server: str, page, portrait: Path) -> None:
    expect = sync_api.expect
    DOCS.mkdir(exist_ok=True)
    page.goto(f"{server}/")
    _wait_loaded(page)
    expect(page.get_by_text("Turn a portrait into a video that speaks your words.")).to_be_visible()

    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(portrait))
    expect(page.get_by_text("Face found — ready to animate.")).to_be_visible(timeout=30_000)

    _choose(page, "Language of the script", "Hindi")
    expect(page.get_by_role("combobox", name="Voice")).to_have_value(re.compile("Hindi"))
    page.get_by_role("button", name="Play sample").click()
    expect(page.get_by_test_id("stAudio")).to_be_visible(timeout=20_000)

    page.get_by_text("Advanced options").click()
    _choose(page, "Resolution", "480p")
    _choose(page, "Captions", "On the video")

    script_box = page.get_by_role("textbox", name="Script", exact=True)
    script_box.fill(HINDI_SCRIPT)
    script_box.press("Control+Enter")
    expect(page.get_by_text(re.compile(r"characters · about"))).to_be_visible()
    generate = page.get_by_role("button", name="Generate video")
    expect(generate).to_be_enabled()
    script_box.blur()
    _to_top(page)
    page.screenshot(path=str(DOCS / "screenshot_create.png"))

    generate.click()
    card = page.locator(".st-key-progress_card")
    expect(card).to_be_visible(timeout=20_000)
    expect(card.get_by_test_id("stProgress")).to_be_visible()
    assert "job=" in page.url
    job_url = page.url

    # Reload mid-generation: a new session finds the job from the URL.
    page.reload()
    _wait_loaded(page)
    assert page.url == job_url
    result = page.locator(".st-key-result_card")
    expect(card.or_(result)).to_be_visible(timeout=20_000)
    saw_progress_after_reload = card.is_visible()
    if saw_progress_after_reload:
        expect(card.get_by_test_id("stProgress")).to_contain_text("%")
        expect(page.get_by_test_id("stSkeleton")).to_have_count(0)
        page.screenshot(path=str(DOCS / "screenshot_progress.png"))

    expect(result.get_by_test_id("stVideo")).to_be_visible(timeout=180_000)
    download_mp4 = result.get_by_role("link", name="Download MP4")
    expect(download_mp4).to_be_visible()
    page.wait_for_timeout(1500)  # let the player paint its first frame
    _to_top(page)
    page.screenshot(path=str(DOCS / "screenshot_result.png"))

    duration = page.evaluate(
        "() => new Promise(r => { const v = document.querySelector('video');"
        " if (v.readyState >= 1) r(v.duration); else v.onloadedmetadata = () => r(v.duration); })"
    )
    assert duration > 3.0

    # The link streams the file from the app's media route (never through session memory);
    # fetch it the way the browser does, with this context's cookies.
    href = download_mp4.get_attribute("href") or ""
    assert "/api/media/" in href
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "video/mp4"
    assert "attachment" in response.headers.get("content-disposition", "")
    body = response.body()
    assert body[4:8] == b"ftyp" and len(body) > 20_000
    assert saw_progress_after_reload, "the job finished before the reload; use a longer script"


def test_hindi_interface(server: str, page) -> None:
    expect = sync_api.expect
    page.goto(f"{server}/?lang=hi")
    _wait_loaded(page)
    expect(page.get_by_text("किसी भी पोर्ट्रेट को ऐसा वीडियो बनाइए जो आपके शब्द बोले।")).to_be_visible()
    expect(page.get_by_role("button", name="वीडियो बनाएँ")).to_be_visible()
    page.get_by_test_id("stSidebarNavLink").filter(has_text="मेरे वीडियो").click()
    expect(page.get_by_role("heading", name="मेरे वीडियो")).to_be_visible()
    assert "lang=hi" in page.url
    _to_top(page)
    page.screenshot(path=str(DOCS / "screenshot_videos_hi.png"))
