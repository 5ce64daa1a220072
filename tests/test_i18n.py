"""The interface catalogs: complete, compiled, and in step with the code that uses them."""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import errors
import i18n

ROOT = Path(__file__).resolve().parents[1]
UI_SOURCES = [
    ROOT / "app_streamlit_cloud.py",
    ROOT / "ui_theme.py",
    *sorted((ROOT / "views").glob("*.py")),
]
# Where user-facing errors are raised: their message templates are marked with N_ there.
ERROR_SOURCES = [
    ROOT / "errors.py",
    ROOT / "background_tasks.py",
    *sorted((ROOT / "services").rglob("*.py")),
    *sorted((ROOT / "providers").rglob("*.py")),
    *sorted((ROOT / "payments").rglob("*.py")),
    *sorted((ROOT / "storage").rglob("*.py")),
    ROOT / "health_monitor.py",
    *sorted((ROOT / "web").glob("*.py")),
    *sorted((ROOT / "observability").glob("*.py")),
]
DEVANAGARI = range(0x0900, 0x0980)
PLACEHOLDER = re.compile(r"\{[^{}]*\}")  # {name} and {name:spec}


def _po(lang: str):
    return i18n.load_catalog(lang)


def _extract(paths: list[Path]) -> set[str | tuple[str, ...]]:
    ids: set[str | tuple[str, ...]] = set()
    for path in paths:
        for _lineno, message, _comments, _context in extract_from_file(
            "python", str(path), keywords=DEFAULT_KEYWORDS
        ):
            ids.add(message if isinstance(message, str) else tuple(message))
    return ids


def _ids_used_in_code() -> set[str | tuple[str, ...]]:
    return _extract(UI_SOURCES + ERROR_SOURCES)


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
    checked = 0
    for message in _po("hi"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        checked += bool(wanted)
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, message.id
    assert checked > 20


# ------------------------------------------------------------------------ error templates


def _error_classes() -> set[str]:
    found, todo = set(), [errors.TalkingPhotoError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo += cls.__subclasses__()
    return found


def _template_args(node: ast.expr) -> list[ast.expr]:
    """The message expressions a template argument can evaluate to (both arms of an if)."""
    if isinstance(node, ast.IfExp):
        return _template_args(node.body) + _template_args(node.orelse)
    return [node]


def _is_n_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "N_"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def _error_constructions() -> list[tuple[str, ast.Call]]:
    names = _error_classes()
    calls = []
    for path in ERROR_SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in names:
                calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return calls


def test_error_messages_are_templates_never_built_text() -> None:
    """A raise site passes an N_-marked template (or a constant or parameter holding one) and
    its values as params: an f-string, .format or concatenation would put the values into the
    msgid, and no catalog could translate it."""
    calls = _error_constructions()
    assert len(calls) > 30  # the scan really sees the raise sites
    for where, call in calls:
        if not call.args:
            continue
        for arg in _template_args(call.args[0]):
            assert _is_n_call(arg) or isinstance(arg, ast.Name | ast.Attribute), (
                f'{where}: the message must be N_("...") with params, not {ast.unparse(arg)}'
            )


def test_raise_sites_pass_the_params_their_template_names() -> None:
    checked = 0
    for where, call in _error_constructions():
        if not call.args:
            continue
        params = next((k.value for k in call.keywords if k.arg == "params"), None)
        given = (
            {k.value for k in params.keys if isinstance(k, ast.Constant)}
            if isinstance(params, ast.Dict)
            else set()
        )
        for arg in _template_args(call.args[0]):
            if not _is_n_call(arg) or (params is not None and not isinstance(params, ast.Dict)):
                continue
            template = arg.args[0].value  # type: ignore[attr-defined]
            named = {f for _, f, _, _ in string.Formatter().parse(template) if f}
            assert named == given, f"{where}: template names {named}, params give {given}"
            checked += 1
    assert checked > 30


def test_every_error_template_has_hindi() -> None:
    templates = _extract(ERROR_SOURCES)
    assert "The photo is {size:.1f} MB; the limit is {limit:g} MB." in templates
    hindi = {(m.id if isinstance(m.id, str) else tuple(m.id)): m.string for m in _po("hi") if m.id}
    for template in templates:
        translated = hindi.get(template)
        assert translated and translated != template, f"no Hindi for {template!r}"
        # A plural (services say "for {n} days" too) has a form per number, each filled alike.
        forms = translated if isinstance(translated, tuple) else (translated,)
        wanted = template[-1] if isinstance(template, tuple) else template
        for form in forms:
            assert form and set(PLACEHOLDER.findall(form)) == set(PLACEHOLDER.findall(wanted))


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


def test_no_translated_string_hides_inside_an_f_string() -> None:
    """``f"{_('Copy')}"``: Babel's extractor sees the call only on Python >= 3.12 (PEP 701), so
    on 3.11 the msgid silently drops out of the template and the catalogs."""
    import ast

    hidden = []
    for path in [*UI_SOURCES, *ERROR_SOURCES, *sorted((ROOT / "mail").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                name = getattr(inner, "func", None)
                if not (isinstance(inner, ast.Call) and inner.args):
                    continue
                literal = isinstance(inner.args[0], ast.Constant)  # what the extractor takes
                if literal and getattr(name, "id", "") in DEFAULT_KEYWORDS:
                    hidden.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert not hidden, f"move the call out of the f-string: {hidden}"
