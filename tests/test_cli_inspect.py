"""``cli.py inspect``: what the engine found, in the uploaded photo's pixels after EXIF."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

from tests.portraits import LEFT_EYE, MOUTH_CENTER, RIGHT_EYE

ROOT = Path(__file__).resolve().parents[1]


def run_inspect(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TALKINGPHOTO")}
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("", "utf-8")
    env.update(TALKINGPHOTO_SECRETS_FILE=str(secrets), TALKINGPHOTO_DATA_DIR=str(tmp_path / "d"))
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "inspect", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )


def test_inspect_reports_in_the_uploaded_photos_pixels(tmp_path: Path) -> None:
    """A 2560 px photo (the engine works on <= 2048 px) stored sideways with EXIF
    orientation 6: the answer is in the upright, full-size photo's pixels."""
    k = 5.0
    upright = cv2.resize(data.astronaut(), None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # viewers turn it 90 deg clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "sideways.jpg"
    Image.fromarray(stored).save(path, "JPEG", quality=90, exif=exif.tobytes())

    proc = run_inspect(["--photo", str(path), "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    ipd = math.dist(LEFT_EYE, RIGHT_EYE) * k
    for key, truth in (("left_eye", LEFT_EYE), ("right_eye", RIGHT_EYE)):
        assert math.dist(report[key], (truth[0] * k, truth[1] * k)) < 0.1 * ipd, report
    centre = (MOUTH_CENTER[0] * k, MOUTH_CENTER[1] * k)
    assert math.dist(report["mouth_center"], centre) < 0.08 * ipd, report
    x0, y0, x1, y1 = report["face_box"]
    assert x0 < report["left_eye"][0] < report["right_eye"][0] < x1 and y0 < centre[1] < y1
    assert abs(report["roll_deg"] - 2.0) < 4 and report["landmarks"] == 468
    assert report["warnings"] == []


def test_inspect_warns_on_a_grayscale_photo(tmp_path: Path) -> None:
    gray = cv2.resize(data.astronaut(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    path = tmp_path / "gray.png"
    Image.fromarray(gray).convert("L").save(path)
    proc = run_inspect(["--photo", str(path), "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "grayscale_photo" in json.loads(proc.stdout)["warnings"]


def test_inspect_bad_input_is_one_line_status_2(tmp_path: Path) -> None:
    blank = tmp_path / "blank.jpg"
    Image.new("RGB", (600, 600), (120, 130, 140)).save(blank)
    junk = tmp_path / "junk.jpg"
    junk.write_text("not a photo", "utf-8")
    for photo, expected in (
        (blank, "No face was found"),
        (junk, "could not be read"),
        (tmp_path / "missing.jpg", "could not be read"),
    ):
        proc = run_inspect(["--photo", str(photo), "--json"], tmp_path)
        assert proc.returncode == 2, (photo, proc.returncode, proc.stderr)
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
        assert proc.stdout == ""
