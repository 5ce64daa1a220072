"""Find the face, the eyes and the mouth in a portrait with OpenCV's bundled Haar cascades.

Why Haar cascades: they ship inside ``opencv-python-headless`` (BSD licence, no download, no
GPU), take a fraction of a second on a downscaled copy, and are good at the one thing we
need: a roughly frontal face. (dlib's 68-point model is trained on iBUG 300-W, which forbids
commercial use; the neural detectors need downloaded weights.) Several cascades and contrast
fixes vote, and eyes found inside a box confirm it. Landmarks the cascades do not give (lip
line, mouth corners) come from :mod:`providers.local.landmarks`: geometry refined with image
evidence, with face proportions filling in whatever the evidence does not show clearly.

Contract: :func:`detect_face` takes an RGB ``uint8`` array (already EXIF-oriented) and returns
:class:`FaceLandmarks` in that image's pixel coordinates, or raises :class:`errors.FaceError`
with a message a creator can act on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from errors import N_, FaceError
from providers.local.landmarks import (
    CANON,
    Point,
    cascade,
    find_eyes,
    find_mouth,
    refine_lip_line,
)

SEVERAL_FACES_NOTE = N_("Several faces found; animating the largest.")

# Detection runs on copies with these long sides; at 640 a 120 px face in a 2048 px photo
# is 37 px (the cascades see faces from 20 px).
_DETECT_LONG_SIDES = (320, 640)
_CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml")


@dataclass(frozen=True)
class FaceLandmarks:
    """A face in image pixel coordinates.

    ``box`` is the detector's (x, y, w, h) square, which spans brows to just below the mouth
    and cheek to cheek; ``mouth_left``/``mouth_right`` are the lip corners and
    ``mouth_center`` lies on the lip line (where the lips part). ``eye_radius`` is the half
    width of one eye opening. ``*_from`` say whether a landmark came from image evidence
    ("image") or from face proportions ("ratio").
    """

    box: tuple[int, int, int, int]
    left_eye: Point
    right_eye: Point
    eye_radius: float
    mouth_left: Point
    mouth_right: Point
    mouth_center: Point
    eyes_from: str = "image"
    mouth_from: str = "image"
    teeth_visible: bool = False  # the photo already shows teeth above the lip line
    mouth_curve: float = 0.0  # the lip line bends by mouth_curve * u^2 px (negative: a smile)
    notes: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        """Face width in pixels (the detector box side)."""
        return self.box[2]

    @property
    def mouth_width(self) -> float:
        return math.dist(self.mouth_left, self.mouth_right)

    @property
    def roll_rad(self) -> float:
        """Head roll from the eye line (positive: the right eye is lower)."""
        dx = self.right_eye[0] - self.left_eye[0]
        dy = self.right_eye[1] - self.left_eye[1]
        return math.atan2(dy, dx)

    def transformed(self, scale: float, dx: float, dy: float) -> FaceLandmarks:
        """The same landmarks after ``p -> p * scale + (dx, dy)`` (used by framing)."""

        def tp(p: Point) -> Point:
            return (p[0] * scale + dx, p[1] * scale + dy)

        x, y, w, h = self.box
        return FaceLandmarks(
            box=(round(x * scale + dx), round(y * scale + dy), round(w * scale), round(h * scale)),
            left_eye=tp(self.left_eye),
            right_eye=tp(self.right_eye),
            eye_radius=self.eye_radius * scale,
            mouth_left=tp(self.mouth_left),
            mouth_right=tp(self.mouth_right),
            mouth_center=tp(self.mouth_center),
            eyes_from=self.eyes_from,
            mouth_from=self.mouth_from,
            teeth_visible=self.teeth_visible,
            mouth_curve=self.mouth_curve / scale,
            notes=self.notes,
        )


def detect_face(rgb: np.ndarray, *, min_face_px: int = 120) -> FaceLandmarks:
    """Locate the largest frontal face and its eyes and mouth.

    Raises :class:`FaceError` when no face is found or the face is narrower than
    ``min_face_px``. When several faces are found the largest is used and
    :data:`SEVERAL_FACES_NOTE` is added to ``notes``.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("detect_face expects an RGB uint8 image")
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    faces = find_faces(gray)
    if not faces:
        raise FaceError(
            N_(
                "No face was found in the photo. Use a clear, front-facing portrait with the "
                "whole face visible."
            )
        )
    box = faces[0]
    if box[2] < min_face_px:
        raise FaceError(
            N_(
                "The face is too small ({px} px across); it must be at least {min_px} px. "
                "Use a closer or higher-resolution photo."
            ),
            params={"px": box[2], "min_px": min_face_px},
        )
    notes = (SEVERAL_FACES_NOTE,) if len(faces) > 1 else ()
    return _landmarks(rgb, gray, box, notes)


def find_faces(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Verified face boxes in full-resolution coordinates, largest first.

    Each cascade runs on a histogram-equalised and on a CLAHE copy (the latter copes with
    side light); a box counts when two runs agree or when eyes are found inside it, which
    keeps cats, textures and posters out.
    """
    h, w = gray.shape
    faces: list[tuple[int, int, int, int, bool]] = []
    # Coarse first: a portrait's face is found on a 320 px copy in a fraction of the time.
    # There a face must have both two agreeing runs and eyes (false hits are likelier at low
    # resolution); otherwise the 640 px copy is searched, which also finds small faces.
    for long_side in _DETECT_LONG_SIDES:
        scale = min(1.0, long_side / max(h, w))
        final = scale == 1.0 or long_side == _DETECT_LONG_SIDES[-1]
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        faces = _verified(gray, _run_cascades(small, scale, pad=0), strict=not final)
        if final and not any(f[4] for f in faces):
            # A face that fills the frame loses its chin/forehead to the edge; a replicated
            # border gives the cascade the context it needs.
            pad = max(small.shape) // 4
            faces = _merged(faces + _verified(gray, _run_cascades(small, scale, pad=pad), False))
        if faces or final:
            break
    if any(f[4] for f in faces):
        # Once a face shows its eyes, eyeless candidates are far likelier to be false hits.
        faces = [f for f in faces if f[4]]
    faces.sort(key=lambda f: f[2], reverse=True)
    # Much smaller "faces" next to a big one are almost always false hits (buttons, prints).
    return [f[:4] for f in faces if f[2] >= 0.4 * faces[0][2]] if faces else []


def _run_cascades(small: np.ndarray, scale: float, pad: int) -> list[tuple[np.ndarray, int]]:
    img = small
    if pad:
        img = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    clahe = cv2.createCLAHE(clipLimit=2.5, tileGridSize=(8, 8))
    variants = (cv2.equalizeHist(img), clahe.apply(img))
    # Two independent runs (different cascade, different contrast fix) usually settle it;
    # the other two pairings only run when they do not agree on any face.
    plan = [(0, 0), (1, 1), (0, 1), (1, 0)]
    hits: list[tuple[np.ndarray, int]] = []
    for run, (ci, vi) in enumerate(plan):
        if run == 2 and _agreeing(hits):
            break
        found = cascade(_CASCADES[ci]).detectMultiScale(
            variants[vi], scaleFactor=1.1, minNeighbors=4, minSize=(20, 20)
        )
        for x, y, bw, bh in found:
            box = np.array([x - pad, y - pad, bw, bh], dtype=float) / scale
            hits.append((box, run))
    return hits


def _agreeing(hits: list[tuple[np.ndarray, int]]) -> bool:
    first = [b for b, r in hits if r == 0]
    second = [b for b, r in hits if r == 1]
    return any(_iou(a, b) > 0.3 for a in first for b in second)


def _verified(
    gray: np.ndarray, hits: list[tuple[np.ndarray, int]], strict: bool
) -> list[tuple[int, int, int, int, bool]]:
    """Merge hits of one face; keep those two runs agree on or with eyes inside.

    Returns (x, y, w, h, eyes_found) boxes; ``strict`` asks for both agreement and eyes.
    """
    clusters: list[list[tuple[np.ndarray, int]]] = []
    for hit in sorted(hits, key=lambda hb: -hb[0][2]):
        for cl in clusters:
            if _iou(cl[0][0], hit[0]) > 0.3:
                cl.append(hit)
                break
        else:
            clusters.append([hit])
    out: list[tuple[int, int, int, int, bool]] = []
    for cl in clusters:
        box = np.median(np.stack([b for b, _ in cl]), axis=0)
        x, y, w = (round(v) for v in box[:3])
        x, y = max(0, x), max(0, y)
        w = min(w, gray.shape[1] - x, gray.shape[0] - y)
        if w < 16:
            continue
        agreed = len({r for _, r in cl}) >= 2
        if strict and not agreed:
            continue
        eyes = find_eyes(_canon(gray, (x, y, w, w))) is not None
        if eyes or (agreed and not strict):
            out.append((x, y, w, w, eyes))
    return out


def _merged(
    faces: list[tuple[int, int, int, int, bool]],
) -> list[tuple[int, int, int, int, bool]]:
    """One box per face: the plain and the padded pass find the same face at slightly
    different boxes (IoU about 0.9), which must not read as "several faces". Boxes that
    overlap by half, or where one lies mostly inside the other, are one face; the box with
    eyes found, then the larger, is kept."""
    kept: list[tuple[int, int, int, int, bool]] = []
    for face in sorted(faces, key=lambda f: (f[4], f[2]), reverse=True):
        box = np.array(face[:4], dtype=float)
        if all(not _same_face(box, np.array(k[:4], dtype=float)) for k in kept):
            kept.append(face)
    return kept


def _same_face(a: np.ndarray, b: np.ndarray) -> bool:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    smaller = min(a[2] * a[3], b[2] * b[3])
    return _iou(a, b) >= 0.5 or (smaller > 0 and ix * iy / smaller >= 0.8)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return float(inter / (a[2] * a[3] + b[2] * b[3] - inter))


def _canon_tall(img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The box extended 30% downwards (mouth and chin), at CANON px per box width."""
    x, y, w, h = box
    tall = round(1.3 * h)
    below = max(0, y + tall - img.shape[0])
    crop = img[y : y + tall, x : x + w]
    if below:
        crop = cv2.copyMakeBorder(crop, 0, below, 0, 0, cv2.BORDER_REPLICATE)
    return cv2.resize(crop, (CANON, round(1.3 * CANON)), interpolation=cv2.INTER_AREA)


def _canon(img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    return cv2.resize(img[y : y + h, x : x + w], (CANON, CANON), interpolation=cv2.INTER_AREA)


def _landmarks(
    rgb: np.ndarray, gray: np.ndarray, box: tuple[int, int, int, int], notes: tuple[str, ...]
) -> FaceLandmarks:
    x, y, w, _ = box
    crop = _canon_tall(rgb, box)
    gray_c = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    s = w / CANON  # canonical -> image scale
    eyes = find_eyes(gray_c)
    eyes_from = "image"
    if eyes is None:
        eyes_from = "ratio"
        eyes = ((0.3 * CANON, 0.39 * CANON), (0.7 * CANON, 0.39 * CANON), 0.105 * CANON)
    le, re, er = eyes
    mc, half_w, mouth_from, teeth = find_mouth(crop, gray_c, le, re)
    roll = math.atan2(re[1] - le[1], re[0] - le[0])

    def img(p: Point) -> Point:
        return (x + p[0] * s, y + p[1] * s)

    center, half_w = img(mc), half_w * s
    curve = 0.0
    if mouth_from == "image":
        center, curve = refine_lip_line(gray, center, half_w, roll, teeth)
    ux, uy = math.cos(roll), math.sin(roll)
    return FaceLandmarks(
        box=box,
        left_eye=img(le),
        right_eye=img(re),
        eye_radius=er * s,
        mouth_left=(center[0] - ux * half_w, center[1] - uy * half_w),
        mouth_right=(center[0] + ux * half_w, center[1] + uy * half_w),
        mouth_center=center,
        eyes_from=eyes_from,
        mouth_from=mouth_from,
        teeth_visible=teeth,
        mouth_curve=curve,
        notes=notes,
    )
