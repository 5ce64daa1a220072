"""Compose animated frames: mouth and eyelids from cached patches, then head motion.

Only small regions change from frame to frame, so the animator never warps the whole frame:
the mouth region is rendered once per quantised (openness, width) level and each eye once per
closure level (an LRU-free dict: the number of levels is small and fixed), and pasted onto a
copy of the still frame. Head motion, when asked for, is one extra ``cv2.remap`` of the head
region with a displacement that is the head's rigid motion near the face and fades smoothly to
zero at a feathered ellipse. Only the person moves: the remap carries a person mask along
(MediaPipe selfie segmentation, :mod:`providers.local.person`) and the moved person is laid
over a background plate in which the person was filled in from its surroundings, so objects
beside the head stay put and the strip the head moves away from shows background. The mask
and the plate are made once per video, on the first frame that moves the head.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from providers.local.eyes import EyeRenderer, eye_geometries
from providers.local.face import FaceLandmarks
from providers.local.glasses import rim_mask
from providers.local.mouth import MouthRenderer
from providers.local.person import background_plate, person_mask

OPEN_LEVELS = 24
WIDTH_LEVELS = (0.78, 0.86, 0.94, 1.0, 1.06, 1.12)
TUCK_LEVELS = 3  # lower lip under the upper teeth (f, v): none, half, full
BLINK_LEVELS = 6
_HEAD_GRID = 4  # head-motion maps are computed at 1/4 resolution, then upsampled (smooth)


class FaceAnimator:
    """Turns (openness, width, blink, head pose) into an RGB frame of the framed photo.

    ``base`` is the still output frame and ``lm`` the landmarks in its coordinates. The frame
    returned by :meth:`frame` is the animator's own buffer, valid until the next call (reusing
    it saves a 2-6 MB allocation and copy per frame): copy it before drawing on it. Outside
    :attr:`dirty` it always equals ``base``.
    """

    def __init__(self, base: np.ndarray, lm: FaceLandmarks) -> None:
        self.base = base
        h, w = base.shape[:2]
        if lm.mesh is None:
            raise ValueError("FaceAnimator needs the face mesh (landmarks from detect_face)")
        self.mouth = MouthRenderer(base, lm.mesh)
        rims = rim_mask(base, lm)  # glasses: the blink keeps these pixels fixed
        self.glasses = rims is not None
        self.eyes = [EyeRenderer(base, geo, rims) for geo in eye_geometries(lm, (w, h))]
        self._mouth_cache: dict[tuple[int, int, int], np.ndarray] = {}
        self._eye_cache: dict[tuple[int, int], np.ndarray] = {
            (i, 0): eye.patch for i, eye in enumerate(self.eyes)
        }
        parts = [self.mouth.roi, *(eye.geo.roi for eye in self.eyes)]
        self._head = _HeadWarp(base, lm, contain=parts)
        self.dirty = self._head.roi  # every pixel that can ever change
        self._out = base.copy()
        self._head_moved = False

    @staticmethod
    def quantise(openness: float, width: float, tuck: float = 0.0) -> tuple[int, int, int]:
        # Plain Python on floats: numpy's per-call overhead made this ~0.2 ms a frame.
        o = round(min(max(float(openness), 0.0), 1.0) * (OPEN_LEVELS - 1))
        wi = min(range(len(WIDTH_LEVELS)), key=lambda j: abs(width - WIDTH_LEVELS[j]))
        t = round(min(max(float(tuck), 0.0), 1.0) * (TUCK_LEVELS - 1))
        return o, wi, t

    @staticmethod
    def quantise_track(
        openness: np.ndarray, width: np.ndarray, tuck: np.ndarray
    ) -> list[tuple[int, int, int]]:
        """:meth:`quantise` for whole tracks at once (float32 arithmetic: a value on a level
        boundary may land on the neighbouring level; use it for estimates, not frames)."""
        o = np.rint(np.clip(openness, 0, 1) * (OPEN_LEVELS - 1)).astype(int)
        levels = np.asarray(WIDTH_LEVELS, dtype=np.float32)
        wi = np.argmin(np.abs(np.asarray(width)[:, None] - levels[None, :]), axis=1)
        t = np.rint(np.clip(tuck, 0, 1) * (TUCK_LEVELS - 1)).astype(int)
        return list(zip(o.tolist(), wi.tolist(), t.tolist(), strict=True))

    def has_mouth(self, key: tuple[int, int, int]) -> bool:
        """Whether the patch for ``key`` is rendered already."""
        return key in self._mouth_cache

    def mouth_patch(self, key: tuple[int, int, int]) -> np.ndarray:
        """The mouth region for a :meth:`quantise` key, rendered on first use and kept.

        The patch depends on the key alone, so rendering one ahead of time (while the voice
        is still being synthesised) gives the same frames as rendering it when first shown.
        """
        patch = self._mouth_cache.get(key)
        if patch is None:
            patch = self.mouth.render(
                key[0] / (OPEN_LEVELS - 1), WIDTH_LEVELS[key[1]], key[2] / (TUCK_LEVELS - 1)
            )
            self._mouth_cache[key] = patch
        return patch

    def _eye_patch(self, eye: int, level: int) -> np.ndarray:
        patch = self._eye_cache.get((eye, level))
        if patch is None:
            patch = self.eyes[eye].render(level / (BLINK_LEVELS - 1))
            self._eye_cache[(eye, level)] = patch
        return patch

    def prepare(self, head_moves: bool) -> None:
        """Do now the once-per-video work that :meth:`frame` would otherwise do on first
        need: every blink level of each eye and, if the head will move, the person mask and
        background plate. None of it depends on the speech, so it can run while the voice is
        being synthesised; the frames are the same either way."""
        for i in range(len(self.eyes)):
            for level in range(BLINK_LEVELS):
                self._eye_patch(i, level)
        if head_moves:
            self._head.prepare()

    def frame(
        self,
        openness: float,
        width: float,
        blink: float,
        head: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
        tuck: float = 0.0,
    ) -> np.ndarray:
        """``head`` = (angle rad, dx, dy as fractions of face width, relative scale);
        ``tuck`` 0..1 puts the lower lip under the upper teeth (f, v)."""
        out = self._out
        moving = any(head)
        hx0, hy0, hx1, hy1 = self._head.roi
        if moving:
            # Compose mouth and eyes on a copy of the still head, then move it into place.
            canvas, ox, oy = self._head.src, hx0, hy0
            np.copyto(canvas, self.base[hy0:hy1, hx0:hx1])
        else:
            canvas, ox, oy = out, 0, 0
            if self._head_moved:  # the last frame moved the head: put the still one back
                out[hy0:hy1, hx0:hx1] = self.base[hy0:hy1, hx0:hx1]
        patch = self.mouth_patch(self.quantise(openness, width, tuck))
        x0, y0, x1, y1 = self.mouth.roi
        canvas[y0 - oy : y1 - oy, x0 - ox : x1 - ox] = patch
        b = round(float(np.clip(blink, 0, 1)) * (BLINK_LEVELS - 1))
        for i, eye in enumerate(self.eyes):
            ep = self._eye_patch(i, b)
            ex0, ey0, ex1, ey1 = eye.geo.roi
            canvas[ey0 - oy : ey1 - oy, ex0 - ox : ex1 - ox] = ep
        if moving:
            self._head.apply(out, *head)
        self._head_moved = moving
        return out


class _HeadWarp:
    """Rigid head motion about the neck, feathered to zero outside an ellipse round the head,
    applied to the person only (the background is a still plate behind it)."""

    def __init__(
        self,
        base: np.ndarray,
        lm: FaceLandmarks,
        contain: list[tuple[int, int, int, int]],
    ) -> None:
        h, w = base.shape[:2]
        self.base = base
        x, y, f, _ = lm.box
        self.face = float(f)
        self.face_box = (x, y, f)
        cx, cy = x + f / 2, y + 0.4 * f  # head centre: a bit above the box centre
        rx, ry = 0.85 * f, 1.15 * f  # moves rigidly inside this ellipse (hair included)...
        feather = 1.3  # ...and not at all beyond this multiple of it
        # The region also holds the mouth and eye regions (mouth and eyes are composed into
        # it before it moves); outside the feathered ellipse its motion is zero anyway.
        self.roi = (
            min([int(max(0, cx - rx * feather)) & ~1, *(r[0] for r in contain)]),
            min([int(max(0, cy - ry * feather)) & ~1, *(r[1] for r in contain)]),
            max([min(w, int(cx + rx * feather) + 2) & ~1, *(r[2] for r in contain)]),
            max([min(h, int(cy + ry * feather) + 2) & ~1, *(r[3] for r in contain)]),
        )
        x0, y0, x1, y1 = self.roi
        self.size = (x1 - x0, y1 - y0)
        gw, gh = max(2, (x1 - x0) // _HEAD_GRID), max(2, (y1 - y0) // _HEAD_GRID)
        gx = np.linspace(x0, x1 - 1, gw, dtype=np.float32)[None, :].repeat(gh, 0)
        gy = np.linspace(y0, y1 - 1, gh, dtype=np.float32)[:, None].repeat(gw, 1)
        d = np.sqrt(((gx - cx) / rx) ** 2 + ((gy - cy) / ry) ** 2)
        t = np.clip((d - 1.0) / (feather - 1.0), 0, 1)
        self.mask = (1.0 - t * t * (3 - 2 * t)).astype(np.float32)
        self.pivot = (cx, y + 1.3 * f)  # the neck: nods and tilts turn about it
        self.gx, self.gy = gx, gy
        # Identity maps (ROI coordinates) and reusable buffers: the per-frame work is two
        # small coarse-grid expressions, two upsamplings, two adds, one remap and one blend.
        rw, rh = self.size
        self.ix = np.broadcast_to(np.arange(rw, dtype=np.float32)[None, :], (rh, rw)).copy()
        self.iy = np.broadcast_to(np.arange(rh, dtype=np.float32)[:, None], (rh, rw)).copy()
        self._mx = np.empty((rh, rw), np.float32)
        self._my = np.empty((rh, rw), np.float32)
        self._ddx = np.empty((gh, gw), np.float32)
        self._ddy = np.empty((gh, gw), np.float32)
        # The float maps are converted once per frame to OpenCV's fixed-point form, which
        # both remaps share: cv2.remap would make that same conversion itself on every call
        # (same rounding, so the same pixels). Upsampled per axis: a two-channel resize
        # rounds differently in the last float bit, and the frames should not change.
        self._fixed_xy = np.empty((rh, rw, 2), np.int16)
        self._fixed_frac = np.empty((rh, rw), np.uint16)
        self.src = np.empty((rh, rw, 3), np.uint8)  # the still head, mouth and eyes composed
        self._alpha = np.empty((rh, rw), np.uint8)  # the person mask, 0..255
        self._moved = np.empty((rh, rw, 3), np.uint8)
        self._moved_alpha = np.empty((rh, rw), np.uint8)
        self._weight = np.empty((rh, rw), np.float32)
        self._rest = np.empty((rh, rw), np.float32)
        self._plate: np.ndarray | None = None

    def prepare(self) -> None:
        """Once per video (a second call does nothing): the person mask and the plate the
        moved person is laid over.

        The plate is the inpainted background where the head moves rigidly and the photo
        itself where the motion has faded to zero (blended by the motion's own feather), so a
        pixel the motion does not reach is returned exactly as it was.
        """
        if self._plate is not None:
            return
        x0, y0, x1, y1 = self.roi
        alpha = person_mask(self.base)[y0:y1, x0:x1]
        fx, fy, f = self.face_box  # the middle of the face, in the region's coordinates
        core = alpha[
            max(0, fy + f // 4 - y0) : max(0, fy + 3 * f // 4 - y0),
            max(0, fx + f // 4 - x0) : max(0, fx + 3 * f // 4 - x0),
        ]
        if core.size == 0 or float(core.mean()) < 0.5:
            # The model does not see a person here (a painting, a cartoon): move the whole
            # feathered region as before rather than not move the head at all.
            alpha = np.ones_like(alpha)
        still = self.base[y0:y1, x0:x1]
        filled = background_plate(still, alpha, margin_px=1)
        reach = cv2.resize(self.mask, self.size, interpolation=cv2.INTER_LINEAR)[..., None]
        plate = still + reach * (filled.astype(np.float32) - still)
        self._plate = np.clip(np.rint(plate), 0, 255).astype(np.uint8)
        self._alpha[...] = np.rint(alpha * 255).astype(np.uint8)

    def apply(self, frame: np.ndarray, angle: float, dx: float, dy: float, scale: float) -> None:
        """Write :attr:`src` (the person in it), moved by the pose, into ``frame``'s region."""
        if self._plate is None:
            self.prepare()
        assert self._plate is not None
        px, py = self.pivot
        s = 1.0 + scale
        ca, sa = math.cos(-angle) / s, math.sin(-angle) / s
        tx, ty = dx * self.face, dy * self.face
        # Inverse map: where does each output pixel come from under the rigid motion?
        qx, qy = self.gx - px - tx, self.gy - py - ty
        np.multiply(px + ca * qx - sa * qy - self.gx, self.mask, out=self._ddx)
        np.multiply(py + sa * qx + ca * qy - self.gy, self.mask, out=self._ddy)
        cv2.resize(self._ddx, self.size, dst=self._mx, interpolation=cv2.INTER_LINEAR)
        cv2.resize(self._ddy, self.size, dst=self._my, interpolation=cv2.INTER_LINEAR)
        cv2.add(self._mx, self.ix, dst=self._mx)
        cv2.add(self._my, self.iy, dst=self._my)
        cv2.convertMaps(
            self._mx,
            self._my,
            cv2.CV_16SC2,
            dstmap1=self._fixed_xy,
            dstmap2=self._fixed_frac,
            nninterpolation=False,
        )
        for image, moved in ((self.src, self._moved), (self._alpha, self._moved_alpha)):
            cv2.remap(
                image,
                self._fixed_xy,
                self._fixed_frac,
                cv2.INTER_LINEAR,
                dst=moved,
                borderMode=cv2.BORDER_REPLICATE,
            )
        # The moved person over the still plate: weight = the moved person mask.
        np.multiply(self._moved_alpha, np.float32(1 / 255), out=self._weight)
        x0, y0, x1, y1 = self.roi
        np.subtract(np.float32(1.0), self._weight, out=self._rest)
        cv2.blendLinear(self._moved, self._plate, self._weight, self._rest, dst=frame[y0:y1, x0:x1])
