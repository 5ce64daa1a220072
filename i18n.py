"""Interface languages: gettext catalogs (compiled with Babel) and locale-aware formatting.

The catalogs live in ``locales/<lang>/LC_MESSAGES/``: ``messages.po`` plus optional area files
(``payments.po``, ``storage.po``, ...) so that work on different parts of the app does not
collide in one file. ``python i18n.py compile`` merges them (a msgid in two files is an
error) into the one ``messages.mo`` that gettext reads; the ``.mo`` files are committed so
running the app needs no build step. To add or change strings::

    pybabel extract --no-location --sort-output -o locales/messages.pot \
        app_streamlit_cloud.py views ui_theme.py errors.py background_tasks.py \
        services providers payments storage web observability health_monitor.py mail
    # add the new msgids to a .po of each language in UI_LANGUAGES (translate all but en), then:
    python i18n.py compile

Error messages are templates marked with ``N_`` where they are raised (see :mod:`errors`;
``N_`` is one of pybabel's default keywords), so the services and providers are extracted too;
pages translate an error with ``_(exc.template).format(**exc.params)``, never from its English
text. (Tests fail when code uses a msgid the catalogs lack, when any msgid of the template is
untranslated in a language of ``UI_LANGUAGES`` (each one has a test), when
a raise site builds its message with an f-string, or when a ``.po`` and its ``.mo``
disagree.)

This module does not import streamlit: the app tells it how to find the current session's
language with :func:`set_locale_getter`, and ``_()`` asks that function on every call, so
two browser sessions in one process can use two languages at the same time.

    from i18n import _, format_number
    st.button(_("Generate video"))
    _("{n} characters").format(n=format_number(120))
"""

from __future__ import annotations

import datetime as dt
import gettext
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime
from babel.messages.catalog import Catalog
from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"

# UI language code -> (label shown in the switcher, Babel locale used for numbers and dates).
# Everything that offers or accepts an interface language follows this table (the switcher,
# the account page, ``accounts.update_profile``, the script language's default).
UI_LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("English", "en_IN"),
    "hi": ("हिन्दी", "hi_IN"),
    "ta": ("தமிழ்", "ta_IN"),
    "te": ("తెలుగు", "te_IN"),
    "bn": ("বাংলা", "bn_IN"),
    "mr": ("मराठी", "mr_IN"),
}

# Digits are always the Western (Latin) ones, in every language. CLDR's default for bn and mr
# is native digits (০১২, ०१२); we choose otherwise on purpose: prices and credit counts read the
# same on every page and in payment receipts (which are Latin-digit everywhere in India), they
# match what creators type (inputs are parsed as Latin digits), and the gateways, invoices
# and support speak in them. Babel's formatters already default to ``latn``; the formatters
# here name it so a Babel change cannot switch it silently.
NUMBERING_SYSTEM = "latn"

_locale_getter: Callable[[], str] = lambda: DEFAULT_LANGUAGE  # noqa: E731


def normalize_language(code: str | None) -> str:
    """Map anything (``"hi-IN"``, ``"HI"``, ``None``, junk) to a supported UI language."""
    if not code:
        return DEFAULT_LANGUAGE
    base = str(code).strip().replace("-", "_").split("_")[0].lower()
    return base if base in UI_LANGUAGES else DEFAULT_LANGUAGE


def set_locale_getter(getter: Callable[[], str]) -> None:
    """Install the function that returns the current UI language (the app sets this)."""
    global _locale_getter
    _locale_getter = getter


def current_language() -> str:
    try:
        return normalize_language(_locale_getter())
    except Exception:  # a getter outside a session must never break a page
        return DEFAULT_LANGUAGE


def babel_locale(language: str | None = None) -> str:
    return UI_LANGUAGES[normalize_language(language or current_language())][1]


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog for ``language``; English falls back to the msgids themselves."""
    try:
        return gettext.translation(DOMAIN, LOCALES_DIR, languages=[normalize_language(language)])
    except OSError:
        return gettext.NullTranslations()


def gettext_(message: str) -> str:
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ngettext(singular, plural, n)


_ = gettext_


def format_number(value: float, *, decimals: int = 0, language: str | None = None) -> str:
    """Grouped the locale's way (``12,34,567`` in India); ``decimals`` places at most."""
    rounded = round(value, decimals) if decimals else round(value)
    return format_decimal(rounded, locale=babel_locale(language), numbering_system=NUMBERING_SYSTEM)


def _zone(tz_name: str | None) -> dt.tzinfo:
    if tz_name:
        try:
            return ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return dt.UTC


def _aware(value: dt.datetime) -> dt.datetime:
    # The database stores naive UTC timestamps.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def format_datetime(
    value: dt.datetime, *, tz_name: str | None = None, language: str | None = None
) -> str:
    local = _aware(value).astimezone(_zone(tz_name))
    return _babel_format_datetime(local, "medium", locale=babel_locale(language))


def format_date(
    value: dt.datetime | dt.date, *, tz_name: str | None = None, language: str | None = None
) -> str:
    if isinstance(value, dt.datetime):
        value = _aware(value).astimezone(_zone(tz_name)).date()
    return _babel_format_date(value, "medium", locale=babel_locale(language))


def format_seconds(seconds: float, *, language: str | None = None) -> str:
    """``75.4`` -> ``"1:15"`` (``m:ss``) — the same in every language we ship."""
    total = max(0, round(seconds))
    return f"{total // 60}:{total % 60:02d}"


def catalog_sources(language: str, locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """The ``.po`` files of ``language``: ``messages.po`` first, then area files by name."""
    folder = locales_dir / language / "LC_MESSAGES"
    main = folder / f"{DOMAIN}.po"
    return [main, *sorted(p for p in folder.glob("*.po") if p != main)]


def load_catalog(language: str, locales_dir: Path = LOCALES_DIR) -> Catalog:
    """All of ``language``'s ``.po`` files merged into one Babel catalog.

    Raises ``ValueError`` when a msgid appears in two files (one place per string)."""
    from babel.messages.pofile import read_po

    merged: Catalog | None = None
    seen: dict[object, Path] = {}
    for po_path in catalog_sources(language, locales_dir):
        with po_path.open("rb") as fh:
            part = read_po(fh, locale=language)
        if merged is None:
            merged = part
            seen = {m.id: po_path for m in part if m.id}
            continue
        for message in part:
            if not message.id:
                continue
            if message.id in seen:
                raise ValueError(f"{message.id!r} is in both {seen[message.id]} and {po_path}")
            seen[message.id] = po_path
            merged[message.id] = message
    if merged is None:  # pragma: no cover - messages.po always exists
        raise FileNotFoundError(locales_dir / language)
    return merged


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Merge each language's ``.po`` files and compile them to its ``messages.mo``."""
    from babel.messages.mofile import write_mo

    written = []
    for folder in sorted(locales_dir.glob("*/LC_MESSAGES")):
        language = folder.parent.name
        catalog = load_catalog(language, locales_dir)
        mo_path = folder / f"{DOMAIN}.mo"
        with mo_path.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        written.append(mo_path)
    translations.cache_clear()
    return written


if __name__ == "__main__":
    if sys.argv[1:] == ["compile"]:
        for path in compile_catalogs():
            print(path)
    else:
        print("usage: python i18n.py compile", file=sys.stderr)
        sys.exit(2)
