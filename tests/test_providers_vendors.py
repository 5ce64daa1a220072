"""What is particular to each vendor: the fakes' strictness (so an adapter that sends a field
the contract forbids fails here), and each adapter's own choices."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from errors import ConfigError, InputError, ProviderRejected, ProviderUnavailable
from providers.base import GenerationRequest, JobContext
from providers.d_id import DIdProvider
from providers.heygen import HeyGenProvider
from providers.http import Deadline, RetryPolicy, VendorHttp, VendorReply
from providers.local import speech
from providers.local.encode import probe
from providers.luma import NOTE_NO_LIPSYNC, LumaProvider
from providers.synthesia import SynthesiaProvider
from secrets_manager import DIdSettings, HeyGenSettings, LumaAISettings, SynthesiaSettings
from tests.fakes.d_id import DIdServer
from tests.fakes.heygen import HeyGenServer
from tests.fakes.luma import LumaServer
from tests.fakes.synthesia import SynthesiaServer
from tests.fakes.vendor_server import FakeClock, VendorServer

SCRIPT = "Hello there! This is a short test of the video service."


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (400, 500), (190, 150, 120)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def ctx(tmp_path: Path, **changes: Any) -> JobContext:
    context = JobContext(work_dir=tmp_path / "work", client_ref="job-1")
    for name, value in changes.items():
        setattr(context, name, value)
    return context


def req(photo: Path, **changes: Any) -> GenerationRequest:
    values: dict[str, Any] = {"photo_path": photo, "script": SCRIPT, "language": "en"}
    return GenerationRequest(**{**values, **changes})


def post(server: VendorServer, path: str, body: Any, headers: dict[str, str]) -> requests.Response:
    return requests.post(server.url + path, json=body, headers=headers, timeout=5)


# ------------------------------------------------------------------------------------ D-ID


@pytest.fixture
def did() -> Iterator[DIdServer]:
    with DIdServer() as server:
        yield server


def did_adapter(server: DIdServer) -> DIdProvider:
    config = DIdSettings(api_key=server.api_key, base_url=server.url, poll_every_s=1)
    return DIdProvider(config=config, clock=FakeClock())


def test_fake_d_id_enforces_the_talk_schema(did: DIdServer) -> None:
    auth = {"Authorization": f"Basic {did.api_key}"}
    script = {
        "type": "text",
        "input": "Hello there",
        "provider": {"type": "microsoft", "voice_id": "en-US-JennyNeural"},
    }
    ok = {"source_url": "https://example.com/alice.jpg", "script": script}
    assert post(did, "/talks", ok, auth).status_code == 201
    extra = post(did, "/talks", {**ok, "driver_expressions": {}}, auth)
    assert extra.status_code == 400 and extra.json()["kind"] == "ValidationError"
    signed = post(did, "/talks", {**ok, "source_url": "https://cdn.example.com/a.jpg?sig=1"}, auth)
    assert signed.status_code == 400 and signed.json()["description"] == "invalid actor url"
    short = post(did, "/talks", {**ok, "script": {**script, "input": "Hi"}}, auth)
    assert short.status_code == 400
    no_voice = {**script, "provider": {"type": "microsoft"}}
    assert post(did, "/talks", {**ok, "script": no_voice}, auth).status_code == 400
    bearer = post(did, "/talks", ok, {"Authorization": f"Bearer {did.api_key}"})
    assert bearer.status_code == 401 and bearer.json()["kind"] == "AuthorizationError"
    assert did.creates == 1


def test_d_id_uses_a_public_photo_url_only_when_the_schema_allows_it(
    did: DIdServer, photo: Path, tmp_path: Path
) -> None:
    public = "https://cdn.example.com/jobs/1/photo.jpg"
    did_adapter(did).generate(req(photo), ctx(tmp_path / "a", photo_url=public))
    assert did.calls("POST", "/images") == []
    assert did.made()[0].body["source_url"] == public
    # A presigned URL ends in its signature, which D-ID's pattern refuses: upload instead.
    signed = public + "?X-Amz-Signature=abc"
    did_adapter(did).generate(req(photo), ctx(tmp_path / "b", photo_url=signed))
    (upload,) = did.calls("POST", "/images")
    assert upload.form["image"][:2] == ("photo.jpg", "image/jpeg")
    assert did.made()[1].body["source_url"].startswith("s3://d-id-images-prod/")
    talk = did.made()[1].body
    assert talk["script"]["provider"] == {"type": "microsoft", "voice_id": "en-US-JennyNeural"}
    assert talk["user_data"] == "job-1"


def test_d_id_voices_key_check_and_hindi_default(
    did: DIdServer, photo: Path, tmp_path: Path
) -> None:
    adapter = did_adapter(did)
    assert {v.id for v in adapter.voices("hi")} == {"hi-IN-SwaraNeural", "hi-IN-MadhurNeural"}
    assert adapter.check() == "ok (40 credits left)"
    did.fail("GET", "/credits", 404, {"kind": "NotFoundError", "description": "not credits found"})
    assert adapter.check() == "ok (no credits left)"  # the key itself was accepted
    adapter.generate(req(photo, language="hi", script="नमस्ते, यह एक छोटा परीक्षण है।"), ctx(tmp_path))
    assert did.made()[0].body["script"]["provider"]["voice_id"] == "hi-IN-SwaraNeural"


def test_d_id_moderation_is_a_rejection(did: DIdServer, photo: Path, tmp_path: Path) -> None:
    did.outcome = "rejected"
    with pytest.raises(ProviderRejected):
        did_adapter(did).generate(req(photo), ctx(tmp_path))


# ---------------------------------------------------------------------------------- HeyGen


@pytest.fixture
def heygen() -> Iterator[HeyGenServer]:
    with HeyGenServer() as server:
        yield server


def heygen_adapter(server: HeyGenServer) -> HeyGenProvider:
    config = HeyGenSettings(api_key=server.api_key, base_url=server.url, poll_every_s=1)
    return HeyGenProvider(config=config, clock=FakeClock())


def test_fake_heygen_enforces_script_xor_audio_and_voice(heygen: HeyGenServer) -> None:
    auth = {"X-Api-Key": heygen.api_key}
    image = {"type": "url", "url": "https://example.com/p.jpg"}
    base = {"type": "image", "image": image}
    both = post(
        heygen,
        "/v3/videos",
        {**base, "script": "Hi", "voice_id": "x", "audio_url": "https://e.com/a.mp3"},
        auth,
    )
    assert both.status_code == 400 and both.json()["error"]["code"] == "invalid_parameter"
    no_voice = post(heygen, "/v3/videos", {**base, "script": "Hi"}, auth)
    assert no_voice.json()["error"]["param"] == "voice_id"
    long = post(heygen, "/v3/videos", {**base, "script": "a" * 5001, "voice_id": "x"}, auth)
    assert long.status_code == 400
    audio = post(heygen, "/v3/videos", {**base, "audio_url": "https://e.com/a.mp3"}, auth)
    assert audio.status_code == 200
    assert post(heygen, "/v3/videos", base, {}).status_code == 401


def test_heygen_uploads_picks_a_voice_and_sends_an_idempotency_key(
    heygen: HeyGenServer, photo: Path, tmp_path: Path
) -> None:
    result = heygen_adapter(heygen).generate(
        req(photo, language="hi", script="नमस्ते दोस्तों", aspect="1:1", resolution=1080, speed=1.8),
        ctx(tmp_path),
    )
    (upload,) = heygen.calls("POST", "/v3/assets")
    assert upload.form["file"][1] == "image/jpeg"
    (create,) = heygen.calls("POST", "/v3/videos")
    body = create.json
    assert body["image"] == {"type": "asset_id", "asset_id": next(iter(heygen.assets))}
    assert body["voice_id"] == "9f8ff4eb2f1a4ff8a5ba6e1d1d4a2a77"  # the Hindi voice
    assert (body["aspect_ratio"], body["resolution"]) == ("1:1", "1080p")
    assert body["voice_settings"] == {"speed": 1.5}  # clamped to HeyGen's range
    assert create.headers["idempotency-key"] == "talkingphoto-job-1"
    assert result.voice == body["voice_id"]


def test_heygen_refuses_480p_before_calling(heygen: HeyGenServer, photo: Path) -> None:
    with pytest.raises(InputError, match="720p, 1080p"):
        heygen_adapter(heygen).validate(req(photo, resolution=480))
    with pytest.raises(InputError, match="Captions"):
        heygen_adapter(heygen).validate(req(photo, captions="srt"))
    assert heygen.requests == []


# ------------------------------------------------------------------------------- Synthesia


def test_synthesia_uses_its_avatar_not_the_photo(photo: Path, tmp_path: Path) -> None:
    with SynthesiaServer() as server:
        config = SynthesiaSettings(
            api_key=server.api_key,
            base_url=server.url,
            avatar_id="anna_costume1_cameraA",
            poll_every_s=1,
        )
        adapter = SynthesiaProvider(config=config, clock=FakeClock())
        assert adapter.capabilities().uses_photo is False
        adapter.generate(req(photo), ctx(tmp_path))
        (scene,) = server.made()[0].body["input"]
        assert scene["avatar"] == "anna_costume1_cameraA" and scene["background"]
        assert scene["avatarSettings"]["style"] == "rectangular"
        assert server.made()[0].body["callbackId"] == "job-1"
        assert server.requests[0].headers["authorization"] == server.api_key  # no "Bearer"

        no_avatar = SynthesiaProvider(
            config=SynthesiaSettings(api_key=server.api_key, base_url=server.url),
            clock=FakeClock(),
        )
        with pytest.raises(ConfigError, match="avatar_id"):
            no_avatar.generate(req(photo), ctx(tmp_path / "2"))
        assert server.creates == 1


# ------------------------------------------------------------------------------------ Luma


@pytest.fixture
def luma() -> Iterator[LumaServer]:
    with LumaServer() as server:
        yield server


def luma_adapter(server: LumaServer) -> LumaProvider:
    config = LumaAISettings(api_key=server.api_key, base_url=server.url, poll_every_s=1)
    return LumaProvider(config=config, clock=FakeClock())


def test_luma_refuses_without_a_public_photo_url(
    luma: LumaServer, photo: Path, tmp_path: Path
) -> None:
    with pytest.raises(InputError) as info:
        luma_adapter(luma).generate(req(photo), ctx(tmp_path))
    assert "public web address" in info.value.user_message
    assert luma.creates == 0


def test_luma_lays_our_speech_over_its_silent_motion(
    luma: LumaServer, photo: Path, tmp_path: Path
) -> None:
    url = "https://cdn.example.com/jobs/1/photo.jpg?sig=abc"
    script = SCRIPT + " " + SCRIPT  # longer than the 2 s clip: the clip loops
    result = luma_adapter(luma).generate(req(photo, script=script), ctx(tmp_path, photo_url=url))
    with wave.open(str(tmp_path / "work" / "speech.wav"), "rb") as fh:  # what the adapter spoke
        spoken_s = fh.getnframes() / fh.getframerate()
    info = probe(result.video_path)
    assert info.audio_codec == "aac" and info.video_codec == "h264"
    assert spoken_s > 4.0  # longer than Luma's 2 s clip, which was looped to fit
    assert info.duration_s == pytest.approx(spoken_s, abs=0.25)
    assert result.notes == (NOTE_NO_LIPSYNC,)
    body = luma.made()[0].body
    assert body["keyframes"]["frame0"] == {"type": "image", "url": url}
    assert body["model"] == "ray-2" and body["duration"] == "9s"
    assert luma.requests[0].headers["authorization"] == f"Bearer {luma.api_key}"
    assert {v.id for v in luma_adapter(luma).voices("en")} == {
        v.id for v in speech.list_voices("en")
    }


# ---------------------------------------------------------------------------- HTTP layer


def test_a_post_is_not_blindly_repeated_but_a_refused_connection_is(
    heygen: HeyGenServer,
) -> None:
    clock = FakeClock()

    def translate(reply: VendorReply) -> ProviderUnavailable:
        return ProviderUnavailable(detail=str(reply.status))

    client = VendorHttp(
        "heygen",
        "HeyGen",
        heygen.url,
        auth={"X-Api-Key": heygen.api_key},
        connect_s=1,
        read_s=2,
        translate=translate,
        clock=clock,
        retry=RetryPolicy(attempts=3, backoff_s=1),
    )
    heygen.fail("POST", "/v3/users/me", 503, {"error": {"code": "internal_error"}}, times=5)
    with pytest.raises(ProviderUnavailable):
        client.call("POST", "/v3/users/me")
    assert len(heygen.calls("POST", "/v3/users/me")) == 1  # it may have been made
    gone = VendorHttp(
        "heygen",
        "HeyGen",
        "http://127.0.0.1:9",
        auth={},
        connect_s=1,
        read_s=1,
        translate=translate,
        clock=clock,
    )
    with pytest.raises(ProviderUnavailable):
        gone.call("POST", "/v3/videos")
    assert clock.slept[-2:] == [1.0, 2.0]  # never sent, so tried three times
    deadline = Deadline.after(1.5, clock)
    with pytest.raises(ProviderUnavailable):
        gone.call("GET", "/v3/videos/x", deadline=deadline)
    assert clock.monotonic() <= deadline.at + 0.001  # no wait past the job's deadline
