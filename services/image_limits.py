"""Bounds an upload's memory before its pixels are decoded.

Pillow's ``Image.open`` reads only the header; :func:`check_header` judges that header (sides
under the minimum first, then extreme aspect ratios, then the pixel budget), so a 78 KB PNG
of 1 x 40,000,000 pixels is refused without allocating its 40 million pixels.
:func:`load_bounded` then decodes into a bounded size: a JPEG through ``draft()`` (the
decoder itself scales by 1/2, 1/4 or 1/8), any other format is decoded once and at once
reduced by a whole factor (``Image.reduce``), so every later step (orientation, mode
conversion, resampling) works on a picture of about ``max_side_px``, never on the full one.

Peak memory per upload size: README, "Upload limits" (``benchmarks/bench_abuse_image.py``).
"""

from __future__ import annotations

import sys

import numpy as np
from PIL import Image

from errors import N_, PhotoError

#: Longest side over shortest side. A phone panorama is about 4:1; a talking photo needs a
#: face in a 9:16, 1:1 or 16:9 frame, so anything past 5:1 is not a portrait of anyone.
MAX_ASPECT = 5.0

TOO_SMALL = N_("The photo is {w}×{h} px; the short side must be at least {min_side} px.")
TOO_NARROW = N_(
    "The photo is {w}×{h} px, a strip rather than a photo; the long side may be at most "
    "{ratio:g} times the short side."
)
TOO_MANY_PIXELS = N_("The photo is {mp:.1f} megapixels; the limit is {limit:g}.")


def check_header(
    im: Image.Image,
    *,
    max_megapixels: float,
    min_side_px: int,
    max_aspect: float = MAX_ASPECT,
) -> None:
    """Raise :class:`PhotoError` for a declared size we will not decode. Reads ``im.size``
    only (the header): call it between ``Image.open`` and ``load()``."""
    w, h = im.size
    short, long = min(w, h), max(w, h)
    if short < min_side_px:
        raise PhotoError(TOO_SMALL, params={"w": w, "h": h, "min_side": min_side_px})
    if long > short * max_aspect:
        raise PhotoError(TOO_NARROW, params={"w": w, "h": h, "ratio": max_aspect})
    if w * h > max_megapixels * 1_000_000:
        raise PhotoError(TOO_MANY_PIXELS, params={"mp": w * h / 1e6, "limit": max_megapixels})


def reduce_factor(size: tuple[int, int], max_side_px: int) -> int:
    """The largest whole factor that keeps the long side at or above ``max_side_px`` (the
    final LANCZOS thumbnail does the rest), 1 when the picture is small enough already."""
    return max(1, max(size) // max_side_px)


def load_bounded(im: Image.Image, *, max_side_px: int) -> Image.Image:
    """Decode ``im`` (fresh from ``Image.open``) into a picture whose long side is at most
    about twice ``max_side_px``; the full-size pixels of a large PNG/WebP live only until
    the reduction. Returns the decoded (possibly new) image."""
    if im.format in ("JPEG", "MPO") and max(im.size) > max_side_px:
        # draft() keeps both sides >= the requested box; the mode stays the file's own.
        im.draft(im.mode, (max_side_px, max_side_px))
    im.load()
    factor = reduce_factor(im.size, max_side_px)
    if factor == 1:
        return im
    if im.mode in _REDUCIBLE:
        reducible = im
    elif im.mode == "P":
        reducible = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode in _SIXTEEN_BIT:
        reducible = _eight_bit(im)
    else:
        reducible = im.convert(_WIDEN.get(im.mode, "RGBA"))
    if reducible.mode in ("RGBA", "LA"):
        # Image.reduce() would first convert the whole picture to premultiplied alpha (one
        # more full-size copy); band by band costs one full-size band at most.
        bands = [reducible.getchannel(i).reduce(factor) for i in range(len(reducible.mode))]
        small = Image.merge(reducible.mode, bands)
    else:
        small = reducible.reduce(factor)
    # reduce() returns a plain Image: keep the format and the EXIF/XMP orientation with it.
    small.format = im.format
    small.info = dict(im.info)
    return small


def _eight_bit(im: Image.Image) -> Image.Image:
    """A 16-bit greyscale picture as 8-bit ``L`` (the top byte), through numpy: Pillow's
    route goes through 32-bit ``I``, twice the size of the decoded picture."""
    pixels = np.asarray(im)  # uint16, little- or big-endian as the mode says
    big = pixels.dtype.byteorder == ">" or (
        pixels.dtype.byteorder == "=" and sys.byteorder == "big"
    )
    as_bytes = pixels.view(np.uint8).reshape(pixels.shape[0], -1)
    return Image.fromarray(np.ascontiguousarray(as_bytes[:, 0 if big else 1 :: 2]))


# Modes Image.reduce() accepts; the others are converted first (at full size, once).
_REDUCIBLE = frozenset({"L", "LA", "RGB", "RGBA", "RGBa", "La", "PA", "I", "F", "CMYK"})
_WIDEN = {"1": "L"}
_SIXTEEN_BIT = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})


def decode_within_limits(
    im: Image.Image, *, max_megapixels: float, min_side_px: int, max_side_px: int
) -> Image.Image:
    """:func:`check_header` then :func:`load_bounded`: the one call ``prepare_photo`` makes."""
    check_header(im, max_megapixels=max_megapixels, min_side_px=min_side_px)
    return load_bounded(im, max_side_px=max_side_px)
