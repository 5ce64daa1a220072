"""A person mask (MediaPipe Selfie Segmentation, run by OpenCV's DNN) and a background plate.

Head motion must move the person and nothing else: a flag pole or a star beside the head has
to stay where it is, and where the head moves away the background behind it must show. Both
are computed once per video, on the framed still:

- :func:`person_mask` is the model's person probability (0..1) at the image's size. The model
  (``selfie_segmentation.tflite``, 256x256 input, Apache-2.0, vendored in ``models/`` with its
  licence) takes ~10 ms; its mask edge is smooth, as it is upsampled from 256 px.
- :func:`background_plate` is the image with the person (grown by a margin) filled in from
  the surrounding background by ``cv2.inpaint`` at reduced scale: the strip a moving head
  reveals is at most a few % of the face wide, so a blurry but plausible fill is enough.
"""

from __future__ import annotations

import cv2
import numpy as np

from observability import memory
from providers.local.mesh import MODELS

MODEL = "selfie_segmentation.tflite"
_SIZE = 256
_FILL_SIDE = 160  # the plate is inpainted at about this many pixels on its long side


def person_mask(rgb: np.ndarray) -> np.ndarray:
    """Person probability per pixel (float32, 0..1), the size of ``rgb`` (RGB uint8).

    The whole image is squeezed into the model's square input (as MediaPipe's own graph
    does), and the 256x256 answer is stretched back.
    """
    h, w = rgb.shape[:2]
    square = cv2.resize(rgb, (_SIZE, _SIZE), interpolation=cv2.INTER_AREA)
    # Loaded for this one call and released (it runs once per video): a cached net keeps
    # ~10 MB of working buffers for the rest of the render, and the engine's budget is tight.
    net = cv2.dnn.readNetFromTFLite(str(MODELS / MODEL))
    net.setInput((square.astype(np.float32) / 255.0).transpose(2, 0, 1)[None])
    out = np.array(net.forward(net.getUnconnectedOutLayersNames())[0]).reshape(_SIZE, _SIZE)
    del net
    memory.release_free_memory()  # glibc keeps freed pages otherwise; peak RSS counts them
    mask = cv2.resize(np.clip(out, 0.0, 1.0).astype(np.float32), (w, h))
    return np.clip(mask, 0.0, 1.0)


def background_plate(rgb: np.ndarray, alpha: np.ndarray, margin_px: int) -> np.ndarray:
    """``rgb`` with the person region (``alpha`` > 0.02, grown by ``margin_px``) inpainted from
    the background around it; pixels outside that region are ``rgb``'s own, exactly."""
    h, w = rgb.shape[:2]
    hole = (alpha > 0.02).astype(np.uint8)
    k = 2 * max(1, margin_px) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    hole = np.asarray(cv2.dilate(hole, kernel), dtype=np.uint8)
    if not hole.any():
        return rgb.copy()
    if hole.all():  # nothing to fill from: keep the photo (there is no background to show)
        return rgb.copy()
    f = min(1.0, _FILL_SIDE / max(h, w))
    sw, sh = max(2, round(w * f)), max(2, round(h * f))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    small_hole = (cv2.resize(hole, (sw, sh), interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
    filled = cv2.inpaint(small, small_hole, 5, cv2.INPAINT_TELEA)
    filled = cv2.GaussianBlur(filled, (0, 0), 1.0)
    big = cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)
    plate = rgb.copy()
    inside = hole.astype(bool)
    plate[inside] = big[inside]
    return plate
