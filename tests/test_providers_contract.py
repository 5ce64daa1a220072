"""One contract every provider keeps: the cloud adapters against each vendor's loopback fake,
and the parts that apply to any provider (the local engine included) at the end.

The fakes follow the documented contracts (tests/fakes/<vendor>.py); the adapters get an
injected clock, so polling and Retry-After waits cost no real time. Only the timeout test
waits for a real socket read timeout (0.3 s).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image

import providers
from errors import (
    InputError,
    JobCancelled,
    LanguageError,
    ProviderAuthError,
    ProviderError,
    ProviderOutOfCredit,
    ProviderProtocolError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    ScriptError,
)
from providers.base import CancelToken, GenerationRequest, JobContext, Provider
from providers.cloud import CloudProvider
from providers.d_id import DIdProvider
from providers.heygen import HeyGenProvider
from providers.local.encode import probe
from providers.luma import LumaProvider
from providers.synthesia import SynthesiaProvider
from secrets_manager import (
    DIdSettings,
    HeyGenSettings,
    LumaAISettings,
    SynthesiaSettings,
    get_settings,
)
from tests.fakes.d_id import DIdServer
from tests.fakes.heygen import HeyGenServer
from tests.fakes.luma import LumaServer
from tests.fakes.synthesia import SynthesiaServer
from tests.fakes.vendor_server import FakeClock, VendorServer

PUBLIC_PHOTO = "https://cdn.example.com/media/jobs/j1/photo.jpg"


@dataclass(frozen=True)
class Vendor:
    name: str
    server: type[VendorServer]
    provider: type[CloudProvider]
    settings: type[Any]
    create_path: str
    out_of_credit: tuple[int, dict[str, Any]]
    rate_limit_headers: dict[str, str]
    failure_class: type[ProviderError]
    failure_text: str  # what the creator reads from the vendor when its render fails
    extra: dict[str, Any] = field(default_factory=dict)
    photo_url: str | None = None


VENDORS = [
    Vendor(
        "d_id",
        DIdServer,
        DIdProvider,
        DIdSettings,
        "/talks",
        (402, {"kind": "InsufficientCreditsError", "description": "not enough credits"}),
        {"Retry-After": "7"},
        ProviderRejected,
        "No face could be found in the source image.",
    ),
    Vendor(
        "heygen",
        HeyGenServer,
        HeyGenProvider,
        HeyGenSettings,
        "/v3/videos",
        (
            402,
            {
                "error": {
                    "code": "insufficient_credit",
                    "message": "Your account has 5 credits",
                    "doc_url": "https://developers.heygen.com/docs/error-codes",
                }
            },
        ),
        {"Retry-After": "7"},
        ProviderRejected,
        "No face could be found in the source image.",
    ),
    Vendor(
        # Synthesia documents no out-of-credit answer: the fake sends a 402 like the others.
        "synthesia",
        SynthesiaServer,
        SynthesiaProvider,
        SynthesiaSettings,
        "/v2/videos",
        (402, {"error": "Not enough credits"}),
        {"RateLimit-Limit": "60", "RateLimit-Reset": "7"},
        ProviderUnavailable,
        "error",
        extra={"avatar_id": "anna_costume1_cameraA"},
    ),
    Vendor(
        # Luma's out-of-credit status is undocumented too; 402 by the same rule.
        "luma",
        LumaServer,
        LumaProvider,
        LumaAISettings,
        "/generations/video",
        (402, {"detail": "Insufficient credits"}),
        {"Retry-After": "7"},
        ProviderRejected,
        "Frame moderation failed",
        photo_url=PUBLIC_PHOTO,
    ),
]


@pytest.fixture(params=VENDORS, ids=[v.name for v in VENDORS])
def vendor(request: pytest.FixtureRequest) -> Vendor:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def server(vendor: Vendor) -> Iterator[VendorServer]:
    with vendor.server() as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (400, 500), (190, 150, 120)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def make(
    vendor: Vendor, server: VendorServer, clock: FakeClock, *, key: str | None = None, **cfg: Any
) -> CloudProvider:
    values: dict[str, Any] = dict(
        api_key=key or server.api_key,
        base_url=server.url,
        connect_s=5,
        read_s=10,
        poll_every_s=5,
        deadline_s=600,
    )
    config = vendor.settings(**{**values, **vendor.extra, **cfg})
    return vendor.provider(config=config, clock=clock)


@dataclass
class Run:
    ctx: JobContext
    saved: list[str]
    stages: list[tuple[str, float]]


def context(tmp_path: Path, vendor: Vendor, **changes: Any) -> Run:
    saved: list[str] = []
    stages: list[tuple[str, float]] = []
    ctx = JobContext(
        work_dir=tmp_path / "work",
        progress=lambda stage, percent: stages.append((stage, percent)),
        save_remote_id=saved.append,
        client_ref="job-7f3a",
        photo_url=vendor.photo_url,
    )
    for name, value in changes.items():
        setattr(ctx, name, value)
    return Run(ctx, saved, stages)


def request(photo: Path, **changes: Any) -> GenerationRequest:
    values: dict[str, Any] = dict(
        photo_path=photo,
        script="Hello there! This is a short test of the video service.",
        language="en",
        aspect="9:16",
        resolution=720,
    )
    values.update(changes)
    return GenerationRequest(**values)


# ------------------------------------------------------------------------------- success


def test_success_gives_a_playable_mp4_with_sound(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    run = context(tmp_path, vendor)
    result = make(vendor, server, clock).generate(request(photo), run.ctx)

    info = probe(result.video_path)
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    assert result.provider == vendor.name
    assert result.duration_s == pytest.approx(info.duration_s)
    assert result.thumbnail_path is not None and result.thumbnail_path.stat().st_size > 0
    assert server.creates == 1
    assert run.saved == [server.made()[0].id]  # saved at once, for a resume
    assert any(stage == "animate" for stage, _ in run.stages)
    percents = [p for _, p in run.stages]
    assert percents == sorted(percents) and max(percents) < 100
    # The presigned result link got no vendor key (it is not the vendor's API).
    (download,) = server.file_requests
    assert not {"authorization", "x-api-key"} & set(download.headers)
    assert all(r.headers["user-agent"].startswith("TalkingPhoto/") for r in server.requests)


def test_a_wrong_key_is_an_auth_error_and_makes_nothing(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    provider = make(vendor, server, clock, key="not-the-key")
    with pytest.raises(ProviderAuthError) as info:
        provider.generate(request(photo), context(tmp_path, vendor).ctx)
    assert "API key" in info.value.user_message
    assert "not-the-key" not in info.value.user_message + str(info.value.detail)
    assert server.creates == 0
    with pytest.raises(ProviderAuthError):
        provider.check()
    assert make(vendor, server, clock).check().startswith("ok")


def test_out_of_vendor_credit_is_unavailable(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    status, body = vendor.out_of_credit
    server.fail("POST", vendor.create_path, status, body)
    with pytest.raises(ProviderOutOfCredit) as info:
        make(vendor, server, clock).generate(request(photo), context(tmp_path, vendor).ctx)
    assert isinstance(info.value, ProviderUnavailable)  # the router may fall back
    assert server.creates == 0
    assert len(server.calls("POST", server.base_path + vendor.create_path)) == 1  # not retried


def test_rate_limited_then_success_honours_the_wait(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    server.fail(
        "POST", vendor.create_path, 429, {"error": "slow down"}, headers=vendor.rate_limit_headers
    )
    result = make(vendor, server, clock).generate(request(photo), context(tmp_path, vendor).ctx)
    assert result.video_path.is_file()
    assert 7.0 in clock.slept  # the vendor's number of seconds, not ours
    assert server.creates == 1


def test_rate_limited_past_the_retries_says_so(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    server.fail(
        "POST",
        vendor.create_path,
        429,
        {"error": "slow down"},
        headers=vendor.rate_limit_headers,
        times=10,
    )
    with pytest.raises(ProviderUnavailable) as info:
        make(vendor, server, clock).generate(request(photo), context(tmp_path, vendor).ctx)
    assert info.value.retry_after_s == 7.0
    assert len(server.calls("POST", server.base_path + vendor.create_path)) == 3


def test_a_create_whose_answer_times_out_is_not_made_twice(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    # The vendor makes the job but the answer never arrives (read timeout 0.3 s).
    server.fail("POST", vendor.create_path, 504, {"error": "timeout"}, after=True, hang_s=5)
    run = context(tmp_path, vendor)
    result = make(vendor, server, clock, read_s=0.3).generate(request(photo), run.ctx)
    assert result.video_path.is_file()
    assert server.creates == 1
    assert run.saved == [server.made()[0].id]


def test_a_job_past_its_deadline_times_out(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    server.outcome = "stuck"
    started = clock.monotonic()
    with pytest.raises(ProviderTimeout) as info:
        make(vendor, server, clock, deadline_s=60).generate(
            request(photo), context(tmp_path, vendor).ctx
        )
    assert clock.monotonic() - started <= 60
    assert "1 minutes" in info.value.user_message or "minute" in info.value.user_message


def test_an_unknown_status_is_an_error_not_still_running(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    server.outcome = "unknown"
    with pytest.raises(ProviderProtocolError) as info:
        make(vendor, server, clock).generate(request(photo), context(tmp_path, vendor).ctx)
    assert "paused_for_review" in info.value.user_message
    assert not isinstance(info.value, ProviderUnavailable)  # no silent fallback
    assert server.file_requests == []


def test_a_failed_render_shows_the_vendors_message(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    server.outcome = "failed"
    with pytest.raises(ProviderError) as info:
        make(vendor, server, clock).generate(request(photo), context(tmp_path, vendor).ctx)
    assert type(info.value) is vendor.failure_class
    assert vendor.failure_text in info.value.user_message
    assert info.value.provider == vendor.name


def test_cancel_stops_polling_and_downloads_nothing(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    token = CancelToken()

    def progress(stage: str, percent: float) -> None:
        if stage == "animate":
            token.cancel()  # the creator presses Cancel while the vendor renders

    run = context(tmp_path, vendor, progress=progress, cancel=token)
    with pytest.raises(JobCancelled):
        make(vendor, server, clock).generate(request(photo), run.ctx)
    assert server.file_requests == []
    assert server.creates == 1
    if vendor.name == "luma":  # the only one with a documented cancel
        assert len(server.calls("DELETE", r"/dream-machine/v1/generations/.+")) == 1


class Crash(BaseException):
    """The process dies (a BaseException, like the interpreter shutting down)."""


def test_a_restart_resumes_polling_without_a_second_create(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    saved: list[str] = []

    def save_then_die(remote_id: str) -> None:
        saved.append(remote_id)  # written to the job row ...
        raise Crash()  # ... and then the app restarts

    first = context(tmp_path, vendor, save_remote_id=save_then_die)
    with pytest.raises(Crash):
        make(vendor, server, clock).generate(request(photo), first.ctx)
    assert server.creates == 1 and len(saved) == 1

    again = context(tmp_path, vendor, remote_id=saved[0])
    result = make(vendor, server, clock).generate(request(photo), again.ctx)  # a new process
    assert result.video_path.is_file()
    assert server.creates == 1
    assert again.saved == []  # nothing new to save


def test_an_expired_result_link_is_fetched_again(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    server.expire_first_link = True
    result = make(vendor, server, clock).generate(request(photo), context(tmp_path, vendor).ctx)
    assert result.video_path.is_file()
    assert [r.path.split("/")[-1] for r in server.file_requests] == ["video.mp4", "video.mp4"]
    assert server.made()[0].links == 2


def test_a_vendor_that_goes_away_mid_job_is_unavailable(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    server.stop_after_polls = 1
    with pytest.raises(ProviderUnavailable):
        make(vendor, server, clock).generate(request(photo), context(tmp_path, vendor).ctx)
    assert server.creates == 1


def test_a_5xx_on_a_poll_is_retried(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    poll = {
        "d_id": r"/talks/.+",
        "heygen": r"/v3/videos/.+",
        "synthesia": r"/v2/videos/.+",
        "luma": r"/generations/.+",
    }[vendor.name]
    server.fail("GET", poll, 503, {"error": "busy"}, times=2)
    result = make(vendor, server, clock).generate(request(photo), context(tmp_path, vendor).ctx)
    assert result.video_path.is_file()
    assert 1.0 in clock.slept and 2.0 in clock.slept  # backoff doubles


def test_resuming_a_job_the_vendor_no_longer_has_is_unavailable(
    vendor: Vendor, server: VendorServer, clock: FakeClock, photo: Path, tmp_path: Path
) -> None:
    run = context(tmp_path, vendor, remote_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(ProviderUnavailable) as info:
        make(vendor, server, clock).generate(request(photo), run.ctx)
    assert "no longer has this video" in info.value.user_message
    assert server.creates == 0  # never a silent second create


# ------------------------------------------------------------- every provider, local too

PROVIDERS = ["local", *(v.name for v in VENDORS)]


@pytest.fixture(params=PROVIDERS)
def any_provider(request: pytest.FixtureRequest) -> Iterator[tuple[Provider, VendorServer | None]]:
    """Each provider built the way the app builds it: from settings, by its registry name."""
    name = request.param
    if name == "local":
        settings = SimpleNamespace(limits=SimpleNamespace(min_face_px=77))
        yield providers.provider_class(name).from_settings(settings), None
        return
    vendor = next(v for v in VENDORS if v.name == name)
    with vendor.server() as fake:
        config = vendor.settings(api_key=fake.api_key, base_url=fake.url, **vendor.extra)
        settings = SimpleNamespace(**{vendor.provider.section: config})
        yield providers.provider_class(name).from_settings(settings), fake


def test_every_provider_is_built_from_its_own_settings(
    any_provider: tuple[Provider, VendorServer | None],
) -> None:
    provider, server = any_provider
    assert provider.name in providers.available()
    if server is None:
        assert provider.min_face_px == 77  # type: ignore[attr-defined]
    else:
        assert provider.config.base_url == server.url  # type: ignore[attr-defined]


def test_every_provider_says_what_it_can_do_without_the_network(
    any_provider: tuple[Provider, VendorServer | None],
) -> None:
    provider, server = any_provider
    caps = provider.capabilities()
    assert caps.languages and caps.resolutions and caps.aspects and caps.max_script_chars > 0
    assert server is None or server.requests == []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"language": "xx"}, LanguageError),
        ({"resolution": 123}, InputError),
        ({"aspect": "2:1"}, InputError),
        ({"script": "   "}, ScriptError),
        ({"speed": 9.0}, InputError),
    ],
    ids=["language", "resolution", "aspect", "empty-script", "speed"],
)
def test_every_provider_refuses_bad_input_before_any_work(
    any_provider: tuple[Provider, VendorServer | None],
    photo: Path,
    change: dict[str, Any],
    error: type[Exception],
) -> None:
    provider, server = any_provider
    with pytest.raises(error):
        provider.validate(request(photo, **change))
    assert server is None or server.creates == 0


@pytest.mark.slow
def test_the_local_engine_makes_a_playable_mp4_with_sound(
    astronaut_path: Path, tmp_path: Path
) -> None:
    provider = providers.from_settings("local", get_settings())
    stages: list[tuple[str, float]] = []
    ctx = JobContext(work_dir=tmp_path / "work", progress=lambda s, p: stages.append((s, p)))
    result = provider.generate(request(astronaut_path, resolution=480), ctx)
    info = probe(result.video_path)
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    assert result.provider == "local" and result.duration_s == pytest.approx(info.duration_s, 0.1)
    percents = [p for _, p in stages]
    assert percents == sorted(percents)


def test_the_local_engine_stops_when_cancelled_and_leaves_no_video(
    astronaut_path: Path, tmp_path: Path
) -> None:
    provider = providers.from_settings("local", get_settings())
    token = CancelToken()
    token.cancel()
    ctx = JobContext(work_dir=tmp_path / "work", cancel=token)
    with pytest.raises(JobCancelled):
        provider.generate(request(astronaut_path, resolution=480), ctx)
    assert not list((tmp_path / "work").rglob("*.mp4"))
