"""The create page's script box in a real browser (Debian's Chromium), phone and desktop.

* One tap: type a script and press Generate once, without leaving the box first; the video
  starts (a text box sends its value only when it loses focus, so a button that waits for the
  script would swallow the first tap).
* A long paste: a script over the limit stays in the box and is refused with its length and
  the limit (a ``maxlength`` box used to drop the whole paste silently).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from tests.test_app_server import running_app  # noqa: E402
from tests.test_e2e import ARTEFACTS, VIEWPORTS, _loaded  # noqa: E402
from tests.test_e2e import CHROMIUM_ARGS as ARGS  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(tmp_path_factory.mktemp("creator")) as base:
        yield base


@pytest.fixture(scope="module")
def portrait(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.portraits import write_astronaut_jpeg

    return write_astronaut_jpeg(tmp_path_factory.mktemp("photo") / "astronaut.jpg")


@pytest.fixture(params=list(VIEWPORTS))
def page(request: pytest.FixtureRequest, server: str, portrait: Path) -> Iterator[object]:
    """The create page of a fresh browser (its own guest) with the portrait uploaded."""
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = chromium.new_context(**VIEWPORTS[request.param])
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.goto(server)
        _loaded(page)
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(portrait))
        sync_api.expect(page.get_by_text("Face found — ready to animate.")).to_be_visible(
            timeout=60_000
        )
        try:
            yield page
        finally:
            ARTEFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTEFACTS / f"creator-{request.param}-last.png"))
            chromium.close()


def _script_box(page: object) -> object:
    """The script box, once the rerun after the upload has settled (a rerun briefly shows the
    old and the new element together)."""
    box = page.get_by_role("textbox", name="Script")  # type: ignore[attr-defined]
    sync_api.expect(box).to_have_count(1)
    return box


def test_generate_works_on_the_first_tap_after_typing(page: object) -> None:
    box = _script_box(page)
    box.click()
    box.fill("Hello! One tap should be enough to make this video.")
    # Still in the box: no blur, no Ctrl+Enter. One press (force: a disabled button is pressed too).
    page.get_by_role("button", name="Generate video").click(force=True)  # type: ignore[attr-defined]
    sync_api.expect(
        page.get_by_text("Making your video").or_(page.get_by_text("Your video is ready"))  # type: ignore[attr-defined]
    ).to_be_visible(timeout=60_000)


def test_a_paste_over_the_limit_is_kept_and_refused_with_a_message(page: object) -> None:
    box = _script_box(page)
    box.click()
    long_script = ("A long script pasted from somewhere else. " * 150)[:6000]
    page.keyboard.insert_text(long_script)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Generate video").click(force=True)  # type: ignore[attr-defined]
    sync_api.expect(
        page.get_by_text("The script is 6,000 characters; the limit is 5,000.").first  # type: ignore[attr-defined]
    ).to_be_visible()
    assert len(box.input_value()) == 6000
    sync_api.expect(page.get_by_text("Making your video")).to_have_count(0)  # type: ignore[attr-defined]


def test_a_finished_video_fits_the_screen_and_follows_the_photos_shape(
    page: object, server: str
) -> None:
    box = _script_box(page)
    box.fill("A square photo makes a square video.")
    page.get_by_role("button", name="Generate video").click()  # type: ignore[attr-defined]
    video = page.get_by_test_id("stVideo")  # type: ignore[attr-defined]
    sync_api.expect(video).to_be_visible(timeout=120_000)
    # The astronaut portrait is square: the video is too (no blurred bands), 1:1 at 720p.
    sync_api.expect(page.get_by_text("Your video is ready")).to_be_visible()  # type: ignore[attr-defined]
    size = video.evaluate("v => [v.videoWidth, v.videoHeight]")
    assert size[0] == size[1], size
    # On My videos the whole player is in view, even on a laptop's 800 px screen.
    page.goto(f"{server}/videos")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Play").first.click()  # type: ignore[attr-defined]
    listed = page.get_by_test_id("stVideo").first  # type: ignore[attr-defined]
    sync_api.expect(listed).to_be_visible(timeout=60_000)
    height = page.viewport_size["height"]  # type: ignore[attr-defined]
    assert listed.bounding_box()["height"] <= 0.75 * height
