"""Offline speech: text -> float32 audio with word and phoneme timings.

Two engines, both GPL-3.0, both offline:

* eSpeak NG (``espeakng-loader``) speaks every language in
  :data:`providers.local.languages.LANGUAGES`; its word and phoneme events are exact.
* Piper (``piper-tts``) speaks where a voice model exists (``piper:en:joe`` is bundled) and is
  preferred by :func:`default_voice`. Phoneme timings come from the model's own alignment
  (see :mod:`providers.local.piper_voice`). Word timings: the text is run through eSpeak NG
  (the phonemiser Piper itself uses) to learn which text token each spoken word belongs to,
  and the n-th spoken word is given the n-th Piper word span. If the counts differ, or the
  model gives no alignment, eSpeak's word timings scaled to Piper's duration are used
  (approximate, logged at INFO). Piper ignores ``pitch``.

All public functions are thread safe.
"""

from __future__ import annotations

import io
import logging
import re
import wave
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np

from errors import N_, ScriptError, VoiceError
from observability import releasable
from providers.base import PITCH_RANGE, SPEED_RANGE, CancelToken, Voice, check_range
from providers.local import espeak, piper_voice
from providers.local.languages import LANGUAGES, get_language
from providers.local.voices import VoiceSpec, get_spec, resolve
from providers.local.voices import configure as _configure_voices
from providers.local.voices import default_voice as _default_voice
from providers.local.voices import list_voices as _list_voices

__all__ = [
    "Phoneme",
    "Speech",
    "Word",
    "configure",
    "default_voice",
    "list_voices",
    "sample",
    "synthesize",
    "to_wav_bytes",
    "write_wav",
]

log = logging.getLogger(__name__)

SAMPLE_MAX_CHARS = 200  # sample() speaks a short phrase; longer text is cut at a word

StopCheck = Callable[[], bool] | None


@dataclass(frozen=True)
class Word:
    """A written word (with its attached punctuation) and when it is spoken."""

    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Phoneme:
    """An IPA phone (stress marks included, e.g. ``ˈa``) or ``"_"`` for a pause."""

    symbol: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Speech:
    samples: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int
    words: tuple[Word, ...]  # in order; starts strictly increase; all within duration_s
    phonemes: tuple[Phoneme, ...]  # may be empty when the engine gives none
    voice_id: str

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


def configure(piper_voice_paths: Iterable[str | Path] = ()) -> None:
    """Set extra Piper voices (setting ``providers.piper_voices``); call once at app start.

    Raises :class:`ConfigError` (naming the setting) for a missing or unusable voice file;
    the previous catalog then stays in force.
    """
    _configure_voices(piper_voice_paths)
    _sample_cached.cache_clear()


def list_voices(language: str | None = None) -> list[Voice]:
    """Voices (natural first), optionally for one language; never touches the network."""
    return _list_voices(language)


def default_voice(language: str) -> str:
    """Voice id used when none is chosen; prefers a Piper voice covering ``language``."""
    return _default_voice(language)


def synthesize(
    text: str,
    language: str,
    voice_id: str | None = None,
    *,
    speed: float = 1.0,
    pitch: float = 1.0,
    cancel: CancelToken | None = None,
    on_chunk: piper_voice.ChunkCallback | None = None,
) -> Speech:
    """Speak ``text`` in ``language`` with ``voice_id`` (default: :func:`default_voice`).

    ``on_chunk`` (Piper voices only; eSpeak speaks a whole script in milliseconds) receives
    each sentence as it is synthesised, from the synthesising thread: a renderer can prepare
    for the speech while the rest is still being spoken. The returned :class:`Speech` is the
    same with or without it.

    ``speed`` multiplies the speaking rate (0.5-2.0); ``pitch`` the base pitch (0.5-1.5,
    eSpeak only). Raises :class:`LanguageError` / :class:`VoiceError` (messages list the valid
    choices), :class:`ScriptError` for text with nothing to say, :class:`InputError` for
    out-of-range speed/pitch, and :class:`JobCancelled` when ``cancel`` fires.
    """
    lang = get_language(language)
    spec = resolve(lang.code, voice_id)
    if not text or not text.strip():
        raise ScriptError(N_("The script is empty."))
    check_range(N_("Speed must be between {low} and {high} (got {value})."), speed, SPEED_RANGE)
    check_range(N_("Pitch must be between {low} and {high} (got {value})."), pitch, PITCH_RANGE)
    if cancel is not None:
        cancel.raise_if_cancelled()
    should_stop = (lambda: cancel.cancelled) if cancel is not None else None

    if spec.engine == "piper":
        speech = _synthesize_piper(spec, text, lang.code, speed, should_stop, on_chunk)
    else:
        speech = _synthesize_espeak(spec, text, lang.code, speed, pitch, should_stop)
    if cancel is not None:
        cancel.raise_if_cancelled()
    if not speech.words or not np.any(np.abs(speech.samples) > 1e-3):
        raise ScriptError(N_("The script has nothing that can be spoken."))
    return speech


def _synthesize_espeak(
    spec: VoiceSpec, text: str, language: str, speed: float, pitch: float, should_stop: StopCheck
) -> Speech:
    out = espeak.synthesize(
        text,
        spec.espeak_name,
        rate_wpm=round(espeak.RATE_NORMAL_WPM * speed),
        pitch=round(espeak.PITCH_NORMAL * pitch),
        should_stop=should_stop,
    )
    events = [(w.position, w.start_s, w.end_s) for w in out.words]
    return Speech(
        samples=out.samples,
        sample_rate=out.sample_rate,
        words=group_words(
            text, events, spaced=LANGUAGES[language].spaced, duration_s=out.duration_s
        ),
        phonemes=tuple(Phoneme(s, a, b) for s, a, b in out.phonemes),
        voice_id=spec.id,
    )


def _synthesize_piper(
    spec: VoiceSpec,
    text: str,
    language: str,
    speed: float,
    should_stop: StopCheck,
    on_chunk: piper_voice.ChunkCallback | None = None,
) -> Speech:
    assert spec.model_path is not None and spec.config_path is not None
    out = piper_voice.synthesize(
        spec.model_path,
        spec.config_path,
        text,
        speed=speed,
        should_stop=should_stop,
        on_chunk=on_chunk,
    )
    duration = len(out.samples) / out.sample_rate
    try:  # the word segmentation Piper's phonemiser sees, with eSpeak's own timings
        ref = espeak.synthesize(text, spec.espeak_language)
    except VoiceError:
        ref = espeak.synthesize(text, LANGUAGES[language].espeak_voice)
    phonemes = out.phonemes
    if out.word_spans is not None and len(out.word_spans) == len(ref.words):
        events = [(w.position, a, b) for w, (a, b) in zip(ref.words, out.word_spans, strict=True)]
    else:
        log.info(
            "piper word timings estimated from eSpeak (%s spans vs %d eSpeak words)",
            "no" if out.word_spans is None else len(out.word_spans),
            len(ref.words),
        )
        scale = duration / ref.duration_s if ref.duration_s > 0 else 0.0
        events = [(w.position, w.start_s * scale, w.end_s * scale) for w in ref.words]
        if not phonemes:
            phonemes = tuple((s, a * scale, b * scale) for s, a, b in ref.phonemes)
    return Speech(
        samples=out.samples,
        sample_rate=out.sample_rate,
        words=group_words(text, events, spaced=LANGUAGES[language].spaced, duration_s=duration),
        phonemes=tuple(Phoneme(s, a, b) for s, a, b in phonemes),
        voice_id=spec.id,
    )


_TOKEN = re.compile(r"\S+")


def group_words(
    text: str,
    events: Sequence[tuple[int, float, float]],
    *,
    spaced: bool,
    duration_s: float,
) -> tuple[Word, ...]:
    """Turn engine word events ``(char position, start_s, end_s)`` into written words.

    Engines emit several events for one written token ("1999", "$42") and none for some
    ("e.g." after "U.S.A."). In spaced scripts a word is a whitespace-delimited token with the
    events inside it; tokens without events join the word before them, so captions keep all
    the text. In unspaced scripts (Chinese, Japanese) a word runs from one event position to
    the next. Starts strictly increase; times are clamped to ``duration_s``.
    """
    if not events:
        return ()
    groups: list[list] = []  # [first_char, last_char_exclusive, start, end]
    if spaced:
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        if not tokens:
            return ()
        starts = [a for a, _b in tokens]
        by_token: dict[int, list[float]] = {}
        for pos, start, end in events:
            idx = max(0, bisect_right(starts, pos) - 1)
            if pos >= tokens[idx][1] and idx + 1 < len(tokens):
                idx += 1  # a position in whitespace belongs to the next token
            span = by_token.setdefault(idx, [start, end])
            span[0], span[1] = min(span[0], start), max(span[1], end)
        for idx, (a, b) in enumerate(tokens):
            if idx in by_token:
                groups.append([a, b, *by_token[idx]])
            elif groups:
                groups[-1][1] = b
        first = min(by_token)
        groups[0][0] = tokens[0][0] if first > 0 else groups[0][0]
    else:
        positions = sorted({pos for pos, _s, _e in events})
        spans: dict[int, list[float]] = {}
        for pos, start, end in events:
            span = spans.setdefault(pos, [start, end])
            span[0], span[1] = min(span[0], start), max(span[1], end)
        bounds = [*positions[1:], len(text)]
        for pos, stop in zip(positions, bounds, strict=True):
            if text[pos:stop].strip() or not groups:
                groups.append([pos, stop, *spans[pos]])
            else:
                groups[-1][1] = stop
        groups[0][0] = 0

    words: list[Word] = []
    for a, b, start, end in groups:
        chunk = " ".join(text[a:b].split())
        start = min(max(start, 0.0), duration_s)
        end = min(max(end, start), duration_s)
        if words and start <= words[-1].start_s:  # keep starts strictly increasing
            prev = words.pop()
            joiner = " " if spaced else ""
            words.append(Word(prev.text + joiner + chunk, prev.start_s, max(prev.end_s, end)))
        elif chunk:
            words.append(Word(chunk, start, end))
    return tuple(words)


def to_wav_bytes(speech: Speech) -> bytes:
    """16-bit PCM mono WAV of ``speech``."""
    buf = io.BytesIO()
    _write(speech, buf)
    return buf.getvalue()


def write_wav(speech: Speech, path: Path) -> None:
    """Write ``speech`` as a 16-bit PCM mono WAV file."""
    with open(path, "wb") as fh:
        _write(speech, fh)


def _write(speech: Speech, fh: BinaryIO) -> None:
    pcm = (np.clip(speech.samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
    with wave.open(fh, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(speech.sample_rate)
        wav.writeframes(pcm.tobytes())


def sample(voice_id: str, text: str | None = None) -> bytes:
    """A short WAV of ``voice_id`` saying ``text`` (default: a greeting in its language).

    Text beyond :data:`SAMPLE_MAX_CHARS` is cut at a word boundary. Results are cached, so
    replaying a sample costs nothing; eSpeak samples take a few milliseconds, a Piper voice's
    first sample also loads its model (about a second).
    """
    spec = get_spec(voice_id)
    lang = LANGUAGES[spec.voice.language]
    phrase = (text or "").strip() or lang.greeting
    if len(phrase) > SAMPLE_MAX_CHARS:
        cut = phrase[:SAMPLE_MAX_CHARS]
        phrase = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return _sample_cached(voice_id, lang.code, phrase)


@lru_cache(maxsize=128)
def _sample_cached(voice_id: str, language: str, text: str) -> bytes:
    return to_wav_bytes(synthesize(text, language, voice_id))


releasable.register("voice samples", _sample_cached.cache_clear)
