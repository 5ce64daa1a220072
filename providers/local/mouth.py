"""The mouth: the photo's lips and jaw moved by a triangle-mesh warp, and a mouth interior made
from the photo's own pixels, for one mouth state (openness, width, teeth-on-lip).

The warp (:mod:`providers.local.mouth_rig`) moves the face mesh's lip and jaw points by the
authored shapes, so the lips themselves part, spread and round, and the chin drops; outside the
rig's region nothing changes. Between the moved inner lips the interior is composed back to
front, in the lip frame (it turns with the head):

- the back of the mouth: the darkest colour of the photo's own lip line and mouth, shaded
  lighter towards the lower middle (tongue) and darker under the upper lip; a grayscale photo
  gives a grey interior because every colour comes from it;
- lower teeth the photo shows (a bright band above the lower lip) move down with the jaw;
- upper teeth the photo shows stay where they are (they belong to the skull, not the jaw);
  a photo without visible teeth gets a faint band of teeth coloured like the photo's eye
  whites, under the upper lip;
- the edge is feathered over a couple of pixels and the lower lip's rim is shaded where it
  curls in, so the opening is not a pasted slab.
"""

from __future__ import annotations

import cv2
import numpy as np

from providers.local import mesh as fm
from providers.local.mouth_rig import MouthRig, build_rig, shape_weights, warp_maps

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


class MouthRenderer:
    """Renders the rig's region of interest for a mouth state; cheap enough to call per level.

    ``frame`` is the still output frame and ``mesh`` the face mesh (468 x 2 or x 3) in its
    pixel coordinates.
    """

    def __init__(self, frame: np.ndarray, mesh: np.ndarray) -> None:
        h, w = frame.shape[:2]
        self.rig: MouthRig = build_rig(np.asarray(mesh, np.float64), (w, h))
        x0, y0, x1, y1 = self.rig.roi
        self.roi = self.rig.roi
        self.patch = np.ascontiguousarray(frame[y0:y1, x0:x1])
        r = self.rig
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        px, py = xs - r.origin[0], ys - r.origin[1]
        self.u = px * r.ux + py * r.uy  # lip frame, pixels
        self.v = -px * r.uy + py * r.ux
        self.grayscale = _is_grayscale(self.patch)
        uv_px = r.uv * r.half_width
        self._rest_up = uv_px[r.inner_upper]
        self._rest_low = uv_px[r.inner_lower]
        self._teeth = self._find_teeth()
        self._colours = self._sample_colours(frame, np.asarray(mesh))
        # Grain as strong as the photo's own (sensor noise, JPEG texture) round the mouth,
        # laid over the interior so it is no smoother than the skin; a fixed seed, so it does
        # not flicker from frame to frame.
        grey = cv2.cvtColor(self.patch, cv2.COLOR_RGB2GRAY).astype(np.float32)
        fine = np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 1.2))
        sigma = float(np.clip(1.4826 * np.median(fine), 0.5, 6.0))
        noise = np.asarray(np.random.default_rng(7).normal(0.0, 1.0, grey.shape), np.float32)
        noise = np.asarray(cv2.GaussianBlur(noise, (0, 0), 0.7), np.float32)
        self._grain = noise * (sigma / max(1e-3, float(noise.std())))

    # ------------------------------------------------------------------ what the photo shows

    def _profile(self, pts: np.ndarray, u: np.ndarray) -> np.ndarray:
        order = np.argsort(pts[:, 0])
        return np.interp(u, pts[order, 0], pts[order, 1])

    def _sample(self, u: np.ndarray, v: np.ndarray, img: np.ndarray) -> np.ndarray:
        """Bilinear samples of ``img`` (the ROI patch) at lip-frame positions."""
        r = self.rig
        mx = (r.origin[0] + u * r.ux - v * r.uy - r.roi[0]).astype(np.float32)
        my = (r.origin[1] + u * r.uy + v * r.ux - r.roi[1]).astype(np.float32)
        return cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def _find_teeth(self) -> tuple[float, float]:
        """Where the photo's teeth are between its inner lips, as fractions ``t`` from the
        upper inner lip (0) to the lower (1): (bottom of the upper teeth, top of the lower
        teeth). (0, 1) when the lips are closed or nothing bright shows between them."""
        uc = min(-self._rest_up[0, 0], self._rest_up[-1, 0])
        gap = self._profile(self._rest_low, np.zeros(1)) - self._profile(self._rest_up, np.zeros(1))
        if uc <= 0 or float(gap[0]) < 2.0:
            return (0.0, 1.0)
        us = np.linspace(-0.6 * uc, 0.6 * uc, 24)
        ts = np.linspace(0.0, 1.0, 17)
        top, bot = self._profile(self._rest_up, us), self._profile(self._rest_low, us)
        uu = np.broadcast_to(us[None, :], (len(ts), len(us)))
        vv = top[None, :] + ts[:, None] * (bot - top)[None, :]
        grey = cv2.cvtColor(self.patch, cv2.COLOR_RGB2GRAY)
        prof = np.median(self._sample(uu, vv, grey).astype(np.float32), axis=1)
        lo_, hi_ = float(prof.min()), float(prof.max())
        # Teeth: clearly brighter than the darkest part between the lips, and than the lips.
        lip = float(np.median(self._sample(uu[:1], vv[:1] - 2.0, grey)))
        bright = prof > max(0.5 * (lo_ + hi_), lip + 12.0)
        if hi_ - lo_ < 20 and not bright.all():
            return (0.0, 1.0)
        # Runs of bright samples from the top: the first is the upper teeth (what a smile
        # shows; the mesh's inner lip may sit a little above or below their edge); a second
        # one after a dark band is the lower teeth. The dark band is the mouth.
        runs: list[tuple[int, int]] = []
        for i, b in enumerate(bright.tolist()):
            if b and (not runs or runs[-1][1] != i - 1):
                runs.append((i, i))
            elif b:
                runs[-1] = (runs[-1][0], i)
        if not runs:
            return (0.0, 1.0)
        upper = float(ts[runs[0][1]])
        if upper >= 0.8:
            return (1.0, 1.0)  # the upper teeth fill the gap (they cover the lower ones)
        lower = float(ts[runs[1][0]]) if len(runs) > 1 and runs[-1][1] >= len(ts) - 3 else 1.0
        return (upper, lower)

    def _sample_colours(self, frame: np.ndarray, mesh: np.ndarray) -> dict[str, np.ndarray]:
        """Mouth colours taken from the photo: the dark of its lip line, its lip colour, and a
        teeth colour (its own teeth, else its eye whites)."""
        r = self.rig
        x0, y0 = r.roi[0], r.roi[1]
        lips = np.zeros(self.patch.shape[:2], np.uint8)
        outer = np.vstack([r.points[r.outer_upper], r.points[r.outer_lower][::-1]]) - (x0, y0)
        cv2.fillPoly(lips, [np.round(outer).astype(np.int32)], 255)
        grown = cv2.dilate(lips, np.ones((3, 3), np.uint8))
        px = self.patch[grown > 0].astype(np.float32)
        lower = np.zeros_like(lips)
        lower_poly = np.vstack([r.points[r.inner_lower], r.points[r.outer_lower][::-1]]) - (x0, y0)
        cv2.fillPoly(lower, [np.round(lower_poly).astype(np.int32)], 255)
        lip_px = self.patch[lower > 0].astype(np.float32)
        if px.shape[0] < 10:
            px = self.patch.reshape(-1, 3).astype(np.float32)
        if lip_px.shape[0] < 5:
            lip_px = px
        lum = px @ _LUMA
        dark = px[lum <= np.percentile(lum, 5)]
        deep = np.median(dark, axis=0)
        lip = np.median(lip_px, axis=0)
        # The back of a mouth is much darker than the lips even where the photo's lip line is
        # only a faint crease: keep the hue, bound the brightness.
        cap = 0.3 * float(lip @ _LUMA)
        if float(deep @ _LUMA) > cap:
            deep = deep * cap / max(1.0, float(deep @ _LUMA))
        teeth = self._teeth_colour(frame, mesh)
        tongue = 0.55 * lip + 0.45 * deep
        cols = {"deep": deep, "lip": lip, "tongue": tongue, "teeth": teeth}
        if self.grayscale:
            cols = {k: np.full(3, float(c @ _LUMA), np.float32) for k, c in cols.items()}
        return {k: np.asarray(c, np.float32) for k, c in cols.items()}

    def _teeth_colour(self, frame: np.ndarray, mesh: np.ndarray) -> np.ndarray:
        upper, _ = self._teeth
        if upper > 0.2:
            us = np.linspace(-0.4, 0.4, 9) * abs(self._rest_up[0, 0])
            top, bot = self._profile(self._rest_up, us), self._profile(self._rest_low, us)
            ts = np.linspace(0.2, 0.8 * upper, 5)
            uu = np.broadcast_to(us[None, :], (len(ts), len(us)))
            vv = top[None, :] + ts[:, None] * (bot - top)[None, :]
            px = self._sample(uu, vv, self.patch).reshape(-1, 3).astype(np.float32)
            return np.median(px, axis=0)
        # No teeth in the photo: the eye whites are the nearest thing to teeth it shows
        # under the same light; a little darker, as teeth sit in the mouth's shade.
        whites = []
        for idx in (fm.LEFT_EYE, fm.RIGHT_EYE):
            m = np.zeros(frame.shape[:2], np.uint8)
            cv2.fillPoly(m, [np.round(mesh[list(idx), :2]).astype(np.int32)], 255)
            px = frame[m > 0].astype(np.float32)
            if px.shape[0] >= 5:
                lum = px @ _LUMA
                whites.append(px[lum >= np.percentile(lum, 75)])
        if whites:
            return 0.85 * np.median(np.vstack(whites), axis=0)
        return np.full(3, 200.0, np.float32)

    # ------------------------------------------------------------------ rendering

    def render(self, openness: float, width: float, tuck: float = 0.0) -> np.ndarray:
        """The ROI for a mouth state: ``openness`` 0..1, ``width`` ~0.78 (rounded) .. 1.12
        (spread), ``tuck`` 0..1 (lower lip under the upper teeth, for f/v)."""
        if openness <= 0.0 and abs(width - 1.0) < 1e-3 and tuck <= 0.0:
            return self.patch
        r = self.rig
        dest = r.points + r.displacement(shape_weights(openness, width, tuck))
        map_x, map_y = warp_maps(r, dest)
        out = cv2.remap(self.patch, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        rel = dest - r.origin
        uv = np.stack(
            [rel[:, 0] * r.ux + rel[:, 1] * r.uy, -rel[:, 0] * r.uy + rel[:, 1] * r.ux], 1
        )
        self._compose_interior(out, uv[r.inner_upper], uv[r.inner_lower])
        return out

    def _compose_interior(self, out: np.ndarray, up: np.ndarray, low: np.ndarray) -> None:
        W = self.rig.half_width
        feather = max(1.2, 0.08 * W)
        # Only the rows and columns round the opening.
        x0, y0 = self.rig.roi[0], self.rig.roi[1]
        pts = np.vstack([up, low])
        r = self.rig
        ix = r.origin[0] + pts[:, 0] * r.ux - pts[:, 1] * r.uy - x0
        iy = r.origin[1] + pts[:, 0] * r.uy + pts[:, 1] * r.ux - y0
        pad = 2 * feather + 0.25 * W + 2
        h, w = out.shape[:2]
        c0, c1 = max(0, int(ix.min() - pad)), min(w, int(ix.max() + pad) + 1)
        r0, r1 = max(0, int(iy.min() - pad)), min(h, int(iy.max() + pad) + 1)
        if c1 <= c0 or r1 <= r0:
            return
        sl = (slice(r0, r1), slice(c0, c1))
        u, v = self.u[sl], self.v[sl]
        ul, ur = max(up[0, 0], low[0, 0]), min(up[-1, 0], low[-1, 0])
        y_up, y_low = self._profile(up, u), self._profile(low, u)
        inside_u = (u > ul) & (u < ur)
        y_low = np.where(inside_u, y_low, y_up)
        gap = np.maximum(y_low - y_up, 0.0)
        if float(gap.max()) < 0.25:
            return
        # The lower edge reaches a little onto the lip: the photo's lip edge there may still
        # carry a fringe of the teeth it touched.
        alpha = _smoothstep(-0.5, 0.5, (v - y_up) / feather) * _smoothstep(
            -0.5, 0.5, (y_low + 0.8 - v) / feather
        )
        alpha *= _smoothstep(0.0, 1.0, gap / feather)  # the corners fade, no hard tips
        rest_up = self._profile(self._rest_up, u)
        rest_low = self._profile(self._rest_low, u)
        rest_gap = np.maximum(rest_low - rest_up, 0.0)
        cols = self._colours
        upper_t, lower_t = self._teeth
        # The cavity starts under the photo's upper teeth, if it shows them.
        bottom = rest_up + upper_t * rest_gap - 0.5
        top = np.maximum(y_up, bottom) if upper_t > 0.0 else y_up
        depth = np.maximum(y_low - top, 1e-3)
        # Back of the mouth: the photo's darkest lip-line colour, darkest at the back and in
        # the corners, lighter towards the lower middle where light falls in on the tongue,
        # and in the shadow of the upper teeth and lip at the top.
        rel = np.clip((v - top) / depth, 0.0, 1.0)
        side = np.clip(np.abs(u) / max(1e-3, 0.5 * (ur - ul)), 0.0, 1.0)
        glow = rel**1.5 * (1.0 - side**2)
        col = cols["deep"] * (0.45 + 0.75 * glow)[..., None]
        # The tongue: a low mound, the lips' colour in the mouth's shade.
        mound = rel - (1.0 - 0.3 * (1.0 - side**2))
        tongue = _smoothstep(-0.05, 0.25, mound) * _smoothstep(0.25, 0.5, gap / W)
        col += (cols["tongue"] * (0.75 + 0.3 * rel)[..., None] - col) * (0.55 * tongue)[..., None]
        col *= (1.0 - 0.5 * np.exp(-rel / 0.18))[..., None]
        col += self._grain[sl][..., None]
        region = out[sl].astype(np.float32)
        if upper_t > 0.0:
            # The photo's upper teeth, where they were: their bottom edge stays put; if the
            # upper lip lifts, the teeth are stretched up to meet it.
            span = np.maximum(bottom - y_up, 1e-3)
            v_src = rest_up + (v - y_up) * np.maximum(bottom - rest_up, 0.0) / span
            teeth = self._sample(u, v_src, self.patch).astype(np.float32)
            a = _smoothstep(-0.5, 0.5, bottom - v) * (bottom > y_up + 0.5)
            col += (teeth - col) * a[..., None]
        else:
            # A hint of upper teeth under the lip, in the photo's own light.
            th = np.minimum(0.3 * gap, 0.2 * W) + 0.3
            a = np.clip((y_up + th - v) / 0.9, 0.0, 1.0) * (1.0 - side**2) ** 0.5
            a *= _smoothstep(1.5, 4.5, gap)
            col += (cols["teeth"] * (0.85 + 0.15 * rel)[..., None] - col) * (0.8 * a)[..., None]
        if lower_t < 1.0:
            # The photo's lower teeth ride down with the jaw.
            drop = y_low - rest_low
            v_src = v - drop
            low_top = rest_up + lower_t * rest_gap
            teeth = self._sample(u, v_src, self.patch).astype(np.float32)
            a = _smoothstep(-0.5, 0.5, v_src - low_top) * _smoothstep(-0.5, 0.5, rest_low - v_src)
            col += (teeth - col) * a[..., None]
        else:
            # The lower incisors' edges, carried by the jaw just above the lower lip, in the
            # mouth's shade; only once the jaw is well down.
            th = np.minimum(0.08 * W, 0.12 * depth)
            edge = np.clip((v - (y_low - th)) / np.maximum(th, 1e-3), 0.0, 1.0)
            a = _smoothstep(-0.5, 0.5, (v - (y_low - th)) / 0.8) * (1.0 - side**2) ** 1.5
            a *= 0.45 * _smoothstep(0.3 * W, 0.55 * W, depth)
            shade = (0.75 - 0.25 * edge)[..., None]  # lit edge on top, lip's shadow below
            col += (shade * cols["teeth"] - col) * a[..., None]
        if self.grayscale:
            col[...] = (col @ _LUMA)[..., None]
        # The lower lip curls in under the opening: a soft shade along its rim.
        below = np.clip(v - y_low, 0.0, None)
        rim = np.exp(-below / (0.12 * W + 0.5)) * (v > y_low) * _smoothstep(0.0, 3.0, gap)
        region *= (1.0 - 0.3 * rim)[..., None]
        a3 = alpha[..., None]
        out[sl] = np.clip(region * (1.0 - a3) + col * a3, 0, 255).astype(np.uint8)


def _is_grayscale(rgb: np.ndarray) -> bool:
    spread = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2)
    return float(spread.mean()) < 3.0
