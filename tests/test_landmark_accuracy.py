"""Landmark accuracy on the labelled portrait set (tests/portraits.py), in eye distances.

Limits from the Engine v2 issue: mean eye error <= 0.10, mouth centre <= 0.08, mouth corners
<= 0.15 of the eye distance, roll within 4 degrees.
"""

from __future__ import annotations

import math

import pytest

from providers.local.face import WARN_GRAYSCALE, detect_face
from tests.portraits import Portrait, portraits

PORTRAITS = portraits()


@pytest.mark.parametrize("p", PORTRAITS, ids=[p.name for p in PORTRAITS])
def test_landmarks_within_limits(p: Portrait) -> None:
    lm = detect_face(p.rgb, min_face_px=60)
    d = p.eye_distance
    eye = (math.dist(lm.left_eye, p.left_eye) + math.dist(lm.right_eye, p.right_eye)) / 2 / d
    centre = math.dist(lm.mouth_center, p.mouth_center) / d
    corners = (
        (math.dist(lm.mouth_left, p.mouth_left) + math.dist(lm.mouth_right, p.mouth_right)) / 2 / d
    )
    roll_err = abs(math.degrees(lm.roll_rad) - p.roll_deg)
    report = f"eye {eye:.3f} centre {centre:.3f} corners {corners:.3f} roll {roll_err:.2f}"
    assert eye <= 0.10, report
    assert centre <= 0.08, report
    assert corners <= 0.15, report
    assert roll_err <= 4.0, report
    assert len(lm.notes) == 0, lm.notes  # one face: no "Several faces found"


def test_grayscale_photo_is_flagged() -> None:
    by_name = {p.name: p for p in PORTRAITS}
    assert WARN_GRAYSCALE in detect_face(by_name["grayscale"].rgb).warnings
    assert WARN_GRAYSCALE not in detect_face(by_name["upright"].rgb).warnings
