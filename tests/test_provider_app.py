"""Cloud providers as a new creator meets them on the create page (Streamlit AppTest).

A fake vendor runs on loopback; the app is pointed at it through the same
TALKINGPHOTO__<SECTION>__<KEY> variables an operator would set. The adapters' clock is
injected, so polling costs no real time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from streamlit.testing.v1 import AppTest

import background_tasks
from providers import http, router
from secrets_manager import get_settings
from services import accounts, credits, jobs
from tests import fakes
from tests.fakes import stored_file
from tests.fakes.d_id import DIdServer
from tests.fakes.heygen import HeyGenServer
from tests.fakes.vendor_server import FakeClock
from tests.test_app_pages import ENTRY, TIMEOUT_S, _texts, _upload, astronaut_jpeg  # noqa: F401

SCRIPT = "Hello from TalkingPhoto. This is a short test."


def _voice_picker(at: AppTest):  # -> Selectbox
    """The voice picker (one per script language: its key is ``voice_<language>``)."""
    return next(s for s in at.selectbox if str(s.key).startswith("voice_"))


@pytest.fixture
def app(jobs_env: fakes.Plan, settings_env: Callable[..., None]) -> Iterator[Callable[..., None]]:
    """The app with a fresh start, the fake provider registered, caches cleared; returns a
    function that applies operator settings (``heygen__api_key=...``)."""
    import streamlit as st

    from services import startup

    previous = http.set_default_clock(FakeClock())
    router.reset()
    startup.reset_for_tests()

    def configure(**values: object) -> None:
        settings_env(providers__default="fake", **values)
        st.cache_resource.clear()
        st.cache_data.clear()

    configure()
    yield configure
    startup.reset_for_tests()
    http.set_default_clock(previous)
    router.reset()


@pytest.fixture
def heygen(app: Callable[..., None]) -> Iterator[HeyGenServer]:
    with HeyGenServer() as server:
        app(
            heygen__api_key=server.api_key,
            heygen__base_url=server.url,
            providers__order="heygen,fake",
        )
        yield server


def _open() -> AppTest:
    return AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S).run()


def _ready(astronaut: bytes, provider: str) -> AppTest:
    at = _upload(_open(), "astronaut.jpg", astronaut)
    at = at.selectbox(key="provider").set_value(provider).run()
    at.text_area(key="script").input(SCRIPT).run()
    return at


def _job() -> jobs.JobView:
    (job,) = jobs.list_for_user(accounts.current_user().id)
    return job


def _balance() -> int:
    return credits.balance(accounts.current_user().id)


def test_the_chooser_offers_auto_and_each_configured_service_with_its_price(
    heygen: HeyGenServer,
) -> None:
    at = _open()
    chooser = at.selectbox(key="provider")
    assert chooser.options == [
        "Auto: the first available service · 4 credits per 30 s",
        "HeyGen · 4 credits per 30 s",
        "fake · 1 credit per 30 s",
        "TalkingPhoto engine (on our server) · 1 credit per 30 s",
    ]
    at = chooser.set_value("heygen").run()
    assert "HeyGen animates your photo with lip-sync." in _texts(at)
    at = at.selectbox(key="language").set_value("hi").run()
    voice = _voice_picker(at)
    assert voice.options == ["Aarav · male · heygen  ✨ natural"]  # from the vendor, for Hindi
    at = at.selectbox(key="provider").set_value("auto").run()
    assert "Auto tries HeyGen, fake in turn" in _texts(at)
    assert "Each service speaks with its own default voice" in _texts(at)


def test_choose_heygen_generate_watch_progress_and_get_the_video(
    heygen: HeyGenServer,
    astronaut_jpeg: bytes,  # noqa: F811
) -> None:
    held = fakes.ManualExecutor()
    background_tasks.set_executor(held)
    at = _ready(astronaut_jpeg, "heygen")
    assert "4 credits" in _texts(at)
    at = at.button(key="generate").click().run()
    assert "Making your video" in _texts(at)
    assert _balance() == 16  # HeyGen's price, charged at submit

    heygen.hold = threading.Event()  # HeyGen is rendering ...
    worker = threading.Thread(target=held.run_all)
    worker.start()
    try:
        assert heygen.held.wait(30)
        at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S)
        at.query_params["job"] = _job().id
        at = at.run()
        assert "Animating" in _texts(at)  # the creator watches the vendor's progress
    finally:
        heygen.hold.set()
        worker.join(60)
    at = at.run()
    assert "Your video is ready" in _texts(at)
    assert "Made with HeyGen." in _texts(at)
    job = _job()
    assert (job.status, job.provider_used, job.cost_credits) == ("succeeded", "heygen", 4)
    assert (
        stored_file(job.video_key) is not None and stored_file(job.video_key).stat().st_size > 1000
    )
    assert heygen.creates == 1 and _balance() == 16


def test_heygen_stops_mid_job_and_auto_falls_back(
    heygen: HeyGenServer,
    astronaut_jpeg: bytes,  # noqa: F811
    jobs_env: fakes.Plan,
) -> None:
    heygen.stop_after_polls = 1  # the vendor goes away while rendering
    at = _ready(astronaut_jpeg, "auto")
    at = at.button(key="generate").click().run()
    text = _texts(at)
    assert "Your video is ready" in text
    assert "HeyGen was not available, so fake made your video." in text
    job = _job()
    assert job.provider_used == "fake" and job.cost_credits == 1
    assert _balance() == 19  # charged HeyGen's 4 at submit, 3 given back


def test_heygen_chosen_explicitly_stops_mid_job_the_creator_is_refunded(
    heygen: HeyGenServer,
    astronaut_jpeg: bytes,  # noqa: F811
    jobs_env: fakes.Plan,
) -> None:
    heygen.stop_after_polls = 1
    at = _ready(astronaut_jpeg, "heygen")
    at = at.button(key="generate").click().run()
    assert [e.value for e in at.error] == ["HeyGen cannot be reached right now."]
    assert "Your credits were returned." in _texts(at)
    assert _job().status == "failed" and _balance() == 20
    assert jobs_env.requests == []  # no silent fallback
    files = list((get_settings().app.data_dir / "media" / "jobs" / _job().id).iterdir())
    assert [f.name for f in files] == ["photo.jpg"]  # no output left behind


def test_a_rejected_photo_is_explained_in_the_creators_language(
    heygen: HeyGenServer,
    astronaut_jpeg: bytes,  # noqa: F811
) -> None:
    heygen.outcome = "failed"
    heygen.failure_message = "No face detected."
    at = _ready(astronaut_jpeg, "heygen")
    at = at.sidebar.radio(key="ui_lang").set_value("hi").run()
    at = at.button(key="generate").click().run()
    assert [e.value for e in at.error] == ["HeyGen यह वीडियो नहीं बना सका: No face detected."]
    assert _balance() == 20


def test_synthesia_and_luma_say_what_they_cannot_do(app: Callable[..., None]) -> None:
    app(
        synthesia__api_key="s-key",
        synthesia__avatar_id="anna_costume1_cameraA",
        luma_ai__api_key="l-key",
        providers__order="fake",
    )
    at = _open()
    at = at.selectbox(key="provider").set_value("synthesia").run()
    assert "Synthesia cannot animate your photo" in _texts(at)
    at = at.selectbox(key="provider").set_value("luma").run()
    assert "Motion only, no lip-sync: Luma animates your photo" in _texts(at)
    assert "Luma needs the photo at a public web address" in _texts(at)  # local disk storage
    assert _voice_picker(at).options  # our own voices speak over Luma's motion


def test_d_id_voices_come_from_the_vendor_and_are_cached(
    app: Callable[..., None],
) -> None:
    with DIdServer() as server:
        app(d_id__api_key=server.api_key, d_id__base_url=server.url, providers__order="d_id")
        at = _open()
        at = at.selectbox(key="provider").set_value("d_id").run()
        at = at.selectbox(key="language").set_value("hi").run()
        assert {o.split(" ·")[0] for o in _voice_picker(at).options} == {"Madhur", "Swara"}
        fetched = len(server.calls("GET", "/tts/voices"))  # English first, then Hindi
        at = at.run()
        at = at.selectbox(key="language").set_value("en").run()
        at = _open()  # another visitor
        assert len(server.calls("GET", "/tts/voices")) == fetched == 2  # one per language
