"""Stills of blinks (bare face and drawn glasses) and of head motion, for docs/.

    python benchmarks/engine_stills_eyes_head.py BLINK.png HEAD.png

Blink sheet: the eyes of the upright astronaut and of the same photo with drawn glasses
(tests/portraits.py), framed 720x720 as a video would be, at closure 0, 0.5 and 1, shown 2x.
Head sheet: the framed photo (480x480) still, moved by the largest pose head motion 1.0
reaches (2.5 degrees, 2% / 1.2% of the face width, 1.5% scale), and the difference x4.
Uses only detect_face and FaceAnimator (and the framing), so running it with an older checkout
on PYTHONPATH renders the "before".
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw
from skimage import data

from providers.local.animate import FaceAnimator
from providers.local.face import FaceLandmarks, detect_face
from providers.local.framing import plan_framing, render_base

POSE = (float(np.deg2rad(2.5)), 0.02, 0.012, 0.015)


def _glasses(base: np.ndarray) -> np.ndarray:
    img = base.copy()  # the same drawing as tests/portraits.py with_glasses
    le, re = (406, 201), (492, 204)
    for c in (le, re):
        cv2.ellipse(img, c, (34, 24), 0, 0, 360, (25, 20, 20), 5, cv2.LINE_AA)
    cv2.line(img, (le[0] + 34, le[1] - 4), (re[0] - 34, re[1] - 4), (25, 20, 20), 5, cv2.LINE_AA)
    cv2.line(img, (le[0] - 34, le[1]), (le[0] - 70, le[1] - 6), (25, 20, 20), 5, cv2.LINE_AA)
    cv2.line(img, (re[0] + 34, re[1]), (re[0] + 70, re[1] - 6), (25, 20, 20), 5, cv2.LINE_AA)
    return img


def _framed(rgb: np.ndarray, size: int) -> tuple[np.ndarray, FaceLandmarks]:
    lm = detect_face(rgb)
    fr = plan_framing(rgb.shape[1], rgb.shape[0], lm.box, size, "1:1")
    base = render_base(rgb, fr)
    return base, lm.transformed(fr.scale, -fr.x0 * fr.scale, -fr.y0 * fr.scale)


def _label(img: np.ndarray, text: str) -> Image.Image:
    im = Image.fromarray(img)
    ImageDraw.Draw(im).text((6, 4), text, fill=(255, 255, 0))
    return im


def blink_sheet() -> Image.Image:
    photo = cv2.resize(data.astronaut(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    rows = []
    for name, rgb in (("bare", photo), ("glasses", _glasses(photo))):
        base, lm = _framed(rgb, 720)
        anim = FaceAnimator(base, lm)
        cx = round((lm.left_eye[0] + lm.right_eye[0]) / 2)
        cy = round((lm.left_eye[1] + lm.right_eye[1]) / 2)
        row = []
        for closure in (0.0, 0.5, 1.0):
            crop = anim.frame(0.0, 1.0, closure)[cy - 45 : cy + 45, cx - 110 : cx + 110]
            big = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
            row.append(_label(big, f"{name} / blink {closure:.1f}"))
        rows.append(row)
    w, h = rows[0][0].size
    out = Image.new("RGB", (3 * w, 2 * h))
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            out.paste(tile, (c * w, r * h))
    return out


def head_sheet() -> Image.Image:
    photo = cv2.resize(data.astronaut(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    base, lm = _framed(photo, 480)
    anim = FaceAnimator(base, lm)
    moved = anim.frame(0.0, 1.0, 0.0, POSE).copy()
    diff = np.abs(moved.astype(np.int16) - base.astype(np.int16)).max(axis=2)
    diff_rgb = np.repeat(np.clip(diff * 4, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    tiles = [
        _label(base, "still"),
        _label(moved, "head moved (largest pose at 1.0)"),
        _label(diff_rgb, "difference x4"),
    ]
    out = Image.new("RGB", (3 * base.shape[1], base.shape[0]))
    for i, tile in enumerate(tiles):
        out.paste(tile, (i * base.shape[1], 0))
    return out


if __name__ == "__main__":
    blink_sheet().save(Path(sys.argv[1]))
    head_sheet().save(Path(sys.argv[2]))
