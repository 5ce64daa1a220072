"""HeyGen, API v3 only (v1/v2 are retired on 2026-10-31): photo + text -> talking video.

Contract (reference/providers.md section 2): header ``X-Api-Key``; upload with ``POST
/v3/assets`` (multipart field ``file``) -> ``data.asset_id``; ``POST /v3/videos`` with
``type: "image"``, ``script`` + ``voice_id`` (required with a script; mutually exclusive with
audio), ``aspect_ratio`` and ``resolution``; ``GET /v3/videos/{id}`` goes pending ->
processing -> completed | failed (create answers "waiting"); ``video_url`` is presigned and is
regenerated on every GET. Voices: ``GET /v3/voices?language=<English name>``; key check:
``GET /v3/users/me``. Errors: ``{"error": {"code", "message", "param"?, "doc_url"}}``.

No documented way to list recent videos, so a create is sent with an ``Idempotency-Key``
(our client ref; v3 honours it on mutation routes, a repeat in flight answers 409
``request_in_progress``) and repeated with the same key after a lost answer.
"""

from __future__ import annotations

from typing import Any, ClassVar

from errors import (
    N_,
    ProviderAuthError,
    ProviderError,
    ProviderOutOfCredit,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.base import Capabilities, GenerationRequest, JobContext, Voice
from providers.cloud import (
    AVATAR_VENDOR_LANGUAGES,
    CloudProvider,
    RemoteStatus,
    State,
    translate_by_table,
)
from providers.http import Deadline, VendorReply
from providers.local.languages import LANGUAGES

MAX_SCRIPT_CHARS = 5000
RESOLUTION_NAMES = {720: "720p", 1080: "1080p"}
SPEED_RANGE = (0.5, 1.5)  # voice_settings.speed

# Documented v3 error codes (developers.heygen.com/docs/error-codes; the official CLI).
ERROR_CODES: dict[str, type[ProviderError]] = {
    "unauthorized": ProviderAuthError,
    "forbidden": ProviderAuthError,
    "resource_access_denied": ProviderAuthError,
    "ai_vendor_access_restricted": ProviderAuthError,
    "invalid_parameter": ProviderRejected,
    "validation_error": ProviderRejected,
    "insufficient_credit": ProviderOutOfCredit,
    "not_found": ProviderUnavailable,
    "resource_not_found": ProviderUnavailable,
    "video_not_found": ProviderUnavailable,
    "avatar_not_found": ProviderRejected,
    "voice_not_found": ProviderRejected,
    "voice_not_usable": ProviderRejected,
    "asset_not_available": ProviderRejected,
    "conflict": ProviderRejected,
    "request_in_progress": ProviderUnavailable,  # an idempotent repeat while the first runs
    "payload_too_large": ProviderRejected,
    "rate_limit_exceeded": ProviderRateLimited,
    "quota_exceeded": ProviderRateLimited,
    "internal_error": ProviderUnavailable,
    "download_failed": ProviderUnavailable,
}
# failure_code of a failed render: input problems are the creator's; the rest is HeyGen's.
FAILURE_INTERNAL = frozenset({"internal_error", "download_failed"})


def _error_code(body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


class HeyGenProvider(CloudProvider):
    name = "heygen"
    label = "HeyGen"
    section = "heygen"
    STATES: ClassVar[dict[str, State]] = {
        "waiting": "queued",
        "pending": "queued",
        "processing": "running",
        "completed": "done",
        "failed": "failed",
    }

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"X-Api-Key": key}

    def capabilities(self) -> Capabilities:
        return Capabilities(
            languages=AVATAR_VENDOR_LANGUAGES,
            uses_photo=True,
            speaks=True,
            max_script_chars=MAX_SCRIPT_CHARS,
            resolutions=tuple(RESOLUTION_NAMES),
            needs_network=True,
            captions=False,
        )

    def translate(self, reply: VendorReply) -> ProviderError:
        return translate_by_table(self, reply, _error_code(reply.body), ERROR_CODES)

    def _data(self, reply: VendorReply) -> dict[str, Any]:
        body = self.http.json(reply)
        if isinstance(body, dict) and body.get("error"):  # an error inside a 2xx (legacy quirk)
            raise self.translate(VendorReply(400, body, reply.headers, reply.method, reply.path))
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict | list):
            raise self.translate(VendorReply(0, body, reply.headers, reply.method, reply.path))
        return data  # type: ignore[return-value]

    # ------------------------------------------------------------------------ voices

    def voices(self, language: str | None = None) -> list[Voice]:

        params: dict[str, Any] = {"type": "public", "limit": 100}
        if language is not None:
            params["language"] = (
                LANGUAGES[language].english_name if language in LANGUAGES else (language)
            )
        data = self.http.json(self.http.call("GET", "/v3/voices", params=params)).get("data")
        voices = []
        for item in data or []:
            gender = str(item.get("gender") or "").lower()
            voices.append(
                Voice(
                    id=str(item["voice_id"]),
                    name=str(item.get("name") or item["voice_id"]),
                    language=language or str(item.get("language") or ""),
                    gender=gender if gender in ("female", "male") else "neutral",
                    engine="heygen",
                    natural=True,
                )
            )
        return voices

    def choose_voice(self, request: GenerationRequest, deadline: Deadline) -> str:
        if request.voice:
            return request.voice
        voices = self.voices(request.language)
        if not voices:
            raise ProviderRejected(
                N_("{provider} has no voice for this language."),
                params={"provider": self.label},
                provider=self.name,
            )
        return voices[0].id

    def check(self) -> str:
        data = self._data(self.http.call("GET", "/v3/users/me"))
        return f"ok ({data.get('billing_type', 'account')})" if isinstance(data, dict) else "ok"

    # -------------------------------------------------------------------------- job

    def create(
        self, request: GenerationRequest, voice: str, ctx: JobContext, deadline: Deadline
    ) -> str:
        ctx.progress("queued", 3.0)
        suffix = request.photo_path.suffix.lower()
        mime = "image/png" if suffix == ".png" else "image/jpeg"
        with request.photo_path.open("rb") as fh:
            uploaded = self._data(
                self.http.call(
                    "POST",
                    "/v3/assets",
                    files={"file": (f"photo{suffix or '.jpg'}", fh, mime)},
                    deadline=deadline,
                    cancel=ctx.cancel,
                )
            )
        body: dict[str, Any] = {
            "type": "image",
            "image": {"type": "asset_id", "asset_id": uploaded["asset_id"]},
            "script": request.script,
            "voice_id": voice,
            "aspect_ratio": request.aspect,
            "resolution": RESOLUTION_NAMES[request.resolution],
            "title": "TalkingPhoto",
            "callback_id": ctx.client_ref,
        }
        if request.speed != 1.0:
            low, high = SPEED_RANGE
            body["voice_settings"] = {"speed": min(high, max(low, request.speed))}
        reply = self.http.call(
            "POST",
            "/v3/videos",
            json=body,
            headers={"Idempotency-Key": f"talkingphoto-{ctx.client_ref}"},
            deadline=deadline,
            cancel=ctx.cancel,
            idempotent=False,
        )
        return str(self._data(reply)["video_id"])

    def status(self, remote_id: str, deadline: Deadline, ctx: JobContext) -> RemoteStatus:
        data = self._data(
            self.http.call("GET", f"/v3/videos/{remote_id}", deadline=deadline, cancel=ctx.cancel)
        )
        raw = data.get("status")
        state = self.state_of(raw, remote_id)
        if state != "failed":
            return RemoteStatus(state, raw, result_url=data.get("video_url"))
        code = data.get("failure_code")
        cls = ProviderUnavailable if code in FAILURE_INTERNAL else ProviderRejected
        return RemoteStatus(
            "failed", raw, error=self.vendor_failure(cls, data.get("failure_message"), code)
        )
