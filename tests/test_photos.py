"""Upload checks: format sniffing, size and pixel limits, orientation, metadata stripping,
script cleaning, and the face preview."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from errors import FaceError, PhotoError, ScriptError
from providers.local.face import detect_face
from services.photos import MB, PreparedPhoto, clean_script, face_preview, prepare_photo


def encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.fixture
def astronaut_img(astronaut_rgb: np.ndarray) -> Image.Image:
    return Image.fromarray(astronaut_rgb)


def exif_with_gps(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}  # GPS IFD
    exif[0x010F] = "PhoneMaker"
    return exif


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_accepts_the_three_formats(astronaut_img: Image.Image, fmt: str) -> None:
    photo = prepare_photo(encode(astronaut_img, fmt))
    assert photo.format == fmt
    assert (photo.width, photo.height) == (1024, 1024)
    assert Image.open(io.BytesIO(photo.data)).format == "JPEG"


def test_sniffs_content_not_name(astronaut_img: Image.Image) -> None:
    gif = encode(astronaut_img.convert("P"), "GIF")
    for data in (gif, encode(astronaut_img, "BMP"), b"%PDF-1.7 not an image", b"hello.jpg"):
        with pytest.raises(PhotoError) as err:
            prepare_photo(data)
        assert err.value.user_message == "This file is not a JPEG, PNG or WebP image."


def test_empty_and_truncated(astronaut_img: Image.Image) -> None:
    with pytest.raises(PhotoError, match="empty"):
        prepare_photo(b"")
    jpeg = encode(astronaut_img, "JPEG")
    with pytest.raises(PhotoError, match="damaged or incomplete"):
        prepare_photo(jpeg[: len(jpeg) // 3])


def test_file_size_limit() -> None:
    noise = np.random.default_rng(0).integers(0, 255, (1400, 1400, 3), dtype=np.uint8)
    data = encode(Image.fromarray(noise), "PNG")
    assert len(data) > 5 * MB
    with pytest.raises(PhotoError) as err:
        prepare_photo(data, max_bytes=5 * MB)
    assert err.value.user_message == f"The photo is {len(data) / MB:.1f} MB; the limit is 5 MB."


def test_pixel_limit_before_decoding() -> None:
    # 9000 x 6000 = 54 MP of flat colour compresses to almost nothing: a classic bomb.
    data = encode(Image.new("L", (9000, 6000)), "PNG")
    assert len(data) < 1 * MB
    with pytest.raises(PhotoError) as err:
        prepare_photo(data)
    assert err.value.user_message == "The photo is 54.0 megapixels; the limit is 40."


def test_decompression_bomb_guard_is_on() -> None:
    data = encode(Image.new("L", (12000, 8000)), "PNG")  # 96 MP: over twice the limit
    with pytest.raises(PhotoError, match="40 megapixels"):
        prepare_photo(data)


def test_too_small() -> None:
    with pytest.raises(PhotoError) as err:
        prepare_photo(encode(Image.new("RGB", (400, 200), "white"), "JPEG"))
    assert err.value.user_message == (
        "The photo is 400×200 px; the short side must be at least 256 px."
    )


def test_downscales_to_max_side(astronaut_img: Image.Image) -> None:
    big = astronaut_img.resize((3000, 2000))
    photo = prepare_photo(encode(big, "JPEG"), max_side_px=2048)
    assert (photo.width, photo.height) == (2048, 1365)


def test_exif_orientation_applied_and_metadata_stripped(astronaut_img: Image.Image) -> None:
    # A phone stores the sensor's landscape pixels and says "rotate 90 degrees clockwise"
    # (orientation 6) when displaying. Store the portrait turned the other way.
    sideways = astronaut_img.transpose(Image.Transpose.ROTATE_90)
    data = encode(sideways, "JPEG", exif=exif_with_gps(6).tobytes())
    assert Image.open(io.BytesIO(data)).getexif().get(0x0112) == 6
    photo = prepare_photo(data)
    out = Image.open(io.BytesIO(photo.data))
    assert len(out.getexif()) == 0 and "exif" not in out.info
    assert b"PhoneMaker" not in photo.data
    # Upright again: the face detector finds the eyes above the mouth where they belong.
    lm = detect_face(np.asarray(out.convert("RGB")))
    assert lm.left_eye[1] < lm.mouth_center[1] and lm.right_eye[1] < lm.mouth_center[1]
    assert abs(lm.mouth_center[0] - 449) < 10 and abs(lm.mouth_center[1] - 298) < 10


def test_png_with_transparency_stays_png(astronaut_rgb: np.ndarray) -> None:
    alpha = np.full(astronaut_rgb.shape[:2], 255, np.uint8)
    alpha[:200, :200] = 0  # a transparent corner
    rgba = Image.fromarray(np.dstack([astronaut_rgb, alpha]))
    photo = prepare_photo(encode(rgba, "PNG"))
    assert photo.data.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(photo.data)).mode == "RGBA"
    assert face_preview(photo).box[2] > 150


def test_face_preview(astronaut_img: Image.Image) -> None:
    photo = prepare_photo(encode(astronaut_img, "JPEG"))
    preview = face_preview(photo)
    crop = Image.open(io.BytesIO(preview.crop_jpeg))
    assert crop.format == "JPEG" and max(crop.size) <= 360
    x, y, w, _ = preview.box
    assert 330 < x < 380 and 110 < y < 160 and 170 < w < 230
    assert preview.notes == ()


def test_face_preview_is_a_crop_with_the_found_box_drawn(astronaut_img: Image.Image) -> None:
    """Issue 15, item 11: the preview is the head, not a copy of the photo, with the box."""
    from services.photos import FACE_BOX_RGB

    photo = prepare_photo(encode(astronaut_img, "JPEG"))
    preview = face_preview(photo)
    crop = np.asarray(Image.open(io.BytesIO(preview.crop_jpeg)).convert("RGB")).astype(int)
    _x, _y, w, h = preview.box
    # A crop around the face: much less of the photo than the whole.
    assert crop.shape[0] * crop.shape[1] < 0.5 * photo.width * photo.height
    # The box outline in the theme colour: about its perimeter of pixels have that colour.
    distance = np.abs(crop - np.array(FACE_BOX_RGB)).sum(axis=2)
    near_box = (distance < 60).sum()
    assert near_box > 2 * (w + h) * 0.5, near_box  # about the box's perimeter (scaled)


def test_face_preview_errors() -> None:
    blank = PreparedPhoto(
        data=encode(Image.new("RGB", (600, 600), "grey"), "JPEG"),
        width=600,
        height=600,
        format="JPEG",
    )
    with pytest.raises(FaceError, match="No face"):
        face_preview(blank)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Hello world  ", "Hello world"),
        ("Hi\tthere", "Hi there"),
        ("a\x00b\x07c\x1bd", "abcd"),
        ("line one\r\nline two", "line one\nline two"),
        ("one\n\n\n\n\ntwo", "one\n\ntwo"),
        ("many     spaces", "many spaces"),
        ("नमस्ते\u200dदुनिया", "नमस्ते\u200dदुनिया"),  # ZWJ kept: Indic scripts need it
        ("evil \u202eeman", "evil eman"),  # bidi override removed
        ("cafe\u0301", "café"),  # NFC
    ],
)
def test_clean_script(raw: str, clean: str) -> None:
    assert clean_script(raw, max_chars=100) == clean


@pytest.mark.parametrize("raw", ["", "   ", "\n\t \r\n", "\x00\x01"])
def test_clean_script_empty(raw: str) -> None:
    with pytest.raises(ScriptError, match="empty"):
        clean_script(raw, max_chars=100)


def test_clean_script_too_long() -> None:
    assert clean_script("x" * 5000, max_chars=5000) == "x" * 5000
    with pytest.raises(ScriptError) as err:
        clean_script("x" * 5001, max_chars=5000)
    assert err.value.user_message == "The script is 5,001 characters; the limit is 5,000."
