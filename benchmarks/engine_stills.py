"""Stills of the local engine for docs/: mouth closed, open, mid-blink, on an upright, a
15-degree tilted and a (synthetic) glasses portrait, as one labelled contact sheet.

    python benchmarks/engine_stills.py OUT.png

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


if __name__ == "__main__":
    sheet().save(Path(sys.argv[1]))
