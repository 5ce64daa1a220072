"""Face boxes (BlazeFace) and a 468-point face mesh (MediaPipe Face Mesh), run by OpenCV's DNN.

The models are vendored in ``providers/local/models`` (Apache-2.0, see the README there) and
loaded with :func:`cv2.dnn.readNetFromTFLite`; nothing is downloaded. OpenCV wants NCHW input.

Contract: :func:`detect_boxes` takes an RGB ``uint8`` image and returns face boxes in its pixel
coordinates, best first, overlapping boxes merged. :func:`fit_mesh` takes the image and a box
and returns the 468 mesh points (x, y, z) in image pixels, refined by a second pass on a crop
aligned with the first pass's eye line.
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from observability import releasable

MODELS = Path(__file__).resolve().parent / "models"
_local = threading.local()

# Mesh indices (MediaPipe canonical face). "Left" is the image's left on an unmirrored photo.
LEFT_EYE: tuple[int, ...] = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157)
LEFT_EYE += (158, 159, 160, 161, 246)
RIGHT_EYE: tuple[int, ...] = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384)
RIGHT_EYE += (385, 386, 387, 388, 466)
LEFT_LIDS: tuple[int, ...] = (159, 145)  # upper, lower lid centre
RIGHT_LIDS: tuple[int, ...] = (386, 374)
# where the lips meet; 61/291 (outer contour) lie ~5% wider
MOUTH_CORNERS: tuple[int, ...] = (78, 308)
INNER_LIP: tuple[int, ...] = (13, 14)  # upper and lower inner lip, centre
LIPS_OUTER: tuple[int, ...] = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_OUTER += (375, 321, 405, 314, 17, 84, 181, 91, 146)
LIPS_INNER: tuple[int, ...] = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_INNER += (324, 318, 402, 317, 14, 87, 178, 88, 95)
# the lower lip: its inner edge left to right, then its outer edge right to left
LOWER_LIP: tuple[int, ...] = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
LOWER_LIP += (291, 375, 321, 405, 314, 17, 84, 181, 91, 146, 61)
FACE_OVAL: tuple[int, ...] = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361)
FACE_OVAL += (288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149)
FACE_OVAL += (150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54)
FACE_OVAL += (103, 67, 109)
NOSE_TIP, CHIN, FOREHEAD = 1, 152, 10

MIN_SCORE = 0.6


@dataclass(frozen=True)
class Box:
    """A detected face: (x0, y0, x1, y1) in image pixels, the score, and the two eye keypoints."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float
    left_eye: tuple[float, float]
    right_eye: tuple[float, float]

    @property
    def width(self) -> float:
        return self.x1 - self.x0


class _Nets:
    """One thread's nets by model name (an object, so :data:`_every_thread` holds it weakly)."""

    __slots__ = ("__weakref__", "by_name")

    def __init__(self) -> None:
        self.by_name: dict[str, cv2.dnn.Net] = {}


# Every live thread's nets, so the idle release can reach the job workers' from another
# thread; a thread's entry goes when the thread ends (its threading.local goes with it).
_every_thread: weakref.WeakSet[_Nets] = weakref.WeakSet()
_every_lock = threading.Lock()


def release_nets() -> None:
    """Forget every thread's nets; each thread loads what it needs again on its next call.
    A call under way keeps its own reference to the net it is running."""
    with _every_lock:
        for nets in list(_every_thread):
            nets.by_name.clear()


releasable.register("face nets", release_nets)


def _net(name: str) -> cv2.dnn.Net:
    """A vendored model, loaded once per thread (a Net keeps per-call state)."""
    nets: _Nets | None = getattr(_local, "nets", None)
    if nets is None:
        nets = _local.nets = _Nets()
        with _every_lock:
            _every_thread.add(nets)
    cache = nets.by_name
    net = cache.get(name)
    if net is None:
        net = cv2.dnn.readNetFromTFLite(str(MODELS / name))
        cache[name] = net
    return net


def _anchors(size: int, strides: tuple[int, ...], per_cell: tuple[int, ...]) -> np.ndarray:
    """BlazeFace SSD anchor centres (fractions of the input), one row per anchor."""
    rows = []
    for stride, n in zip(strides, per_cell, strict=True):
        cells = size // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        centres = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        rows.append(np.repeat(centres, n, axis=0))
    return np.concatenate(rows).astype(np.float32)


# short range: 16x16 cells x 2 anchors + 8x8 cells x 6 anchors = 896; full range: 48x48 x 1.
_DETECTORS = {
    "face_detection_short_range.tflite": (128, _anchors(128, (8, 16), (2, 6))),
    "face_detection_full_range.tflite": (192, _anchors(192, (4,), (1,))),
}


def _letterbox(rgb: np.ndarray, size: int) -> tuple[np.ndarray, float, float, float]:
    """The image scaled into a size x size square with black bars: (square, scale, dx, dy)."""
    h, w = rgb.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA)
    dx, dy = (size - nw) // 2, (size - nh) // 2
    square = np.zeros((size, size, 3), np.uint8)
    square[dy : dy + nh, dx : dx + nw] = small
    return square, scale, dx, dy


def _run_detector(rgb: np.ndarray, name: str) -> list[Box]:
    size, anchors = _DETECTORS[name]
    square, scale, dx, dy = _letterbox(rgb, size)
    blob = (square.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
    net = _net(name)
    net.setInput(blob)
    scores_raw, regs = net.forward(net.getUnconnectedOutLayersNames())
    if scores_raw.shape[-1] != 1:  # output order is not guaranteed by name
        scores_raw, regs = regs, scores_raw
    logits = np.clip(scores_raw.reshape(-1), -80, 80)
    scores = 1.0 / (1.0 + np.exp(-logits))
    regs = regs.reshape(-1, 16) / size
    out: list[Box] = []
    for i in np.flatnonzero(scores >= MIN_SCORE):
        ax, ay = anchors[i]
        r = regs[i]
        cx, cy, bw, bh = ax + r[0], ay + r[1], r[2], r[3]

        def img(px: float, py: float) -> tuple[float, float]:
            return (float((px * size - dx) / scale), float((py * size - dy) / scale))

        x0, y0 = img(cx - bw / 2, cy - bh / 2)
        x1, y1 = img(cx + bw / 2, cy + bh / 2)
        # keypoints 0 and 1 are the subject's right and left eye: image left, image right
        le = img(ax + r[4], ay + r[5])
        re = img(ax + r[6], ay + r[7])
        out.append(Box(float(x0), float(y0), float(x1), float(y1), float(scores[i]), le, re))
    return out


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    iy = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    inter = ix * iy
    union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter
    return inter / union if union > 0 else 0.0


def merge_boxes(boxes: list[Box], *, overlap: float = 0.3) -> list[Box]:
    """One box per face: boxes overlapping a better one by more than ``overlap`` IoU are merged
    into it (score-weighted mean), never reported as another face. Best score first."""
    clusters: list[list[Box]] = []
    for b in sorted(boxes, key=lambda b: -b.score):
        for cl in clusters:
            if iou(cl[0], b) > overlap:
                cl.append(b)
                break
        else:
            clusters.append([b])
    merged = []
    for cl in clusters:
        wts = np.array([b.score for b in cl])
        wts = wts / wts.sum()

        def avg(vals: list[float], wts: np.ndarray = wts) -> float:
            return float(np.dot(vals, wts))

        merged.append(
            Box(
                avg([b.x0 for b in cl]),
                avg([b.y0 for b in cl]),
                avg([b.x1 for b in cl]),
                avg([b.y1 for b in cl]),
                max(b.score for b in cl),
                (avg([b.left_eye[0] for b in cl]), avg([b.left_eye[1] for b in cl])),
                (avg([b.right_eye[0] for b in cl]), avg([b.right_eye[1] for b in cl])),
            )
        )
    return merged


def detect_boxes(rgb: np.ndarray) -> list[Box]:
    """Face boxes, best first. The short-range model (a face that fills a good part of the
    frame) runs first; the full-range one (small faces in a big frame) only when it finds none."""
    boxes = merge_boxes(_run_detector(rgb, "face_detection_short_range.tflite"))
    if not boxes:
        boxes = merge_boxes(_run_detector(rgb, "face_detection_full_range.tflite"))
    if not boxes:
        # A face a few % of a big frame: five overlapping tiles, each 0.65 of the frame.
        h, w = rgb.shape[:2]
        th, tw = round(0.65 * h), round(0.65 * w)
        found: list[Box] = []
        for y0, x0 in (
            (0, 0),
            (0, w - tw),
            (h - th, 0),
            (h - th, w - tw),
            ((h - th) // 2, (w - tw) // 2),
        ):
            for b in _run_detector(
                rgb[y0 : y0 + th, x0 : x0 + tw], "face_detection_full_range.tflite"
            ):
                found.append(_shifted(b, x0, y0))
        boxes = merge_boxes(found)
    return boxes


def _shifted(b: Box, dx: float, dy: float) -> Box:
    return Box(
        b.x0 + dx,
        b.y0 + dy,
        b.x1 + dx,
        b.y1 + dy,
        b.score,
        (b.left_eye[0] + dx, b.left_eye[1] + dy),
        (b.right_eye[0] + dx, b.right_eye[1] + dy),
    )


_MESH_SIZE = 192


def _mesh_pass(
    rgb: np.ndarray, centre: tuple[float, float], side: float, angle: float
) -> tuple[np.ndarray, float]:
    """Run the mesh model on a ``side`` px square around ``centre`` rotated by ``angle`` (rad,
    the eye line's angle): (468 x 3 points in image pixels, face presence score)."""
    s = _MESH_SIZE / side
    cos, sin = math.cos(-angle) * s, math.sin(-angle) * s
    cx, cy = centre
    # image -> crop: rotate by -angle about the centre, scale, move the centre to the middle
    m = np.array(
        [
            [cos, -sin, _MESH_SIZE / 2 - (cos * cx - sin * cy)],
            [sin, cos, _MESH_SIZE / 2 - (sin * cx + cos * cy)],
        ],
        dtype=np.float64,
    )
    crop = cv2.warpAffine(
        rgb, m, (_MESH_SIZE, _MESH_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    net = _net("face_landmark.tflite")
    net.setInput((crop.astype(np.float32) / 255.0).transpose(2, 0, 1)[None])
    outs = net.forward(net.getUnconnectedOutLayersNames())
    pts_raw = next(o for o in outs if o.size == 468 * 3)
    flag = next(o for o in outs if o.size == 1)
    pts = pts_raw.reshape(468, 3).astype(np.float64)
    inv = cv2.invertAffineTransform(m)
    xy = pts[:, :2] @ inv[:, :2].T + inv[:, 2]
    z = pts[:, 2:3] / s
    score = 1.0 / (1.0 + math.exp(-float(np.clip(flag.reshape(-1)[0], -80, 80))))
    return np.hstack([xy, z]), score


def _eye_angle(le: tuple[float, float], re: tuple[float, float]) -> float:
    return math.atan2(re[1] - le[1], re[0] - le[0])


def fit_mesh(rgb: np.ndarray, box: Box) -> tuple[np.ndarray, float]:
    """468 mesh points (x, y, z) in image pixels for the face in ``box``, and a presence score.

    First pass: a crop 1.5x the detector box, aligned with the detector's eye keypoints.
    Second pass: a crop 1.5x the first mesh's extent, aligned with its eye line (the mesh is
    most accurate on an upright face that fills the crop, as in MediaPipe's tracking loop).
    """
    centre = ((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2)
    side = 1.5 * max(box.x1 - box.x0, box.y1 - box.y0)
    pts, _ = _mesh_pass(rgb, centre, side, _eye_angle(box.left_eye, box.right_eye))
    for _ in range(2):
        le = tuple(pts[list(LEFT_EYE), :2].mean(axis=0))
        re = tuple(pts[list(RIGHT_EYE), :2].mean(axis=0))
        angle = _eye_angle(le, re)  # type: ignore[arg-type]
        # extent measured along the face's own axes
        c, s = math.cos(-angle), math.sin(-angle)
        rot = pts[:, :2] @ np.array([[c, s], [-s, c]])
        lo, hi = rot.min(axis=0), rot.max(axis=0)
        mid = (lo + hi) / 2
        centre = (
            float(mid[0] * math.cos(angle) - mid[1] * math.sin(angle)),
            float(mid[0] * math.sin(angle) + mid[1] * math.cos(angle)),
        )
        side = 1.5 * float(max(hi - lo))
        pts, score = _mesh_pass(rgb, centre, side, angle)
    return pts, score
