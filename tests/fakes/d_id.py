"""Fake D-ID (reference/providers.md section 1): Basic auth, /images, strict /talks, polling."""

from __future__ import annotations

import re
import uuid
from typing import Any, ClassVar

from tests.fakes.vendor_server import Request, Response, Route, VendorServer, is_invalid_json

TALK_FIELDS = {"script", "source_url", "config", "user_data", "name", "webhook", "result_url"}
TEXT_SCRIPT_FIELDS = {"type", "input", "provider", "ssml", "subtitles"}
AUDIO_SCRIPT_FIELDS = {"type", "audio_url", "subtitles"}
CONFIG_FIELDS = {"logo", "stitch", "result_format", "fluent", "pad_audio", "driver_expressions"}
SOURCE_URL = re.compile(r"(https|s3):.*\.(?:jpg|jpeg|png|JPG|JPEG|PNG)")
AUDIO_URL = re.compile(r"(https|s3)://.*\.(m4a|flac|mp3|mp4|wav)")
FILENAME = re.compile(r"[A-Za-z0-9._-]{1,50}")
VOICES = [
    {
        "id": "en-US-JennyNeural",
        "name": "Jenny",
        "gender": "female",
        "access": "public",
        "provider": "microsoft",
        "styles": [],
        "languages": [{"language": "English (United States)", "locale": "en-US"}],
    },
    {
        "id": "hi-IN-SwaraNeural",
        "name": "Swara",
        "gender": "female",
        "access": "public",
        "provider": "microsoft",
        "styles": [],
        "languages": [{"language": "Hindi (India)", "locale": "hi-IN"}],
    },
    {
        "id": "hi-IN-MadhurNeural",
        "name": "Madhur",
        "gender": "male",
        "access": "public",
        "provider": "microsoft",
        "styles": [],
        "languages": [{"language": "Hindi (India)", "locale": "hi-IN"}],
    },
]


class DIdServer(VendorServer):
    name = "d_id"
    RUNNING: ClassVar[tuple[str, ...]] = ("created", "started")
    DONE = "done"
    FAILED = "error"
    REJECTED = "rejected"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.images: dict[str, bytes] = {}
        self.failure_kind = "FaceError"

    def authorized(self, req: Request) -> bool:
        return req.headers.get("authorization") == f"Basic {self.api_key}"

    def unauthorized(self) -> Response:
        return self.error(401, "AuthorizationError", "user unauthenticated")

    def error(self, status: int, code: str, message: str, **extra: Any) -> Response:
        return Response(status, {"kind": code, "description": message, **extra})

    def routes(self) -> list[Route]:
        return [
            ("POST", "/images", self.upload),
            ("POST", "/talks", self.create),
            ("GET", "/talks", self.list_talks),
            ("GET", r"/talks/([\w-]+)", self.get_talk),
            ("GET", "/tts/voices", self.voices),
            ("GET", "/credits", self.credits),
        ]

    # ------------------------------------------------------------------ routes

    def upload(self, req: Request, _m: re.Match[str]) -> Response:
        if "image" not in req.form:
            return self.error(400, "BadRequestError", "invalid image")
        filename, mime, data = req.form["image"]
        if mime not in ("image/jpeg", "image/png"):
            return self.error(
                415,
                "UnsupportedMimeTypeError",
                "The provided mime type is not supported",
                details={"received": mime, "supported": ["image/jpeg", "image/png"]},
            )
        if filename is not None and not FILENAME.fullmatch(filename):
            return self.error(400, "BadRequestError", "invalid filename")
        image_id = f"img_{uuid.uuid4().hex[:12]}"
        self.images[image_id] = data
        name = filename or "image.jpg"
        return Response(
            201, {"id": image_id, "url": f"s3://d-id-images-prod/user/{image_id}/{name}"}
        )

    def _invalid(self, details: dict[str, Any]) -> Response:
        return self.error(400, "ValidationError", "validation failed", details=details)

    def create(self, req: Request, _m: re.Match[str]) -> Response:
        body = req.json
        if is_invalid_json(body) or not isinstance(body, dict):
            return self.error(400, "BadRequestError", "invalid json")
        unknown = set(body) - TALK_FIELDS
        if unknown:  # CreateTalkRequest: additionalProperties false
            return self._invalid({k: {"message": "not allowed"} for k in sorted(unknown)})
        source = body.get("source_url")
        if source is not None and not (isinstance(source, str) and SOURCE_URL.fullmatch(source)):
            return self.error(400, "BadRequestError", "invalid actor url")
        problem = self._script_problem(body.get("script"))
        if problem:
            return self._invalid({"script": {"message": problem}})
        config = body.get("config", {})
        if not isinstance(config, dict) or set(config) - CONFIG_FIELDS:
            return self._invalid({"config": {"message": "not allowed"}})
        webhook = body.get("webhook")
        if webhook is not None and not str(webhook).startswith("https://"):
            return self._invalid({"webhook": {"message": "must be https"}})
        user_data = body.get("user_data")
        if user_data is not None and not (
            isinstance(user_data, str) and 1 <= len(user_data) <= 1000
        ):
            return self._invalid({"user_data": {"message": "1-1000 characters"}})
        job = self.new_job(body, user_data, job_id=f"tlk_{uuid.uuid4().hex[:16]}")
        return Response(
            201,
            {
                "id": job.id,
                "object": "talk",
                "created_by": "user-1",
                "created_at": "2026-11-25T10:30:00.000Z",
                "status": "created",
            },
        )

    @staticmethod
    def _script_problem(script: Any) -> str | None:
        if not isinstance(script, dict):
            return "script is required"
        if script.get("type") == "text":
            if set(script) - TEXT_SCRIPT_FIELDS:
                return "unknown script field"
            text = script.get("input")
            if not isinstance(text, str) or not 3 <= len(text) <= 40_000:
                return "input must be 3-40000 characters"
            provider = script.get("provider")
            if provider is not None:
                if not isinstance(provider, dict) or provider.get("type") not in (
                    "microsoft",
                    "elevenlabs",
                    "amazon",
                    "google",
                    "azure-openai",
                ):
                    return "provider should be one of the following"
                if provider["type"] in ("microsoft", "amazon") and not provider.get("voice_id"):
                    return "voice_id is required"
            return None
        if script.get("type") == "audio":
            if set(script) - AUDIO_SCRIPT_FIELDS:
                return "unknown script field"
            if not AUDIO_URL.fullmatch(str(script.get("audio_url", ""))):
                return "audio_url is invalid"
            return None
        return "script type must be text or audio"

    def _talk(self, job: Any, status: str) -> dict[str, Any]:
        talk: dict[str, Any] = {
            "id": job.id,
            "user_id": "user-1",
            "created_by": "user-1",
            "source_url": job.body.get("source_url", ""),
            "created_at": "2026-11-25T10:30:00.000Z",
            "modified_at": "2026-11-25T10:31:00.000Z",
            "status": status,
        }
        if job.client_ref is not None:
            talk["user_data"] = job.client_ref
        return talk

    def get_talk(self, req: Request, m: re.Match[str]) -> Response:
        job = self.jobs.get(m[1])
        if job is None:
            return self.error(404, "NotFoundError", "not found")
        status = self.advance(job)
        talk = self._talk(job, status)
        if status == "started":
            talk["pending_url"] = f"s3://d-id-talks-prod/user/{job.id}/pending.mp4"
        if status == "done":
            talk["result_url"] = self.link(job)
            talk["duration"] = 2
        if status == "error":
            talk["error"] = {"kind": self.failure_kind, "description": self.failure_message}
        return Response(200, talk)

    def list_talks(self, req: Request, _m: re.Match[str]) -> Response:
        limit = int(req.arg("limit", "100") or 100)
        talks = [self._talk(job, "created") for job in reversed(self.made())][:limit]
        return Response(200, {"talks": talks})

    def voices(self, req: Request, _m: re.Match[str]) -> Response:
        provider = req.arg("provider")
        return Response(200, [v for v in VOICES if provider in (None, v["provider"])])

    def credits(self, req: Request, _m: re.Match[str]) -> Response:
        return Response(
            200,
            {
                "credits": [{"owner_id": "user-1", "remaining": 40, "total": 40}],
                "remaining": 40,
                "total": 40,
            },
        )
