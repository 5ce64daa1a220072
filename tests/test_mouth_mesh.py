"""The mouth v2: lips and jaw moved by a triangle-mesh warp of the face mesh's points, and an
interior made from the photo. Measured on rendered frames of the labelled portraits."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from providers.local import mesh as fm
from providers.local.animate import FaceAnimator
from providers.local.face import FaceLandmarks, detect_face
from providers.local.mouth_rig import FIXED, shape_weights, signed_areas
from providers.local.speech import Phoneme
from providers.local.visemes import mouth_track
from tests.portraits import Portrait, portraits

STATES = [(1.0, 1.0, 0.0), (1.0, 0.78, 0.0), (1.0, 1.12, 0.0), (0.4, 1.0, 1.0), (0.1, 1.0, 1.0)]


@pytest.fixture(scope="module")
def labelled() -> dict[str, Portrait]:
    return {p.name: p for p in portraits()}


def _animator(rgb: np.ndarray) -> tuple[FaceAnimator, FaceLandmarks]:
    lm = detect_face(rgb)
    return FaceAnimator(rgb, lm), lm


def _opening(
    anim: FaceAnimator, still: np.ndarray, state: tuple[float, float, float]
) -> np.ndarray:
    """Mask of the pixels the open frame made much darker than the still: the opening."""
    frame = anim.frame(state[0], state[1], 0.0, tuck=state[2]).copy()
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.int16)
    return (cv2.cvtColor(still, cv2.COLOR_RGB2GRAY).astype(np.int16) - grey) > 40


@pytest.mark.parametrize("name", ["upright", "rot-15", "rot+15", "grayscale", "glasses"])
def test_the_warp_never_folds(labelled: dict[str, Portrait], name: str) -> None:
    anim, _ = _animator(labelled[name].rgb)
    rig = anim.mouth.rig
    rest = signed_areas(rig.points, rig.tris)
    assert (np.abs(rest) > 1).sum() > 100  # a real triangle mesh, not a few big patches
    for state in [*STATES, (1.0, 0.78, 1.0), (1.0, 1.12, 1.0)]:
        moved = signed_areas(rig.points + rig.displacement(shape_weights(*state)), rig.tris)
        flipped = (np.sign(moved) != np.sign(rest)) & (np.abs(rest) > 1)
        assert not flipped.any(), (state, int(flipped.sum()))


def test_lips_and_jaw_move_as_the_mesh_sees_them(labelled: dict[str, Portrait]) -> None:
    """Refit the face mesh on a rendered open frame: the outer lips themselves moved apart
    (not just a hole painted between them) and the chin went down."""
    rgb = labelled["upright"].rgb
    anim, _ = _animator(rgb)
    box = fm.detect_boxes(rgb)[0]
    still = fm.fit_mesh(rgb, box)[0][:, :2]
    opened = fm.fit_mesh(np.ascontiguousarray(anim.frame(1.0, 1.0, 0.0)), box)[0][:, :2]
    opening = np.linalg.norm(opened[14] - opened[13]) - np.linalg.norm(still[14] - still[13])
    # (the mesh model sees only part of a synthetic opening; it must still see one)
    assert opening > 0.08 * np.linalg.norm(still[61] - still[291])
    lower_lip = opened[17, 1] - still[17, 1]
    upper_lip = still[0, 1] - opened[0, 1]
    assert lower_lip >= 0.6 * opening, (lower_lip, opening)
    assert upper_lip >= 0.25 * opening, (upper_lip, opening)
    # The chin (where the skin meets her dark collar, below the mesh's chin point) drops
    # with the jaw: the mesh model hardly follows it, so find the edge in the pixels.
    cx, cy = round(still[fm.CHIN, 0]), round(still[fm.CHIN, 1])

    def chin_edge(img: np.ndarray) -> int:
        col = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[cy - 10 : cy + 120, cx - 3 : cx + 4].mean(1)
        return int(np.flatnonzero(col < 60)[0])

    chin = chin_edge(np.ascontiguousarray(anim.frame(1.0, 1.0, 0.0))) - chin_edge(rgb)
    assert chin >= 0.3 * anim.mouth.rig.half_width, chin


def test_rest_is_the_photo_and_changes_stay_in_the_mouth_region(
    labelled: dict[str, Portrait],
) -> None:
    rgb = labelled["upright"].rgb
    anim, lm = _animator(rgb)
    assert np.array_equal(anim.frame(0.0, 1.0, 0.0), rgb)
    assert lm.mesh is not None
    x0, y0, x1, y1 = anim.mouth.roi
    nose_base = lm.mesh[2, 1]  # subnasale: where the nose meets the upper lip
    for state in STATES:
        frame = anim.frame(state[0], state[1], 0.0, tuck=state[2]).copy()
        changed = np.abs(frame.astype(np.int16) - rgb).max(axis=2) > 0
        ys, xs = np.nonzero(changed)
        assert ys.size > 0
        assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1
        visibly = np.abs(frame.astype(np.int16) - rgb).max(axis=2) > 2
        nose = visibly[: int(nose_base), int(lm.mesh[98, 0]) : int(lm.mesh[327, 0])]
        assert not nose.any(), state  # the nose never moves
        outside = changed.copy()
        outside[y0:y1, x0:x1] = False
        assert not outside.any()
    # The region is the mouth and jaw, not the face: narrower than the face box is wide.
    assert x1 - x0 < 1.35 * lm.box[2]


def test_upper_teeth_stay_and_no_second_row(labelled: dict[str, Portrait]) -> None:
    """She smiles with her upper teeth showing: they stay where they are while the jaw drops,
    and below them the opening is dark (no painted second row of teeth)."""
    rgb = labelled["upright"].rgb
    anim, lm = _animator(rgb)
    assert lm.mesh is not None
    top, bottom = lm.mesh[13, :2], lm.mesh[14, :2]
    frame = anim.frame(1.0, 1.0, 0.0).copy()
    cx = round((top[0] + bottom[0]) / 2)
    # the lower half of the teeth: their biting edge stays put (the top may stretch up a
    # little where the upper lip lifts off them)
    mid = round((top[1] + bottom[1]) / 2)
    teeth = (slice(mid, round(bottom[1]) - 2), slice(cx - 8, cx + 8))
    assert np.abs(frame[teeth].astype(int) - rgb[teeth]).mean() < 6.0
    teeth_grey = float(cv2.cvtColor(rgb[teeth], cv2.COLOR_RGB2GRAY).mean())
    opening = _opening(anim, rgb, (1.0, 1.0, 0.0))
    below = opening[round(bottom[1]) + 2 :, cx - 8 : cx + 8]
    assert below.sum() > 80  # a real opening under the teeth
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)[round(bottom[1]) + 2 :, cx - 8 : cx + 8]
    assert grey[below].max() < 0.8 * teeth_grey


def test_interior_colour_comes_from_the_photo(labelled: dict[str, Portrait]) -> None:
    """The same face with red and blue swapped gets a blue-ish mouth, the original a warm one,
    the grayscale photo a grey one: the interior is sampled from the photo, not painted."""
    means = {}
    for name, rgb in (
        ("warm", labelled["upright"].rgb),
        ("swapped", np.ascontiguousarray(labelled["upright"].rgb[..., ::-1])),
        ("grey", labelled["grayscale"].rgb),
    ):
        anim, _ = _animator(rgb)
        frame = anim.frame(1.0, 1.0, 0.0).copy()
        mask = _opening(anim, rgb, (1.0, 1.0, 0.0))
        assert mask.sum() > 200, name
        px = frame[mask].astype(np.float32)
        means[name] = px.mean(axis=0)
        if name == "grey":
            sat = px.max(axis=1) - px.min(axis=1)
            assert sat.max() <= 1.0, sat.max()
    warm, swapped = means["warm"], means["swapped"]
    assert warm[0] > warm[2] + 8 and swapped[2] > swapped[0] + 8, means


@pytest.mark.parametrize("name", ["rot-15", "rot+15", "rot-20", "rot+20"])
def test_the_opening_follows_the_head_roll(labelled: dict[str, Portrait], name: str) -> None:
    p = labelled[name]
    anim, _ = _animator(p.rgb)
    mask = _opening(anim, p.rgb, (0.6, 1.12, 0.0)).astype(np.uint8)
    _n, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    ys, xs = np.nonzero(labels == biggest)
    pts = np.stack([xs, ys], 1).astype(np.float64)
    pts -= pts.mean(axis=0)
    _, vecs = np.linalg.eigh(pts.T @ pts)
    major = vecs[:, -1]
    angle = math.degrees(math.atan2(major[1], major[0]))
    angle = (angle + 90) % 180 - 90
    assert abs(angle - p.roll_deg) < 5.0, (angle, p.roll_deg)


def test_rig_keeps_the_far_jaw_and_nose_fixed(labelled: dict[str, Portrait]) -> None:
    anim, _ = _animator(labelled["upright"].rgb)
    rig = anim.mouth.rig
    disp = rig.displacement(shape_weights(1.0, 0.78, 1.0))
    fixed = rig.roles == FIXED
    assert fixed.sum() > 20 and np.abs(disp[fixed]).max() == 0.0
    assert np.abs(disp[~fixed]).max() > 0.3 * rig.half_width


def test_f_and_v_put_the_lower_lip_under_the_teeth() -> None:
    rate, fps = 16000, 25
    t = np.arange(int(rate * 1.2)) / rate
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    tone[int(0.9 * rate) :] = 0
    phonemes = [Phoneme("a", 0.0, 0.3), Phoneme("f", 0.3, 0.6), Phoneme("a", 0.6, 0.9)]
    track = mouth_track(tone, rate, phonemes, 30, fps)
    assert track.tuck[10] > 0.6  # mid "f"
    assert track.tuck[4] < 0.2 and track.tuck[25:].max() < 0.05  # "a", then silence
