"""Lip sync on an upright and a tilted photo, measured two ways on the decoded video: the
dark-area signal of tests/lipsync.py and the inner-lip gap tracked by the face mesh."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from providers.base import GenerationRequest, JobContext
from providers.local import LocalProvider
from tests.lipsync import mesh_sync, sync_report

SCRIPT = (
    "Hello there! Welcome to Talking Photo. This portrait can now speak any script you type, "
    "in many languages, with captions and natural blinks."
)


def _render(tmp: Path, rgb: np.ndarray) -> Path:
    photo = tmp / "photo.jpg"
    Image.fromarray(rgb).save(photo, "JPEG", quality=92)
    request = GenerationRequest(
        photo_path=photo,
        script=SCRIPT,
        language="en",
        voice="espeak:en:female",
        resolution=480,
        aspect="1:1",
        head_motion=0.0,
    )
    return LocalProvider().generate(request, JobContext(work_dir=tmp)).video_path


@pytest.mark.slow
@pytest.mark.parametrize("tilt", [0, 15, -15])
def test_lip_sync_upright_and_tilted(tmp_path: Path, astronaut_rgb: np.ndarray, tilt: int) -> None:
    rgb = astronaut_rgb
    if tilt:
        m = cv2.getRotationMatrix2D((449.0, 240.0), tilt, 1.0)
        rgb = cv2.warpAffine(rgb, m, rgb.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
    video = _render(tmp_path, rgb)
    report = sync_report(video)
    assert report.r_best >= 0.6 and abs(report.best_lag) <= 2, report
    lag, r, r_shifted, gap = mesh_sync(video)
    print(
        f"tilt {tilt}: dark-area r {report.r_best:.2f} lag {report.best_lag}; "
        f"mesh gap r {r:.2f} lag {lag}, shifted {r_shifted:.2f}"
    )
    # The mesh was not made for painted mouths and sees only part of the opening, so its
    # correlation is lower than the dark-area one; it must still be clear and in time.
    assert r >= 0.4 and abs(lag) <= 2, (lag, r)
    assert r_shifted < r - 0.3, (r, r_shifted)
    assert gap.max() > gap.min() + 0.05  # the mesh sees the lips part, not just noise
