"""Landmark refinement inside a detected face box: eyes, lip line and mouth corners.

Works on the face box resized to a canonical square (:data:`CANON` px), where face proportions
give priors, then refines the lip line on the full-resolution photo. The lips are redder than
skin in Lab's a* channel; where the lips part there is the darkest row, or, when the photo
shows teeth, a sharp step from bright teeth to the darker lower lip.
"""

from __future__ import annotations

import math
import threading

import cv2
import numpy as np

CANON = 256
_EYE_CASCADES = ("haarcascade_eye.xml", "haarcascade_eye_tree_eyeglasses.xml")
# OpenCV's CascadeClassifier keeps per-image state while it detects, so one instance must not
# be shared by two job threads: each thread loads its own (a few ms, once).
_local = threading.local()

Point = tuple[float, float]


def cascade(name: str) -> cv2.CascadeClassifier:
    """One of OpenCV's bundled Haar cascades, loaded once per thread."""
    cache: dict[str, cv2.CascadeClassifier] = _local.__dict__.setdefault("cascades", {})
    clf = cache.get(name)
    if clf is None:
        clf = cv2.CascadeClassifier(cv2.data.haarcascades + name)
        if clf.empty():  # a broken OpenCV install, not the creator's fault
            raise RuntimeError(f"OpenCV cascade {name} could not be loaded")
        cache[name] = clf
    return clf


def find_eyes(gray_c: np.ndarray) -> tuple[Point, Point, float] | None:
    """Best left/right eye pair in a canonical face crop: (left, right, radius) or None."""
    top = gray_c[: int(CANON * 0.6)]
    top = cv2.equalizeHist(top)
    cands: list[tuple[float, float, float]] = []
    for name in _EYE_CASCADES:
        for x, y, w, _h in cascade(name).detectMultiScale(
            top, 1.08, 3, minSize=(24, 24), maxSize=(110, 110)
        ):
            if 0.12 * CANON <= w <= 0.42 * CANON:
                cands.append((x + w / 2, y + w / 2, float(w)))
    best: tuple[float, tuple[Point, Point, float]] | None = None
    for lx, ly, lw in cands:
        for rx, ry, rw in cands:
            sep = rx - lx
            if not (0.25 * CANON <= sep <= 0.65 * CANON) or abs(ry - ly) > 0.12 * CANON:
                continue
            if lx > 0.55 * CANON or rx < 0.45 * CANON or max(lw, rw) > 1.6 * min(lw, rw):
                continue
            # Prefer pairs near where eyes sit in a Haar face box.
            cost = abs(lx - 0.3 * CANON) + abs(rx - 0.7 * CANON)
            cost += abs((ly + ry) / 2 - 0.38 * CANON)
            if best is None or cost < best[0]:
                best = (cost, ((lx, ly), (rx, ry), 0.2 * (lw + rw)))  # opening ~0.4 box
    return best[1] if best else None


def find_mouth(
    crop: np.ndarray, gray_c: np.ndarray, le: Point, re: Point
) -> tuple[Point, float, str, bool]:
    """Lip-line centre, half mouth width (canonical coordinates), source, teeth visible.

    ``crop`` is the face box extended downwards (the lower lip and chin can lie below the
    detector's box). Prior: the lip line sits ~1.05 inter-pupil distances below the eyes and
    the mouth is about as wide as that distance. Evidence: rows where the lips' a* (redness)
    rises above the skin's, and the darkest row between the lips.
    """
    ipd = math.dist(le, re)
    cx = (le[0] + re[0]) / 2
    height = crop.shape[0]
    prior_y = float(np.clip((le[1] + re[1]) / 2 + 1.05 * ipd, 0.66 * CANON, 1.05 * CANON))
    half_prior = 0.47 * ipd
    lo, hi = int(prior_y - 0.4 * ipd), min(height - 1, int(prior_y + 0.4 * ipd))
    x0, x1 = int(cx - 0.35 * ipd), int(cx + 0.35 * ipd)
    a_star = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)[:, :, 1].astype(np.float32)
    a_star = cv2.GaussianBlur(a_star, (0, 0), 1.5)
    gray = cv2.GaussianBlur(gray_c.astype(np.float32), (0, 0), 1.5)
    a_prof = a_star[lo:hi, x0:x1].mean(axis=1)
    g_prof = gray[lo:hi, x0:x1].mean(axis=1)
    skin = float(np.median(a_star[int(0.45 * CANON) : int(0.62 * CANON), x0:x1]))
    rise = float(a_prof.max() - skin)
    line_y: float | None = None
    teeth = False
    if rise >= 4.0:
        lip = a_prof > skin + 0.45 * rise
        segs = _segments(lip, max_gap=2, min_len=3)
        if len(segs) >= 2:
            # The top of the lower lip, below any visible teeth: the a* threshold lands a
            # little inside the lip, so settle on the steepest light-to-dark step above it.
            top = segs[-1][0]
            a0 = max(segs[-2][1] + 1, top - 6)
            step = np.diff(g_prof[a0 : top + 3])
            line_y = lo + a0 + float(np.argmin(step)) + 0.5 if step.size else lo + top
            between = g_prof[segs[-2][1] + 1 : segs[-1][0]]
            teeth = between.size > 0 and float(between.mean()) > float(np.median(g_prof)) + 10
        elif len(segs) == 1:
            s0, s1 = segs[0]
            line_y = lo + s0 + float(np.argmin(g_prof[s0 : s1 + 1]))
    if line_y is None or abs(line_y - prior_y) > 0.35 * ipd:
        # No usable colour evidence: darkest row, weighted towards the prior.
        rows = np.arange(lo, hi, dtype=np.float32)
        weight = np.exp(-0.5 * ((rows - prior_y) / (0.15 * ipd)) ** 2)
        contrast = g_prof.max() - g_prof.min()
        if contrast < 12:
            return (cx, prior_y), half_prior, "ratio", False
        score = (g_prof.max() - g_prof) / contrast * weight
        line_y = float(rows[int(np.argmax(score))])
    half_w = _mouth_half_width(a_star, gray, round(line_y), cx, skin, ipd)
    return (cx, float(line_y)), half_w if half_w else half_prior, "image", teeth


def _segments(mask: np.ndarray, *, max_gap: int, min_len: int) -> list[tuple[int, int]]:
    segs: list[list[int]] = []
    for i in np.flatnonzero(mask):
        if segs and i - segs[-1][1] <= max_gap + 1:
            segs[-1][1] = int(i)
        else:
            segs.append([int(i), int(i)])
    return [(a, b) for a, b in segs if b - a + 1 >= min_len]


def _mouth_half_width(
    a_star: np.ndarray, gray: np.ndarray, line_y: int, cx: float, skin: float, ipd: float
) -> float | None:
    """Walk out from the centre along the lip line while the band still looks like lips."""
    # Taller above the line than below: smiling corners curl upwards.
    y0, y1 = max(0, line_y - 12), min(a_star.shape[0], line_y + 5)
    band_a = a_star[y0:y1].max(axis=0)
    band_g = gray[y0:y1].min(axis=0)
    centre = slice(int(cx - 0.1 * ipd), int(cx + 0.1 * ipd))
    thr_a = skin + 0.4 * max(0.0, float(np.median(band_a[centre])) - skin)
    thr_g = float(np.median(gray[y0:y1])) - 8
    lipish = (band_a > thr_a) | (band_g < thr_g)
    ends = []
    for step in (-1, 1):
        x, miss = int(cx), 0
        while 0 < x < CANON - 1 and miss <= 3:
            x += step
            miss = 0 if lipish[x] else miss + 1
        ends.append(abs(x - cx) - miss)
    half = float(min(ends))  # symmetric: the weaker side is usually the shadowed one
    if not (0.3 * ipd <= half <= 0.65 * ipd):
        return None
    return half


def refine_lip_line(
    gray: np.ndarray, center: Point, half_w: float, roll: float, teeth: bool
) -> tuple[Point, float]:
    """Refine the lip line on the full-resolution photo; returns (centre, curvature).

    The mouth is resampled into an axis-aligned strip (u along the lip line, v down) at
    >= 2 px per mouth-width percent; in each column the lips part at the darkest row, or at the
    steepest bright-to-dark step when teeth show. A parabola ``v = c + k u^2`` fitted to the
    columns gives the centre offset ``c`` and the curvature ``k`` (negative for a smile).
    """
    scale = max(1.0, 60.0 / half_w)  # small faces: upsample so a column is well sampled
    su, sv = 0.8 * half_w, 0.28 * half_w  # search half-extent along / across the line
    n_u, n_v = int(2 * su * scale) | 1, int(2 * sv * scale) | 1
    ca, sa = math.cos(roll), math.sin(roll)
    # Affine map from strip pixels (i, j) to photo (x, y).
    m = np.array(
        [
            [ca / scale, -sa / scale, center[0] - ca * su + sa * sv],
            [sa / scale, ca / scale, center[1] - sa * su - ca * sv],
        ],
        dtype=np.float64,
    )
    strip = cv2.warpAffine(
        gray,
        m,
        (n_u, n_v),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    ).astype(np.float32)
    strip = cv2.GaussianBlur(strip, (0, 0), 1.0 * scale)
    if teeth:
        score = -np.diff(strip, axis=0)  # bright above, dark below: large positive
        offset = 0.5
    else:
        score = strip.max(axis=0, keepdims=True) - strip
        offset = 0.0
    v_idx = np.argmax(score, axis=0).astype(np.float32)
    strength = score.max(axis=0)
    u = (np.arange(n_u, dtype=np.float32) - n_u // 2) / scale
    v = (v_idx + offset - n_v // 2) / scale
    keep = strength > 0.35 * float(np.median(strength) + 1e-3)
    if keep.sum() < 0.4 * n_u:
        return center, 0.0
    # Robust fit: refit once without the columns far from the first fit.
    weights = keep.astype(np.float32)
    for _ in range(2):
        coef = np.polyfit(u, v, 2, w=weights + 1e-6)
        resid = np.abs(np.polyval(coef, u) - v)
        weights = keep * (resid < max(2.0, 0.05 * half_w))
    k, _b, c = (float(x) for x in coef)
    k = float(np.clip(k, -0.3 / half_w, 0.15 / half_w))  # at most a broad smile / slight frown
    c = float(np.clip(c, -0.15 * half_w, 0.15 * half_w))
    return (center[0] - sa * c, center[1] + ca * c), k
