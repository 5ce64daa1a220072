"""Blinks: the upper eyelid slides down over the eye opening, inside the eye's own contour.

The face mesh gives each eye's upper and lower lid contours (corner to corner) and, above the
upper lid, the ring where the lid skin meets the brow bone (the "crease"). In a local frame at
the eye centre (``x`` along the eye line, ``y`` down the face), with ``U(x)``, ``L(x)`` and
``S(x)`` those three curves, a closure ``t`` puts the lid edge at ``E = U + t (L - U)``: the
lid skin between ``S`` and ``U`` is stretched down to ``E``, and the eye below ``E`` is left
as it is, so a half blink shows a half-covered iris; a lash line darkens the moving edge.
Between the corners ``L - U`` goes to zero, and at ``S`` the warp is the identity, so nothing
outside the eye opening and the lid skin just above it ever changes, and there is no seam.

With glasses (:mod:`providers.local.glasses`) the rim pixels are kept exactly as they are: the
lid is warped from a copy of the eye region with the rims inpainted away, and the photo's own
rims are laid back on top, so the lid closes under a frame that does not move.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from providers.local.face import FaceLandmarks

# MediaPipe Face Mesh indices, corner to corner ("left" is the image's left eye).
LEFT_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
LEFT_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)
LEFT_CREASE = (33, 113, 225, 224, 223, 222, 221, 189, 133)
RIGHT_UPPER = (263, 466, 388, 387, 386, 385, 384, 398, 362)
RIGHT_LOWER = (263, 249, 390, 373, 374, 380, 381, 382, 362)
RIGHT_CREASE = (263, 342, 445, 444, 443, 442, 441, 413, 362)


@dataclass(frozen=True)
class EyeGeometry:
    """One eye: its centre, the eye line's direction, its half width, the region it may
    change (``roi``, x0 y0 x1 y1), and its lid curves as (n, 2) points in the local frame."""

    cx: float
    cy: float
    ux: float
    uy: float
    radius: float  # half width of the eye opening
    roi: tuple[int, int, int, int]
    upper: np.ndarray
    lower: np.ndarray
    crease: np.ndarray


def _local(points: np.ndarray, cx: float, cy: float, ux: float, uy: float) -> np.ndarray:
    px, py = points[:, 0] - cx, points[:, 1] - cy
    loc = np.stack([px * ux + py * uy, -px * uy + py * ux], axis=1)
    return loc[np.argsort(loc[:, 0])]


def _geometry(
    upper: np.ndarray,
    lower: np.ndarray,
    crease: np.ndarray,
    centre: tuple[float, float],
    radius: float,
    roll_rad: float,
    frame_size: tuple[int, int],
) -> EyeGeometry:
    """The geometry from lid curves in image pixels."""
    w, h = frame_size
    pts = np.vstack([upper, lower, crease])
    pad = 2 + 0.15 * radius
    x0 = int(max(0, pts[:, 0].min() - pad)) & ~1
    y0 = int(max(0, pts[:, 1].min() - pad)) & ~1
    x1 = min(w, int(pts[:, 0].max() + pad) + 2) & ~1
    y1 = min(h, int(pts[:, 1].max() + pad) + 2) & ~1
    cx, cy = centre
    ux, uy = math.cos(roll_rad), math.sin(roll_rad)
    return EyeGeometry(
        cx=cx,
        cy=cy,
        ux=ux,
        uy=uy,
        radius=radius,
        roi=(x0, y0, x1, y1),
        upper=_local(upper, cx, cy, ux, uy),
        lower=_local(lower, cx, cy, ux, uy),
        crease=_local(crease, cx, cy, ux, uy),
    )


def eye_geometry(
    center: tuple[float, float], radius: float, roll_rad: float, frame_size: tuple[int, int]
) -> EyeGeometry:
    """An eye from its centre and half width alone (landmarks without a mesh): lid curves of
    the usual shape, an opening 0.8 radius tall and the crease 0.5 radius above the lid."""
    xs = np.linspace(-1.0, 1.0, 9)
    prof = np.sqrt(1.0 - xs**2)
    ux, uy = math.cos(roll_rad), math.sin(roll_rad)

    def image(lx: np.ndarray, ly: np.ndarray) -> np.ndarray:
        return np.stack([center[0] + lx * ux - ly * uy, center[1] + lx * uy + ly * ux], axis=1)

    lx = xs * radius
    upper = image(lx, -0.42 * radius * prof)
    lower = image(lx, 0.38 * radius * prof)
    crease = image(lx, -(0.42 + 0.5) * radius * prof)
    return _geometry(upper, lower, crease, center, radius, roll_rad, frame_size)


def eye_geometries(lm: FaceLandmarks, frame_size: tuple[int, int]) -> list[EyeGeometry]:
    """Both eyes (image left, then right): from the mesh's lid contours when there is a mesh."""
    if lm.mesh is None:
        return [
            eye_geometry(c, lm.eye_radius, lm.roll_rad, frame_size)
            for c in (lm.left_eye, lm.right_eye)
        ]
    out = []
    for centre, idx in (
        (lm.left_eye, (LEFT_UPPER, LEFT_LOWER, LEFT_CREASE)),
        (lm.right_eye, (RIGHT_UPPER, RIGHT_LOWER, RIGHT_CREASE)),
    ):
        up, low, cr = (lm.mesh[list(i), :2].astype(np.float64) for i in idx)
        out.append(_geometry(up, low, cr, centre, lm.eye_radius, lm.roll_rad, frame_size))
    return out


class EyeRenderer:
    """Renders one eye's ROI at a given lid closure (0 open .. 1 shut).

    ``rims`` is the glasses-frame mask of the whole frame (or None): those pixels never change.
    """

    def __init__(self, frame: np.ndarray, geo: EyeGeometry, rims: np.ndarray | None = None) -> None:
        self.geo = geo
        x0, y0, x1, y1 = geo.roi
        self.patch = np.ascontiguousarray(frame[y0:y1, x0:x1])
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        px, py = xs - geo.cx, ys - geo.cy
        self.x = px * geo.ux + py * geo.uy
        self.y = -px * geo.uy + py * geo.ux
        lo = max(geo.upper[0, 0], geo.lower[0, 0])
        hi = min(geo.upper[-1, 0], geo.lower[-1, 0])
        self.inside = (self.x > lo) & (self.x < hi)
        self.u = np.interp(self.x, geo.upper[:, 0], geo.upper[:, 1]).astype(np.float32)
        low = np.interp(self.x, geo.lower[:, 0], geo.lower[:, 1]).astype(np.float32)
        self.gap = np.where(self.inside, np.maximum(low - self.u, 0.0), 0.0).astype(np.float32)
        crease = np.interp(self.x, geo.crease[:, 0], geo.crease[:, 1]).astype(np.float32)
        # the skin that stretches: up to the crease ring, and at least 0.55 eye half-widths
        # above the lid (the ring can sit close to the lid line on a smiling eye)
        self.top = np.minimum(crease, self.u - 0.55 * geo.radius).astype(np.float32)
        self.prof = (self.gap / max(float(self.gap.max()), 1e-3)).astype(np.float32)
        self.rims: np.ndarray | None = None
        self.source = self.patch
        if rims is not None:
            rim = rims[y0:y1, x0:x1]
            if rim.any():
                self.rims = cv2.GaussianBlur(rim.astype(np.float32), (3, 3), 0)[..., None]
                self.top = self._below_rim(rim)
                # the lid is made from skin only: the rims inpainted away from the warp's source
                self.source = cv2.inpaint(self.patch, rim.astype(np.uint8), 3, cv2.INPAINT_TELEA)
        sigma = max(0.7, 0.07 * geo.radius)
        self.soft = cv2.GaussianBlur(self.source, (0, 0), sigmaX=sigma, sigmaY=0.5)

    def _below_rim(self, rim: np.ndarray) -> np.ndarray:
        """The stretch's top edge moved down to just under a rim that crosses the lid skin,
        column by column (along the eye line), so the lid is made of skin seen through the
        lens, not of the rim."""
        above = rim & (self.y < self.u)
        if not above.any():
            return self.top
        cols = np.round(self.x).astype(np.int32)
        lo = int(cols.min())
        lowest = np.full(int(cols.max()) - lo + 1, -np.inf, np.float32)
        np.maximum.at(lowest, cols[above] - lo, self.y[above])
        # a column's rim bottom also holds for its neighbours (the rim is a line, not dots)
        lowest = np.maximum(lowest, np.maximum(np.roll(lowest, 1), np.roll(lowest, -1)))
        floor = lowest[cols - lo] + 1.5
        limit = self.u - 0.2 * self.geo.radius  # but leave some skin to stretch
        return np.maximum(self.top, np.minimum(floor, limit)).astype(np.float32)

    def render(self, closure: float) -> np.ndarray:
        if closure <= 0.0:
            return self.patch
        g = self.geo
        top, u, y = self.top, self.u, self.y
        # where the lid edge is now; shut, it passes the lower lid by a pixel, so no sliver of
        # the eye's white shows under it
        lid = u + closure * (self.gap + np.where(self.gap > 0, 1.0, 0.0))
        band = self.inside & (y > top) & (y < lid)
        # The lid margin (the lashes, ``ms`` thick in the photo) is pressed into a thin line
        # ``md`` thick at the moving edge, and only the skin above it stretches: stretching
        # the dark margin would smear lashes over the whole closed lid.
        ms = np.minimum(0.3 * g.radius, 0.5 * (u - top))
        md = ms * (1.0 - 0.6 * closure * self.prof)  # none at the corners: no seam there
        skin = top + (y - top) * (u - ms - top) / np.maximum(lid - md - top, 1e-3)
        margin = u - ms + (y - (lid - md)) * ms / np.maximum(md, 1e-3)
        y_src = np.where(band, np.where(y < lid - md, skin, margin), y)
        x = self.x
        map_x = (g.cx + x * g.ux - y_src * g.uy - g.roi[0]).astype(np.float32)
        map_y = (g.cy + x * g.uy + y_src * g.ux - g.roi[1]).astype(np.float32)
        warped = cv2.remap(
            self.source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        ).astype(np.float32)
        # Stretched skin turns every small mark (a lash tip, a pore) into a vertical streak:
        # the stretched part is taken from a copy softened along the eye line.
        # How much is taken from it grows with the stretch (none where the skin is not
        # stretched, as at the corners, so it has no edge).
        if closure > 0.3:
            stretch = (lid - md - top) / np.maximum(u - ms - top, 1e-3)
            wsoft = np.where(band & (y < lid - md), np.clip(stretch - 1.0, 0.0, 1.0), 0.0)
            soft = cv2.remap(
                self.soft, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            ).astype(np.float32)
            warped += wsoft[..., None] * (soft - warped)
        # Lashes: a soft dark line along the lid edge, strongest when the lid is down.
        r = g.radius
        lash = np.exp(-(((y - lid) / (0.06 * r + 0.5)) ** 2)) * self.prof * min(1.0, closure * 1.5)
        lash = np.where(self.inside & (y > top) & (y < u + self.gap + 0.5), lash, 0.0)
        warped *= (1.0 - 0.3 * lash)[..., None]
        moved = (band | (lash > 0.01))[..., None]
        out = np.where(moved, warped, self.patch.astype(np.float32))
        if self.rims is not None:
            out = self.rims * self.patch + (1.0 - self.rims) * out
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
