"""eSpeak NG through ctypes: audio plus word and phoneme timings.

The shared library and its data come from the ``espeakng-loader`` wheel (GPL-3.0), so no
system package is needed. We drive the C API declared in ``speak_lib.h`` (API revision 12):
``espeak_Initialize`` in ``AUDIO_OUTPUT_SYNCHRONOUS`` mode with phoneme events reported as IPA,
``espeak_SetSynthCallback`` to receive 16-bit samples and event lists, and ``espeak_Synth``.

libespeak-ng keeps global state and is not thread safe, so every call into it happens under
the module-level ``_LOCK``; initialisation happens once, lazily, under the same lock. Piper's
``espeakbridge`` extension links its own static copy of espeak-ng, which is independent of
this one (both are loaded with local symbol scope).

Events carry ``text_position`` as a 1-based index in *characters* (code points) of the UTF-8
input (checked against Devanagari, Tamil, Arabic and Chinese text), and ``audio_position`` in
milliseconds from the start of the message.
"""

from __future__ import annotations

import ctypes
import threading
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from errors import VoiceError

# --- speak_lib.h constants -------------------------------------------------------------
AUDIO_OUTPUT_SYNCHRONOUS = 2
POS_CHARACTER = 1
ESPEAK_CHARS_UTF8 = 1  # no espeakSSML / espeakPHONEMES: creator text is never markup
ESPEAK_INITIALIZE_PHONEME_EVENTS = 0x0001
ESPEAK_INITIALIZE_PHONEME_IPA = 0x0002
EE_OK = 0

EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EVENT_PHONEME = 7

PARAM_RATE = 1
PARAM_PITCH = 3

RATE_MIN_WPM = 80
RATE_MAX_WPM = 450
RATE_NORMAL_WPM = 175
PITCH_NORMAL = 50  # espeakPITCH: 0-100, 50 = the voice's normal pitch

PAUSE = "_"  # symbol we use for silence; eSpeak reports pauses as phonemes with empty IPA names
_BUFFER_MS = 500  # fewer, larger callbacks; the value does not change the audio


class _EventId(ctypes.Union):
    _fields_ = (
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    )


class _Event(ctypes.Structure):
    """``espeak_EVENT`` (40 bytes on LP64)."""

    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    )


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class WordEvent:
    """One eSpeak word event: ``position`` is a 0-based code point index into the text."""

    position: int
    length: int
    start_s: float
    end_s: float


@dataclass(frozen=True)
class EspeakOutput:
    samples: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int
    words: tuple[WordEvent, ...]  # in speaking order; several may share one text token
    phonemes: tuple[tuple[str, float, float], ...]  # (IPA symbol or PAUSE, start_s, end_s)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


class _Collector:
    """Receives callback data for the one synthesis running under ``_LOCK``."""

    def __init__(self, should_stop: Callable[[], bool] | None) -> None:
        self.chunks: list[bytes] = []
        self.words: list[tuple[int, int, int]] = []  # (text_position, length, ms)
        self.phonemes: list[tuple[str, int]] = []  # (symbol, ms)
        self.should_stop = should_stop
        self.stopped = False
        self.error: BaseException | None = None

    def on_audio(self, wav: ctypes._Pointer, n: int, events: ctypes._Pointer) -> int:
        try:
            if wav and n > 0:
                self.chunks.append(ctypes.string_at(wav, n * 2))
            i = 0
            while True:
                ev = events[i]
                if ev.type == EVENT_LIST_TERMINATED:
                    break
                if ev.type == EVENT_WORD:
                    self.words.append((ev.text_position, ev.length, ev.audio_position))
                elif ev.type == EVENT_PHONEME:
                    raw = bytes(ev.id.string).split(b"\0", 1)[0]  # ctypes gives bytes
                    # A name using all 8 bytes may end inside a UTF-8 sequence: drop the tail.
                    self.phonemes.append((raw.decode("utf-8", "ignore"), ev.audio_position))
                i += 1
            if self.should_stop is not None and self.should_stop():
                self.stopped = True
                return 1  # abort synthesis
        except BaseException as exc:  # an exception must not unwind through C frames
            self.error = exc
            return 1
        return 0


_LOCK = threading.Lock()
_state: dict[str, object] = {}
_current: list[_Collector] = []


def _dispatch(wav: ctypes._Pointer, n: int, events: ctypes._Pointer) -> int:
    return _current[-1].on_audio(wav, n, events) if _current else 1


_C_DISPATCH = _CALLBACK(_dispatch)  # module-level so ctypes never frees the trampoline


def _library() -> tuple[ctypes.CDLL, int]:
    """Load and initialise libespeak-ng once; caller holds ``_LOCK``."""
    if "lib" not in _state:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = (_CALLBACK,)
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = (
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        )
        lib.espeak_Synth.restype = ctypes.c_int
        options = ESPEAK_INITIALIZE_PHONEME_EVENTS | ESPEAK_INITIALIZE_PHONEME_IPA
        data_path = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, data_path, options)
        if rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed ({rate}) with data at {data_path!r}")
        lib.espeak_SetSynthCallback(_C_DISPATCH)
        _state["lib"] = lib
        _state["rate"] = rate
    return _state["lib"], int(_state["rate"])  # type: ignore[return-value]


def sample_rate() -> int:
    """Output sample rate of libespeak-ng (22050 Hz for the bundled build)."""
    with _LOCK:
        return _library()[1]


def synthesize(
    text: str,
    voice_name: str,
    *,
    rate_wpm: int = RATE_NORMAL_WPM,
    pitch: int = PITCH_NORMAL,
    should_stop: Callable[[], bool] | None = None,
) -> EspeakOutput:
    """Speak ``text`` with eSpeak voice ``voice_name`` (e.g. ``"hi+f3"``).

    ``rate_wpm`` is clamped to 80-450 words per minute, ``pitch`` to 0-100. When
    ``should_stop`` returns True synthesis is aborted and the partial output returned; the
    caller decides what that means (``stopped`` is not exposed: check your own token).
    Raises :class:`VoiceError` if eSpeak does not know ``voice_name``.
    """
    collector = _Collector(should_stop)
    data = text.encode("utf-8")
    with _LOCK:
        lib, rate = _library()
        if lib.espeak_SetVoiceByName(voice_name.encode()) != EE_OK:
            raise VoiceError(detail=f"eSpeak NG has no voice named {voice_name!r}")
        rate_wpm = max(RATE_MIN_WPM, min(RATE_MAX_WPM, int(rate_wpm)))
        lib.espeak_SetParameter(PARAM_RATE, rate_wpm, 0)
        lib.espeak_SetParameter(PARAM_PITCH, max(0, min(100, int(pitch))), 0)
        _current.append(collector)
        try:
            status = lib.espeak_Synth(
                data, len(data) + 1, 0, POS_CHARACTER, 0, ESPEAK_CHARS_UTF8, None, None
            )
        finally:
            _current.pop()
    if collector.error is not None:
        raise collector.error
    if status != EE_OK and not collector.stopped:
        raise RuntimeError(f"espeak_Synth failed with status {status}")
    return _assemble(collector, rate, len(text))


def _assemble(collector: _Collector, rate: int, text_len: int) -> EspeakOutput:
    pcm = np.frombuffer(b"".join(collector.chunks), dtype="<i2")
    samples = (pcm.astype(np.float32) / 32768.0).clip(-1.0, 1.0)
    duration = len(samples) / rate

    # Phoneme intervals: each lasts until the next event; consecutive pauses are merged.
    phonemes: list[tuple[str, float, float]] = []
    events = collector.phonemes
    for i, (symbol, ms) in enumerate(events):
        start = min(ms / 1000.0, duration)
        end = min(events[i + 1][1] / 1000.0, duration) if i + 1 < len(events) else duration
        if end <= start:
            continue
        symbol = symbol or PAUSE
        if symbol == PAUSE and phonemes and phonemes[-1][0] == PAUSE:
            phonemes[-1] = (PAUSE, phonemes[-1][1], end)
        else:
            phonemes.append((symbol, start, end))

    # A word ends where the next starts, or earlier where a pause begins in between, so a
    # word before a comma does not swallow the comma's silence.
    pause_starts = [s for sym, s, _e in phonemes if sym == PAUSE]
    words: list[WordEvent] = []
    last_start = 0.0
    raw = collector.words
    for i, (pos, length, ms) in enumerate(raw):
        start = max(last_start, min(ms / 1000.0, duration))
        nxt = min(raw[i + 1][2] / 1000.0, duration) if i + 1 < len(raw) else duration
        nxt = max(nxt, start)
        k = bisect_right(pause_starts, start)
        end = pause_starts[k] if k < len(pause_starts) and pause_starts[k] < nxt else nxt
        position = max(0, min(text_len - 1, pos - 1))
        words.append(WordEvent(position, max(1, length), start, end))
        last_start = start
    return EspeakOutput(samples, rate, tuple(words), tuple(phonemes))
