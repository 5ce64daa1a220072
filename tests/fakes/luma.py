"""Fake Luma Dream Machine (reference/providers.md section 4): Bearer auth, keyframe video."""

from __future__ import annotations

import re
import uuid
from typing import Any, ClassVar

from tests.fakes.vendor_server import (
    Request,
    Response,
    Route,
    VendorServer,
    is_invalid_json,
    sample_mp4,
)

GENERATION_FIELDS = {
    "generation_type",
    "model",
    "prompt",
    "aspect_ratio",
    "loop",
    "keyframes",
    "resolution",
    "duration",
    "concepts",
    "callback_url",
}
MODELS = {"ray-1-6", "ray-2", "ray-flash-2"}
ASPECTS = {"1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"}


class LumaServer(VendorServer):
    name = "luma"
    base_path = "/dream-machine/v1"
    RUNNING: ClassVar[tuple[str, ...]] = ("queued", "dreaming")
    DONE = "completed"
    FAILED = "failed"
    REJECTED = "failed"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.video = sample_mp4(audio=False)  # Dream Machine clips are silent
        self.failure_message = "Frame moderation failed"

    def authorized(self, req: Request) -> bool:
        return req.headers.get("authorization") == f"Bearer {self.api_key}"

    def unauthorized(self) -> Response:
        return Response(401, {"detail": "Invalid API key is provided"})

    def error(self, status: int, code: str, message: str, **extra: Any) -> Response:
        return Response(status, {"detail": message})

    def routes(self) -> list[Route]:
        return [
            ("POST", "/generations/video", self.create),
            ("POST", "/generations", self.create),  # the older path, still accepted
            ("GET", "/generations", self.list_generations),
            ("GET", r"/generations/([\w-]+)", self.get_generation),
            ("DELETE", r"/generations/([\w-]+)", self.delete),
            ("GET", "/credits", self.credits),
        ]

    def create(self, req: Request, _m: re.Match[str]) -> Response:
        body = req.json
        if is_invalid_json(body) or not isinstance(body, dict):
            return self.error(400, "", "Unknown request type")
        if set(body) - GENERATION_FIELDS:
            return self.error(422, "", f"Extra inputs are not permitted: {sorted(body)[0]}")
        if body.get("model") not in MODELS:
            return self.error(422, "", "model is required")
        keyframes = body.get("keyframes") or {}
        image = keyframes.get("frame0") or {}
        prompt = body.get("prompt")
        if prompt is None and image.get("type") != "image":
            return self.error(400, "", "Prompt is required")
        if prompt is not None and len(prompt) < 3:
            return self.error(400, "", "Prompt is too short, minimum length is 3 characters")
        if prompt is not None and len(prompt) > 5000:
            return self.error(400, "", "Prompt is too long, maximum length is 5000 characters")
        if body.get("loop") and "frame1" in keyframes:
            return self.error(400, "", "Loop is not supported for end frame")
        if image and not str(image.get("url", "")).startswith(("https://", "http://")):
            return self.error(400, "", "No keyframes provided")
        if body.get("aspect_ratio", "16:9") not in ASPECTS:
            return self.error(422, "", "invalid aspect_ratio")
        job = self.new_job(body, None, job_id=str(uuid.uuid4()))
        return Response(201, self._generation(job, "queued"))

    def _generation(self, job: Any, state: str) -> dict[str, Any]:
        return {
            "id": job.id,
            "generation_type": "video",
            "state": state,
            "failure_reason": None,
            "created_at": "2026-11-25T12:00:00Z",
            "assets": {},
            "model": job.body.get("model"),
            "request": job.body,
        }

    def get_generation(self, req: Request, m: re.Match[str]) -> Response:
        job = self.jobs.get(m[1])
        if job is None or job.deleted:
            return self.error(404, "", "Generation not found")
        state = self.advance(job)
        generation = self._generation(job, state)
        if state == "completed":
            generation["assets"] = {"video": self.link(job)}
        if state == "failed":
            generation["failure_reason"] = self.failure_message
        return Response(200, generation)

    def delete(self, req: Request, m: re.Match[str]) -> Response:
        job = self.jobs.get(m[1])
        if job is None or job.deleted:
            return self.error(404, "", "Generation not found")
        job.deleted = True
        return Response(204)

    def list_generations(self, req: Request, _m: re.Match[str]) -> Response:
        limit = int(req.arg("limit", "10") or 10)
        items = [self._generation(j, "queued") for j in reversed(self.made())][:limit]
        return Response(
            200,
            {
                "has_more": False,
                "count": len(items),
                "limit": limit,
                "offset": 0,
                "generations": items,
            },
        )

    def credits(self, req: Request, _m: re.Match[str]) -> Response:
        return Response(200, {"credit_balance": 12345.0})

    def file_body(self, job: Any) -> bytes:
        return sample_mp4(audio=False)
