"""Burn captions into video frames, legibly on a phone, in every script the app offers.

Fonts are Noto Sans Bold files (SIL OFL 1.1) vendored in ``providers/local/fonts`` (see the
README there). Text is shaped by HarfBuzz through Pillow's libraqm layout, which is what
makes Indic conjuncts and vowel signs (``क्षत्रिय``) and joined Arabic letters come out right.
A line may mix scripts ("मैं Python सीख रहा हूँ"): it is cut into runs, each drawn with the
first font that has its glyphs; right-to-left lines place their runs from the right.

Each cue is rendered once to an RGBA patch (white text, dark outline, translucent box, in the
bottom third, size relative to the frame) and alpha-blended into each frame's box region
with OpenCV (about 0.5 ms per 720x1280 frame), so captions add well under a second to a
30-second video.

Chinese and Japanese use Noto Sans CJK from the ``noto-cjk-sans-otc`` wheel (OFL 1.1, a
requirement, 19 MB); a system Noto CJK / Droid / WenQuanYi font is the fallback. Characters no
font can draw are listed in :attr:`CaptionRenderer.missing_chars`.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from errors import N_, LanguageError
from observability import releasable
from providers.local.cues import Cue
from providers.local.languages import LANGUAGES

FONT_DIR = Path(__file__).resolve().parent / "fonts"
LATIN_FONT = "NotoSans-Bold.ttf"
SCRIPT_FONTS: dict[str, str] = {
    "Latn": LATIN_FONT,
    "Cyrl": LATIN_FONT,
    "Grek": LATIN_FONT,
    "Deva": "NotoSansDevanagari-Bold.ttf",
    "Beng": "NotoSansBengali-Bold.ttf",
    "Taml": "NotoSansTamil-Bold.ttf",
    "Telu": "NotoSansTelugu-Bold.ttf",
    "Gujr": "NotoSansGujarati-Bold.ttf",
    "Knda": "NotoSansKannada-Bold.ttf",
    "Mlym": "NotoSansMalayalam-Bold.ttf",
    "Guru": "NotoSansGurmukhi-Bold.ttf",
    "Orya": "NotoSansOriya-Bold.ttf",
    "Arab": "NotoSansArabic-Bold.ttf",
}
CJK_SCRIPTS = frozenset({"Hans", "Hant", "Jpan", "Kore"})
SYSTEM_CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)

# Layout, as fractions of the frame (chosen to clear phone players' bottom controls).
FONT_SCALE = 0.055  # font size / shorter frame side
MAX_WIDTH = 0.90  # text box width / frame width
BOTTOM_MARGIN = 0.08  # gap under the box / frame height
MAX_LINES = 2
MIN_FONT_FACTOR = 0.7  # shrink down to this before allowing a third line
BOX_RGBA = (0, 0, 0, 150)
TEXT_RGBA = (255, 255, 255, 255)
OUTLINE_RGBA = (0, 0, 0, 255)


def _packaged_cjk_font() -> Path | None:
    try:
        import noto_cjk_sans_otc  # OFL font wheel; only carries the .ttc file
    except ImportError:
        return None
    path = Path(noto_cjk_sans_otc.__file__).with_name("NotoSansCJK-Regular.ttc")
    return path if path.is_file() else None


def _system_cjk_font() -> Path | None:
    packaged = _packaged_cjk_font()
    if packaged is not None:
        return packaged
    for candidate in SYSTEM_CJK_FONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def caption_font_path(script_or_language: str) -> Path:
    """The font for a language code ("hi") or ISO 15924 script ("Deva").

    Chinese/Japanese/Korean get a system CJK font when one is installed, else the Latin font
    (which cannot draw Han or kana). Raises :class:`LanguageError` for anything else unknown.
    """
    lang = LANGUAGES.get(script_or_language)
    script = lang.script if lang is not None else script_or_language
    if script in CJK_SCRIPTS:
        return _system_cjk_font() or FONT_DIR / LATIN_FONT
    name = SCRIPT_FONTS.get(script)
    if name is None:
        valid = ", ".join([*LANGUAGES, *SCRIPT_FONTS])
        raise LanguageError(
            N_("No caption font for '{name}'. Known: {choices}."),
            params={"name": script_or_language, "choices": valid},
        )
    return FONT_DIR / name


def _font_chain(primary: Path) -> list[Path]:
    """Primary font first, then Latin, then every other bundled or system font."""
    chain = [primary, FONT_DIR / LATIN_FONT]
    chain += [FONT_DIR / name for name in SCRIPT_FONTS.values()]
    cjk = _system_cjk_font()
    if cjk is not None:
        chain.append(cjk)
    seen: list[Path] = []
    for path in chain:
        if path not in seen:
            seen.append(path)
    return seen


@lru_cache(maxsize=64)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)


@lru_cache(maxsize=8192)
def has_glyph(path: Path, ch: str) -> bool:
    """Whether the font draws ``ch`` as something other than its missing-glyph box."""
    font = _font(path, 24)
    notdef = font.getmask("\U000f0000")  # a private-use code point no font here covers
    mask = font.getmask(ch)
    if mask.size != notdef.size:
        return True
    return bytes(mask) != bytes(notdef)


def _release_fonts() -> None:
    """Forget the loaded fonts and glyph answers (CJK fonts are tens of MB each)."""
    has_glyph.cache_clear()
    _font.cache_clear()


releasable.register("caption fonts", _release_fonts)


def _inherits(ch: str) -> bool:
    """Characters that belong with their neighbours: marks, joiners, spaces, punctuation."""
    cat = unicodedata.category(ch)
    return cat[0] in {"M", "Z", "P"} or cat in {"Cf", "Nd"}


def split_runs(text: str, chain: Sequence[Path]) -> list[tuple[Path, str]]:
    """Cut ``text`` into (font, substring) runs; neutral characters stay in the current run."""
    runs: list[tuple[Path, str]] = []
    for ch in text:
        current = runs[-1][0] if runs else None
        if current is not None and (ch == " " or (_inherits(ch) and has_glyph(current, ch))):
            runs[-1] = (current, runs[-1][1] + ch)
            continue
        font = next((p for p in chain if has_glyph(p, ch)), chain[0])
        if font == current:
            runs[-1] = (current, runs[-1][1] + ch)
        else:
            runs.append((font, ch))
    return runs


@dataclass(frozen=True)
class _Run:
    font: ImageFont.FreeTypeFont
    text: str  # without edge spaces
    width: float
    lead_w: float
    trail_w: float


@dataclass(frozen=True)
class _Line:
    runs: list[_Run]
    width: float
    ascent: int
    descent: int


class CaptionRenderer:
    """Burns ``cues`` onto RGB ``uint8`` frames of ``height`` x ``width``.

    ``draw`` blends the cue active at ``t_s`` in place (and returns the frame); each cue's
    patch is rendered on first use and cached. Not thread safe: one renderer per job.
    """

    def __init__(self, cues: Sequence[Cue], width: int, height: int, language: str) -> None:
        lang = LANGUAGES.get(language)
        if lang is None:
            raise LanguageError(
                N_("Language '{language}' is not available. Choose one of: {choices}."),
                params={"language": language, "choices": ", ".join(LANGUAGES)},
            )
        self.cues = sorted(cues, key=lambda c: c.start_s)
        self.width, self.height = int(width), int(height)
        self.rtl = lang.rtl
        self.spaced = lang.spaced
        self.chain = _font_chain(caption_font_path(language))
        self.font_size = max(14, round(FONT_SCALE * min(self.width, self.height)))
        self._starts = [c.start_s for c in self.cues]
        self._patches: dict[int, tuple[int, int, np.ndarray, np.ndarray, np.ndarray]] = {}
        self.missing_chars = frozenset(
            ch
            for cue in self.cues
            for ch in cue.text
            if not ch.isspace() and not any(has_glyph(p, ch) for p in self.chain)
        )

    def active_cue(self, t_s: float) -> Cue | None:
        i = bisect_right(self._starts, t_s) - 1
        if i >= 0 and t_s < self.cues[i].end_s:
            return self.cues[i]
        return None

    def draw(self, frame: np.ndarray, t_s: float) -> np.ndarray:
        """Blend the caption for time ``t_s`` into ``frame`` (H x W x 3 uint8) and return it."""
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(
                f"expected a {self.height}x{self.width}x3 uint8 frame, got {frame.shape} "
                f"{frame.dtype}"
            )
        i = bisect_right(self._starts, t_s) - 1
        if i < 0 or t_s >= self.cues[i].end_s:
            return frame
        if i not in self._patches:
            self._patches[i] = self._render(self.cues[i].text)
        x, y, rgb, weight, inverse_weight = self._patches[i]
        h, w = weight.shape
        region = frame[y : y + h, x : x + w]
        # OpenCV's per-pixel linear blend is ~3x faster than the same maths in numpy.
        region[...] = cv2.blendLinear(region, rgb, inverse_weight, weight)
        return frame

    # --- rendering --------------------------------------------------------------------

    def _line_runs(self, line: str, size: int) -> _Line:
        runs = []
        for path, text in split_runs(line, self.chain):
            font = _font(path, size)
            core = text.strip(" ")
            space = font.getlength(" ")
            lead = (len(text) - len(text.lstrip(" "))) * space
            trail = (len(text) - len(text.rstrip(" "))) * space if core else 0.0
            runs.append(_Run(font, core, font.getlength(core) if core else 0.0, lead, trail))
        metrics = [r.font.getmetrics() for r in runs]
        return _Line(
            runs=runs,
            width=sum(r.width + r.lead_w + r.trail_w for r in runs),
            ascent=max(a for a, _ in metrics),
            descent=max(d for _, d in metrics),
        )

    def _line_width(self, line: str, size: int) -> float:
        return sum(_font(p, size).getlength(s) for p, s in split_runs(line, self.chain))

    def _wrap(self, text: str, size: int, max_width: float) -> list[str]:
        units = text.split(" ") if self.spaced else list(text)
        joiner = " " if self.spaced else ""
        lines: list[str] = []
        for unit in units:
            if not unit:
                continue
            trial = f"{lines[-1]}{joiner}{unit}" if lines else unit
            if lines and self._line_width(trial, size) <= max_width:
                lines[-1] = trial
            else:
                lines.append(unit)
        return lines

    def _layout(self, text: str) -> tuple[int, list[str]]:
        max_width = MAX_WIDTH * self.width - self.font_size  # leave room for box padding
        size = self.font_size
        while True:
            lines = self._wrap(text, size, max_width)
            if len(lines) <= MAX_LINES or size <= self.font_size * MIN_FONT_FACTOR:
                return size, lines
            size = max(round(size * 0.9), 1)

    def _render(self, text: str) -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray]:
        size, lines = self._layout(" ".join(text.split()))
        stroke = max(1, round(size / 14))
        pad_x, pad_y = round(size * 0.45), round(size * 0.25)
        laid = [self._line_runs(line, size) for line in lines]
        box_w = round(max(line.width for line in laid)) + 2 * (pad_x + stroke)
        box_h = sum(line.ascent + line.descent for line in laid) + 2 * (pad_y + stroke)
        box_w, box_h = min(box_w, self.width), min(box_h, self.height)

        patch = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(patch)
        draw.rounded_rectangle(
            (0, 0, box_w - 1, box_h - 1), radius=round(size * 0.3), fill=BOX_RGBA
        )
        y = pad_y + stroke
        for line in laid:
            baseline = y + line.ascent
            x = (box_w - line.width) / 2
            for run in reversed(line.runs) if self.rtl else line.runs:
                # Spaces at a run's edges follow the line's direction, not the run's script.
                before, after = (run.trail_w, run.lead_w) if self.rtl else (run.lead_w, run.trail_w)
                x += before
                draw.text(
                    (x, baseline),
                    run.text,
                    font=run.font,
                    fill=TEXT_RGBA,
                    anchor="ls",
                    stroke_width=stroke,
                    stroke_fill=OUTLINE_RGBA,
                )
                x += run.width + after
            y += line.ascent + line.descent

        rgba = np.asarray(patch)
        rgb = np.ascontiguousarray(rgba[..., :3])
        weight = rgba[..., 3].astype(np.float32) / 255.0
        x0 = (self.width - box_w) // 2
        y0 = max(0, self.height - round(BOTTOM_MARGIN * self.height) - box_h)
        return x0, y0, rgb, weight, 1.0 - weight
