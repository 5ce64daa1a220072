"""The interface catalogs: complete, compiled, and in step with the code that uses them."""

from __future__ import annotations

import datetime as dt
import gettext
import io
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import i18n

ROOT = Path(__file__).resolve().parents[1]
UI_SOURCES = [
    ROOT / "app_streamlit_cloud.py",
    ROOT / "ui_theme.py",
    *sorted((ROOT / "views").glob("*.py")),
]
DEVANAGARI = range(0x0900, 0x0980)


def _po(lang: str):
    with (ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def _ids_used_in_code() -> set[str | tuple[str, ...]]:
    ids: set[str | tuple[str, ...]] = set()
    for path in UI_SOURCES:
        for _lineno, message, _comments, _context in extract_from_file(
            "python", str(path), keywords=DEFAULT_KEYWORDS
        ):
            ids.add(message if isinstance(message, str) else tuple(message))
    return ids


def test_code_uses_strings_from_the_catalog() -> None:
    used = _ids_used_in_code()
    assert len(used) > 50  # the extractor really found the pages' strings
    for lang in ("en", "hi"):
        catalog = _po(lang)
        known = {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}
        missing = used - known
        assert not missing, f"{lang}: msgids used in code but missing from the catalog: {missing}"


def test_hindi_is_complete_and_in_devanagari() -> None:
    for message in _po("hi"):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            assert text, f"empty Hindi translation for {message.id!r}"
            assert "fuzzy" not in message.flags
            letters = [c for c in text if c.isalpha()]
            # Technical words (MP4, JPG) may stay Latin, but every sentence is Hindi.
            assert any(ord(c) in DEVANAGARI for c in letters), f"not Hindi: {text!r}"


def test_placeholders_survive_translation() -> None:
    import re

    for message in _po("hi"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"\{\w+\}", ids[-1]))
        for text in strings:
            assert set(re.findall(r"\{\w+\}", text)) == wanted, message.id


@pytest.mark.parametrize("lang", ["en", "hi"])
def test_compiled_mo_matches_po(lang: str) -> None:
    """The committed .mo is what the .po compiles to (run `python i18n.py compile`)."""
    catalog = _po(lang)
    fresh = io.BytesIO()
    write_mo(fresh, catalog, use_fuzzy=False)
    committed = (ROOT / "locales" / lang / "LC_MESSAGES" / "messages.mo").read_bytes()
    assert (
        gettext.GNUTranslations(io.BytesIO(committed))._catalog
        == gettext.GNUTranslations(io.BytesIO(fresh.getvalue()))._catalog
    )


def test_pot_template_lists_every_message() -> None:
    with (ROOT / "locales" / "messages.pot").open("rb") as fh:
        pot = read_po(fh)
    ids = {m.id if isinstance(m.id, str) else tuple(m.id) for m in pot if m.id}
    assert _ids_used_in_code() <= ids


def test_gettext_follows_the_session_language() -> None:
    language = "en"
    i18n.set_locale_getter(lambda: language)
    try:
        assert i18n._("Generate video") == "Generate video"
        language = "hi"
        assert i18n._("Generate video") == "वीडियो बनाएँ"
        assert i18n.ngettext("{n} credit", "{n} credits", 2) == "{n} क्रेडिट"
        language = "xx"  # unknown -> English, never an error
        assert i18n._("Generate video") == "Generate video"
    finally:
        i18n.set_locale_getter(lambda: i18n.DEFAULT_LANGUAGE)


def test_translate_known_only_for_catalogued_messages() -> None:
    i18n.set_locale_getter(lambda: "hi")
    try:
        assert (
            i18n.translate_known("No face was found in the photo.") == "फ़ोटो में कोई चेहरा नहीं मिला।"
        )
        assert i18n.translate_known("The photo is 80x80 px.") is None
    finally:
        i18n.set_locale_getter(lambda: i18n.DEFAULT_LANGUAGE)


def test_numbers_and_dates_follow_the_locale() -> None:
    assert i18n.format_number(1234567, language="en") == "12,34,567"  # Indian grouping
    assert i18n.format_number(1234567, language="hi") == "12,34,567"
    when = dt.datetime(2026, 3, 5, 9, 0)  # naive = UTC, as stored
    assert i18n.format_date(when, language="hi", tz_name="Asia/Kolkata") == "5 मार्च 2026"
    assert i18n.format_date(when, language="en", tz_name="Asia/Kolkata") == "5 Mar 2026"
    assert "2:30" in i18n.format_datetime(when, language="en", tz_name="Asia/Kolkata")
    assert i18n.format_seconds(75.4) == "1:15"


def test_normalize_language() -> None:
    assert i18n.normalize_language("hi-IN") == "hi"
    assert i18n.normalize_language("HI") == "hi"
    assert i18n.normalize_language(None) == "en"
    assert i18n.normalize_language("ta") == "en"
