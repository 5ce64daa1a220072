"""The caption cue record, shared by :mod:`providers.local.captions` (which builds cues and
writes SRT/WebVTT) and :mod:`providers.local.caption_render` (which burns them into frames).
It lives here so that neither of those modules imports the other's type (no import cycle)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    """One caption: shown from ``start_s`` to ``end_s``; ``index`` counts from 1."""

    index: int
    start_s: float
    end_s: float
    text: str
