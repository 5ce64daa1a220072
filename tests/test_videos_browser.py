"""My videos on a phone (390x844) in headless Chromium against `streamlit run` (issue 15, item 6).

* Compact cards: thumbnail, title, status and actions in one row; no card anywhere near a
  screen tall; Play opens the player under the row, whole on the screen.
* Live: a video being made moves from 12% to 68% to Ready while the page stays open (the
  test writes the job row the way a worker does), and once nothing is being made the page
  stops asking the server for anything.
* Sharing: the share dialog shows a link that opens on a phone, with brand icons; opened
  again later, the same link is there to copy.

Screenshots of My videos and the share page at 390x844 and 1366x800 go to the temp folder
(``talkingphoto_videos_*.png``).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from tests import a11y, test_app_server  # noqa: E402
from tests.test_share_browser import _sample_mp4, _wait_loaded  # noqa: E402

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 800}
TITLES = ("Diwali greetings from Asha", "Shop opening in Jaipur")
MAKING = "New year wishes for the whole family and friends"


@contextlib.contextmanager
def _app_settings(tmp: Path) -> Iterator[None]:
    """This process reads and writes the server's database (its data folder) with the same
    settings as the server: a worker's view of the jobs table."""
    from db.session import dispose_engines
    from secrets_manager import reset_settings_cache

    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith("TALKINGPHOTO")]:
            mp.delenv(name)
        settings = tmp / "seed-secrets.toml"
        settings.write_text(
            "[features]\nenable_social_sharing = true\n[accounts]\nsingle_user = true\n", "utf-8"
        )
        mp.setenv("TALKINGPHOTO_SECRETS_FILE", str(settings))
        mp.setenv("TALKINGPHOTO_DATA_DIR", str(tmp / "data"))
        reset_settings_cache()
        dispose_engines()
        try:
            yield
        finally:
            dispose_engines()
            reset_settings_cache()


def _thumbnail(video: Path, out: Path) -> Path:
    import imageio_ffmpeg

    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-ss", "1", "-i", str(video), "-frames:v", "1", "-vf", "scale=320:-2", str(out),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    return out


def _add_job(work: Path, title: str, *, status: str = "succeeded", percent: float = 100.0) -> str:
    """A job of the local user written the way the app stores them (files for finished ones)."""
    from db.models import Job, utcnow
    from db.session import session_scope
    from services import accounts, media

    job_id = str(uuid.uuid4())
    keys: dict[str, str] = {}
    if status == "succeeded":
        video = work / f"{job_id}.mp4"
        _sample_mp4(video)
        thumb = _thumbnail(video, work / f"{job_id}.jpg")
        keys = {
            "video_key": media.put(media.job_key(job_id, "video.mp4"), video),
            "thumbnail_key": media.put(media.job_key(job_id, "thumb.jpg"), thumb),
        }
    now = utcnow()
    with session_scope() as session:
        session.add(
            Job(
                id=job_id,
                user_id=accounts.current_user().id,
                status=status,
                stage="animate" if status == "running" else "done",
                percent=percent,
                script=title + ". A short script for the test.",
                title=title,
                language="en",
                provider="local",
                params={"language": "en", "provider": "local", "captions": "none"},
                cost_credits=1,
                duration_s=4.0 if status == "succeeded" else None,
                notes=[],
                created_at=now,
                started_at=now,
                finished_at=now if status == "succeeded" else None,
                media_bytes=sum(media.size(k) for k in keys.values()),
                **keys,
            )
        )
    return job_id


def _finish(job_id: str, work: Path) -> None:
    """What a worker writes when the video is done."""
    from sqlalchemy import update

    from db.models import Job, utcnow
    from db.session import session_scope
    from services import media

    video = work / f"{job_id}.mp4"
    _sample_mp4(video)
    thumb = _thumbnail(video, work / f"{job_id}.jpg")
    keys = {
        "video_key": media.put(media.job_key(job_id, "video.mp4"), video),
        "thumbnail_key": media.put(media.job_key(job_id, "thumb.jpg"), thumb),
    }
    with session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status="succeeded",
                stage="done",
                percent=100.0,
                duration_s=4.0,
                finished_at=utcnow(),
                **keys,
            )
        )


def _progress(job_id: str, percent: float) -> None:
    from sqlalchemy import update

    from db.models import Job
    from db.session import session_scope

    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id).values(percent=percent))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The server, with two finished videos of the local user; yields (base URL, tmp)."""
    tmp = tmp_path_factory.mktemp("videos")
    work = tmp / "work"
    work.mkdir()
    real_copy = test_app_server._copy_without_secrets

    def copy_with_settings(dest: Path) -> Path:
        workdir = real_copy(dest)
        (workdir / ".streamlit").mkdir(exist_ok=True)
        (workdir / ".streamlit" / "secrets.toml").write_text(
            "[features]\nenable_social_sharing = true\n[accounts]\nsingle_user = true\n", "utf-8"
        )
        return workdir

    with _app_settings(tmp):
        for title in TITLES:
            _add_job(work, title)
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith("TALKINGPHOTO")]:
            mp.delenv(name)
        mp.setattr(test_app_server, "_copy_without_secrets", copy_with_settings)
        with test_app_server.running_app(tmp) as base:
            mp.undo()
            yield base, tmp


@pytest.fixture
def browser(site: tuple[str, Path]) -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()


def _shot(page, name: str, *, full_page: bool = False) -> None:
    path = Path(tempfile.gettempdir()) / f"talkingphoto_videos_{name}.png"
    page.screenshot(path=str(path), full_page=full_page)


def _no_axe_violations(page, state: str) -> None:
    if not a11y.axe_available():
        return  # npm ci brings axe-core (package.json); the layout checks still ran
    found = a11y.axe_violations(page)
    assert not found, f"axe, {state}:\n{a11y.describe(found)}"


def _card(page, job_title: str):
    return page.locator("[class*='st-key-job_']").filter(has_text=job_title)


def _one_row(page, job_title: str) -> float:
    """Thumbnail, title, status and the action buttons share one row; returns the card's
    height in CSS pixels."""
    card = _card(page, job_title)
    box = card.bounding_box()
    assert box is not None
    parts = {
        "thumbnail": card.locator("[class*='st-key-thumb_'] img"),
        "title": card.locator(".tp-title"),
        "status": card.locator(".tp-badge"),
        "play": card.get_by_role("button", name="Play"),
        "more": card.get_by_role("button", name="More"),
    }
    row: dict[str, dict[str, float]] = {}
    for name, locator in parts.items():
        part = locator.first.bounding_box()
        assert part is not None, name
        row[name] = part
        right = box["x"] + box["width"] + 1
        assert part["x"] >= box["x"] - 1 and part["x"] + part["width"] <= right, name
    top, bottom = row["thumbnail"]["y"], row["thumbnail"]["y"] + row["thumbnail"]["height"]
    for name, part in row.items():  # every part lies beside the thumbnail, not under it
        assert part["y"] >= top - 8 and part["y"] + part["height"] <= bottom + 8, (name, part)
    assert row["thumbnail"]["x"] < row["title"]["x"] < row["play"]["x"] < row["more"]["x"]
    return float(box["height"])


def test_compact_cards_on_a_phone_update_live_and_play(site, browser) -> None:
    base, tmp = site
    expect = sync_api.expect
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append("x")))

    with _app_settings(tmp):
        making = _add_job(tmp / "work", MAKING, status="running", percent=12.0)
    page.goto(f"{base}/videos")
    _wait_loaded(page)
    expect(page.get_by_role("heading", name="My videos")).to_be_visible()
    card = _card(page, MAKING)
    expect(card.get_by_text("Making 12%")).to_be_visible()

    # Compact: one row per finished video, far from a screen tall.
    for title in TITLES:
        height = _one_row(page, title)
        assert height <= 140, (title, height)
    _shot(page, "phone")
    _no_axe_violations(page, "My videos on a phone, one video being made")

    # Live: the worker's progress shows without a reload, then the finished video.
    with _app_settings(tmp):
        _progress(making, 68.0)
    expect(card.get_by_text("Making 68%")).to_be_visible()
    with _app_settings(tmp):
        _finish(making, tmp / "work")
    expect(card.get_by_role("button", name="Play")).to_be_visible()
    expect(card.get_by_text("Ready")).to_be_visible()
    assert _one_row(page, MAKING) <= 140

    # Nothing is being made any more: the page stops asking the server (no fragment reruns).
    page.wait_for_timeout(1000)  # the last full rerun settles
    before = len(sent)
    page.wait_for_timeout(3 * 2000)  # three polling periods (POLL_S = 2 s)
    assert len(sent) == before, "the page still polls with nothing being made"

    # Play opens the player under the row, whole on the phone's screen.
    first = _card(page, TITLES[0])
    first.get_by_role("button", name="Play").click()
    video = first.get_by_test_id("stVideo")
    expect(video).to_be_visible()
    video.scroll_into_view_if_needed()
    box = video.bounding_box()
    assert box is not None and box["height"] <= PHONE["height"] and box["width"] <= PHONE["width"]
    _shot(page, "phone_playing")

    # The same page in Hindi keeps one row per video.
    page.goto(f"{base}/videos?lang=hi")
    _wait_loaded(page)
    expect(page.get_by_role("button", name="अधिक").first).to_be_visible()
    for title in TITLES:
        assert _card(page, title).bounding_box()["height"] <= 140  # type: ignore[index]
    _shot(page, "phone_hindi")
    _no_axe_violations(page, "My videos on a phone, in Hindi")
    context.close()


def test_share_link_copy_again_and_open_on_a_phone(site, browser) -> None:
    base, _tmp = site
    expect = sync_api.expect
    desk = browser.new_context(viewport=DESKTOP)
    desk.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = desk.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{base}/videos")
    _wait_loaded(page)
    card = _card(page, TITLES[1])
    expect(card.get_by_role("button", name="Play")).to_be_visible()
    _shot(page, "desktop")
    card.get_by_role("button", name="More").click()
    page.get_by_role("button", name="Share").click()
    dialog = page.get_by_test_id("stDialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("textbox", name="Title shown with the video")).to_have_value(
        TITLES[1]
    )
    dialog.get_by_role("button", name="Create link").click()
    field = dialog.get_by_role("textbox", name="Copy link").first
    expect(field).to_have_value(re.compile(r"^https?://\S+/api/share/[A-Za-z0-9_-]{43}$"))
    link = field.input_value()
    assert link.startswith(base)  # from [app] base_url
    expect(dialog.get_by_role("link", name="WhatsApp")).to_have_attribute(
        "href", re.compile(r"^https://wa\.me/\?text=")
    )
    assert dialog.locator(".tp-share img[src^='data:image/svg+xml']").count() == 6  # brand icons
    dialog.get_by_role("button", name="Copy").first.click()
    expect(dialog.get_by_text("Copied").first).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link
    _shot(page, "desktop_share_dialog")
    _no_axe_violations(page, "the share dialog")

    # Another day: the dialog shows the same link again.
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_have_count(0)
    page.reload()
    _wait_loaded(page)
    _card(page, TITLES[1]).get_by_role("button", name="More").click()
    page.get_by_role("button", name="Share").click()
    again = page.get_by_test_id("stDialog").get_by_role("textbox", name="Copy link").first
    expect(again).to_have_value(link)

    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        visitor_context = browser.new_context(viewport=viewport)
        visitor = visitor_context.new_page()
        visitor.set_default_timeout(30_000)
        visitor.goto(link)
        visitor.wait_for_url(re.compile(r"/share\?t="))
        _wait_loaded(visitor)
        expect(visitor.get_by_role("heading", name=TITLES[1])).to_be_visible()
        player = visitor.get_by_test_id("stVideo")
        expect(player).to_be_visible()
        expect(visitor.get_by_role("link", name="Telegram")).to_be_visible()
        box = player.bounding_box()
        assert box is not None and box["width"] <= viewport["width"]
        visitor.get_by_text("Embed on a website").click()
        expect(visitor.get_by_role("textbox", name="Embed code")).to_have_value(
            re.compile(r'^<video src="https?://\S+/api/share/\S+/video\.mp4"')
        )
        _shot(visitor, f"share_{name}", full_page=True)
        _no_axe_violations(visitor, f"the share page ({name})")
        visitor_context.close()
    desk.close()
