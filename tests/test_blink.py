"""Blinks inside the eye contour, and under a glasses frame that does not move.

The eye contour comes from the face mesh; "the lid region" is the eye opening plus a band of
lid skin 0.65 eye half-widths tall above the upper lid (the skin a real lid stretches). A
blink may change nothing outside that region (grown by 2 px for the anti-aliased edge), and on
the portrait with drawn glasses (tests/portraits.py) the rims' own pixels must not change at
all while the lid closes.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from providers.local import mesh as fm
from providers.local.animate import FaceAnimator
from providers.local.eyes import LEFT_LOWER, LEFT_UPPER, RIGHT_LOWER, RIGHT_UPPER
from providers.local.face import FaceLandmarks, detect_face
from providers.local.framing import plan_framing, render_base
from providers.local.glasses import rim_mask
from tests.portraits import Portrait, portraits, with_glasses

PORTRAITS = {p.name: p for p in portraits()}


def framed(rgb: np.ndarray, aspect: str = "9:16") -> tuple[np.ndarray, FaceLandmarks]:
    lm = detect_face(rgb)
    fr = plan_framing(rgb.shape[1], rgb.shape[0], lm.box, 480, aspect)
    base = render_base(rgb, fr)
    return base, lm.transformed(fr.scale, -fr.x0 * fr.scale, -fr.y0 * fr.scale)


def lid_region(lm: FaceLandmarks, shape: tuple[int, ...]) -> np.ndarray:
    """Both eye openings plus the lid skin above them, from the mesh, grown by 2 px."""
    assert lm.mesh is not None
    out = np.zeros(shape[:2], np.uint8)
    up = np.array([math.sin(lm.roll_rad), -math.cos(lm.roll_rad)])  # "up the face"
    for upper, lower in ((LEFT_UPPER, LEFT_LOWER), (RIGHT_UPPER, RIGHT_LOWER)):
        top = lm.mesh[list(upper), :2]
        bottom = lm.mesh[list(lower), :2]
        lifted = top + 0.65 * lm.eye_radius * up
        for poly in (np.vstack([top, bottom[::-1]]), np.vstack([lifted, top[::-1]])):
            cv2.fillPoly(out, [np.round(poly).astype(np.int32)], 255)
    return cv2.dilate(out, np.ones((5, 5), np.uint8)) > 0


def changed(a: np.ndarray, b: np.ndarray, tol: int = 2) -> np.ndarray:
    return np.abs(a.astype(int) - b.astype(int)).max(axis=2) > tol


@pytest.mark.parametrize("name", ["upright", "rot+15", "rot-20", "glasses", "grayscale"])
def test_the_lid_moves_only_inside_the_eye_and_lid_region(name: str) -> None:
    base, lm = framed(PORTRAITS[name].rgb)
    anim = FaceAnimator(base, lm)
    region = lid_region(lm, base.shape)
    for closure in (0.4, 1.0):
        frame = anim.frame(0.0, 1.0, closure).copy()
        moved = changed(base, frame)
        assert moved.sum() > 30  # the lid did move
        stray = moved & ~region
        assert stray.sum() == 0, (closure, int(stray.sum()), np.argwhere(stray)[:5].tolist())


def test_a_closed_lid_covers_the_iris() -> None:
    base, lm = framed(PORTRAITS["upright"].rgb)
    shut = FaceAnimator(base, lm).frame(0.0, 1.0, 1.0)
    assert lm.mesh is not None
    for lids in (fm.LEFT_LIDS, fm.RIGHT_LIDS):
        # the iris between the upper and lower lid centres: dark open, skin (lighter) shut
        (ux, uy), (_, ly) = lm.mesh[lids[0], :2], lm.mesh[lids[1], :2]
        c = (
            slice(round((uy + ly) / 2) - 1, round((uy + ly) / 2) + 2),
            slice(round(ux) - 2, round(ux) + 3),
        )
        assert shut[c].mean() > base[c].mean() + 15


def drawn_rims(aspect: str) -> tuple[np.ndarray, FaceLandmarks, np.ndarray]:
    """The glasses portrait framed, its landmarks, and where the drawing put the rims (the
    pixels that differ clearly from the plain portrait framed the same way)."""
    plain: Portrait = PORTRAITS["upright"]
    glasses = with_glasses(plain.rgb)
    lm = detect_face(glasses)
    fr = plan_framing(glasses.shape[1], glasses.shape[0], lm.box, 480, aspect)
    base, plain_base = render_base(glasses, fr), render_base(plain.rgb, fr)
    drawn = changed(base, plain_base, tol=40)
    return base, lm.transformed(fr.scale, -fr.x0 * fr.scale, -fr.y0 * fr.scale), drawn


def grow(mask: np.ndarray, px: int) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)) > 0


@pytest.mark.parametrize("aspect", ["9:16", "1:1"])
def test_the_blink_leaves_the_glasses_rims_where_they_are(aspect: str) -> None:
    base, lm, drawn = drawn_rims(aspect)
    assert drawn.sum() > 200
    rims = grow(drawn, 2)  # the rims with their edges: a dragged rim changes these first
    anim = FaceAnimator(base, lm)
    assert anim.glasses
    for closure in (0.4, 0.6, 1.0):
        frame = anim.frame(0.0, 1.0, closure).copy()
        assert changed(base, frame).sum() > 30  # the lid moved...
        diff = np.abs(frame.astype(int) - base.astype(int)).max(axis=2)
        assert diff[rims].max() <= 2, (closure, int(diff[rims].max()))  # ...the rims did not


@pytest.mark.parametrize("name", ["upright", "grayscale", "dim", "rot+15", "rot-20"])
def test_no_glasses_found_on_a_bare_face(name: str) -> None:
    base, lm = framed(PORTRAITS[name].rgb, "1:1")
    assert rim_mask(base, lm) is None


@pytest.mark.parametrize("aspect", ["9:16", "1:1", "16:9"])
def test_glasses_found_and_their_rims_masked(aspect: str) -> None:
    base, lm, drawn = drawn_rims(aspect)
    rims = cv2.erode(drawn.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0  # solid cores
    mask = rim_mask(base, lm)
    assert mask is not None
    # Round the eyes (where a blink could touch them) the mask holds the drawn rims.
    near_eyes = lid_region(lm, base.shape)
    near_eyes = cv2.dilate(near_eyes.astype(np.uint8), np.ones((25, 25), np.uint8)) > 0
    assert mask[rims & near_eyes].mean() > 0.9
    # ...and not the skin, the eyes or the brows
    assert (
        mask & ~cv2.dilate(rims.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    ).sum() < 0.1 * rims.sum()
