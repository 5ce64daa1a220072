"""Making a video: which service, its voices, what it costs, and whether a request can be made.

The create page, ``cli.py generate`` and ``services.jobs.submit`` all ask this module, so the
rules live in one place:

    choices()              the services a creator may pick (Auto first when a vendor is set up)
    choice(name)           what a service can do (Auto: what its candidates can, together)
    voices(name, lang)     its voices, fetched at most once per ``[providers] voices_ttl_s``
    has_sample(id, lang)   whether we can play a sample of a voice (our own voices only)
    voice_sample(id)       a short WAV of one of our own voices
    read_as(script, lang)  what a script will be read as (numbers, dates, money in words)
    estimate(...)          seconds of speech and credits for a script on a service
    validate(script, p)    the cleaned script and the service charged at submit, or an error

Provider clients are the router's (one per provider and settings); nothing here keeps
per-creator state.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import providers
from errors import N_, InputError, ScriptError, TalkingPhotoError, VoiceError
from observability import releasable
from providers import router
from providers.base import (
    ASPECTS,
    CAPTION_MODES,
    NEEDS_PUBLIC_PHOTO,
    RESOLUTIONS,
    Capabilities,
    Voice,
)
from providers.local import speech
from providers.local.languages import LANGUAGES
from secrets_manager import Settings, get_settings
from services import credits, media, script_text
from services.job_spec import JobParams, build_request, spoken_script
from services.photos import clean_script

AUTO = router.AUTO
LOCAL = "local"

__all__ = [
    "ASPECTS",
    "AUTO",
    "CAPTION_MODES",
    "LANGUAGES",
    "NEEDS_PUBLIC_PHOTO",
    "RESOLUTIONS",
    "Choice",
    "Estimate",
    "choice",
    "choices",
    "default_aspect",
    "estimate",
    "has_sample",
    "label",
    "storage_has_public_urls",
    "validate",
    "voice_sample",
    "voices",
]


@dataclass(frozen=True)
class Choice:
    name: str  # "auto" or a provider name
    languages: frozenset[str]
    caps: Capabilities | None  # None for auto (the router checks each candidate)


@dataclass(frozen=True)
class Estimate:
    seconds: float
    credits: int


# ------------------------------------------------------------------------------ services


def choices(settings: Settings | None = None) -> list[str]:
    """What the creator may choose: configured providers (the settings default first, if it
    is one), with Auto first when a cloud service is configured."""
    settings = settings or get_settings()
    found = router.configured_providers(settings)
    default = settings.providers.default
    if default != AUTO and default in providers.REGISTRY and default not in found:
        found.insert(0, default)
    if any(router.section_of(n, settings) is not None for n in found):
        found.insert(0, AUTO)
    return found


def label(name: str) -> str:
    """A service's name as vendors spell it (pages translate their own labels)."""
    return router.label(name)


def choice(name: str, settings: Settings | None = None) -> Choice:
    settings = settings or get_settings()
    if name != AUTO:
        caps = router.client(name, settings).capabilities()
        return Choice(name, caps.languages, caps)
    languages: set[str] = set()
    for candidate in settings.providers.order:
        if router.is_configured(candidate, settings):
            caps = router.client(candidate, settings).capabilities()
            if caps.uses_photo and caps.speaks:
                languages |= caps.languages
    return Choice(AUTO, frozenset(languages), None)


def auto_order(settings: Settings | None = None) -> list[str]:
    """The configured services Auto tries, in order."""
    settings = settings or get_settings()
    return [n for n in settings.providers.order if router.is_configured(n, settings)]


def storage_has_public_urls() -> bool:
    """Whether storage can hand a vendor a public URL (local disk cannot)."""
    return media.public_url(media.job_key("probe", "photo.jpg")) is not None


# -------------------------------------------------------------------------------- voices

_VOICES_MAX = 128
_voices: dict[tuple[str, str, int, int], list[Voice]] = {}
_voices_lock = threading.Lock()


def voices(name: str, language: str, settings: Settings | None = None) -> list[Voice]:
    """``name``'s voices for ``language``. A list is fetched at most once per TTL window,
    language and settings, whatever the number of sessions; a provider's errors are raised
    and not remembered, so the next call tries again."""
    settings = settings or get_settings()
    window = int(time.time() // settings.providers.voices_ttl_s)
    key = (name, language, id(settings), window)
    with _voices_lock:
        found = _voices.get(key)
    if found is not None:
        return list(found)
    fetched = router.client(name, settings).voices(language)
    with _voices_lock:
        stale = [k for k in _voices if k[3] != window or k[2] != id(settings)]
        for old in stale:
            del _voices[old]
        if len(_voices) >= _VOICES_MAX:
            _voices.pop(next(iter(_voices)))
        _voices[key] = list(fetched)
    return list(fetched)


def has_sample(voice_id: str, language: str) -> bool:
    """Samples are spoken by our own engine; a vendor's voices have none here."""
    return any(v.id == voice_id for v in speech.list_voices(language))


def voice_sample(voice_id: str) -> bytes:
    """A short WAV of one of our voices (a few dozen KB; the engine caches it)."""
    with releasable.in_use():  # may load a Piper voice: an engine use, not to be unloaded
        return speech.sample(voice_id)


def default_aspect(width: int, height: int) -> str:
    """The frame that fits the photo: a near-square photo gets a square video (no blurred
    bands), a tall one portrait, a wide one landscape."""
    ratio = width / height if height else 1.0
    if ratio >= 1.25:
        return "16:9"
    if ratio <= 0.8:
        return "9:16"
    return "1:1"


# ----------------------------------------------------------------------- price and checks


def charged_provider(name: str, language: str, settings: Settings | None = None) -> str:
    """The provider whose price is charged at submit: ``name``, or for Auto its first
    candidate for ``language`` (local when none fits yet)."""
    if name != AUTO:
        return name
    probe = build_request(Path(), "-", {"language": language})
    try:
        return router.plan(AUTO, probe, settings)[0]
    except TalkingPhotoError:
        return LOCAL


def price_per_started_30s(name: str, language: str) -> int:
    """Credits per started 30 s on ``name`` (Auto: its first candidate's)."""
    return router.price_per_started_30s(charged_provider(name, language))


def read_as(script: str, language: str) -> str | None:
    """The words ``script`` will be spoken and captioned as, when they differ from what was
    typed (beyond spacing); ``None`` when it is read as typed. Raises :class:`ScriptError`
    for a script with nothing to speak (only emoji or symbols), as submitting would."""
    spoken = script_text.speakable(script, language)
    return None if spoken.split() == script.split() else spoken


def estimate(script: str, params: JobParams) -> Estimate:
    """Seconds of speech and the credits charged at submit for ``script``, both for the
    words it is read as (:func:`read_as`), which is what the video will say."""
    spoken = spoken_script(script, params.language)
    seconds = credits.estimate_duration_s(spoken, params.language, params.speed)
    per_block = price_per_started_30s(params.provider, params.language)
    return Estimate(seconds, credits.estimate_cost(seconds, per_block))


def validate(script: str, params: JobParams) -> tuple[str, str]:
    """The cleaned script and the provider whose price is charged at submit (for Auto the
    first candidate), after that provider checked every parameter. Raises the
    :class:`errors.InputError` family naming the problem; nothing is stored.

    For Auto no voice may be chosen: each service speaks with its own default voice (voice
    ids differ between services, and a fallback must still work)."""
    if params.provider == AUTO and params.voice is not None:
        raise VoiceError(
            N_(
                "Choose a voice only with a specific video service; Auto uses each "
                "service's default voice."
            ),
        )
    request = build_request(Path(), script, params.as_dict())
    first = router.plan(params.provider, request)[0]
    provider = router.client(first)
    limit = min(get_settings().limits.max_script_chars, provider.capabilities().max_script_chars)
    script = clean_script(script, max_chars=limit)
    # Before anything is charged: a script of emoji or symbols only has nothing to say, and
    # written-out numbers must still fit what the service takes.
    spoken = script_text.speakable(script, params.language)
    most = provider.capabilities().max_script_chars
    if len(spoken) > most:
        raise ScriptError(
            N_(
                "Read aloud, with numbers, dates and amounts written out, the script is "
                "{n:,} characters; the limit is {limit:,}. Please shorten it."
            ),
            params={"n": len(spoken), "limit": most},
        )
    # The photo is checked at upload (services.photos); everything else is the provider's call.
    provider.validate(build_request(Path(), script, params.as_dict()))
    if provider.capabilities().needs_public_photo and not storage_has_public_urls():
        raise InputError(NEEDS_PUBLIC_PHOTO, params={"provider": router.label(first)})
    return script, first
