"""The engine unloads its voices, nets and fonts when idle, never mid-job, and reloads them.

Real renders by the local engine (480p, the bundled Piper voice, burnt-in captions), on a
worker thread that stays alive like a job worker's; the idle clock is driven by passing
``now``, so nothing waits.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import health_monitor
from errors import ConfigError
from observability import releasable
from providers.base import GenerationRequest, GenerationResult, JobContext
from providers.local import LocalProvider, caption_render, mesh, piper_voice, speech
from providers.local.encode import probe
from secrets_manager import load_settings

SCRIPT = "Hello! The engine sleeps when nobody needs it."
ENGINE_CACHES = {"piper voices", "face nets", "caption fonts", "voice samples"}
IDLE_S = 120.0


def render(work: Path, photo: Path, ctx_progress: object = None) -> GenerationResult:
    request = GenerationRequest(
        photo_path=photo,
        script=SCRIPT,
        language="en",
        voice="piper:en:joe",
        resolution=480,
        captions="burn",
        head_motion=0.0,
    )
    ctx = JobContext(work_dir=work)
    if ctx_progress is not None:
        ctx = JobContext(work_dir=work, progress=ctx_progress)  # type: ignore[arg-type]
    return LocalProvider().generate(request, ctx)


def loaded() -> dict[str, int]:
    """How much of each engine cache is filled, across every thread."""
    with mesh._every_lock:
        nets = sum(len(n.by_name) for n in mesh._every_thread)
    return {
        "piper voices": len(piper_voice._cache),
        "face nets": nets,
        "caption fonts": caption_render._font.cache_info().currsize,
        "voice samples": speech._sample_cached.cache_info().currsize,
    }


@pytest.fixture
def worker() -> object:
    pool = ThreadPoolExecutor(1, thread_name_prefix="tp-test-worker")  # like a job worker
    yield pool
    pool.shutdown()


def test_every_engine_cache_is_registered() -> None:
    assert set(releasable.ENGINE.names()) >= ENGINE_CACHES


def test_idle_engine_releases_every_cache_and_the_next_video_reloads_them(
    tmp_path: Path, astronaut_path: Path, worker: ThreadPoolExecutor
) -> None:
    engine = releasable.ENGINE
    first = worker.submit(render, tmp_path / "one", astronaut_path).result()
    speech.sample("piper:en:joe", "Hi.")  # the create page's voice sample
    assert all(loaded().values()), loaded()
    ended = engine.last_used

    assert engine.release_if_idle(IDLE_S, now=ended + IDLE_S - 1) == []  # not idle long enough
    assert all(loaded().values()), loaded()

    released = engine.release_if_idle(IDLE_S, now=ended + IDLE_S)
    assert set(released) >= ENGINE_CACHES
    assert loaded() == dict.fromkeys(ENGINE_CACHES, 0)  # the worker thread's nets included
    assert engine.release_if_idle(IDLE_S, now=ended + 10 * IDLE_S) == []  # once per idle spell

    second = worker.submit(render, tmp_path / "two", astronaut_path).result()
    assert loaded()["piper voices"] == 1 and loaded()["face nets"] > 0
    assert loaded()["caption fonts"] > 0
    for result in (first, second):
        info = probe(result.video_path)
        assert info.audio_codec == "aac" and info.video_codec == "h264" and info.width > 0
    # The same script again (Piper's duration predictor is sampled, so a few frames may differ)
    assert second.duration_s == pytest.approx(first.duration_s, rel=0.15)


def test_nothing_is_released_while_a_job_runs(
    tmp_path: Path, astronaut_path: Path, worker: ThreadPoolExecutor
) -> None:
    engine = releasable.ENGINE
    at_face, go_on = threading.Event(), threading.Event()

    def progress(stage: str, _pct: float) -> None:
        if stage == "face" and not at_face.is_set():  # the voice is loaded and used by now
            at_face.set()
            assert go_on.wait(120), "the test never let the job go on"

    job = worker.submit(render, tmp_path / "job", astronaut_path, progress)
    assert at_face.wait(300), "the render never reached the face stage"
    try:
        assert engine.active == 1
        far_future = engine.last_used + 100 * IDLE_S
        assert engine.release_if_idle(IDLE_S, now=far_future) == []
        assert engine.release_now() == []
        assert len(piper_voice._cache) == 1
    finally:
        go_on.set()
    result = job.result()
    assert probe(result.video_path).audio_codec == "aac"
    assert engine.active == 0
    assert engine.release_if_idle(IDLE_S, now=engine.last_used + IDLE_S) != []
    assert len(piper_voice._cache) == 0


def test_a_failing_release_does_not_keep_the_others_loaded() -> None:
    clock = [1000.0]
    registry = releasable.Releasables(clock=lambda: clock[0])
    cache = {"voice": bytearray(1024)}
    other = {"net": bytearray(1024)}

    def broken() -> None:
        raise RuntimeError("cannot release")

    registry.register("broken", broken)
    registry.register("voice", cache.clear)
    registry.register("net", other.clear)
    with registry.in_use():
        clock[0] += 500
    assert registry.release_if_idle(60, now=clock[0] + 59) == []
    assert sorted(registry.release_if_idle(60, now=clock[0] + 60)) == ["net", "voice"]
    assert cache == {} and other == {}


def test_the_sampler_unloads_after_the_configured_idle_time(
    tmp_path: Path, astronaut_path: Path, worker: ThreadPoolExecutor
) -> None:
    worker.submit(render, tmp_path / "one", astronaut_path).result()
    assert len(piper_voice._cache) == 1
    ended = releasable.ENGINE.last_used
    never = load_settings(write(tmp_path, "[engine]\nidle_unload_s = 0\n"), environ={})
    assert health_monitor.release_idle_engine(never, now=ended + 10**6) == []
    assert len(piper_voice._cache) == 1
    five_min = load_settings(write(tmp_path, "[engine]\nidle_unload_s = 300\n"), environ={})
    assert health_monitor.release_idle_engine(five_min, now=ended + 299) == []
    assert "piper voices" in health_monitor.release_idle_engine(five_min, now=ended + 300)
    assert len(piper_voice._cache) == 0


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(text, "utf-8")
    return path


def test_default_idle_time_is_two_minutes(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, ""), environ={}).engine.idle_unload_s == 120


@pytest.mark.parametrize(
    ("value", "shown"), [("-5", "-5"), ('"soon"', "'soon'"), ("100000", "100000")]
)
def test_a_bad_idle_time_is_a_clear_configuration_error(
    tmp_path: Path, value: str, shown: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, f"[engine]\nidle_unload_s = {value}\n"), environ={})
    assert f"[engine] idle_unload_s: expected an integer between 0 and 86400, got {shown}" in (
        info.value.user_message
    )


def test_the_environment_sets_the_idle_time(tmp_path: Path) -> None:
    environ = {"TALKINGPHOTO__ENGINE__IDLE_UNLOAD_S": "45"}
    assert load_settings(write(tmp_path, ""), environ=environ).engine.idle_unload_s == 45
