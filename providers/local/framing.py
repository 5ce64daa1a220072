"""Frame the portrait for the chosen resolution and aspect, around the face.

The output canvas has ``resolution`` pixels on its short side. We pick a window in photo
coordinates with the output's aspect that keeps the whole head with margin (the face box plus
room for hair, chin and head motion) and, within that, shows as much of the photo as the
zoom limit allows. Where the window leaves the photo, the missing part is filled with a
blurred, edge-extended copy of the photo rather than black bars, so the face is never cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

ASPECT_RATIOS: dict[str, tuple[int, int]] = {"1:1": (1, 1), "9:16": (9, 16), "16:9": (16, 9)}

# The face box may take at most this share of the window's short side (head, hair, chin and
# head motion must fit) and at least this share (a tiny face in a big landscape is useless).
_MAX_FACE_SHARE = 0.5
_MIN_FACE_SHARE = 0.3


@dataclass(frozen=True)
class Framing:
    """Where the output window sits in the photo: ``out = (photo - (x0, y0)) * scale``."""

    width: int
    height: int
    x0: float
    y0: float
    scale: float


def output_size(resolution: int, aspect: str) -> tuple[int, int]:
    """(width, height) with the short side = ``resolution`` and both sides even (yuv420p)."""
    if aspect not in ASPECT_RATIOS:
        raise ValueError(f"unknown aspect {aspect!r}")
    aw, ah = ASPECT_RATIOS[aspect]
    long_side = round(resolution * max(aw, ah) / min(aw, ah) / 2) * 2
    return (
        (resolution, long_side)
        if aw < ah
        else (long_side, resolution)
        if aw > ah
        else (
            resolution,
            resolution,
        )
    )


def plan_framing(
    photo_w: int, photo_h: int, face_box: tuple[int, int, int, int], resolution: int, aspect: str
) -> Framing:
    """Choose the window: face centred horizontally, eyes a little above the middle."""
    out_w, out_h = output_size(resolution, aspect)
    fx, fy, fw, _ = face_box
    short_out = min(out_w, out_h)
    # Window short side in photo pixels, from the largest that fits the photo, clamped so the
    # face share stays between the two limits.
    fit = min(photo_w / out_w, photo_h / out_h) * short_out
    win_short = float(np.clip(fit, fw / _MAX_FACE_SHARE, fw / _MIN_FACE_SHARE))
    scale = short_out / win_short
    win_w, win_h = out_w / scale, out_h / scale
    cx = fx + fw / 2
    cy = fy + fw * 0.55  # slightly below the box centre: the chin and neck need the room
    x0 = cx - win_w / 2
    # Put the face centre at 45% of the height on tall/square frames (portrait convention).
    y0 = cy - win_h * (0.45 if out_h >= out_w else 0.5)
    # Slide the window back inside the photo where it can, but never so far that the head
    # (box + margins) leaves the window.
    x0 = _slide(x0, win_w, photo_w, fx - 0.35 * fw, fx + 1.35 * fw)
    y0 = _slide(y0, win_h, photo_h, fy - 0.5 * fw, fy + 1.4 * fw)
    return Framing(width=out_w, height=out_h, x0=x0, y0=y0, scale=scale)


def _slide(start: float, size: float, limit: float, keep_lo: float, keep_hi: float) -> float:
    """1-D window placement: inside the photo if it fits (else centred on it), head kept in."""
    start = (limit - size) / 2 if size >= limit else min(max(start, 0.0), limit - size)
    start = min(start, keep_lo)
    return max(start, keep_hi - size)


def render_base(photo: np.ndarray, framing: Framing) -> np.ndarray:
    """The still output frame: the window resampled, padding filled with blurred edges."""
    size = (framing.width, framing.height)
    s = framing.scale
    if s < 1:
        # warpAffine has no area filter: shrink first so big photos do not alias.
        photo = cv2.resize(photo, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        m = np.array([[1, 0, -framing.x0 * s], [0, 1, -framing.y0 * s]], dtype=np.float64)
    else:
        m = np.array([[s, 0, -framing.x0 * s], [0, s, -framing.y0 * s]], dtype=np.float64)
    frame = cv2.warpAffine(photo, m, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.warpAffine(
        np.full(photo.shape[:2], 255, np.uint8),
        m,
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    if inside.min() == 255:
        return frame
    # Fill the padding the way phone apps do: the whole photo, scaled to cover the canvas,
    # heavily blurred and a little darker, with the real photo feathered on top.
    ph, pw = photo.shape[:2]
    cover = max(size[0] / pw, size[1] / ph)
    small = cv2.resize(
        photo,
        (max(1, int(pw * cover / 8)), max(1, int(ph * cover / 8))),
        interpolation=cv2.INTER_AREA,
    )
    small = cv2.GaussianBlur(small, (0, 0), 3) * 0.8
    bg = cv2.resize(
        small.astype(np.uint8),
        (int(pw * cover) + 1, int(ph * cover) + 1),
        interpolation=cv2.INTER_LINEAR,
    )
    oy, ox = (bg.shape[0] - size[1]) // 2, (bg.shape[1] - size[0]) // 2
    bg = bg[oy : oy + size[1], ox : ox + size[0]]
    alpha = cv2.GaussianBlur(inside, (0, 0), max(1.0, min(size) / 100)).astype(np.float32) / 255
    alpha = np.minimum(alpha, inside.astype(np.float32) / 255)[:, :, None]
    return (frame * alpha + bg * (1 - alpha)).astype(np.uint8)
