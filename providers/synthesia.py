"""Synthesia: text -> video spoken by an avatar (stock, or one made in Synthesia's Studio).

It cannot animate an uploaded photo: its public API has no route that makes an avatar from
an image (reference/providers.md section 3.2), so ``uses_photo`` is False, the router never
picks it for a photo, and the create page says so when a creator chooses it. The avatar is
the operator's setting ``[synthesia] avatar_id``.

Contract: ``Authorization: <key>`` (no scheme word; a wrong key answers **403**); ``POST
/v2/videos`` (``input[]`` scenes need ``avatar`` and ``background``; ``avatarSettings.style``
is required when ``avatarSettings`` is sent); ``GET /v2/videos/{id}`` goes in_progress ->
complete | error | rejected (also ``approved``, ``deleted`` in the swagger enum); the
``download`` link is time-limited. Errors are ``{"error": "<text>"}`` with no code, so they
are told apart by status only. 429 carries ``RateLimit-Reset``. No voice-listing endpoint.
A lost create answer is recovered by ``GET /v2/videos`` and our ``callbackId``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from errors import (
    N_,
    ConfigError,
    ProviderError,
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

MAX_SCRIPT_CHARS = 5000  # no API limit is documented; 5 minutes of speech per scene
BACKGROUND = "off_white"
FIND_RECENT = 50

# Synthesia's error body has no code; every documented status maps by itself.
ERROR_CODES: dict[str, type[ProviderError]] = {}


class SynthesiaProvider(CloudProvider):
    name = "synthesia"
    label = "Synthesia"
    section = "synthesia"
    STATES: ClassVar[dict[str, State]] = {
        "in_progress": "running",
        "approved": "running",
        "complete": "done",
        "error": "failed",
        "rejected": "failed",
        "deleted": "failed",
    }

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"Authorization": key}

    def capabilities(self) -> Capabilities:
        return Capabilities(
            languages=AVATAR_VENDOR_LANGUAGES,
            uses_photo=False,
            speaks=True,
            max_script_chars=MAX_SCRIPT_CHARS,
            needs_network=True,
            captions=False,
        )

    def translate(self, reply: VendorReply) -> ProviderError:
        return translate_by_table(self, reply, None, ERROR_CODES)

    def voices(self, language: str | None = None) -> list[Voice]:
        return []  # no listing endpoint: the avatar's recommended voice speaks

    def check(self) -> str:
        self.http.call("GET", "/v2/videos", params={"limit": 1})
        return "ok"

    # -------------------------------------------------------------------------- job

    def create(
        self, request: GenerationRequest, voice: str, ctx: JobContext, deadline: Deadline
    ) -> str:
        avatar = getattr(self.config, "avatar_id", None)
        if not avatar:
            raise ConfigError(
                N_("{provider} needs an avatar: set [{section}] avatar_id."),
                params={"provider": self.label, "section": self.section},
            )
        settings: dict[str, Any] = {"style": "rectangular", "horizontalAlign": "center"}
        if voice:
            settings["voice"] = voice
        body = {
            "test": False,
            "title": "TalkingPhoto",
            "visibility": "private",
            "aspectRatio": request.aspect,
            "callbackId": ctx.client_ref,
            "input": [
                {
                    "scriptText": request.script,
                    "avatar": avatar,
                    "background": BACKGROUND,
                    "avatarSettings": settings,
                }
            ],
        }
        reply = self.http.call(
            "POST", "/v2/videos", json=body, deadline=deadline, cancel=ctx.cancel, idempotent=False
        )
        return str(self.http.json(reply)["id"])

    def find(self, client_ref: str, deadline: Deadline, ctx: JobContext) -> str | None:
        reply = self.http.call(
            "GET", "/v2/videos", params={"limit": FIND_RECENT}, deadline=deadline, cancel=ctx.cancel
        )
        for video in (self.http.json(reply) or {}).get("videos") or []:
            if isinstance(video, dict) and video.get("callbackId") == client_ref:
                return str(video["id"])
        return None

    def status(self, remote_id: str, deadline: Deadline, ctx: JobContext) -> RemoteStatus:
        reply = self.http.call(
            "GET", f"/v2/videos/{remote_id}", deadline=deadline, cancel=ctx.cancel
        )
        body = self.http.json(reply)
        raw = body.get("status")
        state = self.state_of(raw, remote_id)
        if state != "failed":
            return RemoteStatus(state, raw, result_url=body.get("download"))
        cls = ProviderRejected if raw == "rejected" else ProviderUnavailable
        reason = body.get("error") or body.get("context") or raw
        return RemoteStatus("failed", raw, error=self.vendor_failure(cls, reason, raw))
