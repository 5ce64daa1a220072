"""Captions: cue building, SRT/WebVTT files, and legible burned-in text in every script."""

from __future__ import annotations

import re
from itertools import pairwise

import numpy as np
import pytest
from PIL import ImageFont

from errors import LanguageError
from providers.local import speech
from providers.local.caption_render import FONT_DIR, has_glyph
from providers.local.captions import (
    CaptionRenderer,
    Cue,
    build_cues,
    caption_font_path,
    display_len,
    to_srt,
    to_vtt,
)
from providers.local.languages import LANGUAGES
from providers.local.speech import Word

SRT_BLOCK = re.compile(
    r"(\d+)\n(\d{2}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d),(\d{3})\n(.+)\n"
)
VTT_BLOCK = re.compile(
    r"(\d+)\n(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})\n(.+)\n"
)


def words_from(text: str, per_word_s: float = 0.4, gap_s: float = 0.05) -> list[Word]:
    out, t = [], 0.0
    for token in text.split():
        out.append(Word(token, t, t + per_word_s))
        t += per_word_s + gap_s
    return out


def parse(pattern: re.Pattern[str], body: str) -> list[Cue]:
    cues = []
    for m in pattern.finditer(body):
        g = [int(x) for x in m.groups()[:9]]
        start = g[1] * 3600 + g[2] * 60 + g[3] + g[4] / 1000
        end = g[5] * 3600 + g[6] * 60 + g[7] + g[8] / 1000
        cues.append(Cue(g[0], start, end, m.group(10)))
    return cues


# --- cues ------------------------------------------------------------------------------


def test_cues_respect_limits_and_keep_every_word() -> None:
    text = (
        "Captions should be short enough to read on a phone, and they should never "
        "split a word. This second sentence starts a new cue! Does it? Yes."
    )
    words = words_from(text)
    cues = build_cues(words, max_chars=42, max_s=3.5)
    assert " ".join(c.text for c in cues) == " ".join(text.split())
    for c in cues:
        assert display_len(c.text) <= 42
        assert c.end_s > c.start_s
    for a, b in pairwise(cues):
        assert a.end_s <= b.start_s  # never two on screen at once
    assert [c.index for c in cues] == list(range(1, len(cues) + 1))
    # sentences end cues
    assert any(c.text.endswith("word.") for c in cues)
    assert any(c.text == "Does it?" for c in cues)


def test_cues_prefer_breaking_at_a_comma() -> None:
    words = words_from("one two three four five six, seven eight nine ten eleven twelve")
    cues = build_cues(words, max_chars=48)
    assert cues[0].text == "one two three four five six,"


def test_long_cues_are_cut_by_duration_and_pause() -> None:
    slow = words_from("a b c d e f g h", per_word_s=1.0)
    assert all(c.end_s - c.start_s <= 3.5 + 0.3 for c in build_cues(slow, max_s=3.5))
    paused = [Word("hello", 0.0, 0.4), Word("again", 2.0, 2.4)]
    assert [c.text for c in build_cues(paused)] == ["hello", "again"]


def test_a_word_longer_than_the_limit_is_not_split() -> None:
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis-and-more"
    cues = build_cues([Word("a", 0, 0.2), Word(word, 0.25, 1.5), Word("b", 1.55, 1.7)])
    assert [c.text for c in cues] == ["a", word, "b"]


def test_wide_scripts_join_without_spaces_and_count_double() -> None:
    chars = "你好！很高兴认识你。今天天气很好，我们去公园散步吧。"
    words = [Word(ch, i * 0.2, i * 0.2 + 0.18) for i, ch in enumerate(chars)]
    cues = build_cues(words, max_chars=20)
    assert "".join(c.text for c in cues) == chars
    assert all(display_len(c.text) <= 20 for c in cues)
    assert cues[0].text == "你好！"


def test_cues_from_real_hindi_speech_fit_the_audio() -> None:
    text = "आज मौसम बहुत अच्छा है। हम शाम को पार्क में घूमने जाएंगे, फिर घर लौटेंगे।"
    s = speech.synthesize(text, "hi", "espeak:hi:female")
    cues = build_cues(s.words)
    assert " ".join(c.text for c in cues) == text
    assert cues[0].text == "आज मौसम बहुत अच्छा है।"
    assert all(0 <= c.start_s < c.end_s <= s.duration_s + 0.3 + 1e-6 for c in cues)


# --- files -----------------------------------------------------------------------------

CUES = [
    Cue(1, 0.0, 1.5, "Hello, world."),
    Cue(2, 59.9996, 61.25, "Tom & Jerry <b>bold</b> --> arrow"),
    Cue(3, 3723.042, 3725.5, "नमस्ते दुनिया"),
]


def test_srt_format_and_round_trip() -> None:
    body = to_srt(CUES)
    assert body.startswith("1\n00:00:00,000 --> 00:00:01,500\nHello, world.\n\n2\n")
    assert "00:01:00,000 --> 00:01:01,250" in body  # 59.9996 s rounds up across the minute
    assert "01:02:03,042 --> 01:02:05,500" in body
    parsed = parse(SRT_BLOCK, body)
    assert len(parsed) == 3
    for got, want in zip(parsed, CUES, strict=True):
        assert got.index == want.index
        assert got.start_s == pytest.approx(want.start_s, abs=0.0006)
        assert got.end_s == pytest.approx(want.end_s, abs=0.0006)
    assert parsed[2].text == "नमस्ते दुनिया"
    assert "-->" not in parsed[1].text  # would be misread as a timing line


def test_vtt_format_escaping_and_round_trip() -> None:
    body = to_vtt(CUES)
    assert body.startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.500\n")
    parsed = parse(VTT_BLOCK, body)
    assert [c.index for c in parsed] == [1, 2, 3]
    assert parsed[1].text == "Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt; → arrow"
    assert parsed[2].start_s == pytest.approx(3723.042)
    assert "," not in body.split("\n")[3]  # VTT uses a dot for milliseconds


def test_multiline_cue_text_stays_one_block() -> None:
    body = to_srt([Cue(1, 0, 1, "first line\n\nsecond line")])
    assert parse(SRT_BLOCK, body)[0].text == "first line second line"


# --- rendering -------------------------------------------------------------------------


def frame(h: int = 1280, w: int = 720) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def test_burned_hindi_caption_only_touches_the_bottom_third() -> None:
    cues = [Cue(1, 1.0, 3.0, "नमस्ते! आज मौसम बहुत अच्छा है।")]
    renderer = CaptionRenderer(cues, 720, 1280, "hi")
    assert renderer.missing_chars == frozenset()
    original = frame()
    before = renderer.draw(original.copy(), 0.5)
    assert np.array_equal(before, original)  # no cue yet
    after = renderer.draw(original.copy(), 2.0)
    changed = np.any(after != original, axis=2)
    rows = np.nonzero(changed.any(axis=1))[0]
    assert rows.size > 0
    assert rows.min() >= 1280 * 2 // 3
    assert changed.sum() > 5000  # a real box and text, not a speck
    assert np.array_equal(renderer.draw(original.copy(), 3.0), original)  # ended


def test_caption_is_white_on_dark_and_scales_with_frame() -> None:
    cues = [Cue(1, 0.0, 1.0, "Hello world")]
    gray = np.full((720, 1280, 3), 128, np.uint8)
    small = CaptionRenderer(cues, 640, 360, "en")
    large = CaptionRenderer(cues, 1280, 720, "en")
    assert large.font_size == 2 * small.font_size
    out = large.draw(gray.copy(), 0.5)
    region = out[out.shape[0] * 2 // 3 :]
    assert region.max() == 255  # white text
    assert (region < 80).sum() > 1000  # dark box and outline behind it


def test_draw_rejects_a_frame_of_the_wrong_size() -> None:
    renderer = CaptionRenderer([Cue(1, 0, 1, "hi")], 720, 1280, "en")
    with pytest.raises(ValueError):
        renderer.draw(np.zeros((720, 1280, 3), np.uint8), 0.5)


def test_devanagari_is_shaped_with_raqm() -> None:
    path = caption_font_path("hi")
    raqm = ImageFont.truetype(str(path), 48, layout_engine=ImageFont.Layout.RAQM)
    basic = ImageFont.truetype(str(path), 48, layout_engine=ImageFont.Layout.BASIC)
    word = "क्षत्रिय"
    # Shaping forms the conjuncts and moves the i-matra before its consonant.
    assert raqm.getlength(word) != basic.getlength(word)
    assert np.asarray(raqm.getmask(word)).tobytes() != np.asarray(basic.getmask(word)).tobytes()
    assert has_glyph(path, "क") and not has_glyph(FONT_DIR / "NotoSans-Bold.ttf", "क")


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_every_language_has_a_font_for_its_greeting(code: str) -> None:
    lang = LANGUAGES[code]
    assert caption_font_path(code).is_file()
    renderer = CaptionRenderer([Cue(1, 0, 1, lang.greeting)], 720, 1280, code)
    # Every script, CJK included (noto-cjk-sans-otc is a requirement), draws every character.
    assert renderer.missing_chars == frozenset()
    out = renderer.draw(frame(), 0.5)
    assert out.shape == (1280, 720, 3)


def test_mixed_script_line_uses_a_font_per_run() -> None:
    renderer = CaptionRenderer([Cue(1, 0, 1, "मैं Python सीख रहा हूँ")], 720, 1280, "hi")
    assert renderer.missing_chars == frozenset()


def test_unknown_font_request_is_a_language_error() -> None:
    with pytest.raises(LanguageError):
        caption_font_path("Klingon")
    with pytest.raises(LanguageError):
        CaptionRenderer([], 720, 1280, "xx")
