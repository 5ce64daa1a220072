"""The offline ``local`` provider: eSpeak NG / Piper speech, Haar-cascade face, 2-D warp, x264.

Everything runs on the CPU with what ``pip install -r requirements.txt`` brings: no key, no
network, no model download. See :mod:`providers.local.pipeline` for the stages and
:mod:`providers.local.face` for why the face detector is OpenCV's Haar cascades.
"""

from __future__ import annotations

import math

from errors import N_, InputError, ScriptError
from providers.base import (
    ASPECTS,
    CAPTION_MODES,
    RESOLUTIONS,
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
SPEED_RANGE = (0.5, 2.0)
PITCH_RANGE = (0.5, 1.5)


class LocalProvider(Provider):
    """Photo + script -> talking MP4 on this machine. Always available; free."""

    name = "local"

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

    def validate(self, request: GenerationRequest) -> None:
        """Raise an :class:`InputError` subclass naming the problem and the valid options.

        Cheap (no synthesis, no image decoding), so callers can check before queueing.
        """
        from providers.local.voices import resolve

        if request.resolution not in RESOLUTIONS:
            raise InputError(
                N_("Resolution {resolution}p is not offered. Choose one of: {choices}."),
                params={
                    "resolution": request.resolution,
                    "choices": ", ".join(f"{r}p" for r in RESOLUTIONS),
                },
            )
        if request.aspect not in ASPECTS:
            raise InputError(
                N_("Aspect {aspect} is not offered. Choose one of: {choices}."),
                params={"aspect": request.aspect, "choices": ", ".join(ASPECTS)},
            )
        if request.captions not in CAPTION_MODES:
            raise InputError(
                N_("Captions '{captions}' is not an option. Choose one of: {choices}."),
                params={"captions": request.captions, "choices": ", ".join(CAPTION_MODES)},
            )
        _check_range(
            N_("Head motion must be between {low:g} and {high:g}."), request.head_motion, (0.0, 1.0)
        )
        _check_range(N_("Speed must be between {low:g} and {high:g}."), request.speed, SPEED_RANGE)
        _check_range(N_("Pitch must be between {low:g} and {high:g}."), request.pitch, PITCH_RANGE)
        text = request.script.strip()
        if not text:
            raise ScriptError(N_("The script is empty."))
        if len(text) > self.max_script_chars:
            raise ScriptError(
                N_("The script is {n:,} characters; the limit is {limit:,}."),
                params={"n": len(text), "limit": self.max_script_chars},
            )
        resolve(request.language, request.voice)  # LanguageError / VoiceError list the options

    def generate(self, request: GenerationRequest, ctx: JobContext) -> GenerationResult:
        from providers.local.pipeline import render

        self.validate(request)
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


def _check_range(template: str, value: float, bounds: tuple[float, float]) -> None:
    """``template`` names the setting and has ``{low}`` and ``{high}`` placeholders."""
    low, high = bounds
    if not (isinstance(value, int | float) and math.isfinite(value) and low <= value <= high):
        raise InputError(template, params={"low": low, "high": high})
