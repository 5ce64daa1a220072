"""The vocabulary a job is made of, shared by the job service and the job runner.

``services.jobs`` (submit, watch, cancel) and ``background_tasks`` (run) both speak it, so it
lives here, below both: it imports neither.

    JobParams            how to make the video (stored as JSON on the row)
    spoken_script()      the words a script becomes for speech and captions (services.script_text)
    build_request()      the provider request for a job's stored parameters (spoken words)
    job_cost()           credits for a script on a provider (the estimate charged at submit)
    final_cost()         what the finished video costs (its real length; never over the estimate)
    MEDIA_COLUMNS        the job row's storage-key columns, and what each file is called
    PHOTO_GONE           the message for a job whose photo was deleted
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from errors import N_
from providers import router
from providers.base import GenerationRequest
from services import credits, script_text

PHOTO_GONE = N_("The photo for this video is no longer stored; please upload it again.")

# Storage-key columns of a job row -> the file name stem the runner stores under the job's
# prefix ("photo" is written at submit; the others come back from the provider).
MEDIA_COLUMNS: dict[str, str] = {
    "photo_key": "photo",
    "video_key": "video",
    "thumbnail_key": "thumb",
    "srt_key": "captions",
    "vtt_key": "captions",
}
RESULT_COLUMNS = tuple(c for c in MEDIA_COLUMNS if c != "photo_key")


def media_keys(job: Any) -> list[str]:
    """Every storage key a job row names (photo, video, thumbnail, captions), set or not."""
    return [key for column in MEDIA_COLUMNS if (key := getattr(job, column))]


@dataclass(frozen=True)
class JobParams:
    """How to make the video (stored as JSON on the row)."""

    language: str
    voice: str | None = None  # None: the provider's default voice for the language
    provider: str = "local"
    resolution: int = 720
    aspect: str = "9:16"
    captions: str = "none"
    head_motion: float = 0.3
    speed: float = 1.0
    pitch: float = 1.0

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> JobParams:
        # Ignore keys this version does not know (rows written by a newer release).
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def spoken_script(script: str, language: str) -> str:
    """What ``script`` (as typed and stored on the job row) is read as in ``language``: markup
    and emoji dropped, numbers, dates, money and abbreviations in words. Every provider, the
    captions and the price get this text, so the estimate matches what is spoken."""
    return script_text.normalise(script, language)


def build_request(photo_path: Path, script: str, params: Mapping[str, Any]) -> GenerationRequest:
    """The provider request for a job's stored parameters (``JobParams.as_dict()``); its
    script is :func:`spoken_script` of the typed one."""
    language = str(params["language"])
    return GenerationRequest(
        photo_path=photo_path,
        script=spoken_script(script, language),
        language=language,
        voice=params.get("voice"),
        resolution=int(params.get("resolution", 720)),
        aspect=str(params.get("aspect", "9:16")),
        captions=str(params.get("captions", "none")),
        head_motion=float(params.get("head_motion", 0.3)),
        speed=float(params.get("speed", 1.0)),
        pitch=float(params.get("pitch", 1.0)),
    )


def job_cost(script: str, params: JobParams, provider: str) -> int:
    """Credits for this script on ``provider`` (its ``credits_per_started_30s``), priced on
    the words it is read as (:func:`spoken_script`)."""
    spoken = spoken_script(script, params.language)
    seconds = credits.estimate_duration_s(spoken, params.language, params.speed)
    return credits.estimate_cost(seconds, router.price_per_started_30s(provider))


def final_cost(script: str, params: JobParams, provider: str, duration_s: float) -> int:
    """What a finished video costs: the price of the provider that made it, for the length it
    really has, and never more than the estimate for that provider (a creator agrees to the
    estimate; a video shorter than estimated is cheaper)."""
    real = credits.estimate_cost(duration_s, router.price_per_started_30s(provider))
    return min(job_cost(script, params, provider), real)
