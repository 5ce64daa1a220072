"""Speech -> per-frame mouth shape (openness 0..1 and a width factor around 1).

Phoneme timings (espeak mnemonics or IPA) give the shape: open vowels open wide, rounded
vowels open less and narrow the lips, p/b/m close them, f/v nearly close them. The loudness
envelope carries the rhythm and scales that shape, so stressed syllables open wider, and the
mouth is closed wherever the audio is silent even if a phoneme's timing is a little off.
Without phonemes the envelope alone drives the mouth. Both are eased with a faster attack than
release (coarticulation), computed at 100 Hz and sampled at each video frame.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

_RATE = 100.0  # Hz: fine enough for 40 ms frames and 30-60 ms phonemes
_LEAD_S = 0.02  # the mouth moves a touch before the sound it makes
_ATTACK_S = 0.03
_RELEASE_S = 0.05  # lips close for p/b/m within ~50 ms
_REST_FRAMES = 2  # the first and last frames ease in from / out to a closed mouth


class PhonemeLike(Protocol):
    symbol: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class MouthTrack:
    """One value per video frame. ``openness`` in 0..1; ``width`` ~0.8 (rounded) .. 1.1;
    ``tuck`` 0..1: the lower lip under the upper teeth (f, v)."""

    openness: np.ndarray
    width: np.ndarray
    tuck: np.ndarray


# (openness, width) targets by phoneme class. Keys are base letters after stripping length
# and aspiration marks; espeak's ASCII mnemonics and IPA are both covered.
_SHAPES: dict[str, tuple[float, float]] = {}
for _chars, _shape in (
    ("aɑæɐʌAVa", (1.0, 1.05)),  # open vowels
    ("ɒ0", (0.75, 0.85)),
    ("oɔOø œɶ", (0.6, 0.8)),  # rounded mid
    ("uʊUyʏɯwW", (0.32, 0.72)),  # rounded close
    ("eɛEəɘ@3ɜɚɝ", (0.55, 1.0)),  # mid
    ("iɪIɨjY", (0.32, 1.1)),  # close front: spread lips
    ("pbmɸβP", (0.0, 1.0)),  # bilabial: lips closed
    ("fvʋF", (0.12, 1.0)),  # labiodental
    ("θðTD", (0.22, 1.0)),
    ("sz", (0.15, 1.05)),
    ("ʃʒSZɕʑʂʐ", (0.2, 0.85)),  # postalveolar: slightly rounded
    ("tdnlrɾɹɻʈɖɳɭɽcɟɲ", (0.25, 1.0)),
    ("kgŋxɣqɢʔKGNX", (0.3, 1.0)),
    ("hɦɧ", (0.45, 1.0)),
):
    for _c in _chars:
        if not _c.isspace():
            _SHAPES[_c] = _shape
_DEFAULT_SHAPE = (0.3, 1.0)
_PAUSE = "_ |‖.,"  # espeak pause symbols and punctuation: mouth at rest


def phoneme_shape(symbol: str) -> tuple[float, float]:
    """(openness, width) target for one espeak or IPA phoneme symbol.

    Diphthongs and affricates use their first element (a in aI, t in tS).
    """
    if _is_pause(symbol):
        return (0.0, 1.0)
    s = _base(symbol)
    return _SHAPES.get(s[0], _DEFAULT_SHAPE)


def _base(symbol: str) -> str:
    return unicodedata.normalize("NFD", symbol.strip().strip("'ˈˌ%="))


def _is_pause(symbol: str) -> bool:
    s = _base(symbol)
    return not s or s[0] in _PAUSE


def loudness_envelope(samples: np.ndarray, sample_rate: int, rate: float = _RATE) -> np.ndarray:
    """RMS over 40 ms windows at ``rate`` Hz, scaled to 0..1 on a log (dB) scale.

    -45 dB below the loudest window maps to 0 so breaths and dither read as silence.
    """
    x = np.asarray(samples, dtype=np.float32)
    hop = sample_rate / rate
    n = max(1, int(np.ceil(len(x) / hop)))
    win = int(0.04 * sample_rate)
    sq = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    centres = (np.arange(n) * hop).astype(np.int64)
    lo = np.clip(centres - win // 2, 0, len(x))
    hi = np.clip(centres + win // 2, 0, len(x))
    rms = np.sqrt((sq[hi] - sq[lo]) / np.maximum(1, hi - lo))
    peak = float(rms.max()) if rms.size else 0.0
    if peak <= 1e-6:
        return np.zeros(n, dtype=np.float32)
    db = 20 * np.log10(np.maximum(rms, 1e-9) / peak)
    return np.clip((db + 45.0) / 45.0, 0.0, 1.0).astype(np.float32)


def mouth_track(
    samples: np.ndarray,
    sample_rate: int,
    phonemes: Sequence[PhonemeLike],
    n_frames: int,
    fps: float,
) -> MouthTrack:
    """The mouth for each of ``n_frames`` frames of a video at ``fps``."""
    env = loudness_envelope(samples, sample_rate)
    n = len(env)
    # Silence (below ~-30 dB) closes the mouth whatever the phonemes say.
    gate = np.clip((env - 0.25) / 0.2, 0.0, 1.0)
    if phonemes:
        shape = np.zeros(n, dtype=np.float32)
        lips = np.ones(n, dtype=np.float32)
        target_w = np.ones(n, dtype=np.float32)
        target_t = np.zeros(n, dtype=np.float32)
        for ph in phonemes:
            a = max(0, round((ph.start_s - _LEAD_S) * _RATE))
            b = min(n, max(a + 1, round((ph.end_s - _LEAD_S) * _RATE)))
            o, w = phoneme_shape(ph.symbol)
            shape[a:b] = o
            target_w[a:b] = w
            if not _is_pause(ph.symbol):
                # Lips pressed (p/b/m) or touching the teeth (f/v) close the mouth even
                # while the voice is loud (a hummed "m").
                lips[a:b] = 0.1 if o == 0.0 else 0.45 if o < 0.13 else 1.0
                if 0.0 < o < 0.13:
                    target_t[a:b] = 1.0  # f, v: teeth on the lower lip
        # Loudness carries the rhythm (what a viewer checks sync against); the viseme sets
        # how wide each sound opens and closes the lips on p/b/m and f/v.
        target_o = env * (0.4 + 0.6 * shape) * lips * gate
    else:
        target_o = env * gate
        target_w = np.ones(n, dtype=np.float32)
        target_t = np.zeros(n, dtype=np.float32)
    openness = _ease(target_o, _ATTACK_S, _RELEASE_S)
    width = 1.0 + _ease(target_w - 1.0, _ATTACK_S, _RELEASE_S) * np.clip(openness * 3, 0, 1)
    tuck = _ease(target_t * gate, _ATTACK_S, _RELEASE_S)
    t = (np.arange(n_frames) + 0.5) / fps * _RATE
    idx = np.clip(t.astype(np.int64), 0, max(0, n - 1))
    if n == 0:
        return MouthTrack(
            np.zeros(n_frames, np.float32),
            np.ones(n_frames, np.float32),
            np.zeros(n_frames, np.float32),
        )
    # A video starts and ends with the mouth at rest, even when the voice starts at once:
    # frame 0 and the last frame closed, the next ones half way.
    i = np.arange(n_frames, dtype=np.float32)
    rest = np.clip(np.minimum(i, n_frames - 1 - i) / _REST_FRAMES, 0.0, 1.0)
    return MouthTrack(
        openness=(np.clip(openness[idx], 0.0, 1.0) * rest).astype(np.float32),
        width=width[idx].astype(np.float32),
        tuck=(np.clip(tuck[idx], 0.0, 1.0) * rest).astype(np.float32),
    )


def _ease(x: np.ndarray, attack_s: float, release_s: float) -> np.ndarray:
    """One-pole smoothing: rises with ``attack_s``, falls with ``release_s`` (time constants).

    Run forwards and backwards and averaged, so the curve is not delayed overall.
    """
    ka = 1.0 - np.exp(-1.0 / (attack_s * _RATE))
    kr = 1.0 - np.exp(-1.0 / (release_s * _RATE))

    def one_way(seq: np.ndarray) -> np.ndarray:
        out = np.empty_like(seq, dtype=np.float32)
        y = 0.0
        for i, v in enumerate(seq.tolist()):
            y += (ka if v > y else kr) * (v - y)
            out[i] = y
        return out

    fwd = one_way(x)
    bwd = one_way(x[::-1])[::-1]
    return ((fwd + bwd) / 2).astype(np.float32)
