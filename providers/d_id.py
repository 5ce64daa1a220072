"""D-ID: photo + text -> talking video (``POST /talks``, poll, download).

Contract (reference/providers.md section 1): ``Authorization: Basic <key as given>``; upload
the photo with ``POST /images`` (multipart field ``image``) unless storage gives a public URL
ending in .jpg/.jpeg/.png (``source_url`` must); ``POST /talks`` takes only the fields its
schema allows (``additionalProperties: false``); ``GET /talks/{id}`` goes created -> started
-> done | error | rejected; ``result_url`` is presigned and expires. Voices: ``GET
/tts/voices``; key check: ``GET /credits``. Errors: ``{"kind", "description"}``.

A lost answer to ``POST /talks`` is recovered by listing recent talks and matching our
``user_data`` (echoed back by D-ID), so a timeout never creates a second paid talk.
"""

from __future__ import annotations

from typing import ClassVar

from errors import (
    ProviderAuthError,
    ProviderError,
    ProviderOutOfCredit,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.base import RESOLUTIONS, Capabilities, GenerationRequest, JobContext, Voice
from providers.cloud import (
    MICROSOFT_VOICES,
    CloudProvider,
    RemoteStatus,
    State,
    translate_by_table,
)
from providers.http import Deadline, VendorReply

MAX_SCRIPT_CHARS = 40_000  # TextScript input maxLength (10K without SSML tags)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
FIND_RECENT = 50

# Documented ``kind`` values (spec responses and the asynchronous-errors page).
ERROR_KINDS: dict[str, type[ProviderError]] = {
    "BadRequestError": ProviderRejected,
    "ValidationError": ProviderRejected,
    "InvalidFileSizeError": ProviderRejected,
    "InvalidImageResolutionError": ProviderRejected,
    "UnsupportedMimeTypeError": ProviderRejected,
    "ImageModerationError": ProviderRejected,
    "CelebrityRecognizedError": ProviderRejected,
    "TextModerationError": ProviderRejected,
    "AudioModerationError": ProviderRejected,
    "AuthorizationError": ProviderAuthError,
    "PermissionError": ProviderAuthError,
    "InsufficientCreditsError": ProviderOutOfCredit,
    "NotFoundError": ProviderUnavailable,
    "TooManyRequests": ProviderRateLimited,
    # Failures of a talk after it was accepted (GET /talks/{id} -> "error").
    "FaceError": ProviderRejected,
    "SourceError": ProviderRejected,
    "LogoError": ProviderRejected,
    "DriverError": ProviderUnavailable,
    "UnknownError": ProviderUnavailable,
}


class DIdProvider(CloudProvider):
    name = "d_id"
    label = "D-ID"
    section = "d_id"
    STATES: ClassVar[dict[str, State]] = {
        "created": "queued",
        "started": "running",
        "done": "done",
        "error": "failed",
        "rejected": "failed",
    }

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Basic {key}"}

    def capabilities(self) -> Capabilities:
        return Capabilities(
            languages=frozenset(MICROSOFT_VOICES),
            uses_photo=True,
            speaks=True,
            max_script_chars=MAX_SCRIPT_CHARS,
            resolutions=RESOLUTIONS,
            needs_network=True,
            captions=False,
        )

    def translate(self, reply: VendorReply) -> ProviderError:
        body = reply.body if isinstance(reply.body, dict) else {}
        kind = body.get("kind")
        return translate_by_table(self, reply, kind if isinstance(kind, str) else None, ERROR_KINDS)

    # ------------------------------------------------------------------------ voices

    def voices(self, language: str | None = None) -> list[Voice]:
        reply = self.http.call("GET", "/tts/voices", params={"provider": "microsoft"})
        found: list[Voice] = []
        for item in self.http.json(reply) or []:
            for lang in item.get("languages") or []:
                code = str(lang.get("locale") or "").split("-")[0].lower()
                if code and (language is None or code == language):
                    gender = str(item.get("gender") or "").lower()
                    found.append(
                        Voice(
                            id=str(item["id"]),
                            name=str(item.get("name") or item["id"]),
                            language=code,
                            gender=gender if gender in ("female", "male") else "neutral",
                            engine="d_id",
                            natural=True,
                        )
                    )
                    break
        return found

    def choose_voice(self, request: GenerationRequest, deadline: Deadline) -> str:
        return request.voice or MICROSOFT_VOICES[request.language]

    def check(self) -> str:
        reply = self.http.call("GET", "/credits", accept=(404,))
        if reply.status == 404:  # "no credits found for user": the key itself was accepted
            return "ok (no credits left)"
        remaining = (reply.body or {}).get("remaining") if isinstance(reply.body, dict) else None
        return f"ok ({remaining} credits left)" if remaining is not None else "ok"

    # -------------------------------------------------------------------------- job

    def _source_url(self, request: GenerationRequest, ctx: JobContext, deadline: Deadline) -> str:
        url = ctx.photo_url
        if url and url.lower().startswith("https://") and url.lower().endswith(IMAGE_SUFFIXES):
            return url
        suffix = request.photo_path.suffix.lower()
        mime = "image/png" if suffix == ".png" else "image/jpeg"
        with request.photo_path.open("rb") as fh:
            reply = self.http.call(
                "POST",
                "/images",
                files={"image": (f"photo{'.png' if suffix == '.png' else '.jpg'}", fh, mime)},
                deadline=deadline,
                cancel=ctx.cancel,
            )
        return str(self.http.json(reply)["url"])

    def create(
        self, request: GenerationRequest, voice: str, ctx: JobContext, deadline: Deadline
    ) -> str:
        ctx.progress("queued", 3.0)
        body = {
            "source_url": self._source_url(request, ctx, deadline),
            "script": {
                "type": "text",
                "input": request.script,
                "provider": {"type": "microsoft", "voice_id": voice},
            },
            "user_data": ctx.client_ref,
        }
        reply = self.http.call(
            "POST", "/talks", json=body, deadline=deadline, cancel=ctx.cancel, idempotent=False
        )
        return str(self.http.json(reply)["id"])

    def find(self, client_ref: str, deadline: Deadline, ctx: JobContext) -> str | None:
        reply = self.http.call(
            "GET", "/talks", params={"limit": FIND_RECENT}, deadline=deadline, cancel=ctx.cancel
        )
        body = self.http.json(reply)
        talks = body.get("talks", []) if isinstance(body, dict) else body
        for talk in talks or []:
            if isinstance(talk, dict) and talk.get("user_data") == client_ref:
                return str(talk["id"])
        return None

    def status(self, remote_id: str, deadline: Deadline, ctx: JobContext) -> RemoteStatus:
        reply = self.http.call("GET", f"/talks/{remote_id}", deadline=deadline, cancel=ctx.cancel)
        body = self.http.json(reply)
        raw = body.get("status")
        state = self.state_of(raw, remote_id)
        if state != "failed":
            return RemoteStatus(state, raw, result_url=body.get("result_url"))
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        kind = error.get("kind")
        if raw == "rejected":  # content moderation
            cls: type[ProviderError] = ProviderRejected
        else:
            cls = (
                ERROR_KINDS.get(kind, ProviderUnavailable)
                if isinstance(kind, str)
                else (ProviderUnavailable)
            )
        return RemoteStatus(
            "failed", raw, error=self.vendor_failure(cls, error.get("description"), kind or raw)
        )
