"""Dates, years, weekday ranges and times in a script as words.

Numeric dates are read day first, as in India (05/03/2025 is the fifth of March), unless only
the other order is a date; English says "the fifth of March twenty twenty-five", Hindi
"पाँच मार्च दो हज़ार पच्चीस". Times: "ten thirty a m"; Hindi names the part of the day
("सुबह दस बजकर तीस मिनट").
"""

from __future__ import annotations

import datetime as dt
import re

from services.script_text import number_words as nw
from services.script_text.lexicons import EN_MONTHS, HI_MONTHS, Lexicon, Rule, nfc
from services.script_text.numbers import END

NUMERIC_DATE = re.compile(
    r"(?<![\d/.\-])(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
    r"(?![\d/\-])(?!\.\d)"
)
ISO_DATE = re.compile(r"(?<![\d\-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d\-])")
_EN_MONTH_NAMES = (
    {m.lower(): i for i, m in enumerate(EN_MONTHS, start=1)}
    | {m[:3].lower(): i for i, m in enumerate(EN_MONTHS, start=1)}
    | {"sept": 9}
)
_HI_MONTH_NAMES = {nfc(m): i for i, m in enumerate(HI_MONTHS, start=1)} | {nfc("फरवरी"): 2}
_MONTH_RE = (
    "(?:"
    + "|".join(sorted((m.capitalize() for m in _EN_MONTH_NAMES), key=len, reverse=True))
    + ")\\.?|"
    + "|".join(sorted(_HI_MONTH_NAMES, key=len, reverse=True))
)
ORD = r"(?:st|nd|rd|th)?"
_DAY_MONTH = re.compile(
    rf"(?<![\d.,])(?P<d>\d{{1,2}}){ORD}\s+(?:of\s+)?(?P<mon>{_MONTH_RE})"
    rf"(?:,?\s+(?P<y>\d{{4}}))?{END}"
)
_MONTH_DAY = re.compile(
    rf"(?<![\w])(?P<mon>{_MONTH_RE})\s+(?P<d>\d{{1,2}}){ORD}(?![\d,.]\d)(?:,?\s+(?P<y>\d{{4}}))?{END}"
)
_MONTH_YEAR = re.compile(rf"(?<![\w])(?P<mon>{_MONTH_RE})\s+(?P<y>\d{{4}}){END}")
_EN_YEAR = re.compile(
    r"\b(?P<w>[Ii]n|[Ss]ince|[Ff]rom|[Yy]ear|[Bb]y|[Uu]ntil|[Tt]ill|[Dd]uring|[Bb]efore|[Aa]fter)"
    r"\s+(?P<y>1[1-9]\d\d|20\d\d)(?![\d,.]\d)(?!\w)"
)
_HI_YEAR = re.compile(
    nfc(r"(?<![\d,.])(?P<y>1[1-9]\d\d|20\d\d)(?=\s+(?:में|से|तक|का|की|के)(?![\u0900-\u097f\w]))")
)


def _month_number(name: str) -> int:
    name = nfc(name.rstrip("."))
    return _HI_MONTH_NAMES.get(name) or _EN_MONTH_NAMES[name.lower()]


def is_date(day: int, month: int, year: int | None) -> bool:
    """Whether day/month(/year) is a real calendar date (no year: any leap year will do)."""
    try:
        dt.date(year or 2000, month, day)
    except ValueError:
        return False
    return True


def day_month_year(match: re.Match[str]) -> tuple[int, int, int]:
    """A :data:`NUMERIC_DATE` match as (day, month, year): day first, as in India, unless
    only the other order is a date; a two-digit year is this century's."""
    a, b, y = int(match["a"]), int(match["b"]), match["y"]
    year = int(y) + (2000 if len(y) == 2 else 0)
    day, month = (b, a) if b > 12 >= a else (a, b)
    return day, month, year


def _say_date(day: int, month: int, year: int | None, lang: str, lex: Lexicon, *,
              month_first: bool = False) -> str | None:  # fmt: skip
    if not is_date(day, month, year):
        return None
    said_year = f" {nw.year(year, lang)}" if year is not None else ""
    name = lex.months[month - 1]
    if lang == "hi":
        return f"{nw.cardinal(day, lang)} {name}{said_year}"
    if month_first:
        return f"{name} {nw.ordinal(day, lang)}{said_year}"
    return f"the {nw.ordinal(day, lang)} of {name}{said_year}"


def _numeric_date(match: re.Match[str], lang: str, lex: Lexicon) -> str | None:
    return _say_date(*day_month_year(match), lang, lex)


_DAY_ABBREVIATIONS = {"Mon": 0, "Tue": 1, "Tues": 1, "Wed": 2, "Thu": 3, "Thur": 3, "Thurs": 3,
                      "Fri": 4, "Sat": 5, "Sun": 6}  # fmt: skip
_DAY = "|".join(sorted(_DAY_ABBREVIATIONS, key=len, reverse=True))
# Only a range ("Mon-Sat", "Mon to Fri"): a lone "Sun" or "Sat" is more often a word.
_DAY_RANGE = re.compile(rf"(?<![\w])(?P<a>{_DAY})\.?\s?(?:[-–]|\sto\s)\s?(?P<b>{_DAY})\.?(?![\w])")


def _day_range(match: re.Match[str], lang: str, lex: Lexicon) -> str:
    first, last = (lex.weekdays[_DAY_ABBREVIATIONS[match[k]]] for k in ("a", "b"))
    return lex.day_range.format(a=first, b=last)


_CLOCK = re.compile(
    r"(?<![\d:.])(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?"
    r"(?:\s?(?P<ap>[AaPp]\.?\s?[Mm]\.?)(?![\w]))?(?![\d:])(?:\s?(?P<baje>बजे))?"
)
_HOUR_AM_PM = re.compile(r"(?<![\d:.,])(?P<h>1[0-2]|0?[1-9])\s?(?P<ap>[AaPp]\.?\s?[Mm]\.?)(?![\w])")


def _hindi_part_of_day(hour24: int) -> str:
    if 4 <= hour24 < 12:
        return "सुबह"
    if 12 <= hour24 < 16:
        return "दोपहर"
    if 16 <= hour24 < 19:
        return "शाम"
    return "रात"


def _time(match: re.Match[str], lang: str, lex: Lexicon) -> str:
    groups = match.groupdict()
    hour, minute = int(match["h"]), int(groups.get("m") or 0)
    ap = (groups.get("ap") or "").lower().replace(".", "").replace(" ", "")
    seconds = int(groups["s"]) if groups.get("s") else 0
    return _say_time(hour, minute, seconds, ap, lang, lex)


def _say_time(hour: int, minute: int, seconds: int, ap: str, lang: str, lex: Lexicon) -> str:
    if lang == "hi":
        hour24 = hour % 12 + (12 if ap == "pm" else 0) if ap else hour
        hour12 = hour24 % 12 or 12
        part = _hindi_part_of_day(hour24) + " " if ap or hour24 > 12 or hour24 == 0 else ""
        said = f"{part}{nw.cardinal(hour12, lang)} "
        said += f"बजकर {nw.cardinal(minute, lang)} मिनट" if minute else "बजे"
        return said + (f" {nw.cardinal(seconds, lang)} सेकंड" if seconds else "")
    said = nw.cardinal(hour, lang)
    if minute:
        said += (" oh " if minute < 10 else " ") + nw.cardinal(minute, lang)
    elif not ap:
        said += " hundred" if hour > 12 else " o'clock"
    if seconds:
        said += f" and {nw.cardinal(seconds, lang)} seconds"
    if ap:
        said += " " + (lex.am_pm[0] if ap == "am" else lex.am_pm[1])
    return said


def _date_day_month(m: re.Match[str], lang: str, lex: Lexicon) -> str | None:
    year = int(m["y"]) if m["y"] else None
    return _say_date(int(m["d"]), _month_number(m["mon"]), year, lang, lex)


def _date_month_day(m: re.Match[str], lang: str, lex: Lexicon) -> str | None:
    year = int(m["y"]) if m["y"] else None
    month = _month_number(m["mon"])
    return _say_date(int(m["d"]), month, year, lang, lex, month_first=True)


def _month_year(m: re.Match[str], lang: str, lex: Lexicon) -> str:
    return f"{lex.months[_month_number(m['mon']) - 1]} {nw.year(int(m['y']), lang)}"


def _iso(m: re.Match[str], lang: str, lex: Lexicon) -> str | None:
    return _say_date(int(m["d"]), int(m["m"]), int(m["y"]), lang, lex)


def _en_year(m: re.Match[str], lang: str, lex: Lexicon) -> str:
    return f"{m['w']} {nw.year(int(m['y']), lang)}"


def _hi_year(m: re.Match[str], lang: str, lex: Lexicon) -> str:
    return nw.year(int(m["y"]), lang)


RULES: list[Rule] = [
    (ISO_DATE, _iso),
    (NUMERIC_DATE, _numeric_date),
    (_DAY_MONTH, _date_day_month),
    (_MONTH_DAY, _date_month_day),
    (_MONTH_YEAR, _month_year),
    (_EN_YEAR, _en_year),
    (_HI_YEAR, _hi_year),
    (_DAY_RANGE, _day_range),
    (_CLOCK, _time),
    (_HOUR_AM_PM, _time),
]
