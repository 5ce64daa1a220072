"""Blinks: the upper eyelid slides down over the eye by a smooth vertical warp.

In a local frame at the eye centre (``x`` along the eye line, ``y`` down), the lid edge sits at
``-h * prof(x)`` when open and drops to ``+0.7 h * prof(x)`` when shut (``prof`` is 1 at the
centre, 0 at the corners). The skin between the brow and the lid edge is stretched down to meet
it; everything below the edge is left alone, so a half blink shows a half-covered iris, and a
lash line darkens the moving lid edge. At the corners and at the brow the warp is the identity,
so there is no seam.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class EyeGeometry:
    cx: float
    cy: float
    ux: float
    uy: float
    radius: float  # half width of the eye opening
    roi: tuple[int, int, int, int]


def eye_geometry(
    center: tuple[float, float], radius: float, roll_rad: float, frame_size: tuple[int, int]
) -> EyeGeometry:
    w, h = frame_size
    x0 = int(max(0, center[0] - 1.5 * radius)) & ~1
    x1 = min(w, int(center[0] + 1.5 * radius) + 2) & ~1
    y0 = int(max(0, center[1] - 1.5 * radius)) & ~1
    y1 = min(h, int(center[1] + 0.9 * radius) + 2) & ~1
    return EyeGeometry(
        cx=center[0],
        cy=center[1],
        ux=float(np.cos(roll_rad)),
        uy=float(np.sin(roll_rad)),
        radius=radius,
        roi=(x0, y0, x1, y1),
    )


class EyeRenderer:
    """Renders one eye's ROI at a given lid closure (0 open .. 1 shut)."""

    def __init__(self, frame: np.ndarray, geo: EyeGeometry) -> None:
        self.geo = geo
        x0, y0, x1, y1 = geo.roi
        self.patch = np.ascontiguousarray(frame[y0:y1, x0:x1])
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        px, py = xs - geo.cx, ys - geo.cy
        self.x = px * geo.ux + py * geo.uy
        self.y = -px * geo.uy + py * geo.ux

    def render(self, closure: float) -> np.ndarray:
        if closure <= 0.0:
            return self.patch
        g = self.geo
        r = g.radius
        h = 0.42 * r  # half height of the opening
        prof = np.sqrt(np.clip(1.0 - (self.x / (1.1 * r)) ** 2, 0.0, 1.0))
        top = -h - 0.75 * r  # under the brow: the warp starts here
        src_edge = -h * prof  # where the lid edge is in the photo
        lid = src_edge + closure * 1.7 * h * prof  # where it is now
        y = self.y
        band = (y > top) & (y < lid)
        ratio = (src_edge - top) / np.maximum(lid - top, 1e-3)
        y_src = np.where(band, top + (y - top) * ratio, y)
        x = self.x
        map_x = (g.cx + x * g.ux - y_src * g.uy - g.roi[0]).astype(np.float32)
        map_y = (g.cy + x * g.uy + y_src * g.ux - g.roi[1]).astype(np.float32)
        out = cv2.remap(self.patch, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # Lashes: a soft dark line along the lid edge, strongest when the lid is down.
        lash = np.exp(-(((y - lid) / (0.09 * r + 0.5)) ** 2)) * prof * min(1.0, closure * 1.5)
        shade = 1.0 - 0.5 * lash[..., None]
        return np.clip(out * shade, 0, 255).astype(np.uint8)
