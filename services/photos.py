"""Creator input before it reaches a job: the photo and the script.

:func:`prepare_photo` sniffs the format from the bytes (never the file name), enforces the
size and pixel limits with Pillow's decompression-bomb guard on, applies the EXIF orientation,
and re-encodes without EXIF/GPS (a phone photo carries where it was taken). :func:`clean_script`
trims and removes control characters. :func:`face_preview` runs the engine's face detector so
the page can show the crop it will animate. Every failure is a :class:`PhotoError`,
:class:`ScriptError` or :class:`FaceError` whose message says what to change.
"""

from __future__ import annotations

import io
import re
import threading
import unicodedata
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from errors import N_, PhotoError, ScriptError

MB = 1024 * 1024
FORMATS = ("JPEG", "PNG", "WEBP")
NOT_AN_IMAGE = N_("This file is not a JPEG, PNG or WebP image.")
_BOMB_LOCK = threading.Lock()  # Image.MAX_IMAGE_PIXELS is process-wide


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
    """The face the engine will animate: a small JPEG crop and the box in photo pixels."""

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
            im = Image.open(io.BytesIO(data), formats=FORMATS)
        fmt = im.format or ""
        w, h = im.size
        if w * h > limit_px:
            raise PhotoError(
                N_("The photo is {mp:.1f} megapixels; the limit is {limit:g}."),
                params={"mp": w * h / 1e6, "limit": max_megapixels},
            )
        im.load()
    except Image.DecompressionBombError as exc:
        raise PhotoError(
            N_("The photo has far too many pixels; the limit is {limit:g} megapixels."),
            params={"limit": max_megapixels},
            detail=str(exc),
        ) from exc
    except UnidentifiedImageError as exc:
        raise PhotoError(NOT_AN_IMAGE) from exc
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data
        raise PhotoError(N_("The photo file is damaged or incomplete."), detail=str(exc)) from exc

    im = ImageOps.exif_transpose(im)
    if min(im.size) < min_side_px:
        raise PhotoError(
            N_("The photo is {w}×{h} px; the short side must be at least {min_side} px."),
            params={"w": im.width, "h": im.height, "min_side": min_side_px},
        )
    alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    im = im.convert("RGBA" if alpha else "RGB")
    if max(im.size) > max_side_px:
        im.thumbnail((max_side_px, max_side_px), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No exif=, no pnginfo=: the saved file carries no EXIF, GPS or text chunks.
    if alpha:
        im.save(out, "PNG", optimize=False)
    else:
        im.save(out, "JPEG", quality=92, subsampling=0)
    return PreparedPhoto(data=out.getvalue(), width=im.width, height=im.height, format=fmt)


# Bidirectional overrides can make a script display differently from what is spoken.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[ \t\u00a0]+")


def clean_script(text: str, *, max_chars: int = 5000) -> str:
    """The script as it will be spoken: NFC, control characters removed, tabs as spaces,
    runs of spaces collapsed, at most one blank line in a row, trimmed.

    Zero-width joiners stay: Indic scripts need them. Raises :class:`ScriptError` when the
    result is empty or longer than ``max_chars``.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        " " if ch == "\t" else ch
        for ch in text
        if ch in "\n\t" or unicodedata.category(ch) != "Cc"
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
    lm = detect_face(rgb, min_face_px=min_face_px)
    x, y, w, h = lm.box
    # Show the head, not just the detector's box: hair above, chin below.
    cx, cy, half = x + w / 2, y + h * 0.55, w * 0.95
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half * 1.15))
    x1, y1 = min(rgb.shape[1], int(cx + half)), min(rgb.shape[0], int(cy + half * 1.05))
    crop = Image.fromarray(rgb[y0:y1, x0:x1])
    crop.thumbnail((360, 360), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=85)
    return FacePreview(crop_jpeg=out.getvalue(), box=lm.box, notes=lm.notes)
