"""Captions from word timings: cues, SRT and WebVTT files, and burned-in rendering.

:func:`build_cues` groups spoken words into short cues a viewer can read on a phone: at most
``max_chars`` characters (East Asian wide characters count double, combining marks not at
all), at most ``max_s`` seconds, a new cue after each sentence, preferably at a comma when a
cue must break, after a long pause, and never inside a word. :func:`to_srt` / :func:`to_vtt`
write the standard formats (``HH:MM:SS,mmm`` and ``HH:MM:SS.mmm``). The renderer that burns
cues into frames lives in :mod:`providers.local.caption_render` and is re-exported here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from providers.local.caption_render import CaptionRenderer, caption_font_path
from providers.local.cues import Cue

if TYPE_CHECKING:
    from providers.local.speech import Word

__all__ = ["CaptionRenderer", "Cue", "build_cues", "caption_font_path", "to_srt", "to_vtt"]

SENTENCE_END = frozenset(".!?।॥؟。！？")
CLAUSE_END = frozenset(",;:،؛、，；：—")
CLOSERS = "\"'”’»)]」』"
LONG_PAUSE_S = 0.6  # a silence this long starts a new cue
MIN_SHOW_S = 0.8  # keep very short cues up a little longer when nothing follows at once
HOLD_S = 0.3  # and let every cue linger this much after its last word, if there is room


def display_len(text: str) -> int:
    """Approximate on-screen width in Latin characters."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in {"Mn", "Me", "Cf"}:
            continue
        width += 2 if unicodedata.east_asian_width(ch) in {"W", "F"} else 1
    return width


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in {"W", "F"}


def join_words(words: Sequence[str]) -> str:
    """Join words with spaces, except between characters of scripts written without them."""
    out = ""
    for word in words:
        if out and not (_is_wide(out[-1]) and _is_wide(word[0])):
            out += " "
        out += word
    return out


def _ends(word: str, marks: frozenset[str]) -> bool:
    stripped = word.rstrip(CLOSERS)
    return bool(stripped) and stripped[-1] in marks


def build_cues(words: Sequence[Word], *, max_chars: int = 42, max_s: float = 3.5) -> list[Cue]:
    """Group ``words`` (in time order) into cues; every word appears in exactly one cue."""
    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        if current:
            text = join_words([w.text for w in [*current, word]])
            too_long = display_len(text) > max_chars or word.end_s - current[0].start_s > max_s
            pause = word.start_s - current[-1].end_s >= LONG_PAUSE_S
            if pause or too_long:
                carry: list[Word] = []
                if too_long and not pause:
                    # Prefer to end the cue at the last clause mark in its second half.
                    for k in range(len(current) - 1, 0, -1):
                        if _ends(current[k - 1].text, CLAUSE_END):
                            if display_len(join_words([w.text for w in current[:k]])) * 2 >= (
                                display_len(join_words([w.text for w in current]))
                            ):
                                carry = current[k:]
                                current = current[:k]
                            break
                groups.append(current)
                current = carry
        current.append(word)
        if _ends(word.text, SENTENCE_END):
            groups.append(current)
            current = []
    if current:
        groups.append(current)

    cues: list[Cue] = []
    for i, group in enumerate(groups):
        start, end = group[0].start_s, group[-1].end_s
        next_start = groups[i + 1][0].start_s if i + 1 < len(groups) else None
        wanted = max(end + HOLD_S, start + MIN_SHOW_S)
        end = max(end, min(wanted, next_start) if next_start is not None else wanted)
        cues.append(Cue(len(cues) + 1, start, end, join_words([w.text for w in group])))
    return cues


def _timestamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{ms:03d}"


def _one_line(text: str) -> str:
    # A blank line ends a cue in both formats, and "-->" would read as a timing line.
    return " ".join(text.split()).replace("-->", "→")


def to_srt(cues: Sequence[Cue]) -> str:
    """SubRip text: numbered blocks ``HH:MM:SS,mmm --> HH:MM:SS,mmm`` separated by blank lines."""
    blocks = [
        f"{n}\n{_timestamp(c.start_s, ',')} --> {_timestamp(c.end_s, ',')}\n{_one_line(c.text)}\n"
        for n, c in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text (``WEBVTT`` header, ``HH:MM:SS.mmm``, ``&``/``<``/``>`` escaped)."""
    blocks = ["WEBVTT\n"]
    for n, c in enumerate(cues, start=1):
        text = _one_line(c.text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        blocks.append(f"{n}\n{_timestamp(c.start_s, '.')} --> {_timestamp(c.end_s, '.')}\n{text}\n")
    return "\n".join(blocks)
