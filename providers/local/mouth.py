"""The mouth: a smooth jaw/lip warp plus a painted mouth interior, for one mouth shape.

Geometry works in a local frame at the lip-line centre: ``u`` along the lip line towards the
right corner, ``v`` perpendicular, pointing down to the chin. For an opening ``G`` the lower
lip edge moves to ``v = G_low * lens(u)`` and the upper lip to ``v = -G_up * lens(u)``, where
``lens`` is 1 at the centre and 0 at the corners. Below the lower lip, the displacement blends
from the lip's lens shape into a rigid jaw drop, then fades to zero over the neck; above the
upper lip it fades within a few pixels, so the nose never moves. Every fade is slower than one
pixel per pixel, so the warp never folds or tears. The gap between the lips is painted:
dark red-brown, deeper in the middle, with a hint of upper teeth and tongue.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class MouthGeometry:
    """Mouth in output-frame pixels. ``roi`` is (x0, y0, x1, y1), where the warp is non-zero."""

    cx: float
    cy: float
    ux: float  # unit vector along the lip line (towards the right corner)
    uy: float
    half_width: float
    face: float  # face width
    chin: float  # distance from the lip line to the chin, along v
    curve: float  # the lip line is v = curve * u^2 (negative: corners up, a smile)
    teeth_visible: bool
    roi: tuple[int, int, int, int]


def mouth_geometry(
    center: tuple[float, float],
    left: tuple[float, float],
    right: tuple[float, float],
    face_box: tuple[int, int, int, int],
    frame_size: tuple[int, int],
    *,
    curve: float = 0.0,
    teeth_visible: bool = False,
) -> MouthGeometry:
    """Derive the warp's geometry and region of interest from the landmarks."""
    dx, dy = right[0] - left[0], right[1] - left[1]
    norm = max(1e-6, float(np.hypot(dx, dy)))
    ux, uy = dx / norm, dy / norm
    face = float(face_box[2])
    # The Haar box ends a little above the chin; the chin sits ~1.12 box widths below its top.
    chin = max(0.2 * face, face_box[1] + 1.12 * face - center[1])
    w, h = frame_size
    x0 = int(max(0, center[0] - 0.72 * face)) & ~1
    x1 = min(w, int(center[0] + 0.72 * face) + 2) & ~1
    y0 = int(max(0, center[1] - 0.3 * face)) & ~1
    y1 = min(h, int(center[1] + chin + 0.45 * face) + 2) & ~1
    return MouthGeometry(
        cx=center[0],
        cy=center[1],
        ux=ux,
        uy=uy,
        half_width=norm / 2,
        face=face,
        chin=chin,
        curve=curve,
        teeth_visible=teeth_visible,
        roi=(x0, y0, x1, y1),
    )


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


class MouthRenderer:
    """Renders the mouth ROI for a given (openness, width) shape; cheap to call per level."""

    MAX_GAP = 0.62  # opening at openness 1, in mouth half-widths

    def __init__(self, frame: np.ndarray, geo: MouthGeometry) -> None:
        self.geo = geo
        x0, y0, x1, y1 = geo.roi
        self.patch = np.ascontiguousarray(frame[y0:y1, x0:x1])
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        px, py = xs - geo.cx, ys - geo.cy
        self.u = px * geo.ux + py * geo.uy
        # Measure v from the (curved) lip line, so the opening follows a smile; the bend
        # saturates smoothly beyond the corners.
        reach = 1.2 * geo.half_width
        bend = geo.curve * (reach * np.tanh(self.u / reach)) ** 2
        self.v_line = bend
        self.v = -px * geo.uy + py * geo.ux - bend
        self.xs, self.ys = xs, ys
        # Scale the painted interior to the photo's light so dim photos get dim mouths.
        lum = float(cv2.cvtColor(self.patch, cv2.COLOR_RGB2GRAY).mean())
        self.light = float(np.clip(lum / 140.0, 0.45, 1.15))
        # A black-and-white photo gets a black-and-white mouth, not a red one.
        spread = self.patch.max(axis=2).astype(np.int16) - self.patch.min(axis=2)
        self.grayscale = float(spread.mean()) < 3.0

    def render(self, openness: float, width: float) -> np.ndarray:
        """The ROI with the jaw dropped by ``openness`` (0..1) and lips at ``width`` (~0.8..1.1)."""
        if openness <= 0.0 and abs(width - 1.0) < 1e-3:
            return self.patch
        g = self.geo
        W = g.half_width
        gap = self.MAX_GAP * W * float(openness)
        g_low, g_up = 0.78 * gap, 0.22 * gap
        u, v = self.u, self.v
        wf = 0.92 * W * width  # the opening is a little narrower than the lip corners
        lens = np.clip(1.0 - (u / wf) ** 2, 0.0, 1.0) ** 0.85  # almond: tapers to the corners
        y_low, y_up = g_low * lens, g_up * lens

        # Below the lower lip: lip shape near the line, rigid jaw further down, fading out
        # over the neck and towards the cheeks.
        s = np.maximum(v - y_low, 0.0)
        near = np.exp(-s / (1.3 * W))
        jaw = 1.0 - _smoothstep(0.2 * g.face, 0.5 * g.face, np.abs(u))
        fall = 1.0 - _smoothstep(g.chin, g.chin + 0.4 * g.face, v)
        d_low = g_low * (near * lens + (1.0 - near) * jaw) * fall
        # Above the upper lip: a short fade so the nose stays put.
        t = np.maximum(-v - y_up, 0.0)
        d_up = g_up * lens * np.exp(-t / (0.4 * W))
        v_src = np.where(v >= y_low, v - d_low, np.where(v <= -y_up, v + d_up, 0.0)) + self.v_line
        # Lip width: rounded vowels pull the corners in, spread vowels push them out.
        k = 1.0 / width - 1.0
        env = np.exp(-((u / (1.8 * W)) ** 2) - (v / (0.6 * W)) ** 2)  # lips only, not the chin
        u_src = u * (1.0 + k * env)

        map_x = (g.cx + u_src * g.ux - v_src * g.uy - g.roi[0]).astype(np.float32)
        map_y = (g.cy + u_src * g.uy + v_src * g.ux - g.roi[1]).astype(np.float32)
        out = cv2.remap(self.patch, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if gap >= 0.3:
            self._paint_interior(out, u, v, wf, y_low, y_up, gap)
        return out

    def _paint_interior(
        self,
        out: np.ndarray,
        u: np.ndarray,
        v: np.ndarray,
        wf: float,
        y_low: np.ndarray,
        y_up: np.ndarray,
        gap: float,
    ) -> None:
        W = self.geo.half_width
        # Only touch the rows around the opening: they are few next to the ROI.
        near = (v > -y_up - 0.5 * W) & (v < y_low + 0.5 * W) & (np.abs(u) < 1.2 * wf)
        rows = np.flatnonzero(near.any(axis=1))
        if rows.size == 0:
            return
        sl = (slice(rows[0], rows[-1] + 1), slice(None))
        u, v, y_low, y_up = u[sl], v[sl], y_low[sl], y_up[sl]
        region = out[sl].astype(np.float32)
        # The lower lip curls under into the mouth: a soft shadow just below the opening.
        below = np.clip(v - y_low, 0, None)
        lip_shadow = np.exp(-below / (0.12 * W + 0.5)) * (v > y_low) * (y_low > 0.3)
        region *= (1.0 - 0.28 * lip_shadow * min(1.0, gap / (0.2 * W)))[..., None]
        aa = 0.9  # anti-aliasing ramp, px
        alpha = np.clip((v + y_up) / aa + 0.5, 0, 1) * np.clip((y_low - v) / aa + 0.5, 0, 1)
        alpha *= np.clip((wf - np.abs(u)) / (0.08 * wf), 0, 1)
        # The back of the mouth is dark, darkest in the corners; light falls in from the
        # front and below, so the lower middle is warmer.
        local_h = np.maximum(y_low + y_up, 1e-3)
        rel = np.clip((v + y_up) / local_h, 0, 1)  # 0 at the upper lip, 1 at the lower
        side = np.clip(np.abs(u) / wf, 0, 1)
        glow = (rel**1.5 * (1 - side**2))[..., None]
        deep = np.array([34, 10, 12], np.float32)
        warm = np.array([120, 44, 34], np.float32)
        col = deep + (warm - deep) * glow
        # Tongue: a soft mound along the bottom, higher in the middle, once the mouth is
        # well open.
        reach = np.clip(1.0 - (u / (0.75 * wf)) ** 2, 0, 1)
        top = 1.0 - 0.45 * reach
        tongue = _smoothstep(-0.05, 0.25, rel - top) * (reach > 0)
        tongue *= np.clip((gap - 0.2 * W) / (0.35 * W), 0, 1)
        tongue_col = np.array([160, 74, 62], np.float32) * (0.7 + 0.3 * rel)[..., None]
        col += (tongue_col - col) * (0.75 * tongue)[..., None]
        # Shadow under the upper lip and teeth.
        col *= (1.0 - 0.3 * np.exp(-rel / 0.15))[..., None]
        if not self.geo.teeth_visible:
            # Upper teeth: a pale band just under the upper lip, fading towards the corners.
            th = np.minimum(0.28 * local_h, 0.2 * W) + 0.3
            teeth = np.clip((-y_up + th - v) / 0.8, 0, 1)
            teeth *= np.clip(1.0 - (u / (0.72 * wf)) ** 2, 0, 1)
            teeth *= np.clip((gap - 1.5) / 3.0, 0, 1)
            col += (np.array([214, 204, 190], np.float32) - col) * (0.85 * teeth)[..., None]
        col *= self.light
        if self.grayscale:
            col[...] = (col @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
        # Match the photo's softness: a crisp painted edge would look pasted on.
        col = cv2.GaussianBlur(col, (0, 0), 0.7)
        a = cv2.GaussianBlur(alpha.astype(np.float32), (0, 0), 0.6)[..., None]
        out[sl] = np.clip(region * (1.0 - a) + col * a, 0, 255).astype(np.uint8)
