"""Face, eye and mouth finding on real photos and on the hard cases the issue lists.

Ground truth for the astronaut (1024 px copy, see conftest) was read off a zoomed crop:
iris centres (405, 202) and (490, 207); the lips part (bottom of the upper teeth) at
(449, 298); mouth corners ~80 px apart.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from skimage import data

from errors import FaceError
from providers.local.face import SEVERAL_FACES_NOTE, FaceLandmarks, detect_face

LEFT_IRIS, RIGHT_IRIS, LIP_CENTRE = (405, 202), (490, 207), (449, 298)


def near(p: tuple[float, float], q: tuple[float, float], tol: float) -> bool:
    return math.dist(p, q) <= tol


def check_astronaut(lm: FaceLandmarks, *, tol: float = 6.0) -> None:
    assert near(lm.left_eye, LEFT_IRIS, tol), lm.left_eye
    assert near(lm.right_eye, RIGHT_IRIS, tol), lm.right_eye
    assert near(lm.mouth_center, LIP_CENTRE, tol), lm.mouth_center
    assert 65 <= lm.mouth_width <= 95, lm.mouth_width


def test_astronaut_landmarks(astronaut_rgb: np.ndarray) -> None:
    lm = detect_face(astronaut_rgb)
    _, y, w, h = lm.box
    assert 170 <= w <= 230 and w == h
    assert (lm.eyes_from, lm.mouth_from) == ("image", "image")
    check_astronaut(lm)
    # Eyes in the upper half of the box, the mouth in its lower third.
    assert y < lm.left_eye[1] < y + h / 2 and y < lm.right_eye[1] < y + h / 2
    assert y + 2 * h / 3 < lm.mouth_center[1] < y + 1.1 * h
    assert lm.teeth_visible  # she smiles with her teeth showing
    assert lm.mouth_curve < 0  # ... so the lip line curls up at the corners
    assert lm.notes == ()


def test_uneven_and_dim_light(astronaut_rgb: np.ndarray) -> None:
    """Darker overall (gamma 1.8) and lit from one side (100% -> 15% across the frame)."""
    img = astronaut_rgb.astype(np.float32) / 255
    grad = np.linspace(1.0, 0.15, img.shape[1])[None, :, None]
    dark = ((img**1.8) * grad * 255).astype(np.uint8)
    assert dark[150:330, 350:550].mean() < 0.6 * astronaut_rgb[150:330, 350:550].mean()
    check_astronaut(detect_face(dark), tol=8)


def test_much_darker_skin_tone(astronaut_rgb: np.ndarray) -> None:
    """A strong gamma stands in for darker skin: lips and skin contrast less in a*."""
    img = ((astronaut_rgb.astype(np.float32) / 255) ** 2.6 * 255).astype(np.uint8)
    check_astronaut(detect_face(img), tol=8)


def test_glasses(astronaut_rgb: np.ndarray) -> None:
    img = astronaut_rgb.copy()
    for c in (LEFT_IRIS, RIGHT_IRIS):
        cv2.circle(img, c, 30, (20, 20, 20), 5)
    cv2.line(img, (435, 204), (460, 205), (20, 20, 20), 5)
    check_astronaut(detect_face(img), tol=8)


def test_beard_and_moustache(astronaut_rgb: np.ndarray) -> None:
    img = astronaut_rgb.copy()
    hair = np.random.default_rng(0).integers(20, 70, img.shape).astype(np.uint8)
    mask = np.zeros(img.shape[:2], np.uint8)
    cv2.ellipse(mask, (449, 330), (95, 60), 0, 0, 180, 255, -1)  # chin and jaw
    cv2.ellipse(mask, (449, 272), (42, 8), 0, 0, 360, 255, -1)  # moustache
    img[mask > 0] = hair[mask > 0]
    lm = detect_face(img)
    assert near(lm.mouth_center, LIP_CENTRE, 10), lm.mouth_center


def test_small_face_in_a_large_frame() -> None:
    """A face ~130 px across in a 2000 x 1600 photo: found, and not rejected as too small."""
    face = cv2.resize(data.astronaut(), None, fx=1.42, fy=1.42, interpolation=cv2.INTER_CUBIC)
    canvas = np.full((1600, 2000, 3), 200, np.uint8)
    canvas[500 : 500 + face.shape[0], 900 : 900 + face.shape[1]] = face
    lm = detect_face(canvas, min_face_px=120)
    assert 120 <= lm.size <= 170
    # The face sits at offset (900, 500) in the canvas; the astronaut's mouth is at ~(224, 149).
    assert near(lm.mouth_center, (900 + 224 * 1.42, 500 + 149 * 1.42), 8)


def test_face_filling_the_frame(astronaut_rgb: np.ndarray) -> None:
    crop = cv2.resize(astronaut_rgb[150:450, 330:570], (600, 750))
    lm = detect_face(crop)
    assert lm.size >= 300
    # The crop maps x' = (x - 330) * 2.5, y' = (y - 150) * 2.5.
    assert near(lm.mouth_center, ((449 - 330) * 2.5, (298 - 150) * 2.5), 15)


def test_too_small_face_names_the_minimum() -> None:
    canvas = np.full((1400, 1400, 3), 180, np.uint8)
    canvas[500:800, 500:800] = cv2.resize(data.astronaut(), (300, 300))  # face ~55 px
    with pytest.raises(FaceError) as err:
        detect_face(canvas, min_face_px=120)
    assert "at least 120 px" in err.value.user_message
    assert "too small" in err.value.user_message


@pytest.mark.parametrize(
    "image",
    [
        np.full((600, 600, 3), 128, np.uint8),
        data.chelsea(),  # a cat
        data.coffee(),
        data.rocket(),
        np.random.default_rng(1).integers(0, 255, (500, 700, 3)).astype(np.uint8),
    ],
    ids=["blank", "cat", "coffee", "rocket", "noise"],
)
def test_no_face(image: np.ndarray) -> None:
    with pytest.raises(FaceError) as err:
        detect_face(np.ascontiguousarray(image))
    assert "No face was found" in err.value.user_message


def test_two_faces_takes_the_largest(astronaut_rgb: np.ndarray) -> None:
    canvas = np.full((1024, 2048, 3), 200, np.uint8)
    canvas[:, :1024] = astronaut_rgb
    canvas[100:900, 1100:1900] = cv2.resize(astronaut_rgb, (800, 800))
    lm = detect_face(canvas)
    assert lm.notes == (SEVERAL_FACES_NOTE,)
    assert lm.box[0] < 1024  # the full-size one on the left
    check_astronaut(lm, tol=8)


def test_one_face_has_no_note(astronaut_rgb: np.ndarray) -> None:
    assert detect_face(astronaut_rgb).notes == ()


def test_landmarks_follow_framing(astronaut_rgb: np.ndarray) -> None:
    lm = detect_face(astronaut_rgb)
    moved = lm.transformed(0.5, 10, -20)
    assert moved.mouth_center == pytest.approx(
        (lm.mouth_center[0] * 0.5 + 10, lm.mouth_center[1] * 0.5 - 20)
    )
    assert moved.eye_radius == pytest.approx(lm.eye_radius * 0.5)
    assert moved.mouth_curve == pytest.approx(lm.mouth_curve * 2)
    assert moved.box[2] == round(lm.box[2] * 0.5)


def test_rejects_non_rgb() -> None:
    with pytest.raises(ValueError):
        detect_face(np.zeros((300, 300), np.uint8))


@pytest.mark.slow
def test_many_different_people() -> None:
    """LFW faces (skimage's lfw_subset: 25 px crops of many people) blown up to portraits.

    Measured on this set: the Haar cascades of engine v1 found 24 of 24 (but took 1.3-2.2 s to
    say "no face" and could not measure roll); BlazeFace + mesh finds 20. The misses are
    blurry 25 px crops with mirrored faces in the reflected border.
    """
    faces = data.lfw_subset()[:24]
    found = 0
    for face in faces:
        img = cv2.resize((face * 255).astype(np.uint8), (300, 300), interpolation=cv2.INTER_CUBIC)
        img = cv2.copyMakeBorder(img, 60, 60, 60, 60, cv2.BORDER_REFLECT)
        try:
            detect_face(cv2.cvtColor(img, cv2.COLOR_GRAY2RGB), min_face_px=60)
            found += 1
        except FaceError:
            pass
    assert found >= 20, f"found {found} of {len(faces)}"
