"""Model-free lip-sync metric for rendered videos (no SyncNet weights needed).

Follows shared/reference/talking_head.md section 2.3: a per-frame mouth signal taken from the
*decoded* video (so rendering bugs show), the audio loudness envelope at the same rate, both
band-passed to the syllable band (1-8 Hz) and z-scored, then the normalised cross-correlation
over lags of +-15 frames. The mouth is found by the face detector on frame 0; the signal is
the dark-pixel area inside the mouth box (the opening between the lips), the fallback the
reference names when no landmark model is available.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from providers.local.face import FaceLandmarks, detect_face

MAX_LAG = 15


def decode_frames(path: Path) -> tuple[np.ndarray, float]:
    """All frames as an (N, H, W, 3) uint8 array, and the frame rate."""
    gen = imageio_ffmpeg.read_frames(str(path))
    meta = gen.__next__()
    w, h = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in gen]
    return np.stack(frames), float(meta["fps"])


def decode_audio(path: Path, rate: int = 16000) -> np.ndarray:
    """The audio track as mono float32 at ``rate`` Hz."""
    raw = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-vn",
            "-ac",
            "1",
            "-ar",
            str(rate),
            "-f",
            "f32le",
            "pipe:1",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.float32)


def mouth_box(lm: FaceLandmarks, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) around the lips and the jaw just below them."""
    cx, cy = lm.mouth_center
    half = lm.mouth_width / 2
    return (
        max(0, int(cx - 1.2 * half)),
        max(0, int(cy - 0.4 * half)),
        min(shape[1], int(cx + 1.2 * half)),
        min(shape[0], int(cy + 1.1 * half)),
    )


def mouth_signal(frames: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Share of the mouth box darker than 55% of its median grey level on frame 0."""
    x0, y0, x1, y1 = box
    roi = frames[:, y0:y1, x0:x1].astype(np.float32).mean(axis=3)
    return (roi < 0.55 * float(np.median(roi[0]))).mean(axis=(1, 2))


def audio_envelope(audio: np.ndarray, rate: int, fps: float, n: int) -> np.ndarray:
    """RMS over 40 ms windows at one value per video frame, log-compressed (dB)."""
    hop = rate / fps
    win = int(0.04 * rate)
    out = np.empty(n, np.float32)
    for i in range(n):
        c = int((i + 0.5) * hop)
        seg = audio[max(0, c - win // 2) : c + win // 2]
        out[i] = np.sqrt(np.mean(seg.astype(np.float64) ** 2)) if seg.size else 0.0
    return 20 * np.log10(np.maximum(out, 1e-4))


def bandpass(x: np.ndarray, fps: float, lo: float = 1.0, hi: float = 8.0) -> np.ndarray:
    """Keep the syllable band (FFT mask with soft edges), then z-score."""
    x = x - x.mean()
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1.0 / fps)
    gain = np.clip((f - lo / 2) / (lo / 2), 0, 1) * np.clip((hi * 1.25 - f) / (hi * 0.25), 0, 1)
    y = np.fft.irfft(spec * gain, n=len(x))
    sd = y.std()
    return (y - y.mean()) / sd if sd > 1e-9 else y * 0


def xcorr(a: np.ndarray, b: np.ndarray, max_lag: int = MAX_LAG) -> dict[int, float]:
    """Pearson r of a[t] with b[t + lag] (positive lag: the audio comes later)."""
    out: dict[int, float] = {}
    n = len(a)
    for lag in range(-max_lag, max_lag + 1):
        x = a[max(0, -lag) : n - max(0, lag)]
        y = b[max(0, lag) : n - max(0, -lag)]
        out[lag] = float(np.corrcoef(x, y)[0, 1]) if len(x) > 3 and x.std() and y.std() else 0.0
    return out


@dataclass(frozen=True)
class SyncReport:
    r0: float  # correlation at lag 0
    best_lag: int  # frames; positive = audio late
    r_best: float
    confidence: float  # r_best minus the median over all lags (LSE-C analogue)
    r_shifted: float  # negative control: audio moved by 1 s
    mouth: np.ndarray  # raw per-frame mouth signal
    envelope_db: np.ndarray  # raw per-frame audio envelope


def sync_report(path: Path) -> SyncReport:
    frames, fps = decode_frames(path)
    lm = detect_face(np.ascontiguousarray(frames[0]), min_face_px=40)
    m = mouth_signal(frames, mouth_box(lm, frames.shape[1:]))
    rate = 16000
    env = audio_envelope(decode_audio(path, rate), rate, fps, len(frames))
    mz, ez = bandpass(m, fps), bandpass(env, fps)
    r = xcorr(mz, ez)
    best = max(r, key=lambda k: r[k])
    shift = round(fps)  # 1 s
    shifted = bandpass(np.roll(env, shift), fps)
    return SyncReport(
        r0=r[0],
        best_lag=best,
        r_best=r[best],
        confidence=r[best] - float(np.median(list(r.values()))),
        r_shifted=float(np.corrcoef(mz, shifted)[0, 1]),
        mouth=m,
        envelope_db=env,
    )


def mesh_gap_signal(frames: np.ndarray) -> np.ndarray:
    """Per frame, the inner-lip gap (mesh points 13-14) tracked by the face mesh on the
    decoded video, in eye distances. The box comes from frame 0; the mesh is refitted on
    every frame, so the measure does not depend on the renderer's own landmarks."""
    from providers.local import mesh

    box = mesh.detect_boxes(np.ascontiguousarray(frames[0]))[0]
    out = np.empty(len(frames), np.float32)
    for i, frame in enumerate(frames):
        pts, _ = mesh.fit_mesh(np.ascontiguousarray(frame), box)
        ipd = np.linalg.norm(
            pts[list(mesh.LEFT_EYE), :2].mean(0) - pts[list(mesh.RIGHT_EYE), :2].mean(0)
        )
        out[i] = np.linalg.norm(pts[13, :2] - pts[14, :2]) / max(ipd, 1e-6)
    return out


def mesh_sync(path: Path) -> tuple[int, float, float, np.ndarray]:
    """(best lag, r at that lag, r with the audio 1 s late as a negative control) of the
    mesh's inner-lip gap against loudness, and the gap itself."""
    frames, fps = decode_frames(path)
    gap = mesh_gap_signal(frames)
    rate = 16000
    env = audio_envelope(decode_audio(path, rate), rate, fps, len(frames))
    gz = bandpass(gap, fps)
    r = xcorr(gz, bandpass(env, fps))
    best = max(r, key=lambda k: r[k])
    shifted = float(np.corrcoef(gz, bandpass(np.roll(env, round(fps)), fps))[0, 1])
    return best, r[best], shifted, gap
