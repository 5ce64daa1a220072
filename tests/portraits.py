"""A labelled set of test portraits built from ``skimage.data.astronaut()`` (public domain).

Ground truth was read by eye once, from 10-12x nearest-neighbour zooms of the 512 px original
with a 5 px grid drawn on (not from any detector): pupil centres, the points where the lips
meet at the corners, and the mouth centre on the lip line (she smiles with the upper teeth
showing; the lip line is the bottom edge of the upper teeth, where the jaw separates).
Every variant moves the labels with the same transform as the pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from providers.base import GenerationRequest

Point = tuple[float, float]

# Hand labels, 512 px original, (x, y) pixels; "left" is the image's left.
LEFT_EYE: Point = (203.0, 100.5)
RIGHT_EYE: Point = (246.0, 102.0)
MOUTH_LEFT: Point = (203.8, 140.4)
MOUTH_RIGHT: Point = (241.8, 142.0)
MOUTH_CENTER: Point = (222.5, 147.3)


@dataclass(frozen=True)
class Portrait:
    name: str
    rgb: np.ndarray
    left_eye: Point
    right_eye: Point
    mouth_left: Point
    mouth_right: Point
    mouth_center: Point

    @property
    def eye_distance(self) -> float:
        return math.dist(self.left_eye, self.right_eye)

    @property
    def roll_deg(self) -> float:
        dx = self.right_eye[0] - self.left_eye[0]
        dy = self.right_eye[1] - self.left_eye[1]
        return math.degrees(math.atan2(dy, dx))


def _labels() -> np.ndarray:
    return np.array([LEFT_EYE, RIGHT_EYE, MOUTH_LEFT, MOUTH_RIGHT, MOUTH_CENTER], np.float64)


def _make(name: str, rgb: np.ndarray, m: np.ndarray) -> Portrait:
    """A portrait whose labels are the originals mapped by the 2x3 affine ``m``."""
    pts = _labels() @ m[:, :2].T + m[:, 2]
    le, re, ml, mr, mc = (tuple(float(v) for v in p) for p in pts)
    return Portrait(name, np.ascontiguousarray(rgb), le, re, ml, mr, mc)  # type: ignore[arg-type]


def _affine(scale: float, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    return np.array([[scale, 0.0, dx], [0.0, scale, dy]])


def portraits() -> list[Portrait]:
    """Upright 1024 px, rotations of +-10/15/20 degrees, grayscale, dim, glasses, small face."""
    base = cv2.resize(data.astronaut(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    up = _affine(2.0)
    out = [_make("upright", base, up)]
    centre = tuple(float(v) for v in (_labels()[[0, 1, 4]].mean(axis=0) * 2))
    for deg in (-20, -15, -10, 10, 15, 20):
        r = cv2.getRotationMatrix2D(centre, deg, 1.0)  # positive: counter-clockwise on screen
        rot = cv2.warpAffine(base, r, base.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
        m = r @ np.vstack([up, [0, 0, 1]])
        out.append(_make(f"rot{deg:+d}", rot, m))
    gray = cv2.cvtColor(cv2.cvtColor(base, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    out.append(_make("grayscale", gray, up))
    dim = ((base.astype(np.float32) / 255) ** 1.8 * 0.55 * 255).astype(np.uint8)
    out.append(_make("dim", dim, up))
    out.append(_make("glasses", with_glasses(base), up))
    canvas = np.full((1600, 2000, 3), 200, np.uint8)
    face = cv2.resize(data.astronaut(), None, fx=1.42, fy=1.42, interpolation=cv2.INTER_CUBIC)
    canvas[500 : 500 + face.shape[0], 900 : 900 + face.shape[1]] = face
    out.append(_make("small_in_big_frame", canvas, _affine(1.42, 900, 500)))
    return out


def with_glasses(base: np.ndarray) -> np.ndarray:
    """Synthetic glasses drawn on the 1024 px astronaut (no public-domain glasses portrait is
    available): two dark rims around the labelled eyes, a bridge and the temples."""
    img = base.copy()
    le = (round(LEFT_EYE[0] * 2), round(LEFT_EYE[1] * 2))
    re = (round(RIGHT_EYE[0] * 2), round(RIGHT_EYE[1] * 2))
    for c in (le, re):
        cv2.ellipse(img, c, (34, 24), 0, 0, 360, (25, 20, 20), 5, cv2.LINE_AA)
    cv2.line(img, (le[0] + 34, le[1] - 4), (re[0] - 34, re[1] - 4), (25, 20, 20), 5, cv2.LINE_AA)
    cv2.line(img, (le[0] - 34, le[1]), (le[0] - 70, le[1] - 6), (25, 20, 20), 5, cv2.LINE_AA)
    cv2.line(img, (re[0] + 34, re[1]), (re[0] + 70, re[1] - 6), (25, 20, 20), 5, cv2.LINE_AA)
    return img


def write_astronaut_jpeg(path: Path) -> Path:
    """The astronaut at 1024 px (the 512 px original's face is below ``min_face_px``) as a
    JPEG at ``path``: the portrait the browser tests upload."""
    from PIL import Image

    Image.fromarray(data.astronaut()).resize((1024, 1024)).save(path, "JPEG", quality=90)
    return path


def head_motion_request(photo: Path) -> GenerationRequest:
    """The short English clip at head motion 1.0 that the background-stability test and
    ``benchmarks/engine_background.py`` both render."""
    return GenerationRequest(
        photo_path=photo,
        script="Hello there! Welcome to Talking Photo. This portrait can now speak any script.",
        language="en",
        voice="espeak:en:female",
        resolution=480,
        aspect="1:1",
        head_motion=1.0,
    )
