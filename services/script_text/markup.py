"""Markup and emoji out of a script: what is left are the words to read."""

from __future__ import annotations

import html
import re

__all__ = ["drop_emoji", "strip_markup"]

_HTML_DROP = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>", re.S | re.I)
_HTML_BREAK = re.compile(
    r"<br\s*/?>|</?(?:p|div|li|ul|ol|h[1-6]|tr|table|blockquote)\b[^>]*>", re.I
)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_MD_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # image: its alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # link: its text
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # italic
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), r"\1"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),  # strike-through
    (re.compile(r"`+([^`\n]+)`+"), r"\1"),  # code
    (re.compile(r"^[ \t]*#{1,6}[ \t]+", re.M), ""),  # heading
    (re.compile(r"^[ \t]*(?:[-*+•][ \t]+|>[ \t]?)", re.M), ""),  # bullet, quote
    (re.compile(r"^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.M), ""),  # rule
)


def strip_markup(text: str) -> str:
    """Text without HTML tags, comments, scripts, entities or Markdown emphasis, links,
    headings and bullets (their words stay)."""
    text = _HTML_DROP.sub(" ", text)
    text = _HTML_BREAK.sub("\n", text)
    text = _HTML_TAG.sub("", text)
    text = html.unescape(text)
    text = _HTML_TAG.sub("", text)  # an escaped tag (&lt;b&gt;) is markup as well
    for pattern, replacement in _MD_RULES:
        text = pattern.sub(replacement, text)
    return text


# -------------------------------------------------------------------------------- emoji

_PICTO = (
    "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2190-\u21ff\u2300-\u23ff\u25a0-\u25ff"
    "\u2700-\u27bf\u3030\u303d\u3297\u3299\u2122\u2139\u00a9\u00ae\u203c\u2049"
)
_EMOJI_PARTS = "\ufe0e\ufe0f\u20e3\U000e0020-\U000e007f"
_ONE_EMOJI = f"[{_PICTO}][{_PICTO}{_EMOJI_PARTS}]*"
_EMOJI = re.compile(f"{_ONE_EMOJI}(?:\u200d{_ONE_EMOJI})*")
_EMOJI_LEFTOVER = re.compile(f"[{_EMOJI_PARTS}]")


def drop_emoji(text: str) -> str:
    """Text without emoji: pictographs with their skin tones, variation selectors, joiners
    inside emoji (ZWJ elsewhere stays: Indic scripts need it) and flag tags. A keycap (1️⃣)
    keeps its digit."""
    return _EMOJI_LEFTOVER.sub("", _EMOJI.sub(" ", text))
