"""Abuse and accidents at the front door: odd files, odd scripts, broken settings.

Every refusal must say specifically what to change (a PhotoError/ScriptError template with its
params) and leave no trace: no job row, no ledger entry, no file under the media or upload
folders. Uploads are driven the way the create page and the CLI drive them
(``photos.prepare_photo`` then ``jobs.submit``); a few go through the real page (AppTest).
Uploads that are odd but legitimate (CMYK, 16-bit, rotated, multi-picture JPEG) must come out
as an upright 8-bit photo with nothing but pixels in it.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

import errors
from db.models import CreditEntry, Job
from db.session import session_scope
from errors import PhotoError, ScriptError
from secrets_manager import get_settings
from services import accounts, credits, jobs
from services.photos import (
    ANIMATED,
    HEIC_NOT_SUPPORTED,
    MB,
    NOT_AN_IMAGE,
    PreparedPhoto,
    clean_script,
    prepare_photo,
)

ROOT = Path(__file__).resolve().parents[1]
ENTRY = str(ROOT / "app_streamlit_cloud.py")
SCRIPT = "Hello! This is a short test video."
DAMAGED = "The photo file is damaged or incomplete."
TOO_LONG = "The script is {n:,} characters; the limit is {limit:,}."


# ------------------------------------------------------------------------------ helpers


def encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def portrait() -> Image.Image:
    """A 512 px RGB photo with structure (gradients), enough for every format test."""
    y, x = np.mgrid[0:512, 0:512]
    rgb = np.dstack([x // 2, y // 2, (x + y) // 4]).astype(np.uint8)
    return Image.fromarray(rgb)


def half(data: bytes) -> bytes:
    """An upload cut off halfway (a dropped connection, a file still syncing)."""
    return data[: len(data) // 2]


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def png_bomb(side: int = 20_000) -> bytes:
    """A valid 1-bit greyscale PNG of side x side black pixels: ~50 KB on disk, 400 MP when
    decoded. Streamed through zlib so the test never holds the pixels."""
    row = b"\x00" * (1 + side // 8)  # filter byte + packed bits
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def heic_like() -> bytes:
    """The first bytes of an iPhone photo: an ISO-BMFF ``ftyp`` box with brand ``heic``."""
    ftyp = b"ftyp" + b"heic" + b"\x00\x00\x00\x00" + b"mif1" + b"MiHE" + b"miaf" + b"heic"
    meta = struct.pack(">I", 24) + b"meta" + b"\x00" * 16
    return struct.pack(">I", 4 + len(ftyp)) + ftyp + meta + b"\x00" * 256


def gif_js_polyglot() -> bytes:
    """Valid as a GIF and as JavaScript (``GIF89a/*...*/=alert(1)``): an old XSS trick."""
    header = b"GIF89a" + b"/*" + b"\x0a\x00" + b"\x00\x00\x00"  # width "/*", height 10
    pixels = b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00"
    return header + pixels + b"*/=1;alert(1);//" + b"\x3b"


def animated(fmt: str) -> bytes:
    first = portrait()
    frames = [first.rotate(angle) for angle in (5, 10)]
    kw: dict[str, object] = {"save_all": True, "append_images": frames, "duration": 100}
    if fmt == "GIF":
        return encode(first.convert("P"), fmt, **kw)
    return encode(first, fmt, **kw)


def zip_archive() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("payload.html", "<script>alert(document.cookie)</script>")
    return buf.getvalue()


def limits_kwargs() -> dict[str, object]:
    limits = get_settings().limits
    return {
        "max_bytes": limits.max_upload_mb * MB,
        "max_megapixels": limits.max_megapixels,
        "min_side_px": limits.min_photo_side_px,
        "max_side_px": limits.max_photo_side_px,
    }


def params() -> jobs.JobParams:
    return jobs.JobParams(language="en", voice="fake-en-2", provider="fake")


def create_video(user: accounts.UserView, upload: bytes, script: str = SCRIPT) -> jobs.JobView:
    """What the create page and ``cli.py generate`` do with an upload and a script."""
    photo = prepare_photo(upload, **limits_kwargs())  # type: ignore[arg-type]
    return jobs.submit(user.id, photo=photo, script=script, params=params())


def good_photo() -> PreparedPhoto:
    return prepare_photo(encode(portrait(), "JPEG"))


@dataclass(frozen=True)
class Trace:
    """Everything a refused upload or script must leave exactly as it was."""

    jobs: int
    ledger: tuple[tuple[str, int], ...]
    balance: int
    files: tuple[str, ...]


def trace(data_dir: Path, user: accounts.UserView) -> Trace:
    with session_scope() as session:
        n_jobs = int(session.scalar(select(func.count()).select_from(Job)) or 0)
        entries = session.execute(
            select(CreditEntry.reference, CreditEntry.amount).order_by(CreditEntry.id)
        ).all()
    files = tuple(
        sorted(
            str(p.relative_to(data_dir))
            for folder in ("media", "tmp", "work")
            if (data_dir / folder).exists()
            for p in (data_dir / folder).rglob("*")
            if p.is_file()
        )
    )
    return Trace(n_jobs, tuple((r, a) for r, a in entries), credits.balance(user.id), files)


@pytest.fixture
def creator(jobs_env: object, foundation_env: Path) -> accounts.UserView:
    return accounts.current_user()  # 20 credits, fake provider, jobs run inline


# ------------------------------------------------------------------------ refused uploads


@dataclass(frozen=True)
class BadUpload:
    make: Callable[[], bytes]
    template: str
    params: dict[str, object]


BAD_UPLOADS: dict[str, BadUpload] = {
    "text file named .jpg": BadUpload(
        lambda: b"Just some notes, saved as photo.jpg\n" * 40, NOT_AN_IMAGE, {}
    ),
    "svg with a script": BadUpload(
        lambda: (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="800" '
            b'height="800"><script>alert(1)</script><circle r="300"/></svg>'
        ),
        NOT_AN_IMAGE,
        {},
    ),
    "gif/javascript polyglot": BadUpload(gif_js_polyglot, NOT_AN_IMAGE, {}),
    "animated gif": BadUpload(lambda: animated("GIF"), NOT_AN_IMAGE, {}),
    "animated webp": BadUpload(lambda: animated("WEBP"), ANIMATED, {"frames": 3}),
    "animated png": BadUpload(lambda: animated("PNG"), ANIMATED, {"frames": 3}),
    "heic from an iphone": BadUpload(heic_like, HEIC_NOT_SUPPORTED, {}),
    "avif (not mistaken for heic)": BadUpload(lambda: encode(portrait(), "AVIF"), NOT_AN_IMAGE, {}),
    "zero bytes": BadUpload(lambda: b"", "The file is empty.", {}),
    "26 MB": BadUpload(
        lambda: b"\xff\xd8\xff\xe0" + bytes(26 * MB - 4),
        "The photo is {size:.1f} MB; the limit is {limit:g} MB.",
        {"size": 26.0, "limit": 25.0},
    ),
    "20000x20000 decompression bomb": BadUpload(
        png_bomb,
        "The photo has far too many pixels; the limit is {limit:g} megapixels.",
        {"limit": 40},
    ),
    "truncated jpeg": BadUpload(lambda: half(encode(portrait(), "JPEG", quality=95)), DAMAGED, {}),
    "truncated png": BadUpload(lambda: half(encode(portrait(), "PNG")), DAMAGED, {}),
    "jpeg too small": BadUpload(
        lambda: encode(portrait().resize((200, 120)), "JPEG"),
        "The photo is {w}×{h} px; the short side must be at least {min_side} px.",
        {"w": 200, "h": 120, "min_side": 256},
    ),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_is_refused_with_a_specific_message(case: str) -> None:
    bad = BAD_UPLOADS[case]
    with pytest.raises(PhotoError) as err:
        prepare_photo(bad.make(), **limits_kwargs())  # type: ignore[arg-type]
    assert err.value.template == bad.template
    assert err.value.params == pytest.approx(bad.params)
    assert err.value.user_message == errors.render(bad.template, err.value.params)


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_a_refused_upload_changes_nothing(
    case: str, creator: accounts.UserView, foundation_env: Path
) -> None:
    before = trace(foundation_env, creator)
    with pytest.raises(PhotoError) as err:
        create_video(creator, BAD_UPLOADS[case].make())
    assert err.value.template == BAD_UPLOADS[case].template
    assert trace(foundation_env, creator) == before
    assert before.jobs == 0 and before.balance == 20


def test_the_bomb_is_small_on_disk_and_refused_before_decoding() -> None:
    data = png_bomb()
    assert len(data) < 200_000
    assert struct.unpack(">II", data[16:24]) == (20_000, 20_000)  # IHDR width, height
    with pytest.raises(PhotoError, match="far too many pixels"):
        prepare_photo(data)  # raised from the header: 400 MP are never allocated


# ---------------------------------------------------------------------- accepted, cleaned


def test_jpeg_zip_polyglot_is_stored_as_a_plain_jpeg(
    creator: accounts.UserView, foundation_env: Path
) -> None:
    """A JPEG with an archive appended (as Motion Photos append an MP4) is a valid photo:
    the image is used and the appended bytes never reach storage."""
    payload = zip_archive()
    upload = encode(portrait(), "JPEG") + payload
    photo = prepare_photo(upload)
    assert b"PK\x03\x04" not in photo.data and b"alert" not in photo.data
    assert photo.data.endswith(b"\xff\xd9")  # ends where the JPEG ends

    job = create_video(creator, upload)
    assert job.status == "succeeded"
    stored = [p for p in (foundation_env / "media").rglob("photo*") if p.is_file()]
    assert len(stored) == 1 and stored[0].read_bytes() == photo.data


def test_script_in_a_jpeg_comment_and_metadata_are_dropped() -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}  # GPS
    upload = encode(
        portrait(),
        "JPEG",
        comment=b"<script>alert(1)</script>",
        exif=exif.tobytes(),
        icc_profile=b"fake-icc-profile-bytes-for-test",
    )
    photo = prepare_photo(upload)
    for secret in (b"<script>", b"PhoneMaker", b"fake-icc", b"Exif"):
        assert secret not in photo.data
    out = Image.open(io.BytesIO(photo.data))
    assert "comment" not in out.info and "icc_profile" not in out.info


def test_cmyk_jpeg_keeps_its_colours() -> None:
    rgb = portrait()
    photo = prepare_photo(encode(rgb.convert("CMYK"), "JPEG", quality=95))
    out = Image.open(io.BytesIO(photo.data))
    assert (out.format, out.mode) == ("JPEG", "RGB")
    diff = np.abs(np.asarray(out, np.int16) - np.asarray(rgb, np.int16))
    assert diff.mean() < 4


def test_16_bit_greyscale_png_is_not_washed_out() -> None:
    """A plain convert() clips 16-bit values at 255: the photo would come out white."""
    grey8 = np.asarray(portrait().convert("L"))
    upload = encode(Image.fromarray(grey8.astype(np.uint16) * 257), "PNG")
    assert Image.open(io.BytesIO(upload)).mode.startswith("I")
    photo = prepare_photo(upload)
    out = np.asarray(Image.open(io.BytesIO(photo.data)).convert("L"), np.int16)
    assert abs(out.mean() - grey8.mean()) < 2
    assert np.abs(out - grey8).max() <= 3


def test_16_bit_rgb_png_is_read() -> None:
    import cv2

    rgb8 = np.asarray(portrait())
    ok, png = cv2.imencode(".png", (rgb8[:, :, ::-1].astype(np.uint16) * 257))
    assert ok
    photo = prepare_photo(png.tobytes())
    out = np.asarray(Image.open(io.BytesIO(photo.data)), np.int16)
    assert np.abs(out - rgb8).mean() < 3


def test_multi_picture_jpeg_uses_its_primary_image() -> None:
    """MPO (an iPhone HDR gain map, a camera's second view) is a still, not an animation."""
    primary = portrait()
    upload = encode(primary, "MPO", save_all=True, append_images=[primary.rotate(90)])
    assert Image.open(io.BytesIO(upload)).format == "MPO"
    photo = prepare_photo(upload)
    assert photo.format == "JPEG"
    out = np.asarray(Image.open(io.BytesIO(photo.data)), np.int16)
    assert np.abs(out - np.asarray(primary, np.int16)).mean() < 4


# The transpose a viewer applies for each EXIF orientation; its inverse makes the stored pixels.
_INVERSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # shown with ROTATE_270
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,  # shown with ROTATE_90
}


def _marked_upright() -> Image.Image:
    """Landscape, white, red block top-left, blue block top-right: every turn and flip shows."""
    im = Image.new("RGB", (640, 400), "white")
    im.paste((220, 0, 0), (0, 0, 120, 120))
    im.paste((0, 0, 220), (520, 0, 640, 120))
    return im


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_rotated_photo_comes_out_upright(orientation: int, fmt: str) -> None:
    upright = _marked_upright()
    stored = upright.transpose(_INVERSE[orientation]) if orientation in _INVERSE else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    photo = prepare_photo(encode(stored, fmt, exif=exif.tobytes()))
    out = np.asarray(Image.open(io.BytesIO(photo.data)).convert("RGB"), np.int16)
    assert out.shape[:2] == (400, 640)
    assert (out[40, 40] - (220, 0, 0)).__abs__().max() < 40, "red corner top-left"
    assert (out[40, 600] - (0, 0, 220)).__abs__().max() < 40, "blue corner top-right"
    assert out[360, 40].min() > 200 and out[360, 600].min() > 200  # bottom stays white


def _exif_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


@pytest.mark.parametrize(
    "exif_bytes",
    [
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05garbage",
        b"Exif\x00\x00II*\x00\xff\xff\xff\x7f",
        _exif_orientation(9),
        _exif_orientation(0x7FFF),
    ],
    ids=["truncated-ifd", "offset-past-end", "orientation-9", "orientation-huge"],
)
def test_corrupt_exif_does_not_break_the_upload(exif_bytes: bytes) -> None:
    photo = prepare_photo(encode(portrait(), "JPEG", exif=exif_bytes))
    assert (photo.width, photo.height) == (512, 512)


# --------------------------------------------------------------------------------- scripts


@pytest.mark.parametrize(
    ("script", "template"),
    [
        ("", "The script is empty; type what the photo should say."),
        ("   \n\t  \u3000\n ", "The script is empty; type what the photo should say."),
        ("\x00\x07\x1b\x7f\u202e", "The script is empty; type what the photo should say."),
        ("x" * 100_000, TOO_LONG),
        ("नमस्ते " * 20_000, TOO_LONG),
    ],
    ids=["empty", "whitespace", "only-control-characters", "100k-characters", "100k-hindi"],
)
def test_bad_script_is_refused_and_changes_nothing(
    script: str, template: str, creator: accounts.UserView, foundation_env: Path
) -> None:
    photo = good_photo()
    before = trace(foundation_env, creator)
    with pytest.raises(ScriptError) as err:
        jobs.submit(creator.id, photo=photo, script=script, params=params())
    assert err.value.template == template
    if template == TOO_LONG:
        assert err.value.params == {"n": len(script), "limit": 5000}
    assert trace(foundation_env, creator) == before


def test_a_script_just_over_the_limit_after_cleaning_is_refused() -> None:
    """The limit counts what will be spoken: trailing spaces do not count, letters do."""
    assert clean_script("y" * 5000 + " " * 300, max_chars=5000) == "y" * 5000
    with pytest.raises(ScriptError) as err:
        clean_script("y" * 5001 + " " * 300, max_chars=5000)
    assert err.value.params == {"n": 5001, "limit": 5000}


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("नमस्ते friends, welcome to TalkingPhoto!", "नमस्ते friends, welcome to TalkingPhoto!"),
        ("آپ کیسے ہیں؟ یہ ایک \u200fٹیسٹ\u200f ہے۔", "آپ کیسے ہیں؟ یہ ایک \u200fٹیسٹ\u200f ہے۔"),
        ("Hi 👋🏽 family 👨\u200d👩\u200d👧 🇮🇳!", "Hi 👋🏽 family 👨\u200d👩\u200d👧 🇮🇳!"),
        ("Hello\x00 wor\x07ld\x1b[0m!", "Hello world[0m!"),
        ("one\u2028two\u2029three\x0bfour\x0cfive\x85six", "one\ntwo\nthree\nfour\nfive\nsix"),
        ("\ufeffBOM first", "BOM first"),
        (
            "<script>alert(1)</script> **bold** [x](javascript:alert(1))",
            "<script>alert(1)</script> **bold** [x](javascript:alert(1))",
        ),
    ],
    ids=[
        "hindi-english",
        "urdu-rtl",
        "emoji",
        "control-chars",
        "other-line-breaks",
        "bom",
        "markup-kept-as-text",
    ],
)
def test_scripts_in_any_writing_system_are_kept_as_typed(
    raw: str, stored: str, creator: accounts.UserView
) -> None:
    job = jobs.submit(creator.id, photo=good_photo(), script=raw, params=params())
    assert job.status == "succeeded"
    assert job.script == stored


def test_lone_surrogates_are_dropped() -> None:
    broken = "bad \udcff bytes from a terminal"
    assert clean_script(broken) == "bad bytes from a terminal"
    clean_script(broken).encode("utf-8")  # storable


def test_the_cli_refuses_a_heic_photo_in_one_line(tmp_path: Path) -> None:
    """``cli.py generate`` is the other front door: exit status 2, one line, nothing stored."""
    import os
    import subprocess
    import sys

    photo = tmp_path / "IMG_0001.jpg"  # iPhone HEIC content behind a .jpg name
    photo.write_bytes(heic_like())
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALKINGPHOTO")}
    env |= {"TALKINGPHOTO_DATA_DIR": str(data_dir), "TALKINGPHOTO_SECRETS_FILE": ""}
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "generate",
            "--photo",
            str(photo),
            "--script",
            SCRIPT,
            "--language",
            "en",
            "--out",
            str(tmp_path / "out.mp4"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == ["error: " + errors.render(HEIC_NOT_SUPPORTED, {})]
    assert not (tmp_path / "out.mp4").exists()
    assert not (data_dir / "media").exists() or not any((data_dir / "media").rglob("*.*"))


# -------------------------------------------------------------------------------- the pages


@pytest.fixture
def app_env(jobs_env: object, foundation_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import streamlit as st

    from secrets_manager import reset_settings_cache
    from services import startup

    monkeypatch.setenv("TALKINGPHOTO__PROVIDERS__DEFAULT", "fake")
    reset_settings_cache()
    startup.reset_for_tests()
    st.cache_resource.clear()
    st.cache_data.clear()
    return foundation_env


def _app(**query: str):  # -> AppTest
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(ENTRY, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


@pytest.mark.parametrize(
    "case", ["text file named .jpg", "heic from an iphone", "animated webp", "zero bytes"]
)
def test_the_create_page_refuses_a_bad_upload_and_keeps_nothing(case: str, app_env: Path) -> None:
    user = accounts.current_user()
    before = trace(app_env, user)
    bad = BAD_UPLOADS[case]
    at = _app()
    at = at.file_uploader(key="photo_upload").set_value(("photo.jpg", bad.make(), "image/jpeg"))
    at = at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [errors.render(bad.template, bad.params)]
    assert at.button(key="generate").disabled
    assert len(at.image) == 0  # no preview of a refused file
    assert trace(app_env, user) == before


def _html_text(fragment: str) -> tuple[list[str], str]:
    """The tags of an HTML fragment and its text, as a browser would parse it."""
    from html.parser import HTMLParser

    tags: list[str] = []
    text: list[str] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append(tag)

        def handle_data(self, data: str) -> None:
            text.append(data)

    parser = Parser(convert_charrefs=True)
    parser.feed(fragment)
    parser.close()
    return tags, "".join(text)


EVIL_SCRIPT = (
    "<script>alert(1)</script> **bold** [x](javascript:alert(1))\n\n"
    "# Heading\n\n[y](https://evil.example) :material/home: $x$ <img src=x onerror=alert(2)>"
)


def test_my_videos_shows_a_script_with_markup_as_plain_text(app_env: Path) -> None:
    """The card's title (the script's first words by default) must reach the browser as an
    HTML block holding only text: Markdown inside an HTML block on one line is not parsed (a
    blank line would end the block)."""
    user = accounts.current_user()
    job = jobs.submit(user.id, photo=good_photo(), script=EVIL_SCRIPT, params=params())
    assert job.script == EVIL_SCRIPT
    at = _app()
    at.switch_page("views/videos.py").run()
    assert not at.exception, [e.value for e in at.exception]
    blocks = [m.value for m in at.markdown if 'class="tp-title"' in m.value]
    assert len(blocks) == 1
    (card,) = blocks
    assert "\n" not in card and card.startswith("<div") and card.endswith("</div>")
    block = card[: card.index("</div>") + len("</div>")]  # the title; the status line follows
    tags, text = _html_text(block)
    assert tags == ["div"]
    shown = text.removesuffix("…")
    assert shown and " ".join(EVIL_SCRIPT.split()).startswith(shown)
    # Streamlit rewrites :material/...: and $...$ in the source before parsing; the
    # source holds character references instead.
    inner = block[block.index(">") + 1 : -len("</div>")]
    assert not re.search(r"[<>:$]", inner)


def test_ui_theme_inert_keeps_any_text_as_typed() -> None:
    import ui_theme

    for text in (EVIL_SCRIPT, "&amp; &#58; </div>", "آپ کیسے ہیں؟", "a\u2028b"):
        tags, shown = _html_text(f"<div>{ui_theme.inert(text)}</div>")
        assert tags == ["div"] and shown == " ".join(text.split())


# ------------------------------------------------------------------------------- settings


@pytest.fixture
def broken_settings(
    foundation_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., None]]:
    """Write a secrets file and environment overrides the way an operator would get them
    wrong; the app then starts from scratch (no cached settings or services)."""
    import streamlit as st

    from secrets_manager import reset_settings_cache
    from services import startup

    def apply(toml: str = "", **env: str) -> None:
        secrets = foundation_env.parent / "secrets.toml"
        secrets.write_text(toml, "utf-8")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        reset_settings_cache()
        startup.reset_for_tests()
        st.cache_resource.clear()

    yield apply
    reset_settings_cache()
    startup.reset_for_tests()


SETTINGS_CASES = {
    "env override not a number": (
        "",
        {"TALKINGPHOTO__LIMITS__WORKERS": "many"},
        ["[limits] workers", "an integer between 1 and 16", "TALKINGPHOTO__LIMITS__WORKERS"],
    ),
    "typo in the file": (
        "[limits]\nmax_upload_mbs = 30\n",
        {},
        ["[limits] max_upload_mbs", "did you mean 'max_upload_mb'"],
    ),
    "secret too short": (
        '[jwt]\nsecret_key = "hunter2-is-my-password"\n',
        {},
        ["[jwt] secret_key", "at least 32 characters"],
    ),
    "env override out of range": (
        "",
        {"TALKINGPHOTO__LIMITS__MAX_UPLOAD_MB": "0"},
        ["[limits] max_upload_mb", "TALKINGPHOTO__LIMITS__MAX_UPLOAD_MB"],
    ),
    "unknown provider section in env": (
        "",
        {"TALKINGPHOTO__DID__API_KEY": "sk-live-abcdef"},
        ["[did]", "unknown section", "did you mean 'd_id'"],
    ),
}


@pytest.mark.parametrize("case", list(SETTINGS_CASES))
def test_invalid_settings_stop_the_app_with_a_message_naming_the_key(
    case: str, broken_settings: Callable[..., None]
) -> None:
    toml, env, expected = SETTINGS_CASES[case]
    broken_settings(toml, **env)
    at = _app()
    assert not at.exception, [e.value for e in at.exception]
    (error,) = [e.value for e in at.error]
    for part in expected:
        assert part in error, error
    assert "Traceback" not in error and "hunter2" not in error and "sk-live" not in error
    # Nothing of the app ran on broken settings: no page, no uploader, no job.
    assert not at.get("file_uploader") and not at.get("button")


@pytest.mark.browser
@pytest.mark.slow
def test_streamlit_run_with_broken_settings_shows_the_message_not_a_traceback(
    tmp_path: Path,
) -> None:
    """A real `streamlit run` whose .streamlit/secrets.toml has a typo and a bad value: the
    server still answers (so an operator sees the problem), and the page names the keys."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.a11y import wait_for_app
    from tests.test_app_server import (
        _copy_without_secrets,
        free_port,
        start_server,
        stop_server,
        wait_healthy,
    )

    workdir = _copy_without_secrets(tmp_path / "app")
    (workdir / ".streamlit" / "secrets.toml").write_text(
        '[limits]\nworkers = "many"\nmax_upload_mbs = 30\n'
        '[stripe]\nsecret_key = "sk_live_not_for_your_eyes"\napi_base = "ftp://example"\n',
        "utf-8",
    )
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    proc = start_server(workdir, port, tmp_path / "data", home)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, home / "server.log")
        with sync_api.sync_playwright() as pw:
            engine = pw.chromium.launch(
                executable_path=str(chromium),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            try:
                page = engine.new_page()
                page.goto(f"{base}/")
                wait_for_app(page)
                alert = page.get_by_test_id("stAlertContentError")
                sync_api.expect(alert).to_be_visible()
                text = alert.inner_text()
                for part in ("[limits] workers", "[limits] max_upload_mbs", "[stripe] api_base"):
                    assert part in text, text
                assert "sk_live" not in page.content()
                sync_api.expect(page.get_by_test_id("stException")).to_have_count(0)
                assert "Traceback" not in page.inner_text("body")
                sync_api.expect(page.get_by_test_id("stFileUploader")).to_have_count(0)
            finally:
                engine.close()
    finally:
        stop_server(proc)
    log = (home / "server.log").read_text(errors="replace")
    assert "sk_live_not_for_your_eyes" not in log
