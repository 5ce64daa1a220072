"""The offline ``local`` provider: eSpeak NG / Piper speech, Haar-cascade face, 2-D warp, x264.

Everything runs on the CPU with what ``pip install -r requirements.txt`` brings: no key, no
network, no model download. See :mod:`providers.local.pipeline` for the stages and
:mod:`providers.local.face` for why the face detector is OpenCV's Haar cascades.
"""

from __future__ import annotations

from typing import Any

from observability import releasable
from providers.base import (
    Capabilities,
    GenerationRequest,
    GenerationResult,
    JobContext,
    Provider,
    Voice,
)

# Submodules are imported inside the methods: listing voices or capabilities (page path)
# should not pay for OpenCV and the renderer, and submodules import this package first.
MAX_SCRIPT_CHARS = 5000


class LocalProvider(Provider):
    """Photo + script -> talking MP4 on this machine. Always available; free."""

    name = "local"

    @classmethod
    def from_settings(cls, settings: Any) -> LocalProvider:
        return cls(min_face_px=settings.limits.min_face_px)

    def __init__(self, *, min_face_px: int = 120, max_script_chars: int = MAX_SCRIPT_CHARS) -> None:
        self.min_face_px = min_face_px
        self.max_script_chars = max_script_chars

    def capabilities(self) -> Capabilities:
        from providers.local.languages import LANGUAGES

        return Capabilities(
            languages=frozenset(LANGUAGES),
            uses_photo=True,
            speaks=True,
            max_script_chars=self.max_script_chars,
        )

    def voices(self, language: str | None = None) -> list[Voice]:
        from providers.local import speech

        return speech.list_voices(language)

    def generate(self, request: GenerationRequest, ctx: JobContext) -> GenerationResult:
        from providers.local.pipeline import render

        self.validate(request)
        # The voice, nets and fonts stay loaded while this runs (observability.releasable).
        with releasable.in_use():
            out = render(request, ctx, min_face_px=self.min_face_px)
        return GenerationResult(
            video_path=out.video,
            duration_s=out.duration_s,
            provider=self.name,
            voice=out.voice,
            width=out.width,
            height=out.height,
            thumbnail_path=out.thumbnail,
            srt_path=out.srt,
            vtt_path=out.vtt,
            timings=out.timings,
            notes=out.notes,
        )
