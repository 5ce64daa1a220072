"""Sharing as a new user tries it, in headless Chromium against `streamlit run`.

The creator shares a finished video from My videos; the link is opened in a private window
(a new browser context: no cookies, no session) on a phone-sized viewport (390x844), the video
plays and seeks (Range requests to the link's own /api/share/<token>/video.mp4); the creator
revokes the link and the phone's reload shows the "no longer shared" page.

The server is ``tests.test_app_server.running_app`` (a copy of the repo, no secrets), with one
setting added to the copy: ``[features] enable_social_sharing = true``. The finished video is
put in the server's data folder before it starts (rendering one is test_browser.py's job).
"""

from __future__ import annotations

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

from tests import test_app_server  # noqa: E402

TITLE = "Diwali greetings from Asha"
SCRIPT = "Happy Diwali to everyone at home!"
PHONE = {"width": 390, "height": 844}


def _sample_mp4(path: Path, seconds: float = 4.0) -> None:
    """A real H.264 + AAC MP4 with +faststart, as the engine writes them."""
    import imageio_ffmpeg

    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc=size=360x640:rate=25:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(path),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)


def _seed_finished_video(data_dir: Path, work: Path) -> str:
    """The local user with one finished video, written the way the app stores them."""
    from db.models import Job, utcnow
    from db.session import dispose_engines, session_scope
    from secrets_manager import reset_settings_cache
    from services import accounts, media

    reset_settings_cache()
    dispose_engines()
    user = accounts.current_user()
    job_id = str(uuid.uuid4())
    video = work / "video.mp4"
    _sample_mp4(video)
    keys = {
        "video_key": media.put(media.job_key(job_id, "video.mp4"), video),
        "vtt_key": media.put(
            media.job_key(job_id, "captions.vtt"),
            f"WEBVTT\n\n00:00.000 --> 00:03.500\n{SCRIPT}\n".encode(),
        ),
    }
    now = utcnow()
    with session_scope() as session:
        session.add(
            Job(
                id=job_id,
                user_id=user.id,
                status="succeeded",
                stage="done",
                percent=100.0,
                script=SCRIPT,
                language="en",
                provider="local",
                params={"language": "en", "provider": "local", "captions": "srt"},
                cost_credits=1,
                duration_s=4.0,
                notes=[],
                created_at=now,
                started_at=now,
                finished_at=now,
                **keys,
            )
        )
    dispose_engines()  # the server process opens the database next
    reset_settings_cache()
    return job_id


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("share")
    real_copy = test_app_server._copy_without_secrets

    def copy_with_sharing(dest: Path) -> Path:
        workdir = real_copy(dest)
        (workdir / ".streamlit").mkdir(exist_ok=True)
        (workdir / ".streamlit" / "secrets.toml").write_text(
            # The seeded video is the local user's: every browser is that user only in the
            # deliberate single-user mode (issue 17 made development browsers their own guests).
            "[features]\nenable_social_sharing = true\n[accounts]\nsingle_user = true\n",
            "utf-8",
        )
        return workdir

    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith("TALKINGPHOTO")]:
            mp.delenv(name)
        seed_settings = tmp / "seed-secrets.toml"
        seed_settings.write_text("", "utf-8")
        mp.setenv("TALKINGPHOTO_SECRETS_FILE", str(seed_settings))
        mp.setenv("TALKINGPHOTO_DATA_DIR", str(tmp / "data"))  # running_app's data folder
        work = tmp / "work"
        work.mkdir()
        _seed_finished_video(tmp / "data", work)
        mp.setattr(test_app_server, "_copy_without_secrets", copy_with_sharing)
        with test_app_server.running_app(tmp) as base:
            mp.undo()
            yield base
    from db.session import dispose_engines
    from secrets_manager import reset_settings_cache

    dispose_engines()
    reset_settings_cache()


@pytest.fixture
def browser(server: str) -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()


def _wait_loaded(page) -> None:
    expect = sync_api.expect
    expect(page.get_by_test_id("stAppViewContainer")).to_be_visible(timeout=30_000)
    expect(
        page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']")
    ).to_be_attached()
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)


def _shot(page, name: str) -> None:
    page.screenshot(path=str(Path(tempfile.gettempdir()) / f"talkingphoto_share_{name}.png"))


def test_share_watch_on_a_phone_revoke(server: str, browser) -> None:
    expect = sync_api.expect
    creator_context = browser.new_context(viewport={"width": 1280, "height": 1000})
    creator = creator_context.new_page()
    creator.set_default_timeout(30_000)

    # 1. The creator shares the video from My videos.
    creator.goto(f"{server}/videos")
    _wait_loaded(creator)
    expect(creator.get_by_role("heading", name="My videos")).to_be_visible()
    creator.get_by_role("button", name="More").click()  # the card's menu
    creator.get_by_role("button", name="Share").click()
    dialog = creator.get_by_test_id("stDialog")
    expect(dialog).to_be_visible()
    title_box = dialog.get_by_role("textbox", name="Title shown with the video")
    title_box.fill(TITLE)
    title_box.press("Enter")
    dialog.get_by_role("button", name="Create link").click()
    field = dialog.get_by_role("textbox", name="Copy link").first
    expect(field).to_have_value(re.compile(r"/api/share/"), timeout=20_000)
    link = re.fullmatch(r"https?://\S+/api/share/[A-Za-z0-9_-]+", field.input_value())
    assert link is not None, field.input_value()
    share_url = link.group(0)
    assert share_url.startswith(server)
    expect(dialog.get_by_role("link", name="WhatsApp")).to_have_attribute(
        "href", re.compile(r"^https://wa\.me/\?text=")
    )
    _shot(creator, "creator")

    # 2. Someone opens it in a private window on a phone.
    phone_context = browser.new_context(
        viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    assert phone_context.cookies() == []  # no session of any kind
    phone = phone_context.new_page()
    phone.set_default_timeout(30_000)
    media_answers: list[tuple[int, str | None]] = []
    phone.on(
        "response",
        lambda r: (
            media_answers.append((r.status, r.request.headers.get("range")))
            if "/api/share/" in r.url and r.url.endswith(".mp4")
            else None
        ),
    )
    phone.goto(share_url)  # the link preview page sends the browser on to /share?t=
    phone.wait_for_url(re.compile(r"/share\?t="))
    _wait_loaded(phone)
    expect(phone.get_by_role("heading", name=TITLE)).to_be_visible()
    video = phone.get_by_test_id("stVideo")
    expect(video).to_be_visible()
    box = video.bounding_box()
    assert box is not None and 300 <= box["width"] <= PHONE["width"]  # fits the phone
    expect(phone.get_by_role("link", name="WhatsApp")).to_be_visible()

    # 3. It plays, and seeking asks the server for byte ranges.
    played = phone.evaluate(
        """async () => {
            const v = document.querySelector('video');
            v.muted = true;
            await v.play();
            const t0 = performance.now();
            while (v.currentTime < 0.5 && performance.now() - t0 < 20000) {
                await new Promise(r => setTimeout(r, 100));
            }
            const played = v.currentTime;
            v.currentTime = 3.0;
            await new Promise(r => v.addEventListener('seeked', r, {once: true}));
            return [played, v.duration, v.currentTime];
        }"""
    )
    assert played[0] >= 0.5 and played[1] == pytest.approx(4.0, abs=0.2)
    assert played[2] == pytest.approx(3.0, abs=0.2)
    assert any(status == 206 for status, _range in media_answers), media_answers
    assert all(status in (200, 206) for status, _range in media_answers), media_answers
    _shot(phone, "phone")

    # 4. The creator revokes it; the phone's reload says it is no longer shared.
    revoke = dialog.get_by_role("button", name="Revoke")
    expect(revoke).to_be_visible()
    revoke.click()
    expect(creator.get_by_text("The link no longer works.")).to_be_visible()
    phone.reload()
    _wait_loaded(phone)
    expect(phone.get_by_role("heading", name="This video is no longer shared")).to_be_visible()
    expect(phone.get_by_test_id("stVideo")).to_have_count(0)
    _shot(phone, "revoked")

    phone_context.close()
    creator_context.close()
