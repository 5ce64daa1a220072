"""The pages as a creator uses them, driven by Streamlit's AppTest (no browser).

Jobs run inline (a synchronous executor) on a fast fake provider, except one end-to-end test
that renders a real video with the local engine.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.fakes import stored_file

ROOT = Path(__file__).resolve().parents[1]
ENTRY = str(ROOT / "app_streamlit_cloud.py")
TIMEOUT_S = 60


def _voice_picker(at: AppTest):  # -> Selectbox
    """The voice picker (one per script language: its key is ``voice_<language>``)."""
    return next(s for s in at.selectbox if str(s.key).startswith("voice_"))


def _jpeg(array: np.ndarray, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="session")
def astronaut_jpeg() -> bytes:
    from skimage import data

    # 512 px is too small for the engine (face ~99 px < min_face_px 120): use a 1024 px copy,
    # the size a phone photo has after our downscale.
    image = Image.fromarray(data.astronaut()).resize((1024, 1024), Image.Resampling.LANCZOS)
    return _jpeg(np.asarray(image))


@pytest.fixture
def app_env(jobs_env, foundation_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """conftest's isolated data dir + fake provider + inline executor, made the app's default
    provider, with no start-up flag or Streamlit cache left over from an earlier test."""
    import streamlit as st

    from secrets_manager import reset_settings_cache
    from services import startup

    monkeypatch.setenv("TALKINGPHOTO__PROVIDERS__DEFAULT", "fake")
    reset_settings_cache()
    startup.reset_for_tests()
    st.cache_resource.clear()
    st.cache_data.clear()
    yield foundation_env
    startup.reset_for_tests()


def _link(at: AppTest, key: str):
    """The link button with ``key`` (AppTest lists them as generic elements)."""
    return next(b for b in at.link_button if b.key == key)


def _app(**query: str) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _texts(at: AppTest) -> str:
    """Everything a creator can read on the page (markdown, captions, alerts, labels)."""
    parts: list[str] = [str(p.proto.text) for p in at.progress]
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "text"):
        parts += [str(el.value) for el in getattr(at, kind)]
    for kind in ("button", "text_area", "selectbox", "radio", "download_button", "file_uploader"):
        try:
            parts += [str(el.label) for el in getattr(at, kind)]
        except AttributeError:
            continue
    parts += [str(el.proto.label) for el in at.get("link_button")]
    return "\n".join(parts)


def _user_jobs() -> list:
    from services import accounts, jobs

    return jobs.list_for_user(accounts.current_user().id)


def _upload(at: AppTest, name: str, data: bytes, mime: str = "image/jpeg") -> AppTest:
    return at.file_uploader(key="photo_upload").set_value((name, data, mime)).run()


def _assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


# ------------------------------------------------------------------------------------ create


def test_first_visit_shows_the_create_page(app_env: Path) -> None:
    at = _app()
    _assert_clean(at)
    text = _texts(at)
    assert "Turn a portrait into a video that speaks your words." in text
    assert at.button(key="generate").disabled  # no photo, no script yet
    assert at.query_params["lang"] == "en"


def test_upload_generate_and_watch_the_result(app_env: Path, astronaut_jpeg: bytes) -> None:
    at = _upload(_app(), "astronaut.jpg", astronaut_jpeg)
    _assert_clean(at)
    assert any("Face found" in s.value for s in at.success)
    assert len(at.image) >= 2  # the photo and the face crop

    at.text_area(key="script").input("Hello from TalkingPhoto. This is a short test.").run()
    assert "characters" in _texts(at) and "1 credit" in _texts(at)
    generate = at.button(key="generate")
    assert not generate.disabled
    at = generate.click().run()
    _assert_clean(at)

    (job,) = _user_jobs()
    assert job.status == "succeeded"
    assert at.query_params["job"] == job.id  # a reload finds it again
    assert at.get("video"), "the player is shown"
    assert _link(at, "download_video").proto.label == "Download MP4"
    assert "/api/media/" in _link(at, "download_video").proto.url  # streamed, not in memory
    assert "Your video is ready" in _texts(at)

    # Make another: the result goes away, the inputs stay, the URL forgets the job.
    at = at.button(key="make_another").click().run()
    assert not at.get("video")
    assert "job" not in at.query_params
    assert at.text_area(key="script").value.startswith("Hello from TalkingPhoto")


def test_a_replayed_click_creates_one_job(app_env: Path, astronaut_jpeg: bytes) -> None:
    at = _upload(_app(), "astronaut.jpg", astronaut_jpeg)
    at.text_area(key="script").input("One job only, please.").run()
    token = at.session_state["submit_token"]
    at = at.button(key="generate").click().run()
    assert at.session_state["submit_token"] != token  # a new token for the next video
    at = at.button(key="make_another").click().run()
    # The same click delivered again (a rerun replay, a stuck double click) reuses its job.
    at.session_state["submit_token"] = token
    at = at.button(key="generate").click().run()
    _assert_clean(at)
    assert len(_user_jobs()) == 1


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("notes.jpg", lambda: b"this is not an image at all", "not a JPEG, PNG or WebP image"),
        (
            "tiny.jpg",
            lambda: _jpeg(np.full((100, 100, 3), 200, np.uint8)),
            "The photo is 100×100 px; the short side must be at least 256 px.",
        ),
        (
            "wall.jpg",
            lambda: _jpeg(np.full((600, 600, 3), 180, np.uint8)),
            "No face was found in the photo.",
        ),
    ],
)
def test_bad_uploads_show_a_message_and_store_nothing(
    app_env: Path, name: str, make, expected: str
) -> None:
    at = _upload(_app(), name, make())
    _assert_clean(at)
    errors = [e.value for e in at.error]
    assert errors and expected in errors[0], errors
    at.text_area(key="script").input("Hello there.").run()
    assert at.button(key="generate").disabled
    assert _user_jobs() == []
    uploads = app_env / "tmp" / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_an_oversized_photo_is_refused_in_hindi(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prepare_photo's PhotoError reaches the page as template + params: the catalog's Hindi
    is filled with the sizes, and switching to English shows the same error in English."""
    from secrets_manager import reset_settings_cache

    monkeypatch.setenv("TALKINGPHOTO__LIMITS__MAX_UPLOAD_MB", "1")
    reset_settings_cache()
    noise = np.random.default_rng(7).integers(0, 256, (1100, 1100, 3), dtype=np.uint8)
    data = _jpeg(noise, quality=95)
    size_mb = len(data) / (1024 * 1024)
    assert size_mb > 1.2

    at = _upload(_app(lang="hi"), "big.jpg", data)
    _assert_clean(at)
    assert [e.value for e in at.error] == [f"फ़ोटो {size_mb:.1f} MB की है; सीमा 1 MB है।"]
    assert _user_jobs() == []

    at = at.sidebar.radio(key="ui_lang").set_value("en").run()
    assert [e.value for e in at.error] == [f"The photo is {size_mb:.1f} MB; the limit is 1 MB."]


def test_progress_survives_a_reload_and_cancel_refunds(
    app_env: Path, astronaut_jpeg: bytes
) -> None:
    import background_tasks
    from services import accounts, credits
    from tests.fakes import ManualExecutor

    background_tasks.set_executor(ManualExecutor())  # the job waits in the queue
    at = _upload(_app(), "astronaut.jpg", astronaut_jpeg)
    at.text_area(key="script").input("Wait for me.").run()
    at = at.button(key="generate").click().run()
    (job,) = _user_jobs()
    user = accounts.current_user()
    assert credits.balance(user.id) == 20 - job.cost_credits

    # A reload is a new session: only the URL is left.
    reloaded = _app(job=job.id, lang="en")
    _assert_clean(reloaded)
    assert "Making your video" in _texts(reloaded)
    assert reloaded.progress and "Waiting to start" in _texts(reloaded)
    assert reloaded.button(key="generate").disabled

    reloaded = reloaded.button(key="cancel_job").click().run()
    _assert_clean(reloaded)
    assert _user_jobs()[0].status == "cancelled"
    assert credits.balance(user.id) == 20
    assert "The video was cancelled. Your credits were returned." in _texts(reloaded)


def test_someone_elses_or_unknown_job_in_the_url_is_ignored(app_env: Path) -> None:
    at = _app(job="00000000-0000-0000-0000-000000000000")
    _assert_clean(at)
    assert "That video was not found." in _texts(at)
    assert "job" not in at.query_params


def test_switching_to_hindi_translates_the_page(app_env: Path) -> None:
    at = _app()
    assert at.button(key="generate").label == "Generate video"
    at = at.sidebar.radio(key="ui_lang").set_value("hi").run()
    _assert_clean(at)
    text = _texts(at)
    assert "किसी भी पोर्ट्रेट को ऐसा वीडियो बनाइए जो आपके शब्द बोले।" in text
    assert at.button(key="generate").label == "वीडियो बनाएँ"
    assert "Generate video" not in text and "Turn a portrait" not in text
    assert at.query_params["lang"] == "hi"
    # Hindi UI picks Hindi as the script language until the creator chooses one.
    assert at.selectbox(key="language").value == "hi"


def test_language_comes_back_from_the_url_after_a_reload(app_env: Path) -> None:
    at = _app(lang="hi")
    assert at.button(key="generate").label == "वीडियो बनाएँ"
    assert at.sidebar.radio(key="ui_lang").value == "hi"


@pytest.mark.parametrize("lang", ["ta", "te", "bn", "mr"])
def test_script_language_follows_a_new_ui_language_when_a_voice_speaks_it(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    from secrets_manager import reset_settings_cache

    monkeypatch.setenv("TALKINGPHOTO__PROVIDERS__DEFAULT", "local")  # voices for all four
    reset_settings_cache()
    at = _app(lang=lang)
    _assert_clean(at)
    assert list(at.sidebar.radio(key="ui_lang").options) == [
        "English", "हिन्दी", "தமிழ்", "తెలుగు", "বাংলা", "मराठी"
    ]  # fmt: skip
    assert at.sidebar.radio(key="ui_lang").value == lang
    assert at.selectbox(key="language").value == lang
    assert _voice_picker(at).options, "a voice for the language is offered"


def test_script_language_falls_back_to_english_without_a_voice(app_env: Path) -> None:
    at = _app(lang="ta")  # the fake service speaks only en and hi
    _assert_clean(at)
    assert at.sidebar.radio(key="ui_lang").value == "ta"
    assert at.selectbox(key="language").value == "en"


def test_hindi_voices_and_sample(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from secrets_manager import reset_settings_cache

    monkeypatch.setenv("TALKINGPHOTO__PROVIDERS__DEFAULT", "local")  # real voices, real sample
    reset_settings_cache()
    at = _app()
    at = at.selectbox(key="language").set_value("hi").run()
    voice = _voice_picker(at)
    assert voice.options, "Hindi voices are offered"
    at = at.button(key="play_sample").click().run()
    _assert_clean(at)
    (audio,) = at.get("audio")
    assert audio.proto.autoplay, "the first click plays the sample, not just shows a player"
    at = at.run()  # any later rerun: the player stays, without starting again
    (audio,) = at.get("audio")
    assert not audio.proto.autoplay


def test_input_errors_from_submit_are_shown(
    app_env: Path, astronaut_jpeg: bytes, monkeypatch
) -> None:
    from errors import QueueFull
    from services import jobs

    def busy(*args, **kwargs):
        raise QueueFull()

    monkeypatch.setattr(jobs, "submit", busy)
    at = _upload(_app(), "astronaut.jpg", astronaut_jpeg)
    at.text_area(key="script").input("Hello.").run()
    at = at.button(key="generate").click().run()
    _assert_clean(at)
    assert [e.value for e in at.error] == ["We are busy right now; please try again in a minute."]


def test_unexpected_errors_show_a_reference_not_a_traceback(app_env: Path, monkeypatch) -> None:
    from services import credits

    def broken(user_id: int) -> int:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(credits, "balance", broken)
    at = _app()
    assert not at.exception
    (error,) = at.error
    assert "quote reference" in error.value and "passwd" not in error.value


# ------------------------------------------------------------------------------------ videos


def _make_video(at: AppTest, astronaut_jpeg: bytes, script: str) -> AppTest:
    at = _upload(at, "astronaut.jpg", astronaut_jpeg)
    at.text_area(key="script").input(script).run()
    return at.button(key="generate").click().run()


def test_my_videos_lists_plays_and_deletes(app_env: Path, astronaut_jpeg: bytes) -> None:
    at = _app()
    at.switch_page("views/videos.py").run()
    _assert_clean(at)
    assert "No videos yet" in _texts(at)

    at.switch_page("views/create.py").run()
    at = _make_video(at, astronaut_jpeg, "A video for my list.")
    (job,) = _user_jobs()

    at.switch_page("views/videos.py").run()
    _assert_clean(at)
    text = _texts(at)
    assert "A video for my list." in text and "Ready" in text and "English" in text
    assert _link(at, f"download_{job.id}").proto.label == "Download"
    assert not at.get("video")  # no player until asked
    at = at.button(key=f"play_{job.id}").click().run()
    assert at.get("video")

    at = at.button(key=f"delete_{job.id}").click().run()
    assert "The video and its files will be removed." in _texts(at)
    at = at.button(key="confirm_delete_no").click().run()
    assert len(_user_jobs()) == 1
    at = at.button(key=f"delete_{job.id}").click().run()
    at = at.button(key="confirm_delete_yes").click().run()
    _assert_clean(at)
    assert _user_jobs() == []
    assert "No videos yet" in _texts(at)


def test_my_videos_retries_a_failed_job(app_env: Path, astronaut_jpeg: bytes, jobs_env) -> None:
    jobs_env.mode = "reject"
    at = _make_video(_app(), astronaut_jpeg, "This one fails first.")
    (job,) = _user_jobs()
    assert job.status == "failed"
    assert "The video service could not use this photo." in _texts(at)
    assert at.button(key="retry_job")  # the create page offers a retry too

    jobs_env.mode = "ok"
    at.switch_page("views/videos.py").run()
    assert "Failed" in _texts(at)
    at.button(key=f"retry_{job.id}").click().run()
    statuses = sorted(j.status for j in _user_jobs())
    assert statuses == ["failed", "succeeded"]


def test_my_videos_shows_a_failure_in_hindi(app_env: Path, astronaut_jpeg: bytes, jobs_env) -> None:
    """The job row keeps the failure's template and params, so the page translates it later."""
    jobs_env.mode = "crash"
    at = _make_video(_app(lang="hi"), astronaut_jpeg, "नमस्ते।")
    (job,) = _user_jobs()
    assert job.status == "failed"
    at.switch_page("views/videos.py").run()
    _assert_clean(at)
    expected = f"आपका वीडियो बनाते समय कुछ गड़बड़ हो गई। आपके क्रेडिट वापस कर दिए गए हैं। संदर्भ: {job.id}"
    assert expected in [c.value for c in at.caption]


def test_my_videos_in_hindi_formats_dates(app_env: Path, astronaut_jpeg: bytes) -> None:
    at = _make_video(_app(lang="hi"), astronaut_jpeg, "नमस्ते, यह मेरा वीडियो है।")
    at.switch_page("views/videos.py").run()
    _assert_clean(at)
    text = _texts(at)
    assert "मेरे वीडियो" in text and "तैयार" in text and "हिन्दी" in text
    months = ("जन॰", "फ़र॰", "मार्च", "अप्रैल", "मई", "जून", "जुल॰", "अग॰", "सित॰", "अक्तू॰", "नव॰", "दिस॰")
    assert any(m in text for m in months), text


# ------------------------------------------------------------------------------------ real engine


@pytest.mark.slow
def test_end_to_end_with_the_local_engine(
    app_env: Path, astronaut_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secrets_manager import reset_settings_cache

    monkeypatch.setenv("TALKINGPHOTO__PROVIDERS__DEFAULT", "local")
    reset_settings_cache()
    at = _upload(_app(), "astronaut.jpg", astronaut_jpeg)
    at.selectbox(key="opt_resolution").set_value(480)
    at.selectbox(key="opt_captions").set_value("srt")
    at.text_area(key="script").input("Hello! This video was made on this computer.").run()
    at = at.button(key="generate").click().run(timeout=300)
    _assert_clean(at)
    (job,) = _user_jobs()
    assert job.status == "succeeded", job.error_message
    assert job.provider == "local"
    assert (
        stored_file(job.video_key) is not None
        and stored_file(job.video_key).stat().st_size > 10_000
    )
    assert stored_file(job.video_key).read_bytes()[4:8] == b"ftyp"
    assert stored_file(job.vtt_key) is not None and stored_file(job.vtt_key).read_text().startswith(
        "WEBVTT"
    )
    assert at.get("video") and _link(at, "download_video")


def test_upload_limit_says_when_to_try_again(
    app_env: Path, astronaut_jpeg: bytes, settings_env
) -> None:
    settings_env(ratelimit__upload="1/hour", providers__default="fake")
    at = _upload(_app(), "astronaut.jpg", astronaut_jpeg)
    assert "Face found — ready to animate." in _texts(at)
    at = _upload(at, "again.jpg", astronaut_jpeg[:-10] + b"\x00" * 10)  # a second photo
    text = _texts(at)
    assert "Too many attempts. Please try again in" in text, text
    _assert_clean(at)


def test_a_reload_keeps_the_form_and_generate_starts_a_fresh_one(
    app_env: Path, astronaut_jpeg: bytes
) -> None:
    """Issue 15, item 8: a reload (a new session) refills the photo, script, language and
    options from the creator's draft; after Generate the next form is fresh but keeps the
    language and options."""
    at = _upload(_app(), "astronaut.jpg", astronaut_jpeg)
    at.selectbox(key="language").set_value("hi").run()
    at.text_area(key="script").input("नमस्ते! Keep me after a reload.").run()
    at.select_slider(key="opt_head_motion").set_value(0.6).run()
    _assert_clean(at)

    reloaded = _app()
    _assert_clean(reloaded)
    assert reloaded.text_area(key="script").value == "नमस्ते! Keep me after a reload."
    assert reloaded.selectbox(key="language").value == "hi"
    assert reloaded.select_slider(key="opt_head_motion").value == 0.6
    assert any("Face found" in s.value for s in reloaded.success)
    assert "Your photo from last time is kept" in _texts(reloaded)
    assert not reloaded.button(key="generate").disabled

    generated = reloaded.button(key="generate").click().run()
    _assert_clean(generated)
    (job,) = _user_jobs()
    assert job.status == "succeeded"
    fresh = _app()
    _assert_clean(fresh)
    assert fresh.text_area(key="script").value in ("", None)
    assert not any("Face found" in s.value for s in fresh.success)
    assert fresh.selectbox(key="language").value == "hi"
    assert fresh.select_slider(key="opt_head_motion").value == 0.6


def test_head_motion_reads_as_words(app_env: Path) -> None:
    at = _app()
    motion = at.select_slider(key="opt_head_motion")
    assert motion.value == 0.3
    assert motion.options == [
        "Off", "Subtle", "Natural", "Lively", "Very lively"
    ]  # fmt: skip
