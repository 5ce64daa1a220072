"""Fake HeyGen API v3 (reference/providers.md section 2): X-Api-Key, /v3/assets, /v3/videos."""

from __future__ import annotations

import re
import uuid
from typing import Any, ClassVar

from tests.fakes.vendor_server import Request, Response, Route, VendorServer, is_invalid_json

IMAGE_VIDEO_FIELDS = {
    "type",
    "image",
    "script",
    "voice_id",
    "audio_url",
    "audio_asset_id",
    "title",
    "aspect_ratio",
    "resolution",
    "fit",
    "expressiveness",
    "motion_prompt",
    "remove_background",
    "output_format",
    "background",
    "caption",
    "voice_settings",
    "callback_url",
    "callback_id",
    "watermark",
}
ASPECTS = {"16:9", "9:16", "4:5", "5:4", "1:1", "auto"}
RESOLUTIONS = {"4k", "1080p", "720p"}
ASSET_TYPES = {"image/png", "image/jpeg", "video/mp4", "video/webm", "audio/mpeg", "audio/wav"}
VOICES = [
    {
        "voice_id": "f38a635bee7a4d1f9b0a654a31d050d2",
        "name": "Chill Brian",
        "language": "English",
        "gender": "male",
        "preview_audio_url": "https://example.invalid/p.mp3",
        "support_pause": True,
        "support_locale": False,
        "type": "public",
    },
    {
        "voice_id": "1bd001e7e50f421d891986aad5158bc8",
        "name": "Olivia",
        "language": "English",
        "gender": "female",
        "preview_audio_url": "https://example.invalid/o.mp3",
        "support_pause": True,
        "support_locale": False,
        "type": "public",
    },
    {
        "voice_id": "9f8ff4eb2f1a4ff8a5ba6e1d1d4a2a77",
        "name": "Aarav",
        "language": "Hindi",
        "gender": "male",
        "preview_audio_url": "https://example.invalid/a.mp3",
        "support_pause": True,
        "support_locale": True,
        "type": "public",
    },
]


class HeyGenServer(VendorServer):
    name = "heygen"
    RUNNING: ClassVar[tuple[str, ...]] = ("pending", "processing")
    DONE = "completed"
    FAILED = "failed"
    REJECTED = "failed"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.assets: dict[str, bytes] = {}
        self.idempotency: dict[str, str] = {}
        self.failure_code = "face_not_detected"

    def authorized(self, req: Request) -> bool:
        return req.headers.get("x-api-key") == self.api_key

    def unauthorized(self) -> Response:
        return self.error(401, "unauthorized", "Invalid or missing API key.")

    def error(self, status: int, code: str, message: str, **extra: Any) -> Response:
        error = {
            "code": code,
            "message": message,
            "doc_url": f"https://developers.heygen.com/docs/error-codes#{code}",
            **extra,
        }
        return Response(status, {"error": error})

    def routes(self) -> list[Route]:
        return [
            ("POST", "/v3/assets", self.upload),
            ("POST", "/v3/videos", self.create),
            ("GET", r"/v3/videos/([\w-]+)", self.get_video),
            ("GET", "/v3/voices", self.voices),
            ("GET", "/v3/users/me", self.me),
        ]

    def upload(self, req: Request, _m: re.Match[str]) -> Response:
        if "file" not in req.form:
            return self.error(400, "invalid_parameter", "file is required", param="file")
        _filename, mime, data = req.form["file"]
        if mime not in ASSET_TYPES:
            return self.error(400, "invalid_parameter", "unsupported file type", param="file")
        if len(data) > 32 * 1024 * 1024:
            return self.error(413, "payload_too_large", "Max 32 MB.")
        asset_id = uuid.uuid4().hex
        self.assets[asset_id] = data
        return Response(
            200,
            {
                "data": {
                    "asset_id": asset_id,
                    "url": f"{self.origin}/assets/{asset_id}",
                    "mime_type": mime,
                    "size_bytes": len(data),
                }
            },
        )

    def _invalid(self, message: str, param: str) -> Response:
        return self.error(400, "invalid_parameter", message, param=param)

    def create(self, req: Request, _m: re.Match[str]) -> Response:
        body = req.json
        if is_invalid_json(body) or not isinstance(body, dict):
            return self.error(400, "invalid_parameter", "body must be JSON")
        key = req.headers.get("idempotency-key")
        if key and key in self.idempotency:  # the same create again: the same video
            return Response(
                200,
                {
                    "data": {
                        "video_id": self.idempotency[key],
                        "status": "waiting",
                        "output_format": "mp4",
                    }
                },
            )
        if body.get("type") != "image":
            return self._invalid("this fake supports type 'image' only", "type")
        unknown = set(body) - IMAGE_VIDEO_FIELDS
        if unknown:
            return self._invalid(f"unknown field {sorted(unknown)[0]}", sorted(unknown)[0])
        problem = self._image_problem(body.get("image"))
        if problem:
            return problem
        has_script = body.get("script") is not None
        has_audio = body.get("audio_url") is not None or body.get("audio_asset_id") is not None
        if has_script == has_audio:
            return self._invalid("provide exactly one of script or audio", "script")
        if has_script:
            script = body["script"]
            if not isinstance(script, str) or not script.strip() or len(script) > 5000:
                return self._invalid("script must be 1-5000 characters", "script")
            if not body.get("voice_id"):
                return self._invalid("voice_id is required when script is provided", "voice_id")
            if body["voice_id"] not in {v["voice_id"] for v in VOICES}:
                return self.error(404, "voice_not_found", "Voice not found.")
        if body.get("aspect_ratio", "16:9") not in ASPECTS:
            return self._invalid("invalid aspect_ratio", "aspect_ratio")
        if body.get("resolution") is not None and body["resolution"] not in RESOLUTIONS:
            return self._invalid("invalid resolution", "resolution")
        speed = (body.get("voice_settings") or {}).get("speed", 1)
        if not 0.5 <= float(speed) <= 1.5:
            return self._invalid("speed must be 0.5-1.5", "voice_settings.speed")
        job = self.new_job(body, body.get("callback_id"), job_id=uuid.uuid4().hex)
        if key:
            self.idempotency[key] = job.id
        return Response(
            200, {"data": {"video_id": job.id, "status": "waiting", "output_format": "mp4"}}
        )

    def _image_problem(self, image: Any) -> Response | None:
        if not isinstance(image, dict):
            return self._invalid("image is required", "image")
        kind = image.get("type")
        if kind == "asset_id":
            if image.get("asset_id") not in self.assets:
                return self.error(404, "asset_not_available", "Asset not found.")
            return None
        if kind == "url":
            return (
                None
                if str(image.get("url", "")).startswith("https://")
                else (self._invalid("image url must be public https", "image.url"))
            )
        if kind == "base64":
            return (
                None
                if image.get("media_type") and image.get("data")
                else (self._invalid("media_type and data are required", "image"))
            )
        return self._invalid("image.type must be url, asset_id or base64", "image.type")

    def get_video(self, req: Request, m: re.Match[str]) -> Response:
        job = self.jobs.get(m[1])
        if job is None:
            return self.error(404, "video_not_found", "Video not found.")
        status = self.advance(job)
        data: dict[str, Any] = {
            "id": job.id,
            "status": status,
            "title": job.body.get("title"),
            "created_at": 1711288320,
        }
        if status == "completed":
            data.update(
                video_url=self.link(job),
                duration=2.0,
                completed_at=1711288422,
                thumbnail_url=f"{self.origin}/files/none/thumb.jpg",
            )
        if status == "failed":
            data.update(failure_code=self.failure_code, failure_message=self.failure_message)
        return Response(200, {"data": data})

    def voices(self, req: Request, _m: re.Match[str]) -> Response:
        language = req.arg("language")
        found = [v for v in VOICES if language in (None, v["language"])]
        return Response(200, {"data": found, "has_more": False, "next_token": None})

    def me(self, req: Request, _m: re.Match[str]) -> Response:
        return Response(
            200,
            {
                "data": {
                    "username": "tp",
                    "email": "ops@example.com",
                    "billing_type": "wallet",
                    "wallet": {"currency": "credits", "remaining_balance": 120},
                }
            },
        )
