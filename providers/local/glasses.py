"""Glasses: does the face wear a frame, and which pixels around the eyes are its rims?

A blink must move the lid *under* a glasses frame and leave the frame where it is. A rim is a
thin line (darker or lighter than the skin) that runs all round the eye, at some distance from
it, including *below* it, across the cheek, where a bare face is smooth (brows, the lid crease
and the lashes are all above or on the eye). So, per eye, in the eye's own frame (along the
eye line, roll included):

- thin lines are found by a morphological black-hat and top-hat with kernels a fraction of
  the eye's width (wider than a rim, narrower than a brow or a shadow);
- the ring between 1.05 and 2.6 eye half-widths (vertically squeezed to the eye's shape) is
  cut into sectors of 30 degrees; the six below the eye are the test: a frame runs a line
  through at least five of them (through nearly every 5-degree slice), on both eyes.

The rim mask (for the blink to keep fixed) is the thin lines in a wider ring around each eye,
outside the eye opening, that are as big as a lens frame (not a crease or a wrinkle), grown by a
pixel or two to take the rims' anti-aliased edges.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from providers.local import mesh as fm
from providers.local.face import FaceLandmarks

_LINE = 30.0  # grey levels above (or below) the surroundings: a rim, not skin texture
_RING = (1.05, 2.6)  # detection ring, in eye half-widths
_MASK_RING = (0.9, 3.0)  # rim mask ring
_SQUEEZE = 0.7  # vertical scale of the rings (an eye is wider than tall)
_LOWER_HITS = 5  # of the 6 sectors below the eye


def _eye_frame(
    shape: tuple[int, ...], centre: tuple[float, float], r: float, roll: float
) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray]:
    """A window round one eye and, for its pixels, the normalised radius and the angle (deg,
    0 = towards the image's right along the eye line, 90 = down the face)."""
    h, w = shape[:2]
    m = 3.2 * r
    x0, x1 = max(0, int(centre[0] - m)), min(w, int(centre[0] + m) + 1)
    y0, y1 = max(0, int(centre[1] - m)), min(h, int(centre[1] + m) + 1)
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    px, py = xs - centre[0], ys - centre[1]
    ca, sa = math.cos(roll), math.sin(roll)
    x = px * ca + py * sa
    y = -px * sa + py * ca
    rho = np.sqrt((x / r) ** 2 + (y / (_SQUEEZE * r)) ** 2)
    ang = (np.degrees(np.arctan2(y, x)) + 360.0) % 360.0
    return (slice(y0, y1), slice(x0, x1)), rho, ang


def _thin_lines(grey: np.ndarray, r: float) -> np.ndarray:
    """Dark lines up to ~0.4 eye half-widths thick (black-hat, 0.8 r kernel) and light ones
    up to ~0.2 thick (top-hat, 0.4 r: a wider one would take the strip of skin between a
    dark rim and the eye for a light line)."""

    def kernel(size: float) -> np.ndarray:
        k = max(5, round(size) | 1)
        return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))

    dark = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel(0.8 * r))
    light = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel(0.4 * r))
    return np.maximum(dark, light).astype(np.float32)


def _frame_sized(lines: np.ndarray, r: float) -> np.ndarray:
    """The connected lines as big as a lens frame: 2.4 eye half-widths wide and 1.4 tall, or
    an arc 2.8 wide (a crease or a wrinkle is a short flat arc, at most the eye's width)."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(lines.astype(np.uint8), connectivity=8)
    wide, tall = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    keep = ((wide >= 2.4 * r) & (tall >= 1.4 * r)) | (wide >= 2.8 * r)
    keep[0] = False
    return keep[labels]


def _lower_sectors_crossed(lines: np.ndarray, ang: np.ndarray) -> int:
    """How many of the six 30-degree sectors below the eye a line runs through: a sector
    counts when at least 5 of its six 5-degree slices hold a line pixel (a rim crosses every
    slice; skin texture and a shadow by the nose leave gaps)."""
    slices = np.zeros(72, bool)
    slices[np.unique((ang[lines] // 5).astype(np.int32) % 72)] = True
    per_sector = slices[:36].reshape(6, 6).sum(axis=1)
    return int((per_sector >= 5).sum())


def rim_mask(rgb: np.ndarray, lm: FaceLandmarks) -> np.ndarray | None:
    """The glasses frame's pixels round the eyes (bool, the image's size), or None when the
    face wears no glasses (or has no mesh to tell where the eye openings are)."""
    if lm.mesh is None:
        return None
    r = lm.eye_radius
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    openings = np.zeros(grey.shape, np.uint8)
    for idx in (fm.LEFT_EYE, fm.RIGHT_EYE):
        poly = np.round(lm.mesh[list(idx), :2]).astype(np.int32)
        cv2.fillPoly(openings, [poly], 255)
    grow = max(3, round(0.25 * r)) * 2 + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))
    openings = np.asarray(cv2.dilate(openings, kernel), dtype=np.uint8)
    mask = np.zeros(grey.shape, bool)
    for centre in (lm.left_eye, lm.right_eye):
        win, rho, ang = _eye_frame(grey.shape, centre, r, lm.roll_rad)
        lines = _thin_lines(grey[win], r)
        strong = (lines > _LINE) & (openings[win] == 0)
        ring = (rho > _RING[0]) & (rho < _RING[1])
        if _lower_sectors_crossed(strong & ring, ang) < _LOWER_HITS:
            return None
        # The rims: strong lines in the wider ring that are as big as a lens frame (a lid
        # crease or a wrinkle is a short flat arc), plus their fainter anti-aliased edges.
        # A frame is the strongest line round the eye: keep what is at least 40% as strong.
        wide = (rho > _MASK_RING[0]) & (rho < _MASK_RING[1]) & (openings[win] == 0)
        level = max(_LINE, 0.4 * float(np.percentile(lines[wide], 99))) if wide.any() else _LINE
        core = _frame_sized(wide & (lines > level), r)
        near = cv2.dilate(core.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        mask[win] |= near & wide & (lines > level / 3) | core
    return mask
