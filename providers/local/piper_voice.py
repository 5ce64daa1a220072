"""Piper neural TTS (``piper-tts``, GPL-3.0) with exact phoneme alignments.

Piper's VITS models compute how many audio frames each phoneme id lasts (the ``Ceil`` tensor
``w_ceil``) but do not output it. ``PiperVoice.load(include_alignments=True)`` exposes it by
editing the model with the ``onnx`` package, which is not a dependency of ours. Instead we
append one ``graph.output`` entry to the serialized model: protobuf merges a repeated
embedded message field across occurrences, so ``model_bytes + <graph{output{name}}>`` is the
same model with one more output. Finding the tensor name needs only a tiny protobuf reader.
If the model cannot be patched (unexpected layout) we load it unchanged and report no
alignments; callers then fall back to eSpeak timings scaled to Piper's duration.

Loaded voices are cached per model path for the life of the process (thread-safe);
``onnxruntime`` sessions may be run from several threads at once.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from observability import memory, releasable

if TYPE_CHECKING:
    from piper import PiperVoice

log = logging.getLogger(__name__)

PAUSE = "_"
_BOUNDARY_SYMBOLS = frozenset({" ", "^", "$", "_"})  # word gap, BOS, EOS, PAD
_STRESS = frozenset({"ˈ", "ˌ"})


def _is_boundary(symbol: str) -> bool:
    return symbol in _BOUNDARY_SYMBOLS or unicodedata.category(symbol[:1]).startswith("P")


def _is_modifier(symbol: str) -> bool:
    """Length marks, palatalisation, rhoticity, combining diacritics: part of the previous phone."""
    cat = unicodedata.category(symbol[:1])
    return cat in {"Lm", "Sk", "Mn", "Mc"} and symbol not in _STRESS


# --- minimal protobuf reading/writing ---------------------------------------------------


def _varint(buf: memoryview, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _fields(buf: memoryview, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Yield (field number, wire type, value start, value end) for one message."""
    i = start
    while i < end:
        key, i = _varint(buf, i)
        wire = key & 7
        if wire == 0:
            _, j = _varint(buf, i)
        elif wire == 1:
            j = i + 8
        elif wire == 5:
            j = i + 4
        elif wire == 2:
            n, i = _varint(buf, i)
            j = i + n
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield key >> 3, wire, i, j
        i = j


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _encode_varint((field << 3) | 2) + _encode_varint(len(payload)) + payload


_MODEL_GRAPH, _GRAPH_NODE, _GRAPH_OUTPUT = 7, 1, 12
_NODE_OUTPUT, _NODE_OP_TYPE, _VALUE_INFO_NAME = 2, 4, 1


def alignment_patch(model: bytes) -> bytes | None:
    """Bytes to append to ``model`` so it also outputs the per-phoneme-id frame counts.

    ``None`` when the model already has more than one output (patched on disk) or when no
    single ``Ceil`` node can be found.
    """
    buf = memoryview(model)
    ceil_outputs: list[bytes] = []
    n_outputs = 0
    for field, wire, start, end in _fields(buf, 0, len(buf)):
        if field != _MODEL_GRAPH or wire != 2:
            continue
        for gfield, gwire, gstart, gend in _fields(buf, start, end):
            if gwire != 2:
                continue
            if gfield == _GRAPH_OUTPUT:
                n_outputs += 1
            elif gfield == _GRAPH_NODE:
                op_type, outputs = b"", []
                for nfield, _w, nstart, nend in _fields(buf, gstart, gend):
                    if nfield == _NODE_OP_TYPE:
                        op_type = bytes(buf[nstart:nend])
                    elif nfield == _NODE_OUTPUT:
                        outputs.append(bytes(buf[nstart:nend]))
                if op_type == b"Ceil":
                    ceil_outputs.extend(outputs)
    if n_outputs != 1 or len(ceil_outputs) != 1:
        return None
    value_info = _length_delimited(_VALUE_INFO_NAME, ceil_outputs[0])
    return _length_delimited(_MODEL_GRAPH, _length_delimited(_GRAPH_OUTPUT, value_info))


# --- loading ---------------------------------------------------------------------------

_CACHE_LOCK = threading.Lock()
_cache: dict[Path, PiperVoice] = {}
_load_locks: dict[Path, threading.Lock] = {}


def release() -> None:
    """Forget every loaded voice (~200 MB each with onnxruntime's buffers); the next
    :func:`load` reads it again. A synthesis under way keeps its own reference."""
    with _CACHE_LOCK:
        _cache.clear()
        _load_locks.clear()


releasable.register("piper voices", release)


def load(model_path: Path, config_path: Path) -> PiperVoice:
    """The cached ``piper.PiperVoice`` for ``model_path`` (loaded once, alignments if possible)."""
    key = Path(model_path).resolve()
    with _CACHE_LOCK:
        if key in _cache:
            return _cache[key]
        lock = _load_locks.setdefault(key, threading.Lock())
    with lock:  # one loader per model; other models load in parallel
        with _CACHE_LOCK:
            if key in _cache:
                return _cache[key]
        voice = _load_uncached(key, Path(config_path))
        with _CACHE_LOCK:
            _cache[key] = voice
        return voice


def _load_uncached(model_path: Path, config_path: Path) -> PiperVoice:
    import onnxruntime
    from piper import PiperConfig, PiperVoice

    config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
    model = model_path.read_bytes()
    try:
        patch = alignment_patch(model)
    except (ValueError, IndexError) as exc:  # not the protobuf layout we expect
        log.warning("cannot read %s for alignments: %s", model_path.name, exc)
        patch = None
    # Load from a file, not from bytes: onnxruntime copies a bytes model once more while
    # parsing it, and ``model + patch`` would be yet another full copy (peak ~300 MB -> ~170 MB).
    with tempfile.TemporaryDirectory(prefix="tp-piper-") as tmp:
        patched = Path(tmp) / model_path.name
        with patched.open("wb") as fh:
            fh.write(model)
            if patch:
                fh.write(patch)
        del model
        options = onnxruntime.SessionOptions()
        # Idle intra-op threads sleep instead of spinning: on two cores a spinning thread
        # takes the core the renderer works on while the voice is synthesised (about 1 s of
        # CPU per 30 s of speech, measured). The arithmetic, and so the audio, is unchanged.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(
            str(patched), sess_options=options, providers=["CPUExecutionProvider"]
        )
    return PiperVoice(session=session, config=config)


def release_working_memory(voice: PiperVoice) -> None:
    """Give back the ~100 MB that onnxruntime's arena kept from the longest sentence.

    The arena keeps its largest allocation for the life of the session, and the session is
    cached for the life of the process: the renderer would draw every frame on top of it. One
    tiny run with arena shrinkage turned on frees what no run is using (sessions may be shared
    between threads; shrinking touches only free regions), and ``malloc_trim`` returns it to
    the OS. Best effort: a failure only costs memory.
    """
    import onnxruntime

    try:
        ids = np.array([voice.phonemes_to_ids(["a"])], dtype=np.int64)
        cfg = voice.config
        feeds = {
            "input": ids,
            "input_lengths": np.array([ids.shape[1]], dtype=np.int64),
            "scales": np.array(
                [cfg.noise_scale, cfg.length_scale, cfg.noise_w_scale], dtype=np.float32
            ),
        }
        if cfg.num_speakers > 1:
            feeds["sid"] = np.array([cfg.default_speaker_id or 0], dtype=np.int64)
        options = onnxruntime.RunOptions()
        options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        voice.session.run(None, feeds, options)
    except Exception as exc:  # never fail a synthesis over memory
        log.debug("could not shrink the voice's arena: %s", exc)
        return
    memory.release_free_memory()


# --- synthesis -------------------------------------------------------------------------


@dataclass(frozen=True)
class PiperOutput:
    samples: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int
    phonemes: tuple[tuple[str, float, float], ...]  # merged IPA phones and PAUSE
    word_spans: tuple[tuple[float, float], ...] | None  # one per spoken word; None: no alignments


@dataclass(frozen=True)
class SpeechChunk:
    """One sentence as Piper produced it: its audio, where it starts in the whole speech,
    and its per-code-point alignments ``(symbol, start_s, end_s)`` in whole-speech time
    (empty when the model gives none)."""

    samples: np.ndarray
    sample_rate: int
    start_s: float
    aligned: tuple[tuple[str, float, float], ...]


ChunkCallback = Callable[[SpeechChunk], None]


def synthesize(
    model_path: Path,
    config_path: Path,
    text: str,
    *,
    speed: float = 1.0,
    should_stop: Callable[[], bool] | None = None,
    on_chunk: ChunkCallback | None = None,
) -> PiperOutput:
    """Speak ``text``; ``speed`` > 1 is faster (Piper's length scale is divided by it).

    Piper cannot change pitch. ``should_stop`` is polled between sentences; when it returns
    True the output so far is returned. ``on_chunk`` is called after each sentence with its
    audio and its raw alignments (times from the start of the whole text), so a caller can
    start work on the speech before the last sentence is spoken.
    """
    from piper import SynthesisConfig

    voice = load(model_path, config_path)
    base_scale = float(voice.config.length_scale or 1.0)
    syn = SynthesisConfig(length_scale=base_scale / speed)
    rate = int(voice.config.sample_rate)

    audio: list[np.ndarray] = []
    aligned: list[tuple[str, float, float]] = []
    have_alignments = True
    offset = 0
    for chunk in voice.synthesize(text, syn_config=syn, include_alignments=True):
        samples = np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1)
        audio.append(samples)
        n_before = len(aligned)
        if chunk.phoneme_alignments is None:
            have_alignments = False
        else:
            pos = offset
            for item in chunk.phoneme_alignments:
                n = int(item.num_samples)
                aligned.append((item.phoneme, pos / rate, (pos + n) / rate))
                pos += n
        if on_chunk is not None:
            on_chunk(SpeechChunk(samples, rate, offset / rate, tuple(aligned[n_before:])))
        offset += len(samples)
        if should_stop is not None and should_stop():
            break
    samples = np.concatenate(audio) if audio else np.zeros(0, dtype=np.float32)
    release_working_memory(voice)
    if not have_alignments:
        return PiperOutput(samples, rate, (), None)
    return PiperOutput(samples, rate, merge_phonemes(aligned), word_spans(aligned))


def merge_phonemes(
    aligned: list[tuple[str, float, float]],
) -> tuple[tuple[str, float, float], ...]:
    """Turn Piper's per-code-point alignment into phones like eSpeak's IPA events.

    Stress marks join the following phone, length marks and diacritics the previous one,
    a word gap is absorbed by the previous phone (speech flows across it), and punctuation,
    BOS and EOS become PAUSE intervals (merged when adjacent).
    """
    out: list[list] = []
    pending_stress: tuple[str, float] | None = None
    for i, (sym, start, end) in enumerate(aligned):
        if sym in _STRESS:
            pending_stress = (
                (sym, start)
                if pending_stress is None
                else (pending_stress[0] + sym, pending_stress[1])
            )
            continue
        if sym == " ":
            nxt = aligned[i + 1][0] if i + 1 < len(aligned) else "$"
            if out and out[-1][0] != PAUSE and not _is_boundary(nxt):
                out[-1][2] = end
                continue
            sym = PAUSE
        elif _is_boundary(sym):
            sym = PAUSE
        elif _is_modifier(sym) and out and out[-1][0] != PAUSE:
            out[-1][0] += sym
            out[-1][2] = end
            continue
        if pending_stress is not None:
            if sym != PAUSE:  # a stress mark starts its phone; before a pause it means nothing
                sym, start = pending_stress[0] + sym, pending_stress[1]
            pending_stress = None
        if sym == PAUSE and out and out[-1][0] == PAUSE:
            out[-1][2] = end
        elif end > start:
            out.append([sym, start, end])
    return tuple((s, a, b) for s, a, b in out)


def word_spans(aligned: list[tuple[str, float, float]]) -> tuple[tuple[float, float], ...]:
    """(start, end) of each run of non-boundary phonemes, i.e. of each spoken word."""
    spans: list[tuple[float, float]] = []
    current: list[float] | None = None
    for sym, start, end in aligned:
        if _is_boundary(sym):
            if current is not None:
                spans.append((current[0], current[1]))
                current = None
        elif current is None:
            current = [start, end]
        else:
            current[1] = end
    if current is not None:
        spans.append((current[0], current[1]))
    return tuple(spans)
