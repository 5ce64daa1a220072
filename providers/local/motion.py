"""Blinks and head sway: per-frame curves drawn from a seeded random generator.

Both are deterministic for a given seed, so re-rendering a job gives the same video.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def blink_track(n_frames: int, fps: float, seed: int) -> np.ndarray:
    """Eyelid closure (0 open .. 1 shut) per frame.

    A blink every 2-6 s (first one after 0.8-2.5 s so short clips blink too), each lasting
    150-250 ms: the lid drops faster than it rises, as real lids do.
    """
    rng = np.random.default_rng(seed)
    out = np.zeros(n_frames, dtype=np.float32)
    t = rng.uniform(0.8, 2.5)
    end = n_frames / fps
    while t < end:
        dur = rng.uniform(0.15, 0.25)
        close = dur * 0.4
        for i in range(int(t * fps), min(n_frames, int(np.ceil((t + dur) * fps)) + 1)):
            u = i / fps - t
            if 0 <= u <= close:
                v = u / close
            elif close < u <= dur:
                v = 1 - (u - close) / (dur - close)
            else:
                continue
            out[i] = max(out[i], float(np.sin(v * np.pi / 2)))  # ease: lids decelerate
        t += dur + rng.uniform(2.0, 6.0)
    # At 25 fps a 150 ms blink spans ~4 frames; make sure its peak frame is fully shut.
    return np.where(out > 0.75, 1.0, out).astype(np.float32)


@dataclass(frozen=True)
class HeadTrack:
    """Per-frame head pose offsets: rotation (rad), translation (fractions of face width),
    scale (relative). All zero when intensity is 0."""

    angle: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    scale: np.ndarray

    def is_still(self) -> bool:
        return not (self.angle.any() or self.dx.any() or self.dy.any() or self.scale.any())


def head_track(
    n_frames: int, fps: float, intensity: float, seed: int, loudness: np.ndarray | None = None
) -> HeadTrack:
    """Slow, small head motion. ``intensity`` 0..1 scales everything; 0 is exactly still.

    Smooth noise below ~0.5 Hz (sway), plus a small nod that follows speech loudness.
    At intensity 1: about +-2.5 degrees roll, +-2% of the face width drift, +-1.5% scale.
    """
    zero = np.zeros(n_frames, dtype=np.float32)
    if intensity <= 0 or n_frames == 0:
        return HeadTrack(zero, zero.copy(), zero.copy(), zero.copy())
    rng = np.random.default_rng(seed + 7919)
    t = np.arange(n_frames) / fps

    def sway(max_hz: float) -> np.ndarray:
        # Sum of a few random low-frequency sines: smooth, never repeats visibly.
        freqs = rng.uniform(0.08, max_hz, 3)
        phases = rng.uniform(0, 2 * np.pi, 3)
        weights = rng.uniform(0.5, 1.0, 3)
        parts = zip(freqs, phases, weights, strict=True)
        s = sum(w * np.sin(2 * np.pi * f * t + p) for f, p, w in parts)
        return (s / weights.sum()).astype(np.float32)

    nod = zero
    if loudness is not None and len(loudness) == n_frames:
        k = max(1, int(fps * 0.3))
        nod = np.convolve(loudness, np.ones(k) / k, mode="same").astype(np.float32)
    i = float(np.clip(intensity, 0.0, 1.0))
    return HeadTrack(
        angle=(np.deg2rad(2.5) * i * sway(0.45)).astype(np.float32),
        dx=(0.02 * i * sway(0.35)).astype(np.float32),
        dy=(0.012 * i * sway(0.4) + 0.01 * i * nod).astype(np.float32),
        scale=(0.015 * i * sway(0.3)).astype(np.float32),
    )
