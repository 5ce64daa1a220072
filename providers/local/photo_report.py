"""What the engine finds in a photo, for ``cli.py inspect`` and debugging.

Contract: :func:`inspect_photo` takes a photo file (or its bytes) and returns a JSON-ready dict
in the pixel coordinates of the photo as uploaded, after EXIF orientation (the engine itself
may work on a downscaled copy). Raises :class:`errors.PhotoError` for an unreadable file and
:class:`errors.FaceError` when there is no usable face.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from errors import N_, PhotoError
from providers.local.face import detect_face
from providers.local.pipeline import load_photo


def _oriented_size(source: Path | bytes) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
            return ImageOps.exif_transpose(im).size
    except (OSError, Image.DecompressionBombError) as exc:
        raise PhotoError(N_("The photo could not be read."), detail=str(exc)) from exc


def inspect_photo(source: Path | bytes, *, min_face_px: int = 120) -> dict[str, Any]:
    """``face_box`` [x0, y0, x1, y1], ``left_eye``/``right_eye`` (left: the image's left),
    ``mouth_left``/``mouth_right``/``mouth_center`` [x, y], ``roll_deg`` (positive when the
    eye line goes down to the right), ``yaw_deg``, ``pitch_deg``, ``landmarks`` (count),
    ``warnings`` (message ids) and ``notes``."""
    width, _height = _oriented_size(source)
    rgb = load_photo(source)
    lm = detect_face(rgb, min_face_px=min_face_px)
    k = width / rgb.shape[1]  # load_photo may have downscaled a very large photo

    def pt(p: tuple[float, float]) -> list[float]:
        return [round(p[0] * k, 1), round(p[1] * k, 1)]

    x, y, w, h = lm.box
    return {
        "face_box": [round(x * k), round(y * k), round((x + w) * k), round((y + h) * k)],
        "left_eye": pt(lm.left_eye),
        "right_eye": pt(lm.right_eye),
        "mouth_left": pt(lm.mouth_left),
        "mouth_right": pt(lm.mouth_right),
        "mouth_center": pt(lm.mouth_center),
        "roll_deg": round(lm.roll_deg, 1),
        "yaw_deg": round(lm.yaw_deg, 1),
        "pitch_deg": round(lm.pitch_deg, 1),
        "landmarks": 0 if lm.mesh is None else int(lm.mesh.shape[0]),
        "warnings": list(lm.warnings),
        "notes": list(lm.notes),
    }
