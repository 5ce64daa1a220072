"""Rupee amounts and numeric dates in Tamil, Telugu, Bengali and Marathi scripts.

These languages have no full :class:`~services.script_text.lexicons.Lexicon`: their voices
(eSpeak) read numbers by their own rules, Indian grouping included ("1,50,000" is one lakh
fifty thousand), so the numbers stay as digits. What those voices get wrong is said here:

- ``₹500``, ``Rs. 500``, ``INR 500``, ``500/-``: the Telugu, Bengali and Marathi voices drop
  the sign and the Tamil one says it before the number; it becomes the number and then the
  language's word for rupees ("500 ரூபாய்", "1 रुपया"), after a lakh or crore word if there is
  one ("₹5 लाख" -> "5 लाख रुपये").
- ``12/03/2025`` (also with ``-`` or ``.``, day first as in India unless only the other order
  is a date) and ``2025-03-12``: read by the voices as "twelve slash three slash ..."; they
  become day, month name and year ("12 मार्च 2025").

Every rule only writes digits and words, so normalising twice gives the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.script_text.dates import ISO_DATE, NUMERIC_DATE, day_month_year, is_date
from services.script_text.lexicons import nfc
from services.script_text.numbers import END, NUM, number_value

__all__ = ["LANGUAGES", "say"]


@dataclass(frozen=True)
class _Words:
    rupee: tuple[str, str]  # one, many
    months: tuple[str, ...]
    lakh: tuple[str, str]  # one, many
    crore: tuple[str, str]


_TA_MONTHS = (
    "ஜனவரி", "பிப்ரவரி", "மார்ச்", "ஏப்ரல்", "மே", "ஜூன்", "ஜூலை", "ஆகஸ்ட்", "செப்டம்பர்",
    "அக்டோபர்", "நவம்பர்", "டிசம்பர்",
)  # fmt: skip
_TE_MONTHS = (
    "జనవరి", "ఫిబ్రవరి", "మార్చి", "ఏప్రిల్", "మే", "జూన్", "జూలై", "ఆగస్టు", "సెప్టెంబర్",
    "అక్టోబర్", "నవంబర్", "డిసెంబర్",
)  # fmt: skip
_BN_MONTHS = (
    "জানুয়ারি", "ফেব্রুয়ারি", "মার্চ", "এপ্রিল", "মে", "জুন", "জুলাই", "আগস্ট", "সেপ্টেম্বর",
    "অক্টোবর", "নভেম্বর", "ডিসেম্বর",
)  # fmt: skip
_MR_MONTHS = (
    "जानेवारी", "फेब्रुवारी", "मार्च", "एप्रिल", "मे", "जून", "जुलै", "ऑगस्ट", "सप्टेंबर",
    "ऑक्टोबर", "नोव्हेंबर", "डिसेंबर",
)  # fmt: skip

_WORDS: dict[str, _Words] = {
    "ta": _Words(("ரூபாய்", "ரூபாய்"), _TA_MONTHS, ("லட்சம்", "லட்சம்"), ("கோடி", "கோடி")),
    "te": _Words(("రూపాయి", "రూపాయలు"), _TE_MONTHS, ("లక్ష", "లక్షలు"), ("కోటి", "కోట్లు")),
    # টাকা: what Bengali speakers in India call the rupee.
    "bn": _Words(("টাকা", "টাকা"), _BN_MONTHS, ("লাখ", "লাখ"), ("কোটি", "কোটি")),
    "mr": _Words(("रुपया", "रुपये"), _MR_MONTHS, ("लाख", "लाख"), ("कोटी", "कोटी")),
}
LANGUAGES = frozenset(_WORDS)

_SIGN = r"₹|(?i:rs)\.?|(?i:inr)"


_ENGLISH_MULT = {"lakh": "lakh", "lakhs": "lakh", "lac": "lakh", "crore": "crore",
                 "crores": "crore", "cr": "crore"}  # fmt: skip


def _multipliers(words: _Words) -> dict[str, str]:
    """Every way a script may write lakh or crore -> "lakh" / "crore"."""
    found = {nfc(w): "lakh" for w in words.lakh} | {nfc(w): "crore" for w in words.crore}
    return found | _ENGLISH_MULT


def _amount_patterns(words: _Words) -> tuple[re.Pattern[str], re.Pattern[str]]:
    mult = "|".join(sorted(_multipliers(words), key=len, reverse=True))
    # "Cr." is an abbreviation: its dot goes with it (and comes back if it ended a sentence).
    tail = rf"(?:\s?(?P<mult>(?i:{mult}))(?P<dot>(?<=[Cc][Rr])\.)?)?"
    before = re.compile(rf"(?<![A-Za-z\d])(?:{_SIGN})\s?(?P<num>{NUM}){tail}(?!\w|[.,]\d)")
    after = re.compile(rf"(?<![\d.,])(?P<num>{NUM}){tail}\s?(?:/-|₹){END}")
    return before, after


_AMOUNTS = {lang: _amount_patterns(words) for lang, words in _WORDS.items()}


def _amount(match: re.Match[str], words: _Words) -> str:
    num, mult = match["num"], match["mult"]
    one = number_value(num) == 1
    if not mult:
        return f" {num} {words.rupee[0] if one else words.rupee[1]} "
    kind = _multipliers(words)[mult.lower() if mult.isascii() else nfc(mult)]
    forms = words.lakh if kind == "lakh" else words.crore
    said = f" {num} {forms[0] if one else forms[1]} {words.rupee[1]}"
    rest = match.string[match.end() :].lstrip(" \t")
    if match["dot"] and (not rest or rest[0] == "\n" or rest[0].isupper()):
        said += "."
    return said + " "


def _date(match: re.Match[str], day: int, month: int, year: int, words: _Words) -> str:
    if not is_date(day, month, year):
        return match.group(0)
    return f" {day} {words.months[month - 1]} {year} "


def _numeric_date(match: re.Match[str], words: _Words) -> str:
    return _date(match, *day_month_year(match), words)


def _iso_date(match: re.Match[str], words: _Words) -> str:
    return _date(match, int(match["d"]), int(match["m"]), int(match["y"]), words)


def say(text: str, language: str) -> str:
    """``text`` with its rupee amounts and numeric dates as ``language`` (one of
    :data:`LANGUAGES`) reads them; other text is unchanged."""
    words = _WORDS[language]
    text = ISO_DATE.sub(lambda m: _iso_date(m, words), text)
    text = NUMERIC_DATE.sub(lambda m: _numeric_date(m, words), text)
    for pattern in _AMOUNTS[language]:
        text = pattern.sub(lambda m: _amount(m, words), text)
    return text
