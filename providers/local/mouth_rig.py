"""The mouth rig: face-mesh control points in a lip frame, authored mouth shapes, and the
piecewise-affine (triangle mesh) warp they drive.

The lip frame has its origin at the mouth centre, ``u`` along the corner-to-corner line (so it
turns with the head's roll) and ``v`` across it, pointing to the chin; lengths are in mouth
half-widths ``W``. Every control point has a role (upper/lower, outer/inner lip, corner, the
cheek beside a corner, the jaw below the lips, or fixed), and each authored shape
(:data:`SHAPES`: open, wide, rounded, teeth-on-lip; closed is the photo itself) says how far
each role moves, as a profile along ``u``. A mouth state is a weighted sum of shapes.

The warp is the identity outside the rig's region: the region's border carries fixed anchor
points, as do the nose, the cheeks and the jaw towards the ears, and the triangulation
(Delaunay, on the fully open mouth so its triangles stay valid for every authored state)
interpolates the displacement linearly inside each triangle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from providers.local import mesh as fm

# Roles of control points.
UO, UI, CO, LI, LO, NEAR, JAW, FIXED = range(8)

_UPPER_OUTER = (185, 40, 39, 37, 0, 267, 269, 270, 409)
_LOWER_OUTER = (146, 91, 181, 84, 17, 314, 405, 321, 375)
_UPPER_INNER = (191, 80, 81, 82, 13, 312, 311, 310, 415)
_LOWER_INNER = (95, 88, 178, 87, 14, 317, 402, 318, 324)
_CORNERS = (61, 291, 78, 308)

# Authored shapes, in mouth half-widths: role -> (dv at the centre, dv at the corners, du at
# the corners). dv > 0 moves towards the chin; du > 0 moves away from the mouth centre. Lip
# roles follow the profile 1 - u^2 between the corners; the jaw a broader one (see _role_dv).
Shape = dict[int, tuple[float, float, float]]
SHAPES: dict[str, Shape] = {
    # jaw dropped ("a"): the lower lip and chin go down, the corners a little down and in,
    # the upper lip lifts slightly off the teeth
    "open": {
        UO: (-0.05, 0.02, 0.0),
        UI: (-0.08, 0.04, -0.03),
        CO: (0.0, 0.10, -0.06),
        LI: (0.62, 0.12, -0.05),
        LO: (0.58, 0.12, -0.04),
        NEAR: (0.0, 0.05, -0.02),
        JAW: (0.58, 0.0, 0.0),
    },
    # spread lips ("i", "e"): corners out and a little up, lips thinner
    "wide": {
        UO: (0.02, -0.02, 0.10),
        UI: (0.0, -0.02, 0.10),
        CO: (0.0, -0.03, 0.11),
        LI: (0.0, -0.02, 0.10),
        LO: (-0.03, -0.02, 0.10),
        NEAR: (0.0, -0.02, 0.05),
    },
    # rounded lips ("o", "u", "w"): corners drawn in, lips pushed out (thicker, rounder)
    "rounded": {
        UO: (-0.07, 0.0, -0.20),
        UI: (-0.03, 0.02, -0.22),
        CO: (0.0, 0.0, -0.24),
        LI: (0.04, 0.0, -0.22),
        LO: (0.08, 0.0, -0.20),
        NEAR: (0.0, 0.0, -0.08),
    },
    # teeth on the lower lip ("f", "v"): the upper lip lifts off the teeth, the lower lip
    # rolls in and up under them
    "teeth_on_lip": {
        UO: (-0.06, 0.0, 0.0),
        UI: (-0.11, 0.0, 0.0),
        LI: (-0.01, 0.0, 0.0),
        LO: (-0.07, 0.0, 0.0),
    },
}


def shape_weights(openness: float, width: float, tuck: float = 0.0) -> dict[str, float]:
    """The viseme track's (openness, width, tuck) as weights of the authored shapes.

    Width 1 is neutral; 1.1 is fully spread, 0.78 fully rounded (visemes.py's range).
    """
    return {
        "open": float(np.clip(openness, 0.0, 1.0)),
        "wide": float(np.clip((width - 1.0) / 0.1, 0.0, 1.0)),
        "rounded": float(np.clip((1.0 - width) / 0.22, 0.0, 1.0)),
        "teeth_on_lip": float(np.clip(tuck, 0.0, 1.0)),
    }


@dataclass(frozen=True)
class MouthRig:
    """Control points of one face in output-frame pixels.

    ``points`` (N x 2) are the rest positions; ``uv`` the same in the lip frame (in W);
    ``roles`` one role per point; ``near_lip`` for jaw points, how much they follow the lower
    lip's profile rather than the jaw's; ``tris`` (T x 3) point indices; ``roi`` (x0, y0, x1,
    y1) the region the warp can change. ``inner_upper`` / ``inner_lower`` index the inner lip
    contour from the left corner to the right (both start and end at the inner corners).
    """

    origin: tuple[float, float]
    ux: float
    uy: float
    half_width: float
    points: np.ndarray
    uv: np.ndarray
    roles: np.ndarray
    near_lip: np.ndarray
    tris: np.ndarray
    roi: tuple[int, int, int, int]
    inner_upper: np.ndarray
    inner_lower: np.ndarray
    outer_upper: np.ndarray
    outer_lower: np.ndarray

    def to_image(self, du: np.ndarray, dv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A lip-frame displacement (px) as an image displacement (px)."""
        return du * self.ux - dv * self.uy, du * self.uy + dv * self.ux

    def displacement(self, weights: dict[str, float]) -> np.ndarray:
        """N x 2 image-pixel displacement of every control point for the weighted shapes."""
        u = self.uv[:, 0]
        lip = np.clip(1.0 - u**2, 0.0, 1.0)
        jaw = np.clip(1.0 - (u / 2.8) ** 2, 0.0, 1.0)
        du = np.zeros(len(u))
        dv = np.zeros(len(u))
        for name, wgt in weights.items():
            if wgt <= 0.0:
                continue
            for role, (centre, corner, side) in SHAPES[name].items():
                sel = self.roles == role
                if not sel.any():
                    continue
                if role == JAW:
                    # Just under the lower lip the skin moves with the lip; further down the
                    # jaw drops as one piece, less towards the ears.
                    k = self.near_lip[sel]
                    lo = SHAPES[name].get(LO, (centre, corner, side))
                    lip_dv = lo[1] + (lo[0] - lo[1]) * lip[sel]
                    dv[sel] += wgt * (k * lip_dv + (1 - k) * centre * jaw[sel])
                    continue
                prof = lip[sel] if role != NEAR else np.ones(int(sel.sum()))
                dv[sel] += wgt * (corner + (centre - corner) * prof)
                du[sel] += wgt * side * np.clip(u[sel], -1.6, 1.6)
        dx, dy = self.to_image(du * self.half_width, dv * self.half_width)
        return np.stack([dx, dy], axis=1)


def _lip_frame(points: np.ndarray) -> tuple[tuple[float, float], float, float, float]:
    left, right = points[61, :2], points[291, :2]
    d = right - left
    w = max(1e-6, float(np.hypot(*d)))
    ux, uy = float(d[0] / w), float(d[1] / w)
    mid = (points[13, :2] + points[14, :2]) / 2
    return (float(mid[0]), float(mid[1])), ux, uy, w / 2


def _profile(uv: np.ndarray, idx: list[int], u: np.ndarray) -> np.ndarray:
    """v of a contour (given by point indices, ordered in u) at positions u."""
    order = np.argsort(uv[idx, 0])
    return np.interp(u, uv[idx, 0][order], uv[idx, 1][order])


def build_rig(mesh: np.ndarray, frame_size: tuple[int, int]) -> MouthRig:
    """The rig of the face whose 468 mesh points (image px) are ``mesh``."""
    origin, ux, uy, half_w = _lip_frame(mesh)
    rel = mesh[:, :2] - origin
    uv_all = np.stack(
        [rel[:, 0] * ux + rel[:, 1] * uy, -rel[:, 0] * uy + rel[:, 1] * ux], axis=1
    ) / max(half_w, 1e-6)

    lips = {
        UO: _UPPER_OUTER,
        LO: _LOWER_OUTER,
        UI: _UPPER_INNER,
        LI: _LOWER_INNER,
        CO: _CORNERS,
    }
    chosen: list[int] = []
    roles: list[int] = []
    for role, idx in lips.items():
        chosen += list(idx)
        roles += [role] * len(idx)
    lo_idx = [61, *_LOWER_OUTER, 291]
    uo_idx = [61, *_UPPER_OUTER, 291]
    oval = mesh[list(fm.FACE_OVAL), :2].astype(np.float32)
    taken = set(chosen)
    spacing = 0.18  # in W: denser points make a smoother piecewise-affine warp
    for i in range(len(mesh)):
        if i in taken:
            continue
        u, v = uv_all[i]
        if abs(u) > 3.4 or v < -1.6 or v > 4.5:
            continue
        if cv2.pointPolygonTest(oval, (float(mesh[i, 0]), float(mesh[i, 1])), True) < -1.0:
            continue
        kept = uv_all[chosen]
        if np.min(np.hypot(kept[:, 0] - u, kept[:, 1] - v)) < spacing:
            continue
        below = v > float(_profile(uv_all, lo_idx, np.array([u]))[0]) + 0.05
        above = v < float(_profile(uv_all, uo_idx, np.array([u]))[0]) - 0.05
        if below and abs(u) < 3.0:
            role = JAW
        elif 1.0 < abs(u) < 1.7 and not above:
            role = NEAR
        else:
            role = FIXED
        chosen.append(i)
        roles.append(role)
    pts = mesh[chosen, :2].astype(np.float64)
    uv = uv_all[chosen]
    roles_a = np.array(roles)
    lo_v = _profile(uv_all, lo_idx, uv[:, 0])
    near_lip = np.where(roles_a == JAW, np.exp(-np.maximum(uv[:, 1] - lo_v, 0.0) / 0.9), 0.0)

    # The region: every moving point, its largest authored displacement, and a margin in
    # which the motion fades to zero at fixed anchors on the border.
    w, h = frame_size
    moving = pts[roles_a != FIXED]
    margin = 1.1 * half_w
    x0 = int(max(0, moving[:, 0].min() - margin)) & ~1
    y0 = int(max(0, moving[:, 1].min() - margin)) & ~1
    x1 = min(w, int(moving[:, 0].max() + margin) + 2) & ~1
    y1 = min(h, int(moving[:, 1].max() + 1.8 * margin) + 2) & ~1
    # Two fixed rings: the border, and one 4 px inside it, so the outermost pixels of the
    # region are exactly the photo (no seam where the patch is pasted).
    step = max(4.0, 0.5 * half_w)
    ring = np.vstack(
        [_border(x0, y0, x1 - 1, y1 - 1, step), _border(x0 + 4, y0 + 4, x1 - 5, y1 - 5, step)]
    )
    inside = (
        (pts[:, 0] > x0 + 6) & (pts[:, 0] < x1 - 7) & (pts[:, 1] > y0 + 6) & (pts[:, 1] < y1 - 7)
    )
    keep = inside | (roles_a != FIXED)
    pts, uv, roles_a, near_lip = pts[keep], uv[keep], roles_a[keep], near_lip[keep]
    index = {m: k for k, m in enumerate(np.array(chosen)[keep].tolist())}
    rrel = ring - origin
    ring_uv = np.stack(
        [rrel[:, 0] * ux + rrel[:, 1] * uy, -rrel[:, 0] * uy + rrel[:, 1] * ux], axis=1
    ) / max(half_w, 1e-6)
    pts = np.vstack([pts, ring])
    uv = np.vstack([uv, ring_uv])
    roles_a = np.concatenate([roles_a, np.full(len(ring), FIXED)])
    near_lip = np.concatenate([near_lip, np.zeros(len(ring))])

    rig = MouthRig(
        origin=origin,
        ux=ux,
        uy=uy,
        half_width=half_w,
        points=pts,
        uv=uv,
        roles=roles_a,
        near_lip=near_lip,
        tris=np.zeros((0, 3), np.int32),
        roi=(x0, y0, x1, y1),
        inner_upper=np.array([index[i] for i in (78, *_UPPER_INNER, 308)]),
        inner_lower=np.array([index[i] for i in (78, *_LOWER_INNER, 308)]),
        outer_upper=np.array([index[i] for i in (61, *_UPPER_OUTER, 291)]),
        outer_lower=np.array([index[i] for i in (61, *_LOWER_OUTER, 291)]),
    )
    # Triangulate the fully open mouth: there the inner lips are apart, so no triangle
    # bridges the lips in a way that would fold over when they part.
    open_pts = pts + rig.displacement(shape_weights(1.0, 1.0))
    tris = _delaunay(open_pts, (x0, y0, x1, y1))
    return MouthRig(**{**rig.__dict__, "tris": tris})


def _border(x0: float, y0: float, x1: float, y1: float, step: float) -> np.ndarray:
    nx = max(2, math.ceil((x1 - x0) / step) + 1)
    ny = max(2, math.ceil((y1 - y0) / step) + 1)
    xs, ys = np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)
    top = np.stack([xs, np.full(nx, y0)], 1)
    bottom = np.stack([xs, np.full(nx, y1)], 1)
    left = np.stack([np.full(ny - 2, x0), ys[1:-1]], 1)
    right = np.stack([np.full(ny - 2, x1), ys[1:-1]], 1)
    return np.vstack([top, bottom, left, right])


def _delaunay(pts: np.ndarray, roi: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = roi
    sub = cv2.Subdiv2D((x0 - 50, y0 - 50, x1 - x0 + 100, y1 - y0 + 100))
    lookup: dict[tuple[float, float], int] = {}
    for k, (x, y) in enumerate(pts):
        key = (float(np.float32(x)), float(np.float32(y)))
        if key in lookup:
            continue
        lookup[key] = k
        sub.insert(key)
    tris = []
    for t in sub.getTriangleList():
        ids = [
            lookup.get((float(np.float32(t[j])), float(np.float32(t[j + 1])))) for j in (0, 2, 4)
        ]
        if None not in ids:
            tris.append(ids)
    return np.array(tris, np.int32).reshape(-1, 3)


def signed_areas(pts: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """Twice the signed area of each triangle (the sign flips where a warp folds)."""
    a, b, c = pts[tris[:, 0]], pts[tris[:, 1]], pts[tris[:, 2]]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def warp_maps(rig: MouthRig, dest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.remap`` maps (ROI coordinates) of the piecewise-affine warp that takes the rest
    points to ``dest``: for each output pixel, where in the rest ROI it comes from."""
    x0, y0, x1, y1 = rig.roi
    w, h = x1 - x0, y1 - y0
    map_x = np.broadcast_to(np.arange(w, dtype=np.float32)[None, :], (h, w)).copy()
    map_y = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w)).copy()
    src = rig.points - (x0, y0)
    dst = dest - (x0, y0)
    # Triangles whose corners all stay put are the identity: only the others are drawn.
    still = np.all(np.abs(dest - rig.points) < 1e-6, axis=1)
    tris = rig.tris[~np.all(still[rig.tris], axis=1)]
    if len(tris) == 0:
        return map_x, map_y
    d3, s3 = dst[tris], src[tris]  # T x 3 x 2
    m = np.concatenate([d3, np.ones((len(tris), 3, 1))], axis=2)
    det = np.linalg.det(m)
    ok = np.abs(det) > 1e-3
    # One affine per triangle, output -> rest, solved together; a triangle squashed flat
    # keeps a translation.
    aff = np.zeros((len(tris) + 1, 2, 3), np.float64)
    aff[:, 0, 0] = aff[:, 1, 1] = 1.0
    shift = (s3 - d3).mean(axis=1)
    aff[:-1, :, 2] = shift
    if ok.any():
        sol = np.linalg.solve(m[ok], s3[ok])  # [x y 1] @ sol = source, 3 x 2
        aff[:-1][ok] = np.transpose(sol, (0, 2, 1))
    aff[-1] = ((1, 0, 0), (0, 1, 0))  # pixels in no moving triangle: identity
    # Rasterise the moving triangles' ids inside their bounding box only.
    bx0 = max(0, int(np.floor(d3[..., 0].min())) - 1)
    by0 = max(0, int(np.floor(d3[..., 1].min())) - 1)
    bx1 = min(w, int(np.ceil(d3[..., 0].max())) + 2)
    by1 = min(h, int(np.ceil(d3[..., 1].max())) + 2)
    n = len(tris)
    ids = np.full((by1 - by0, bx1 - bx0), n, np.int32)
    polys = np.round((d3 - (bx0, by0)) * 16).astype(np.int32)
    for k in range(n):
        cv2.fillConvexPoly(ids, polys[k], k, lineType=cv2.LINE_8, shift=4)
        cv2.polylines(ids, [polys[k]], True, k, 1, lineType=cv2.LINE_8, shift=4)
    a = aff.reshape(-1, 6).astype(np.float32)[ids]
    xs, ys = map_x[by0:by1, bx0:bx1], map_y[by0:by1, bx0:bx1]
    nx = a[..., 0] * xs + a[..., 1] * ys + a[..., 2]
    ny = a[..., 3] * xs + a[..., 4] * ys + a[..., 5]
    map_x[by0:by1, bx0:bx1] = nx
    map_y[by0:by1, bx0:bx1] = ny
    return map_x, map_y
