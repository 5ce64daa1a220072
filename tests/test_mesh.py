"""The vendored face models and the box/mesh layer (providers/local/mesh.py)."""

from __future__ import annotations

import hashlib

import numpy as np

from providers.local import mesh
from providers.local.face import find_faces

# Must match providers/local/models/README.md (the origin of each file).
SHA256 = {
    "face_detection_short_range.tflite": (
        "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633"
    ),
    "face_detection_full_range.tflite": (
        "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3"
    ),
    "face_landmark.tflite": "2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493",
    "selfie_segmentation.tflite": (
        "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"
    ),
}


def test_vendored_models_match_their_checksums() -> None:
    for name, digest in SHA256.items():
        data = (mesh.MODELS / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name
    readme = (mesh.MODELS / "README.md").read_text()
    for name, digest in SHA256.items():
        assert name in readme and digest in readme
    assert (mesh.MODELS / "LICENSE-Apache-2.0.txt").is_file()


def test_no_model_is_fetched_at_run_time() -> None:
    for module in ("mesh.py", "person.py"):
        source = (mesh.MODELS.parent / module).read_text()
        for word in ("http", "urllib", "requests", "urlopen"):
            assert word not in source, module


def _box(x0: float, y0: float, side: float, score: float) -> mesh.Box:
    return mesh.Box(x0, y0, x0 + side, y0 + side, score, (x0, y0), (x0 + side, y0))


def test_overlapping_boxes_are_one_face() -> None:
    a = _box(100, 100, 200, 0.9)
    b = _box(104, 103, 196, 0.8)  # the padded pass's box: overlap ~0.93 with the first
    assert mesh.iou(a, b) > 0.9
    merged = mesh.merge_boxes([a, b])
    assert len(merged) == 1
    assert 100 <= merged[0].x0 <= 104 and merged[0].score == 0.9
    far = _box(600, 100, 200, 0.7)
    assert len(mesh.merge_boxes([a, b, far])) == 2


def test_single_portrait_gives_one_box(astronaut_rgb: np.ndarray) -> None:
    gray = astronaut_rgb.mean(axis=2).astype(np.uint8)
    boxes = find_faces(gray)
    assert len(boxes) == 1
    x, y, w, h = boxes[0]
    assert w == h and x < 405 < x + w and y < 298 < y + h  # holds the eyes and the mouth


def test_mesh_has_468_points_inside_the_face(astronaut_rgb: np.ndarray) -> None:
    box = mesh.detect_boxes(astronaut_rgb)[0]
    points, score = mesh.fit_mesh(astronaut_rgb, box)
    assert points.shape == (468, 3)
    assert score > 0.9
    assert box.x0 - 40 < points[:, 0].min() and points[:, 0].max() < box.x1 + 40


def test_blank_image_has_no_face() -> None:
    assert mesh.detect_boxes(np.full((480, 640, 3), 128, np.uint8)) == []
