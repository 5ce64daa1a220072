"""Creator input before it reaches a job: the photo and the script.

:func:`prepare_photo` sniffs the format from the bytes (never the file name), enforces the
size and pixel limits with Pillow's decompression-bomb guard on, applies the EXIF orientation,
and re-encodes from the pixels alone: no EXIF/GPS (a phone photo carries where it was taken),
no comment, XMP or ICC chunks, nothing appended after the image (a JPEG+ZIP polyglot comes out
as a plain JPEG). :func:`clean_script` trims and removes control characters.
:func:`face_preview` runs the engine's face detector so the page can show the crop it will
animate. Every failure is a :class:`PhotoError`, :class:`ScriptError` or :class:`FaceError`
whose message says what to change.

Decisions on awkward uploads (tests/test_bad_inputs.py holds one case each):

* HEIC/HEIF (an iPhone's default) is refused with "export it as JPEG". Pillow cannot decode
  it without a plug-in, and pillow-heif's binary wheels bundle the GPL x265 encoder (plus
  LGPL libheif/libde265 and the HEVC patent question). iPhone browsers already convert HEIC
  to JPEG when the file picker asks for JPEG/PNG/WebP, so few creators ever see the message.
* Animated WebP/PNG is refused: its first frame is often a blank or fade-in frame, and the
  creator would be charged for a video of a frame they never chose. Multi-picture JPEGs
  (MPO: iPhone HDR gain maps, some Android cameras) are stills: their primary image is used.
* 16-bit PNGs are scaled to 8 bits (a plain conversion would clip them to white); CMYK
  JPEGs are converted to RGB.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import threading
import time
import unicodedata
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from errors import N_, PhotoError, ScriptError
from observability import releasable
from secrets_manager import get_settings
from services import image_limits, ratelimit

MB = 1024 * 1024
FORMATS = ("JPEG", "PNG", "WEBP")
NOT_AN_IMAGE = N_("This file is not a JPEG, PNG or WebP image.")
HEIC_NOT_SUPPORTED = N_(
    "This is a HEIC/HEIF photo (the iPhone's default format), which cannot be read here yet. "
    "Please export it as JPEG and upload it again."
)
ANIMATED = N_("This is an animated image ({frames} frames). Please upload a still photo.")
FACE_BOX_RGB = (91, 76, 240)  # the theme's primary colour (ui_theme.PRIMARY)
_BOMB_LOCK = threading.Lock()  # Image.MAX_IMAGE_PIXELS is process-wide
# ISO-BMFF major/compatible brands of HEIF stills and sequences (ISO/IEC 23008-12).
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
# Pillow reads 16-bit greyscale PNGs in these modes (values 0..65535).
_WIDE_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


@dataclass(frozen=True)
class PreparedPhoto:
    """A clean photo: JPEG (PNG if it has transparency), oriented, no metadata, downscaled.

    ``width``/``height`` are of ``data``; ``format`` is what the upload was.
    """

    data: bytes
    width: int
    height: int
    format: str


@dataclass(frozen=True)
class FacePreview:
    """The face the engine will animate: a small JPEG crop of the head (the detector's box
    drawn on it) and the box in photo pixels."""

    crop_jpeg: bytes
    box: tuple[int, int, int, int]
    notes: tuple[str, ...]


def prepare_photo(
    data: bytes,
    *,
    max_bytes: int = 25 * MB,
    max_megapixels: float = 40,
    min_side_px: int = 256,
    max_side_px: int = 2048,
) -> PreparedPhoto:
    """Validate and clean an upload; raises :class:`PhotoError` with a specific message."""
    if not data:
        raise PhotoError(N_("The file is empty."))
    if len(data) > max_bytes:
        raise PhotoError(
            N_("The photo is {size:.1f} MB; the limit is {limit:g} MB."),
            params={"size": len(data) / MB, "limit": max_bytes / MB},
        )
    limit_px = int(max_megapixels * 1_000_000)
    try:
        with _BOMB_LOCK, warnings.catch_warnings():
            # Pillow's guard: a warning above MAX_IMAGE_PIXELS, an error above twice that,
            # raised while reading the header. We turn the warning band into our own check
            # below (it knows the size, so its message can say it).
            Image.MAX_IMAGE_PIXELS = limit_px
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im: Image.Image = Image.open(io.BytesIO(data), formats=FORMATS)
        fmt = im.format or ""
        frames = int(getattr(im, "n_frames", 1) or 1)
        # Size, aspect and pixel budget from the header, then a decode bounded in memory.
        im = image_limits.decode_within_limits(
            im, max_megapixels=max_megapixels, min_side_px=min_side_px, max_side_px=max_side_px
        )
    except Image.DecompressionBombError as exc:
        raise PhotoError(
            N_("The photo has far too many pixels; the limit is {limit:g} megapixels."),
            params={"limit": max_megapixels},
            detail=str(exc),
        ) from exc
    except UnidentifiedImageError as exc:
        if _is_heif(data):
            raise PhotoError(HEIC_NOT_SUPPORTED) from exc
        raise PhotoError(NOT_AN_IMAGE) from exc
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data
        raise PhotoError(N_("The photo file is damaged or incomplete."), detail=str(exc)) from exc

    if fmt == "MPO":
        fmt = "JPEG"  # a still with auxiliary pictures; load() read the primary one
    elif frames > 1:
        raise PhotoError(ANIMATED, params={"frames": frames})

    im = _upright(im)
    if min(im.size) < min_side_px:
        raise PhotoError(
            N_("The photo is {w}×{h} px; the short side must be at least {min_side} px."),
            params={"w": im.width, "h": im.height, "min_side": min_side_px},
        )
    if im.mode in _WIDE_MODES:
        im = im.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    im = im.convert("RGBA" if alpha else "RGB")
    if max(im.size) > max_side_px:
        im.thumbnail((max_side_px, max_side_px), Image.Resampling.LANCZOS)
    # Pillow copies ``info`` through convert() and writes some of it back on save (a JPEG
    # comment, a PNG's ICC profile): keep nothing but the pixels.
    im.info.clear()
    out = io.BytesIO()
    # No exif=, no pnginfo=, no comment=: the file carries no EXIF, GPS or text chunks.
    if alpha:
        im.save(out, "PNG", optimize=False)
    else:
        im.save(out, "JPEG", quality=92, subsampling=0)
    return PreparedPhoto(data=out.getvalue(), width=im.width, height=im.height, format=fmt)


def _is_heif(data: bytes) -> bool:
    """An ISO-BMFF ``ftyp`` box whose major or compatible brands name HEIF (not AVIF)."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    size = int.from_bytes(data[:4], "big")
    box = data[8 : min(max(size, 16), 4096)]
    brands = {box[0:4]} | {box[i : i + 4] for i in range(8, len(box) - 3, 4)}
    return b"avif" not in brands and bool(brands & _HEIF_BRANDS)


def _upright(im: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; an unreadable EXIF block leaves the pixels as stored."""
    try:
        return ImageOps.exif_transpose(im)
    except (SyntaxError, ValueError, TypeError, KeyError, OSError, struct.error):
        return im.copy()


# Bidirectional overrides can make a script display differently from what is spoken.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[ \t\u00a0]+")
# Line and paragraph separators other than "\n" (vertical tab, form feed, NEL, U+2028/9):
# they end a line, so they become one rather than gluing two words together.
_LINE_BREAKS = re.compile("\r\n|[\r\v\f\x85\u2028\u2029]")
# A byte-order mark pasted from a file, and lone surrogates (not text; SQLite and UTF-8
# encoders reject them).
_INVISIBLE = re.compile("[\ufeff\ud800-\udfff]")


def clean_script(text: str, *, max_chars: int = 5000) -> str:
    """The script as it will be spoken: NFC, control characters removed, other line breaks as
    ``\n``, tabs as spaces, runs of spaces collapsed, at most one blank line in a row, trimmed.

    Zero-width joiners stay: Indic scripts need them; so do right-to-left marks (Urdu) and
    emoji. Markup is not interpreted here: pages show scripts as text. Raises
    :class:`ScriptError` when the result is empty or longer than ``max_chars``; input far
    beyond the limit is refused before any work is done on it.
    """
    if len(text) > 2 * max_chars + 1000:
        raise ScriptError(
            N_("The script is {n:,} characters; the limit is {limit:,}."),
            params={"n": len(text), "limit": max_chars},
        )
    text = _LINE_BREAKS.sub("\n", _INVISIBLE.sub("", text))
    text = unicodedata.normalize("NFC", text)
    text = "".join(
        " " if ch == "\t" else ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc"
    )
    text = _BIDI_CONTROLS.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if not text:
        raise ScriptError(N_("The script is empty; type what the photo should say."))
    if len(text) > max_chars:
        raise ScriptError(
            N_("The script is {n:,} characters; the limit is {limit:,}."),
            params={"n": len(text), "limit": max_chars},
        )
    return text


def face_preview(photo: PreparedPhoto, *, min_face_px: int = 120) -> FacePreview:
    """Find the face the engine will animate; raises :class:`FaceError` if there is none."""
    # OpenCV and the engine load only when a preview is asked for.
    from providers.local.face import detect_face
    from providers.local.pipeline import load_photo

    rgb = load_photo(photo.data)
    with releasable.in_use():
        lm = detect_face(rgb, min_face_px=min_face_px)
    x, y, w, h = lm.box
    # Show the head, not just the detector's box: hair above, chin below.
    cx, cy, half = x + w / 2, y + h * 0.55, w * 0.95
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half * 1.15))
    x1, y1 = min(rgb.shape[1], int(cx + half)), min(rgb.shape[0], int(cy + half * 1.05))
    crop = Image.fromarray(rgb[y0:y1, x0:x1])
    crop.thumbnail((360, 360), Image.Resampling.LANCZOS)
    # The box the detector found, drawn on the crop, so the creator sees which face it is.
    scale = crop.width / max(1, x1 - x0)
    left, top = (x - x0) * scale, (y - y0) * scale
    line = max(2, round(crop.width / 120))
    ImageDraw.Draw(crop).rectangle(
        (left, top, left + w * scale, top + h * scale), outline=FACE_BOX_RGB, width=line
    )
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=85)
    return FacePreview(crop_jpeg=out.getvalue(), box=lm.box, notes=lm.notes)


# ------------------------------------------------------------------------------ staged uploads

STAGED_UPLOAD_MAX_AGE_S = 24 * 3600


@dataclass(frozen=True)
class StagedPhoto:
    """A prepared photo and its face crop as two small files under the data folder, so a
    page keeps paths between reruns, never image bytes. The names are content hashes."""

    path: str
    crop_path: str
    width: int
    height: int
    format: str
    notes: tuple[str, ...]

    def is_present(self) -> bool:
        """False once the files were swept (a page left open for more than a day)."""
        return Path(self.path).is_file() and Path(self.crop_path).is_file()

    def load(self) -> PreparedPhoto:
        data = Path(self.path).read_bytes()
        return PreparedPhoto(data=data, width=self.width, height=self.height, format=self.format)


def stage_upload(data: bytes, *, user_id: int | None = None) -> StagedPhoto:
    """Check an uploaded photo (rate limit per creator, content, size, a face) and keep it,
    and the face crop the page shows, as files. Raises PhotoError, FaceError or RateLimited
    with a user-safe message; nothing is written then."""
    limits = get_settings().limits
    if user_id is not None:
        ratelimit.hit("upload", user_id)
    prepared = prepare_photo(
        data,
        max_bytes=limits.max_upload_mb * MB,
        max_megapixels=limits.max_megapixels,
        min_side_px=limits.min_photo_side_px,
        max_side_px=limits.max_photo_side_px,
    )
    preview = face_preview(prepared, min_face_px=limits.min_face_px)
    folder = staged_upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    photo_path = folder / content_name(prepared.data)
    crop_path = photo_path.with_name(f"{photo_path.stem}-face.jpg")
    _write_whole(photo_path, prepared.data)
    _write_whole(crop_path, preview.crop_jpeg)
    return StagedPhoto(
        path=str(photo_path),
        crop_path=str(crop_path),
        width=prepared.width,
        height=prepared.height,
        format=prepared.format,
        notes=tuple(preview.notes),
    )


def content_name(data: bytes) -> str:
    """A prepared photo's file name from its content: ``<sha-256 prefix>.<png|jpg>``."""
    ext = "png" if data[:4] == b"\x89PNG" else "jpg"
    return f"{hashlib.sha256(data).hexdigest()[:24]}.{ext}"


def _write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` so that readers see the old file or the whole new one, never a part:
    two creators uploading the same picture share a file, and one session must not read it
    while the other is half-way through writing it."""
    tmp = path.with_name(f".{uuid.uuid4().hex}.part")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def staged_upload_dir() -> Path:
    """Where the create page keeps prepared photos between reruns (never in session_state)."""
    return Path(get_settings().app.data_dir) / "tmp" / "uploads"


def sweep_staged_uploads(now: float | None = None) -> None:
    """Delete staged photos older than a day (a page closed before its photo was used)."""
    folder = staged_upload_dir()
    if not folder.is_dir():
        return
    cutoff = (now or time.time()) - STAGED_UPLOAD_MAX_AGE_S
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue
