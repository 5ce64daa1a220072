"""Fake Synthesia v2 (reference/providers.md section 3): raw-key auth (403), avatar videos."""

from __future__ import annotations

import re
import uuid
from typing import Any, ClassVar

from tests.fakes.vendor_server import Request, Response, Route, VendorServer, is_invalid_json

VIDEO_FIELDS = {
    "input",
    "test",
    "title",
    "description",
    "visibility",
    "aspectRatio",
    "callbackId",
    "folderId",
    "ctaSettings",
    "soundtrack",
    "soundSettings",
}
SCENE_FIELDS = {
    "avatar",
    "background",
    "scriptText",
    "scriptAudio",
    "scriptLanguage",
    "avatarSettings",
    "backgroundSettings",
    "soundSettings",
    "transition",
}
AVATAR_SETTINGS = {"voice", "horizontalAlign", "scale", "style", "backgroundColor", "seamless"}
STYLES = {"circular", "rectangular", "voiceOnly"}
ASPECTS = {"16:9", "9:16", "1:1", "4:5", "5:4"}


class SynthesiaServer(VendorServer):
    name = "synthesia"
    RUNNING: ClassVar[tuple[str, ...]] = ("in_progress", "in_progress")
    DONE = "complete"
    FAILED = "error"
    REJECTED = "rejected"

    def authorized(self, req: Request) -> bool:
        return req.headers.get("authorization") == self.api_key  # no scheme word

    def unauthorized(self) -> Response:
        return Response(403, {"error": "Forbidden - Wrong API key."})

    def error(self, status: int, code: str, message: str, **extra: Any) -> Response:
        return Response(status, {"error": message, **extra})

    def rate_limited(self, reset_s: int) -> None:
        """The next create is refused with Synthesia's documented 429 headers."""
        self.fail(
            "POST",
            "/v2/videos",
            429,
            {"error": "Too Many Requests"},
            headers={"RateLimit-Limit": "60", "RateLimit-Reset": str(reset_s)},
        )

    def routes(self) -> list[Route]:
        return [
            ("POST", "/v2/videos", self.create),
            ("GET", "/v2/videos", self.list_videos),
            ("GET", r"/v2/videos/([\w-]+)", self.get_video),
        ]

    def create(self, req: Request, _m: re.Match[str]) -> Response:
        body = req.json
        if is_invalid_json(body) or not isinstance(body, dict):
            return self.error(400, "", "Invalid JSON")
        if set(body) - VIDEO_FIELDS:
            return self.error(400, "", "Unknown field", context=sorted(set(body) - VIDEO_FIELDS)[0])
        scenes = body.get("input")
        if not isinstance(scenes, list) or not 1 <= len(scenes) <= 25:
            return self.error(400, "", "input must have 1-25 scenes")
        for scene in scenes:
            if not isinstance(scene, dict) or set(scene) - SCENE_FIELDS:
                return self.error(400, "", "Unknown scene field")
            if not scene.get("avatar") or not scene.get("background"):
                return self.error(400, "", "avatar and background are required")
            if not (scene.get("scriptText") or scene.get("scriptAudio")):
                return self.error(400, "", "scriptText or scriptAudio is required")
            settings = scene.get("avatarSettings")
            if settings is not None and (
                set(settings) - AVATAR_SETTINGS or settings.get("style") not in STYLES
            ):
                return self.error(400, "", "avatarSettings.style is required")
        if body.get("aspectRatio", "16:9") not in ASPECTS:
            return self.error(400, "", "invalid aspectRatio")
        job = self.new_job(body, body.get("callbackId"), job_id=str(uuid.uuid4()))
        return Response(200, self._video(job, "in_progress"))

    def _video(self, job: Any, status: str) -> dict[str, Any]:
        video: dict[str, Any] = {
            "id": job.id,
            "title": job.body.get("title", ""),
            "visibility": "private",
            "status": status,
            "createdAt": 1602512112,
            "lastUpdatedAt": 1602512112,
        }
        if job.client_ref is not None:
            video["callbackId"] = job.client_ref
        return video

    def get_video(self, req: Request, m: re.Match[str]) -> Response:
        job = self.jobs.get(m[1])
        if job is None:
            return self.error(404, "", "Video ID was not found.")
        status = self.advance(job)
        video = self._video(job, status)
        if status == "complete":
            video.update(download=self.link(job), duration="0:00:02.000000")
        return Response(200, video)

    def list_videos(self, req: Request, _m: re.Match[str]) -> Response:
        limit = int(req.arg("limit", "20") or 20)
        if not 1 <= limit <= 100:
            return self.error(400, "", "limit must be 1-100")
        videos = [self._video(job, "in_progress") for job in reversed(self.made())][:limit]
        return Response(200, {"videos": videos, "nextOffset": len(videos)})
