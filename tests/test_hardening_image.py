"""Hardening v2, item 1 (images): a photo's declared size is judged from its header, before
any pixel is decoded, and big photos decode into a bounded size (services.image_limits)."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from errors import PhotoError
from services import image_limits
from services.photos import prepare_photo

ROOT = Path(__file__).resolve().parents[1]


def _chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def skinny_png(width: int = 1, height: int = 40_000_000) -> bytes:
    """8-bit greyscale, ``width`` x ``height`` black pixels: ~78 KB on disk for 1 x 40 M.
    Streamed through zlib, so the test never holds the pixels."""
    row = b"\x00" * (1 + width)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row * 10_000) for _ in range(height // 10_000)) + z.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any pixel decode fails the test: the refusal must come from the header."""

    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError(f"decoded a {self.size} image")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_the_skinny_png_is_refused_from_its_header(no_decoding: None) -> None:
    data = skinny_png()
    assert len(data) < 100_000
    with pytest.raises(PhotoError) as err:
        prepare_photo(data)
    assert err.value.template == image_limits.TOO_SMALL
    assert err.value.params == {"w": 1, "h": 40_000_000, "min_side": 256}


def test_a_strip_is_refused_from_its_header(no_decoding: None) -> None:
    data = skinny_png(width=300, height=2000)  # sides fine, 6.7:1
    with pytest.raises(PhotoError) as err:
        prepare_photo(data)
    assert err.value.template == image_limits.TOO_NARROW
    assert "strip" in err.value.user_message


def test_too_many_pixels_is_refused_from_its_header(no_decoding: None) -> None:
    with pytest.raises(PhotoError) as err:
        prepare_photo(skinny_png(width=5000, height=5000), max_megapixels=20)
    assert err.value.template == image_limits.TOO_MANY_PIXELS


def test_a_big_jpeg_is_decoded_at_a_reduced_scale() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (4400, 4400), (200, 120, 40)).save(buf, "JPEG")
    im = Image.open(io.BytesIO(buf.getvalue()))
    small = image_limits.load_bounded(im, max_side_px=1024)
    assert small.size == (1100, 1100)  # the decoder scaled by 1/4: 4400 x 4400 never existed
    assert small.getpixel((500, 500)) == pytest.approx((200, 120, 40), abs=3)


@pytest.mark.parametrize("mode", ["RGBA", "I;16", "P"])
def test_a_big_png_is_reduced_once_decoded_and_keeps_its_look(mode: str) -> None:
    side = 4500
    if mode == "I;16":
        pixels = np.full((side, side), 30_000, np.uint16)  # a mid grey in 16 bits
        im = Image.fromarray(pixels)
        expected: object = (116, 116, 116)  # 30000 / 257, saved as an RGB JPEG
    elif mode == "P":
        im = Image.new("P", (side, side), 1)
        im.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
        expected = (10, 200, 30)
    else:
        im = Image.new("RGBA", (side, side), (10, 20, 250, 128))
        expected = (10, 20, 250, 128)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    photo = prepare_photo(buf.getvalue(), max_side_px=2048)
    assert (photo.width, photo.height) == (2048, 2048)
    out = Image.open(io.BytesIO(photo.data))
    assert out.getpixel((1000, 1000)) == pytest.approx(expected, abs=2)


def test_the_skinny_png_costs_little_memory(tmp_path: Path) -> None:
    """Peak RSS of a fresh process that imports the app and refuses the skinny PNG (today:
    over 700 MB, the decoded 40 M pixels and their copies)."""
    path = tmp_path / "skinny.png"
    path.write_bytes(skinny_png())
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from pytest across fork and exec.
    code = (
        "from errors import PhotoError\n"
        "from services.photos import prepare_photo\n"
        "def hwm():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1])\n"
        "base = hwm()\n"
        f"data = open({str(path)!r}, 'rb').read()\n"
        "try:\n    prepare_photo(data)\nexcept PhotoError:\n    pass\n"
        "print(base // 1024, hwm() // 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    base_mb, peak_mb = map(int, out.stdout.split())
    assert peak_mb - base_mb < 20, (base_mb, peak_mb)
