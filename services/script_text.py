"""A script as it will be spoken and captioned: markup stripped, emoji dropped, and numbers,
dates, times, money, percentages, units, abbreviations, URLs and e-mail addresses written out
as words in the script's language.

Speech engines read text literally ("less than b greater than", "grinning face", "rupee sign
one comma five zero zero"), and captions show what is spoken, so every path that turns a
script into a :class:`providers.base.GenerationRequest` (``services.job_spec.build_request``),
the length estimate and the credits charged use :func:`normalise`; the create page shows its
result as a pronunciation preview. The typed script is what a job row keeps.

    normalise(text, lang)         the words to speak ("" when nothing is left to say)
    speakable(text, lang)         the same, or ScriptError NOTHING_TO_SAY for an emoji-only or
                                  symbol-only script (checked before anything is charged)

English and Hindi have full rules (Indian digit grouping 1,50,000, ₹/Rs./$ amounts with
lakh and crore, day-first dates, times, %, units, titles such as Dr. and Mr., URLs read as
"dot" and "slash"). Other languages get markup and emoji removal, and number words where
:mod:`services.number_words` covers them; their remaining digits are left to the engine.
Every rule only writes words, so normalising twice gives the same text.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from errors import N_, ScriptError
from services import number_words as nw

__all__ = ["NOTHING_TO_SAY", "normalise", "speakable"]

NOTHING_TO_SAY = N_(
    "The script has only emoji or symbols, nothing to speak. Type the words the photo should say."
)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# ------------------------------------------------------------------------------ lexicons


@dataclass(frozen=True)
class _Lexicon:
    """The words one language uses for what the rules write out."""

    percent: str
    and_: str
    months: tuple[str, ...]
    currencies: dict[str, tuple[str, str, str, str]]  # one, many, minor one, minor many
    multipliers: dict[str, str]  # "lakh" -> the word
    units: dict[str, tuple[str, str]]  # "km" -> (one, many)
    titles: dict[str, str]  # "Dr" -> word; read before a name, with or without a dot
    abbreviations: dict[str, str]  # "etc." -> words; only with the dot
    url_words: dict[str, str]  # "." -> "dot", ...
    am_pm: tuple[str, str]
    weekdays: tuple[str, ...]  # Monday first
    day_range: str  # "{a} to {b}"


_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_HI_MONTHS = (
    "जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर",
    "नवंबर", "दिसंबर",
)  # fmt: skip

EN = _Lexicon(
    percent="percent",
    and_="and",
    months=_EN_MONTHS,
    currencies={
        "rupee": ("rupee", "rupees", "paisa", "paise"),
        "dollar": ("dollar", "dollars", "cent", "cents"),
        "euro": ("euro", "euros", "cent", "cents"),
        "pound": ("pound", "pounds", "penny", "pence"),
    },
    multipliers={
        "lakh": "lakh",
        "crore": "crore",
        "thousand": "thousand",
        "million": "million",
        "billion": "billion",
    },
    units={
        "km/h": ("kilometre per hour", "kilometres per hour"),
        "km": ("kilometre", "kilometres"),
        "kg": ("kilogram", "kilograms"),
        "cm": ("centimetre", "centimetres"),
        "mm": ("millimetre", "millimetres"),
        "ml": ("millilitre", "millilitres"),
        "m": ("metre", "metres"),
        "g": ("gram", "grams"),
        "l": ("litre", "litres"),
        "hr": ("hour", "hours"),
        "min": ("minute", "minutes"),
        "sec": ("second", "seconds"),
        "GB": ("gigabyte", "gigabytes"),
        "MB": ("megabyte", "megabytes"),
        "°C": ("degree Celsius", "degrees Celsius"),
        "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
        "°": ("degree", "degrees"),
    },
    titles={
        "Dr": "Doctor",
        "Mr": "Mister",
        "Mrs": "Missus",
        "Ms": "Miss",
        "Prof": "Professor",
        "Capt": "Captain",
        "Col": "Colonel",
        "Lt": "Lieutenant",
        "Sr": "Senior",
        "Jr": "Junior",
    },
    abbreviations={
        "e.g.": "for example",
        "i.e.": "that is",
        "etc.": "et cetera",
        "vs.": "versus",
        "approx.": "approximately",
        "Govt.": "Government",
        "Dept.": "Department",
        "Ltd.": "Limited",
        "Pvt.": "Private",
        "Inc.": "Incorporated",
        "Mt.": "Mount",
        "No.": "number",
    },
    url_words={
        ".": "dot",
        "/": "slash",
        "-": "dash",
        "_": "underscore",
        "@": "at",
        ":": "colon",
        "?": "question mark",
        "=": "equals",
        "&": "and",
        "#": "hash",
        "+": "plus",
        "~": "tilde",
        "%": "percent",
        "www": "w w w",
    },
    am_pm=("a m", "p m"),
    weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    day_range="{a} to {b}",
)

HI = _Lexicon(
    percent="प्रतिशत",
    and_="और",
    months=_HI_MONTHS,
    currencies={
        "rupee": ("रुपया", "रुपये", "पैसा", "पैसे"),
        "dollar": ("डॉलर", "डॉलर", "सेंट", "सेंट"),
        "euro": ("यूरो", "यूरो", "सेंट", "सेंट"),
        "pound": ("पाउंड", "पाउंड", "पेंस", "पेंस"),
    },
    multipliers={
        "lakh": "लाख",
        "crore": "करोड़",
        "thousand": "हज़ार",
        "million": "मिलियन",
        "billion": "बिलियन",
    },
    units={
        "km/h": ("किलोमीटर प्रति घंटा", "किलोमीटर प्रति घंटा"),
        "km": ("किलोमीटर", "किलोमीटर"),
        "kg": ("किलोग्राम", "किलोग्राम"),
        "cm": ("सेंटीमीटर", "सेंटीमीटर"),
        "mm": ("मिलीमीटर", "मिलीमीटर"),
        "ml": ("मिलीलीटर", "मिलीलीटर"),
        "m": ("मीटर", "मीटर"),
        "g": ("ग्राम", "ग्राम"),
        "l": ("लीटर", "लीटर"),
        "hr": ("घंटा", "घंटे"),
        "min": ("मिनट", "मिनट"),
        "sec": ("सेकंड", "सेकंड"),
        "GB": ("जीबी", "जीबी"),
        "MB": ("एमबी", "एमबी"),
        "°C": ("डिग्री सेल्सियस", "डिग्री सेल्सियस"),
        "°F": ("डिग्री फ़ारेनहाइट", "डिग्री फ़ारेनहाइट"),
        "°": ("डिग्री", "डिग्री"),
        "किमी": ("किलोमीटर", "किलोमीटर"),
        "किलो": ("किलो", "किलो"),
    },
    titles={
        "Dr": "डॉक्टर",
        "Mr": "मिस्टर",
        "Mrs": "मिसेज़",
        "Ms": "मिस",
        "Prof": "प्रोफ़ेसर",
        "डॉ": "डॉक्टर",
        "प्रो": "प्रोफ़ेसर",
    },
    abbreviations={
        "e.g.": "जैसे",
        "i.e.": "यानी",
        "etc.": "वगैरह",
        "vs.": "बनाम",
        "approx.": "लगभग",
        "Ltd.": "लिमिटेड",
        "Pvt.": "प्राइवेट",
        "No.": "नंबर",
        "कि.मी.": "किलोमीटर",
    },
    url_words={
        ".": "डॉट",
        "/": "स्लैश",
        "-": "डैश",
        "_": "अंडरस्कोर",
        "@": "एट",
        ":": "कोलन",
        "?": "प्रश्नचिह्न",
        "=": "बराबर",
        "&": "एंड",
        "#": "हैश",
        "+": "प्लस",
        "~": "टिल्ड",
        "%": "प्रतिशत",
        "www": "डब्ल्यू डब्ल्यू डब्ल्यू",
    },
    am_pm=("", ""),  # Hindi says the part of the day instead (सुबह, शाम, ...)
    weekdays=("सोमवार", "मंगलवार", "बुधवार", "गुरुवार", "शुक्रवार", "शनिवार", "रविवार"),
    day_range="{a} से {b} तक",
)

_LEXICONS = {"en": EN, "hi": HI}

# ------------------------------------------------------------------------------- markup

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


# --------------------------------------------------------------------------- number rules

# 1,50,000 (Indian), 150,000 (international) or 150000, with an optional decimal part.
_NUM = r"(?:\d{1,2}(?:,\d\d)+,\d{3}|\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_NEG = r"(?P<neg>(?:(?<=^)|(?<=[\s(]))[-−])?"
_END = r"(?![\w\u0900-\u097f])"


def _indian_grouping(raw: str) -> bool:
    return re.search(r",\d\d,", raw) is not None


def _number(raw: str, lang: str, *, indian: bool = False) -> str:
    """A number as written (``1,50,000``, ``3.5``, ``0123``) in words."""
    indian = indian or _indian_grouping(raw)
    plain = raw.replace(",", "")
    whole, _, frac = plain.partition(".")
    if not frac and "," not in raw and (len(whole) >= 10 or (len(whole) > 1 and whole[0] == "0")):
        return nw.digits(whole, lang)  # a phone number, PIN or code: digit by digit
    return nw.decimal(_ascii(plain), lang, indian=indian)


def _ascii(digits: str) -> str:
    return "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in digits)


def _value(raw: str) -> float:
    return float(_ascii(raw.replace(",", "")))


def _signed(match: re.Match[str], words: str, lang: str) -> str:
    if match.groupdict().get("neg"):
        return f"{nw.MINUS.get(lang, nw.MINUS['en'])} {words}"
    return words


def _hindi_amount(raw: str) -> str | None:
    """Halves as Hindi says them before a unit, लाख or प्रतिशत: डेढ़ (1.5), ढाई (2.5),
    साढ़े तीन (3.5); ``None`` for any other number."""
    value = _value(raw)
    if value == 1.5:
        return "डेढ़"
    if value == 2.5:
        return "ढाई"
    if value > 2.5 and value - int(value) == 0.5:
        return "साढ़े " + nw.cardinal(int(value), "hi")
    return None


_CURRENCY_SIGNS = {
    "₹": "rupee", "rs": "rupee", "inr": "rupee", "रु": "rupee", "/-": "rupee",
    "$": "dollar", "us$": "dollar", "usd": "dollar",
    "€": "euro", "eur": "euro", "£": "pound", "gbp": "pound",
}  # fmt: skip
_MULT = {
    "lakh": "lakh", "lakhs": "lakh", "lac": "lakh", "लाख": "lakh",
    "crore": "crore", "crores": "crore", "cr": "crore", "करोड़": "crore",
    "k": "thousand", "thousand": "thousand", "हज़ार": "thousand", "हजार": "thousand",
    "million": "million", "mn": "million", "billion": "billion", "bn": "billion",
}  # fmt: skip
_MULT_RE = "|".join(sorted((re.escape(_nfc(k)) for k in _MULT), key=len, reverse=True))
_CUR_BEFORE = re.compile(
    _nfc(
        r"(?<![A-Za-z])(?P<cur>₹|(?i:rs)\.?|(?i:inr)|रु\.?|(?i:us)?\$|(?i:usd)|€|(?i:eur)|£|(?i:gbp))\s?"
        rf"(?P<num>{_NUM})(?:\s?(?P<mult>(?i:{_MULT_RE})){_END})?(?:\s?/-)?"
    )
)
_CUR_AFTER = re.compile(
    _nfc(rf"(?P<num>{_NUM})(?:\s?(?P<mult>(?i:{_MULT_RE})))?\s?(?P<cur>/-|₹|(?i:rs)\.?{_END})")
)
_MULTIPLIED = re.compile(_nfc(rf"(?<![\d.,])(?P<num>{_NUM})\s?(?P<mult>(?i:{_MULT_RE})){_END}"))


def _money(match: re.Match[str], lang: str, lex: _Lexicon) -> str:
    sign = match["cur"].lower().rstrip(".")
    kind = _CURRENCY_SIGNS[_nfc(sign)]
    one, many, minor_one, minor_many = lex.currencies[kind]
    raw, mult = match["num"], match["mult"]
    indian = kind == "rupee"
    if mult:
        amount = (_hindi_amount(raw) if lang == "hi" else None) or _number(raw, lang, indian=indian)
        return f"{amount} {lex.multipliers[_MULT[_nfc(mult.lower())]]} {many}"
    whole, _, frac = raw.replace(",", "").partition(".")
    major = int(_ascii(whole))
    words = []
    if major or not frac:
        words.append(f"{_number(whole, lang, indian=indian)} {one if major == 1 else many}")
    if frac:
        if len(frac) > 2:  # not minor units: read the decimal
            return f"{_number(raw, lang, indian=indian)} {many}"
        minor = int(_ascii(frac.ljust(2, "0")))
        if minor:
            minor_words = f"{nw.cardinal(minor, lang)} {minor_one if minor == 1 else minor_many}"
            words.append(minor_words)
    joiner = f" {lex.and_} " if lang == "en" else " "
    return joiner.join(words)


def _multiplied(match: re.Match[str], lang: str, lex: _Lexicon) -> str:
    raw = match["num"]
    amount = (_hindi_amount(raw) if lang == "hi" else None) or _number(raw, lang, indian=True)
    return f"{amount} {lex.multipliers[_MULT[_nfc(match['mult'].lower())]]}"


_PERCENT = re.compile(rf"{_NEG}(?P<num>{_NUM})\s?%")

_UNIT_KEYS = {
    "km/h": "km/h", "kmph": "km/h", "km": "km", "kg": "kg", "kgs": "kg", "cm": "cm", "mm": "mm",
    "ml": "ml", "m": "m", "g": "g", "gm": "g", "l": "l", "L": "l", "hr": "hr", "hrs": "hr",
    "min": "min", "mins": "min", "sec": "sec", "secs": "sec", "GB": "GB", "MB": "MB",
    "°C": "°C", "°F": "°F", "°": "°", "किमी": "किमी", "किलो": "किलो",
}  # fmt: skip
_UNITS = re.compile(
    _nfc(
        rf"{_NEG}(?P<num>{_NUM})\s?(?P<unit>"
        + "|".join(sorted((re.escape(k) for k in _UNIT_KEYS), key=len, reverse=True))
        + r")(?![\w\u0900-\u097f])"
    )
)


def _unit(match: re.Match[str], lang: str, lex: _Lexicon) -> str | None:
    key = _UNIT_KEYS[match["unit"]]
    if key not in lex.units:
        return None
    one, many = lex.units[key]
    raw = match["num"]
    amount = _hindi_amount(raw) if lang == "hi" else None
    return _signed(
        match, f"{amount or _number(raw, lang)} {one if _value(raw) == 1 else many}", lang
    )


# ----------------------------------------------------------------------- dates and times

_NUMERIC_DATE = re.compile(
    r"(?<![\d/.\-])(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
    r"(?![\d/\-])(?!\.\d)"
)
_ISO_DATE = re.compile(r"(?<![\d\-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d\-])")
_EN_MONTH_NAMES = (
    {m.lower(): i for i, m in enumerate(_EN_MONTHS, start=1)}
    | {m[:3].lower(): i for i, m in enumerate(_EN_MONTHS, start=1)}
    | {"sept": 9}
)
_HI_MONTH_NAMES = {_nfc(m): i for i, m in enumerate(_HI_MONTHS, start=1)} | {_nfc("फरवरी"): 2}
_MONTH_RE = (
    "(?:"
    + "|".join(sorted((m.capitalize() for m in _EN_MONTH_NAMES), key=len, reverse=True))
    + ")\\.?|"
    + "|".join(sorted(_HI_MONTH_NAMES, key=len, reverse=True))
)
_ORD = r"(?:st|nd|rd|th)?"
_DAY_MONTH = re.compile(
    rf"(?<![\d.,])(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<mon>{_MONTH_RE})"
    rf"(?:,?\s+(?P<y>\d{{4}}))?{_END}"
)
_MONTH_DAY = re.compile(
    rf"(?<![\w])(?P<mon>{_MONTH_RE})\s+(?P<d>\d{{1,2}}){_ORD}(?![\d,.]\d)(?:,?\s+(?P<y>\d{{4}}))?{_END}"
)
_MONTH_YEAR = re.compile(rf"(?<![\w])(?P<mon>{_MONTH_RE})\s+(?P<y>\d{{4}}){_END}")
_EN_YEAR = re.compile(
    r"\b(?P<w>[Ii]n|[Ss]ince|[Ff]rom|[Yy]ear|[Bb]y|[Uu]ntil|[Tt]ill|[Dd]uring|[Bb]efore|[Aa]fter)"
    r"\s+(?P<y>1[1-9]\d\d|20\d\d)(?![\d,.]\d)(?!\w)"
)
_HI_YEAR = re.compile(
    _nfc(r"(?<![\d,.])(?P<y>1[1-9]\d\d|20\d\d)(?=\s+(?:में|से|तक|का|की|के)(?![\u0900-\u097f\w]))")
)


def _month_number(name: str) -> int:
    name = _nfc(name.rstrip("."))
    return _HI_MONTH_NAMES.get(name) or _EN_MONTH_NAMES[name.lower()]


def _say_date(day: int, month: int, year: int | None, lang: str, lex: _Lexicon, *,
              month_first: bool = False) -> str | None:  # fmt: skip
    try:
        dt.date(year or 2000, month, day)
    except ValueError:
        return None
    said_year = f" {nw.year(year, lang)}" if year is not None else ""
    name = lex.months[month - 1]
    if lang == "hi":
        return f"{nw.cardinal(day, lang)} {name}{said_year}"
    if month_first:
        return f"{name} {nw.ordinal(day, lang)}{said_year}"
    return f"the {nw.ordinal(day, lang)} of {name}{said_year}"


def _numeric_date(match: re.Match[str], lang: str, lex: _Lexicon) -> str | None:
    a, b, y = int(match["a"]), int(match["b"]), match["y"]
    year = int(y) + (2000 if len(y) == 2 else 0)
    day, month = (b, a) if b > 12 >= a else (a, b)  # day first, as in India, unless impossible
    return _say_date(day, month, year, lang, lex)


_DAY_ABBREVIATIONS = {"Mon": 0, "Tue": 1, "Tues": 1, "Wed": 2, "Thu": 3, "Thur": 3, "Thurs": 3,
                      "Fri": 4, "Sat": 5, "Sun": 6}  # fmt: skip
_DAY = "|".join(sorted(_DAY_ABBREVIATIONS, key=len, reverse=True))
# Only a range ("Mon-Sat", "Mon to Fri"): a lone "Sun" or "Sat" is more often a word.
_DAY_RANGE = re.compile(rf"(?<![\w])(?P<a>{_DAY})\.?\s?(?:[-–]|\sto\s)\s?(?P<b>{_DAY})\.?(?![\w])")


def _day_range(match: re.Match[str], lang: str, lex: _Lexicon) -> str:
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


def _time(match: re.Match[str], lang: str, lex: _Lexicon) -> str:
    groups = match.groupdict()
    hour, minute = int(match["h"]), int(groups.get("m") or 0)
    ap = (groups.get("ap") or "").lower().replace(".", "").replace(" ", "")
    seconds = int(groups["s"]) if groups.get("s") else 0
    return _say_time(hour, minute, seconds, ap, lang, lex)


def _say_time(hour: int, minute: int, seconds: int, ap: str, lang: str, lex: _Lexicon) -> str:
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


# --------------------------------------------------------------------- ordinals and plain

_EN_ORDINAL = re.compile(r"(?<![\d.,])(?P<num>\d+)(?P<suf>st|nd|rd|th)(?![\w])")
_HI_ORDINAL = re.compile(
    _nfc(
        r"(?<![\d.,])(?P<num>\d+)\s?(?P<suf>ला|ली|ले|रा|री|रे|था|थी|थे|ठा|ठी|ठे|वाँ|वां|वीं|वी|वें|वे)(?![\u0900-\u097f\w])"
    )
)
_PLAIN = re.compile(rf"{_NEG}(?P<num>{_NUM})")


def _hindi_ordinal(match: re.Match[str]) -> str:
    n, suffix = int(_ascii(match["num"])), match["suf"]
    word = nw.ordinal(n, "hi", feminine=suffix.endswith(("ी", "ीं")))
    if suffix.endswith(("े", "ें")):  # oblique: पहले, पाँचवें
        word = word[:-1] + "े" if word.endswith("ा") else word.replace("वाँ", "वें")
    return word


# -------------------------------------------------------------------- abbreviations, URLs

_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+"
    r"|(?<![\w@.])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\."
    r"(?:com|in|org|net|io|co|gov|edu|info|app|dev|ai|me|tv|uk|us)(?:/[^\s<>\"']*)?(?![\w@])"
)
_PHONE = re.compile(r"(?<![\w+])(?P<plus>\+)?(?P<num>\d[\d -]{8,}\d)(?![\w])")
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_URL_PARTS = re.compile(r"(www)(?=\.)|(\d+)|([A-Za-z]+|[^\x00-\x7f]+)|([./\-_@:?=&#+~%])")


def _say_address(address: str, lang: str, lex: _Lexicon) -> str:
    """A URL or e-mail read aloud: "talkingphoto dot in slash offers"."""
    address = re.sub(r"^https?://", "", address).rstrip("/")
    words: list[str] = []
    for www, digits, letters, mark in _URL_PARTS.findall(address):
        if www:
            words.append(lex.url_words["www"])
        elif digits:
            words.append(nw.digits(digits, lang))
        elif letters:
            words.append(letters)
        elif mark:
            words.append(lex.url_words[mark])
    return " ".join(words)


def _phone(match: re.Match[str], lang: str, lex: _Lexicon) -> str | None:
    """A phone number (ten digits or more, maybe spaced): digit by digit, "plus" first."""
    digits = re.sub(r"\D", "", match["num"])
    if len(digits) < 10:
        return None
    said = " ".join(nw.digits(group, lang) for group in re.split(r"[ -]+", match["num"]))
    return (lex.url_words["+"] + " " if match["plus"] else "") + said


def _address(match: re.Match[str], lang: str, lex: _Lexicon) -> str:
    found = match.group(0)
    trail = ""
    while found and found[-1] in ".,;:!?)]'\"":
        found, trail = found[:-1], found[-1] + trail
    return _say_address(found, lang, lex) + trail


def _abbreviation_rules(lex: _Lexicon) -> list[tuple[re.Pattern[str], str]]:
    rules: list[tuple[re.Pattern[str], str]] = []
    for short, long in lex.abbreviations.items():
        if short == "No.":  # "No." is "number" only before a number
            rules.append((re.compile(r"(?<!\w)No\.\s?(?=\d)"), long + " "))
            continue
        at_end = re.compile(_nfc(rf"(?<![\w.]){re.escape(short)}(?=\s*$|\n)"), re.M)
        rules.append((at_end, long + "."))
        if short == "etc.":  # "etc." before a capital most likely ended the sentence
            rules.append((re.compile(r"(?<![\w.])etc\.(?=\s+[A-Z])"), long + "."))
        rules.append((re.compile(_nfc(rf"(?<![\w.]){re.escape(short)}")), long))
    for short, long in lex.titles.items():
        rules.append((re.compile(_nfc(rf"(?<![\w.]){re.escape(short)}\.?(?=\s+\w)")), long))
    return rules


_ABBREVIATIONS = {lang: _abbreviation_rules(lex) for lang, lex in _LEXICONS.items()}

# ---------------------------------------------------------------------------- the pass

_STRAY = re.compile(r"[*_~^|\\`<>{}\[\]#]+")
_SPACE_AFTER_OPEN = re.compile(r"([(])[ \t]+")
_SPACE_BEFORE_MARK = re.compile(r"[ \t]+([,.!?;:।॥)])")
_LEADING_MARKS = re.compile(r"^[ \t]*[,.;:!?।)]+[ \t]*", re.M)
_REPEATED_MARKS = re.compile(r"([,;:])(?:\s*[,;:])+")

_SENTENCE_GOES_ON = re.compile(r"[ \t]*[^\sA-Z]")  # not the end, a new line or a capital

Rule = tuple[re.Pattern[str], Callable[[re.Match[str], str, _Lexicon], str | None]]


def _keep_if_none(
    func: Callable[[re.Match[str], str, _Lexicon], str | None], lang: str, lex: _Lexicon
) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        said = func(match, lang, lex)
        if said is None:
            return match.group(0)
        # The dot of "a.m." or "Aug." at the end of a sentence also ended the sentence.
        rest = match.string[match.end() :]
        ends = match.group(0).endswith(".") and not said.endswith(".")
        if ends and _SENTENCE_GOES_ON.match(rest) is None:
            said += "."
        return f" {said} "

    return replace


def _rules() -> list[Rule]:
    def date_day_month(m: re.Match[str], lang: str, lex: _Lexicon) -> str | None:
        year = int(m["y"]) if m["y"] else None
        return _say_date(int(m["d"]), _month_number(m["mon"]), year, lang, lex)

    def date_month_day(m: re.Match[str], lang: str, lex: _Lexicon) -> str | None:
        year = int(m["y"]) if m["y"] else None
        month = _month_number(m["mon"])
        return _say_date(int(m["d"]), month, year, lang, lex, month_first=True)

    def month_year(m: re.Match[str], lang: str, lex: _Lexicon) -> str:
        return f"{lex.months[_month_number(m['mon']) - 1]} {nw.year(int(m['y']), lang)}"

    def iso(m: re.Match[str], lang: str, lex: _Lexicon) -> str | None:
        return _say_date(int(m["d"]), int(m["m"]), int(m["y"]), lang, lex)

    def en_year(m: re.Match[str], lang: str, lex: _Lexicon) -> str:
        return f"{m['w']} {nw.year(int(m['y']), lang)}"

    def hi_year(m: re.Match[str], lang: str, lex: _Lexicon) -> str:
        return nw.year(int(m["y"]), lang)

    def percent(m: re.Match[str], lang: str, lex: _Lexicon) -> str:
        amount = (_hindi_amount(m["num"]) if lang == "hi" else None) or _number(m["num"], lang)
        return _signed(m, f"{amount} {lex.percent}", lang)

    def en_ordinal(m: re.Match[str], lang: str, lex: _Lexicon) -> str:
        n = int(_ascii(m["num"]))
        return nw.ordinal(n, "hi") if lang == "hi" else nw.ordinal(n, lang)

    def hi_ordinal(m: re.Match[str], lang: str, lex: _Lexicon) -> str | None:
        return _hindi_ordinal(m) if lang == "hi" else None

    return [
        (_EMAIL, _address),
        (_URL, _address),
        (_PHONE, _phone),
        (_ISO_DATE, iso),
        (_NUMERIC_DATE, _numeric_date),
        (_DAY_MONTH, date_day_month),
        (_MONTH_DAY, date_month_day),
        (_MONTH_YEAR, month_year),
        (_EN_YEAR, en_year),
        (_HI_YEAR, hi_year),
        (_DAY_RANGE, _day_range),
        (_CLOCK, _time),
        (_HOUR_AM_PM, _time),
        (_CUR_BEFORE, _money),
        (_CUR_AFTER, _money),
        (_MULTIPLIED, _multiplied),
        (_PERCENT, percent),
        (_UNITS, _unit),
        (_EN_ORDINAL, en_ordinal),
        (_HI_ORDINAL, hi_ordinal),
    ]


_RULES = _rules()


def _plain_numbers(text: str, lang: str) -> str:
    def replace(match: re.Match[str]) -> str:
        return f" {_signed(match, _number(match['num'], lang), lang)} "

    return _PLAIN.sub(replace, text)


def _tidy(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        line = " ".join(line.split())
        line = _SPACE_BEFORE_MARK.sub(r"\1", line)
        line = _SPACE_AFTER_OPEN.sub(r"\1", line)
        line = _REPEATED_MARKS.sub(r"\1", line)
        line = _LEADING_MARKS.sub("", line)
        lines.append(line.strip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def normalise(text: str, language: str) -> str:
    """``text`` as the words to speak in ``language`` (a code such as ``"en"`` or ``"hi"``).

    Returns ``""`` when nothing speakable is left (only emoji, symbols or markup)."""
    text = _nfc(text).replace("\r\n", "\n").replace("\r", "\n")
    text = drop_emoji(strip_markup(text))
    lex = _LEXICONS.get(language)
    if lex is not None:
        for pattern, func in _RULES:
            text = pattern.sub(_keep_if_none(func, language, lex), text)
        for pattern, long in _ABBREVIATIONS[language]:
            text = pattern.sub(long, text)
        text = re.sub(r"(?<=\w)\s*&\s*(?=\w)", f" {lex.and_} ", text)
    if lex is not None or nw.supported(language):
        text = _plain_numbers(text, language)
    # What is left of symbols: pictographs outside the emoji blocks, stray markup characters.
    text = "".join(" " if unicodedata.category(ch) in ("So", "Sk") else ch for ch in text)
    text = _STRAY.sub(" ", text)
    text = _tidy(text)
    return _nfc(text) if any(ch.isalnum() for ch in text) else ""


def speakable(text: str, language: str) -> str:
    """:func:`normalise`, refusing a script with nothing to speak (emoji or symbols only)
    with :class:`errors.ScriptError` ``NOTHING_TO_SAY``."""
    spoken = normalise(text, language)
    if not spoken:
        raise ScriptError(NOTHING_TO_SAY)
    return spoken
