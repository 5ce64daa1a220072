"""The provider interface: what every talking-video generator (local or cloud) implements.

A provider is small: it states its :class:`Capabilities`, lists its :class:`Voice`\\ s, and
turns one :class:`GenerationRequest` into one :class:`GenerationResult`. The job runner calls
``generate`` on a worker thread with a :class:`JobContext` that carries the progress callback,
the cancellation token, a private work folder, and (for cloud vendors) the remote job id so a
restarted worker resumes polling instead of paying twice.

Errors are raised from the tree in :mod:`errors` (``ProviderUnavailable`` triggers fallback;
``InputError``/``ProviderRejected`` are the creator's to fix).
"""

from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from errors import N_, InputError, JobCancelled, LanguageError, ScriptError, VoiceError

Resolution = Literal[480, 720, 1080]
Aspect = Literal["1:1", "9:16", "16:9"]
CaptionMode = Literal["none", "srt", "burn"]
Stage = Literal["queued", "voice", "face", "animate", "encode", "upload", "done"]

RESOLUTIONS: tuple[int, ...] = (480, 720, 1080)
ASPECTS: tuple[str, ...] = ("1:1", "9:16", "16:9")
CAPTION_MODES: tuple[str, ...] = ("none", "srt", "burn")
# A provider that fetches the photo from a URL cannot be used while media stays on local disk.
NEEDS_PUBLIC_PHOTO = N_(
    "{provider} needs the photo at a public web address; the operator must set up S3 or "
    "Cloudinary storage. Choose another video service."
)
HEAD_MOTION_RANGE = (0.0, 1.0)
SPEED_RANGE = (0.5, 2.0)
PITCH_RANGE = (0.5, 1.5)


@dataclass(frozen=True)
class Capabilities:
    """What a provider can truly do; the router only picks a provider that fits the request."""

    languages: frozenset[str]
    uses_photo: bool  # animates the uploaded photo (Synthesia: False)
    speaks: bool  # produces speech with lip-sync (Luma: False, motion only)
    max_script_chars: int
    resolutions: tuple[int, ...] = RESOLUTIONS
    aspects: tuple[str, ...] = ASPECTS
    needs_network: bool = False
    cost_credits_per_minute: int = 0
    captions: bool = True  # can write SRT/VTT or burn captions (cloud vendors: no)
    needs_public_photo: bool = False  # fetches the photo from a public URL (Luma)


@dataclass(frozen=True)
class Voice:
    """One selectable voice. ``id`` is stable and what requests carry."""

    id: str
    name: str
    language: str  # ISO 639-1 code used across the app ("hi", "en", ...)
    gender: Literal["female", "male", "neutral"] = "neutral"
    engine: str = ""  # "espeak-ng", "piper", "d_id", ...
    natural: bool = False  # a neural voice (preferred by default)


@dataclass(frozen=True)
class GenerationRequest:
    """Everything needed to make one video. ``photo_path`` is an already validated image."""

    photo_path: Path
    script: str
    language: str
    voice: str | None = None  # None: the provider's default voice for the language
    resolution: int = 720
    aspect: str = "9:16"
    captions: str = "none"
    head_motion: float = 0.3  # 0 = still, 1 = lively
    speed: float = 1.0  # speech rate multiplier, 0.5-2.0
    pitch: float = 1.0  # pitch multiplier where the engine allows, 0.5-1.5


@dataclass(frozen=True)
class GenerationResult:
    """Files written into the job's work folder; the job runner moves them to storage."""

    video_path: Path
    duration_s: float
    provider: str
    voice: str
    width: int
    height: int
    thumbnail_path: Path | None = None
    srt_path: Path | None = None
    vtt_path: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    notes: tuple[str, ...] = ()  # user-visible remarks, e.g. "several faces: used the largest"


class CancelToken:
    """Thread-safe cancellation flag, checked often by providers."""

    def __init__(self, is_cancelled: Callable[[], bool] | None = None) -> None:
        self._event = threading.Event()
        self._external = is_cancelled

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        if not self._event.is_set() and self._external is not None and self._external():
            self._event.set()
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise JobCancelled()


ProgressCallback = Callable[[str, float], None]
"""``progress(stage, percent)`` with percent in 0..100 over the whole job."""


def _no_progress(stage: str, percent: float) -> None:
    return None


@dataclass
class JobContext:
    """Per-run hooks handed to ``Provider.generate``."""

    work_dir: Path
    progress: ProgressCallback = _no_progress
    cancel: CancelToken = field(default_factory=CancelToken)
    remote_id: str | None = None  # set when resuming a cloud job
    save_remote_id: Callable[[str], None] = lambda _rid: None
    # Our own id for this work (the job id), sent to vendors that echo it back, so a create
    # whose answer was lost can be found again instead of paid for twice.
    client_ref: str = ""
    # The photo at a public URL (remote storage), for vendors that fetch it themselves.
    photo_url: str | None = None


class Provider(ABC):
    """A talking-video generator. Subclasses are registered by name in ``providers.REGISTRY``."""

    name: str = ""

    @classmethod
    def from_settings(cls, settings: Any) -> Provider:
        """The provider as the settings configure it; each reads only its own section."""
        return cls()

    @abstractmethod
    def capabilities(self) -> Capabilities: ...

    @abstractmethod
    def voices(self, language: str | None = None) -> list[Voice]:
        """Voices, optionally for one language; must not call the network on the page path."""

    @abstractmethod
    def generate(self, request: GenerationRequest, ctx: JobContext) -> GenerationResult:
        """Make the video; report progress via ``ctx.progress``; check ``ctx.cancel`` often."""

    def validate(self, request: GenerationRequest) -> None:
        """Raise an :class:`errors.InputError` subclass naming the problem and the options.

        Checks everything but the photo against :meth:`capabilities` and :meth:`voices`;
        cheap (no synthesis, no network on the page path), so the job service calls it before
        anything is stored or charged, and ``generate`` calls it again. Override to add checks.
        """
        caps = self.capabilities()
        if request.resolution not in caps.resolutions:
            raise InputError(
                N_("Resolution {resolution}p is not offered. Choose one of: {choices}."),
                params={
                    "resolution": request.resolution,
                    "choices": ", ".join(f"{r}p" for r in caps.resolutions),
                },
            )
        if request.aspect not in caps.aspects:
            raise InputError(
                N_("Aspect {aspect} is not offered. Choose one of: {choices}."),
                params={"aspect": request.aspect, "choices": ", ".join(caps.aspects)},
            )
        if request.captions not in CAPTION_MODES:
            raise InputError(
                N_("Captions '{captions}' is not an option. Choose one of: {choices}."),
                params={"captions": request.captions, "choices": ", ".join(CAPTION_MODES)},
            )
        check_range(
            N_("Head motion must be between {low:g} and {high:g}."),
            request.head_motion,
            HEAD_MOTION_RANGE,
        )
        check_range(N_("Speed must be between {low:g} and {high:g}."), request.speed, SPEED_RANGE)
        check_range(N_("Pitch must be between {low:g} and {high:g}."), request.pitch, PITCH_RANGE)
        text = request.script.strip()
        if not text:
            raise ScriptError(N_("The script is empty."))
        if len(text) > caps.max_script_chars:
            raise ScriptError(
                N_("The script is {n:,} characters; the limit is {limit:,}."),
                params={"n": len(text), "limit": caps.max_script_chars},
            )
        if request.language not in caps.languages:
            raise LanguageError(
                N_("The language '{language}' is not available. Choose: {choices}."),
                params={"language": request.language, "choices": ", ".join(sorted(caps.languages))},
            )
        if request.voice is not None:
            voice_ids = [v.id for v in self.voices(request.language)]
            if request.voice not in voice_ids:
                shown = ", ".join(voice_ids[:12]) + (", ..." if len(voice_ids) > 12 else "")
                raise VoiceError(
                    N_(
                        "The voice '{voice}' is not available for this language. Choose: {choices}."
                    ),
                    params={"voice": request.voice, "choices": shown or "-"},
                )

    def check(self) -> str:
        """A cheap health check (key valid, service reachable); returns a short status."""
        return "ok"


def check_range(template: str, value: float, bounds: tuple[float, float]) -> None:
    """Raise :class:`InputError` unless ``value`` is a finite number within ``bounds``.

    ``template`` names the setting; it may use the ``{low}``, ``{high}`` and ``{value}`` params.
    """
    low, high = bounds
    if not (isinstance(value, int | float) and math.isfinite(value) and low <= value <= high):
        raise InputError(template, params={"low": low, "high": high, "value": value})
