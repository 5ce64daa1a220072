"""Background stability with head motion 1.0: how much pixels outside the person change.

    PYTHONPATH=. python benchmarks/engine_background.py

Two person masks: a heuristic from the face mesh on frame 0 (the face oval grown by 35% for
the hair, plus a band from the chin down, 2.2 face widths wide, for neck and shoulders), and
the selfie segmentation model's person in any frame of the video (grown by 1 px). The Engine
v2 target is a mean change outside the person of at most 2 grey levels. The heuristic mask
misses the edge of the hair and the wide collar ring, so its figure counts moving person
pixels too; the segmentation figure is the one tests/test_person_motion.py holds.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

from providers.base import JobContext
from providers.local import LocalProvider
from providers.local import mesh as fm
from providers.local.person import person_mask
from tests.lipsync import decode_frames
from tests.portraits import head_motion_request


def main() -> None:
    rgb = cv2.resize(data.astronaut(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    tmp = Path(tempfile.mkdtemp())
    photo = tmp / "p.jpg"
    Image.fromarray(rgb).save(photo, quality=92)
    req = head_motion_request(photo)
    frames, _ = decode_frames(LocalProvider().generate(req, JobContext(work_dir=tmp)).video_path)
    f0 = np.ascontiguousarray(frames[0])
    pts, _ = fm.fit_mesh(f0, fm.detect_boxes(f0)[0])
    oval = pts[list(fm.FACE_OVAL), :2]
    c = oval.mean(axis=0)
    mask = np.zeros(f0.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(c + (oval - c) * 1.35).astype(np.int32)], 255)
    fw, chin = float(np.ptp(oval[:, 0])), float(pts[fm.CHIN, 1])
    x0, x1, y0 = int(c[0] - 1.1 * fw), int(c[0] + 1.1 * fw), int(chin - 0.1 * fw)
    cv2.rectangle(mask, (x0, y0), (x1, f0.shape[0]), 255, -1)
    gray = frames.astype(np.float32).mean(axis=3)
    change = np.abs(gray - gray[0])
    outside = mask == 0
    per_frame = change[:, outside].mean(axis=1)
    ring = (cv2.dilate(mask, np.ones((41, 41), np.uint8)) > 0) & outside
    near = change[:, ring].mean(axis=1)
    pm, pw = per_frame.mean(), per_frame.max()
    print(f"outside the heuristic person: mean {pm:.2f}, worst frame {pw:.2f}")
    print(f"within 20 px of the person: mean {near.mean():.2f}, worst frame {near.max():.2f}")
    person = np.zeros(f0.shape[:2], bool)
    for f in frames:
        person |= person_mask(np.ascontiguousarray(f)) > 0.5
    bg = ~(cv2.dilate(person.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    seg = change[:, bg].mean(axis=1)
    print(f"outside the segmented person: mean {seg.mean():.2f}, worst frame {seg.max():.2f}")


if __name__ == "__main__":
    main()
