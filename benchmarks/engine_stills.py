"""Stills of the local engine for docs/: mouth closed, open, mid-blink, on an upright, a
15-degree tilted and a (synthetic) glasses portrait, as one labelled contact sheet; with
``--mouth``, close-ups of the mouth shapes (closed, open, spread, rounded, f/v) on the upright,
tilted and grayscale portraits, at twice the size so the lip edges can be judged.

    python benchmarks/engine_stills.py OUT.png
    python benchmarks/engine_stills.py --mouth OUT.png

Uses only detect_face and FaceAnimator, so the same script renders an older checkout
(run it with that checkout on PYTHONPATH) for a before/after comparison.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw
from skimage import data

from providers.local.animate import FaceAnimator
from providers.local.face import detect_face


def portraits() -> dict[str, np.ndarray]:
    base = cv2.resize(data.astronaut(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    m = cv2.getRotationMatrix2D((449.0, 240.0), -15, 1.0)  # head tilted 15 deg clockwise
    tilted = cv2.warpAffine(base, m, base.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
    glasses = base.copy()  # the same frames as tests/portraits.py draws
    for c in ((406, 201), (492, 204)):
        cv2.ellipse(glasses, c, (34, 24), 0, 0, 360, (25, 20, 20), 5, cv2.LINE_AA)
    cv2.line(glasses, (440, 197), (458, 200), (25, 20, 20), 5, cv2.LINE_AA)
    return {"upright": base, "tilted 15": tilted, "glasses": glasses}


def sheet() -> Image.Image:
    tiles = []
    for name, rgb in portraits().items():
        lm = detect_face(rgb)
        anim = FaceAnimator(rgb, lm)
        row = []
        for label, (o, b) in (("closed", (0.0, 0.0)), ("open", (0.8, 0.0)), ("blink", (0.0, 1.0))):
            frame = anim.frame(o, 1.0, b).copy()
            cx, cy = (lm.left_eye[0] + lm.right_eye[0]) / 2, lm.mouth_center[1]
            x0, y0 = int(cx - 150), int(cy - 190)
            crop = Image.fromarray(frame[y0 : y0 + 300, x0 : x0 + 300])
            ImageDraw.Draw(crop).text((6, 4), f"{name} / {label}", fill=(255, 255, 0))
            row.append(crop)
        tiles.append(row)
    out = Image.new("RGB", (900, 300 * len(tiles)))
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            out.paste(tile, (300 * c, 300 * r))
    return out


MOUTH_STATES = (
    ("closed", 0.0, 1.0, 0.0),
    ("open a", 1.0, 1.0, 0.0),
    ("half open", 0.5, 1.0, 0.0),
    ("spread i", 0.45, 1.12, 0.0),
    ("rounded u", 0.5, 0.78, 0.0),
    ("f / v", 0.1, 1.0, 1.0),
)


def _mouth_frame(anim: FaceAnimator, o: float, w: float, tuck: float) -> np.ndarray:
    try:
        return anim.frame(o, w, 0.0, tuck=tuck).copy()  # type: ignore[call-arg]
    except TypeError:  # an older checkout without the f/v shape
        return anim.frame(o, w, 0.0).copy()


def mouth_sheet() -> Image.Image:
    photos = portraits()
    gray = cv2.cvtColor(photos["upright"], cv2.COLOR_RGB2GRAY)
    photos = {
        "upright": photos["upright"],
        "tilted 15": photos["tilted 15"],
        "grayscale": cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB),
    }
    size, zoom = 200, 2
    rows = []
    for name, rgb in photos.items():
        lm = detect_face(rgb)
        anim = FaceAnimator(rgb, lm)
        cx, cy = lm.mouth_center
        x0, y0 = int(cx - size / 2), int(cy - 0.4 * size)
        row = []
        for label, o, w, tuck in MOUTH_STATES:
            crop = _mouth_frame(anim, o, w, tuck)[y0 : y0 + size, x0 : x0 + size]
            tile = Image.fromarray(crop).resize((size * zoom, size * zoom), Image.LANCZOS)
            ImageDraw.Draw(tile).text((6, 4), f"{name} / {label}", fill=(255, 255, 0))
            row.append(tile)
        rows.append(row)
    side = size * zoom
    out = Image.new("RGB", (side * len(MOUTH_STATES), side * len(rows)))
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            out.paste(tile, (side * c, side * r))
    return out


if __name__ == "__main__":
    if sys.argv[1] == "--mouth":
        mouth_sheet().save(Path(sys.argv[2]))
    else:
        sheet().save(Path(sys.argv[1]))
