"""Find the face, the eyes and the mouth in a portrait: BlazeFace boxes refined by a face mesh.

The models (MediaPipe BlazeFace and Face Mesh, Apache-2.0) are vendored in
``providers/local/models`` and run by OpenCV's DNN module (:mod:`providers.local.mesh`): a box
in ~10 ms, 468 landmarks in ~20-30 ms per pass, on an upright crop aligned with the eye line,
so a tilted head is measured rather than assumed level. (The Haar cascades used before missed
eyes behind glasses, guessed roll as 0 and took seconds to say "no face".)

Contract: :func:`detect_face` takes an RGB ``uint8`` array (already EXIF-oriented) and returns
:class:`FaceLandmarks` in that image's pixel coordinates, or raises :class:`errors.FaceError`
with a message a creator can act on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from errors import N_, FaceError
from providers.local import mesh as fm

Point = tuple[float, float]

SEVERAL_FACES_NOTE = N_("Several faces found; animating the largest.")

# Warning ids (not refusals): the video can still be made, but may look worse.
WARN_YAW = "strong_yaw"  # the head is turned more than YAW_WARN_DEG
WARN_UPSCALED = "heavy_upscaling"  # the face is under UPSCALE_WARN_PX wide
WARN_GRAYSCALE = "grayscale_photo"
YAW_WARN_DEG = 25.0
UPSCALE_WARN_PX = 180


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
    warnings: tuple[str, ...] = ()
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    # 468 x 3 face mesh points (x, y, z) in image pixels; None for hand-made landmarks.
    mesh: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def size(self) -> int:
        """Face width in pixels (the detector box side)."""
        return self.box[2]

    @property
    def mouth_width(self) -> float:
        return math.dist(self.mouth_left, self.mouth_right)

    @property
    def roll_deg(self) -> float:
        return math.degrees(self.roll_rad)

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
            warnings=self.warnings,
            yaw_deg=self.yaw_deg,
            pitch_deg=self.pitch_deg,
            mesh=None if self.mesh is None else self.mesh * scale + np.array([dx, dy, 0.0]),
        )


def detect_face(rgb: np.ndarray, *, min_face_px: int = 120) -> FaceLandmarks:
    """Locate the largest frontal face and its eyes and mouth.

    Raises :class:`FaceError` when no face is found or the face is narrower than
    ``min_face_px``. When several faces are found the largest is used and
    :data:`SEVERAL_FACES_NOTE` is added to ``notes``.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("detect_face expects an RGB uint8 image")
    boxes = _face_boxes(rgb)
    if not boxes:
        raise FaceError(
            N_(
                "No face was found in the photo. Use a clear, front-facing portrait with the "
                "whole face visible."
            )
        )
    notes = (SEVERAL_FACES_NOTE,) if len(boxes) > 1 else ()
    points, score = fm.fit_mesh(rgb, boxes[0])
    if score < 0.5:  # the detector's box does not hold a face after all
        raise FaceError(
            N_(
                "No face was found in the photo. Use a clear, front-facing portrait with the "
                "whole face visible."
            )
        )
    box = engine_box(points, rgb.shape)
    if box[2] < min_face_px:
        raise FaceError(
            N_(
                "The face is too small ({px} px across); it must be at least {min_px} px. "
                "Use a closer or higher-resolution photo."
            ),
            params={"px": box[2], "min_px": min_face_px},
        )
    return landmarks_from_mesh(rgb, points, box, notes)


def engine_box(points: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The square face box the renderer is tuned to, from the mesh's eyes.

    Framing, the mouth and head motion were tuned on OpenCV's Haar face box: 2.5 eye distances
    wide, the eyes at 30% / 70% of its width and 38.5% of its height (brows to below the
    mouth). Building the same box from the mesh keeps their proportions valid.
    """
    le, re = _mean(points, fm.LEFT_EYE), _mean(points, fm.RIGHT_EYE)
    side = 2.5 * math.dist(le, re)
    mx, my = (le[0] + re[0]) / 2, (le[1] + re[1]) / 2
    x, y = max(0, round(mx - side / 2)), max(0, round(my - 0.385 * side))
    side_i = max(1, min(round(side), shape[1] - x, shape[0] - y))
    return (x, y, side_i, side_i)


def find_faces(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h squares) in a grayscale image, largest first.

    Overlapping detections of one face are merged (:func:`providers.local.mesh.merge_boxes`),
    so a single-face portrait gives one box.
    """
    rgb = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    return [_square(b, gray.shape) for b in _face_boxes(rgb)]


def _face_boxes(rgb: np.ndarray) -> list[fm.Box]:
    boxes = sorted(fm.detect_boxes(rgb), key=lambda b: -b.width)
    # Much smaller "faces" next to a big one are almost always prints, badges or reflections.
    return [b for b in boxes if b.width >= 0.4 * boxes[0].width] if boxes else []


def _square(box: fm.Box, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    side = round(max(box.x1 - box.x0, box.y1 - box.y0))
    x = max(0, round((box.x0 + box.x1 - side) / 2))
    y = max(0, round((box.y0 + box.y1 - side) / 2))
    side = max(1, min(side, shape[1] - x, shape[0] - y))
    return (x, y, side, side)


def _mean(points: np.ndarray, idx: tuple[int, ...]) -> Point:
    p = points[list(idx), :2].mean(axis=0)
    return (float(p[0]), float(p[1]))


def _pt(points: np.ndarray, i: int) -> Point:
    return (float(points[i, 0]), float(points[i, 1]))


def landmarks_from_mesh(
    rgb: np.ndarray,
    points: np.ndarray,
    box: tuple[int, int, int, int],
    notes: tuple[str, ...] = (),
) -> FaceLandmarks:
    """Eyes, mouth, head pose and warnings from 468 mesh points (image pixels)."""
    le, re = _mean(points, fm.LEFT_EYE), _mean(points, fm.RIGHT_EYE)
    roll = math.atan2(re[1] - le[1], re[0] - le[0])
    ca, sa = math.cos(roll), math.sin(roll)
    ipd = math.dist(le, re)
    ml, mr = _pt(points, fm.MOUTH_CORNERS[0]), _pt(points, fm.MOUTH_CORNERS[1])
    up, low = _pt(points, fm.INNER_LIP[0]), _pt(points, fm.INNER_LIP[1])
    teeth = _teeth_visible(rgb, points, ipd)
    # The lip line is where the jaw separates from the upper face: with the upper teeth
    # showing, that is the bottom of the teeth (the top of the lower lip).
    centre = low if teeth else ((up[0] + low[0]) / 2, (up[1] + low[1]) / 2)
    half_w = max(1.0, math.dist(ml, mr) / 2)

    def v_of(p: Point) -> float:  # distance below the lip line's centre, across the face
        return -sa * (p[0] - centre[0]) + ca * (p[1] - centre[1])

    curve = (v_of(ml) + v_of(mr)) / 2 / half_w**2
    curve = float(np.clip(curve, -0.3 / half_w, 0.15 / half_w))
    yaw, pitch = _pose(points, roll)
    eye_w = math.dist(_pt(points, 33), _pt(points, 133)) + math.dist(
        _pt(points, 263), _pt(points, 362)
    )
    warnings = []
    if abs(yaw) > YAW_WARN_DEG:
        warnings.append(WARN_YAW)
    if box[2] < UPSCALE_WARN_PX:
        warnings.append(WARN_UPSCALED)
    if _is_grayscale(rgb):
        warnings.append(WARN_GRAYSCALE)
    return FaceLandmarks(
        box=box,
        left_eye=le,
        right_eye=re,
        eye_radius=eye_w / 4,
        mouth_left=ml,
        mouth_right=mr,
        mouth_center=centre,
        teeth_visible=teeth,
        mouth_curve=curve,
        notes=notes,
        warnings=tuple(warnings),
        yaw_deg=yaw,
        pitch_deg=pitch,
        mesh=points,
    )


def _pose(points: np.ndarray, roll: float) -> tuple[float, float]:
    """Yaw and pitch in degrees from the mesh's depth: cheek to cheek, forehead to chin."""
    ca, sa = math.cos(roll), math.sin(roll)

    def across(i: int) -> float:
        return ca * points[i, 0] + sa * points[i, 1]

    def down(i: int) -> float:
        return -sa * points[i, 0] + ca * points[i, 1]

    yaw = math.atan2(points[454, 2] - points[234, 2], across(454) - across(234))
    pitch = math.atan2(points[152, 2] - points[10, 2], down(152) - down(10))
    return math.degrees(yaw), math.degrees(pitch)


def _teeth_visible(rgb: np.ndarray, points: np.ndarray, ipd: float) -> bool:
    """The lips are parted and part of the mouth is much brighter and less red than its
    median (teeth, not a dark gap or the tongue)."""
    if math.dist(_pt(points, 13), _pt(points, 14)) < 0.05 * ipd:
        return False
    x0, y0 = np.floor(points[list(fm.LIPS_OUTER), :2].min(axis=0)).astype(int)
    x1, y1 = np.ceil(points[list(fm.LIPS_OUTER), :2].max(axis=0)).astype(int) + 1
    x0, y0 = max(0, x0), max(0, y0)
    lab = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2LAB).astype(np.float32)
    if lab.size == 0:
        return False
    mouth = np.zeros(lab.shape[:2], np.uint8)
    poly = points[list(fm.LIPS_OUTER), :2] - (x0, y0)
    cv2.fillPoly(mouth, [np.round(poly).astype(np.int32)], 255)
    px = lab[mouth > 0]
    if px.shape[0] < 20:
        return False
    med = np.median(px, axis=0)
    toothy = (px[:, 0] > med[0] + 12) & (px[:, 1] < med[1] - 4)
    return float(toothy.mean()) > 0.08


def _is_grayscale(rgb: np.ndarray) -> bool:
    small = rgb[:: max(1, rgb.shape[0] // 256), :: max(1, rgb.shape[1] // 256)].astype(np.int16)
    spread = small.max(axis=2) - small.min(axis=2)
    return float(spread.mean()) < 3.0
