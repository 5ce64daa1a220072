"""Numbers in a script as words: money, multipliers (lakh, crore, k), percentages, units,
ordinals and plain numbers, in Indian (1,50,000) or international (150,000) grouping.

``NUM`` is the pattern of a written number the other rule modules share; :func:`spoken_number`
says one. ``RULES`` run before :func:`plain_numbers`, which says whatever number is left.
"""

from __future__ import annotations

import re
import unicodedata

from services.script_text import number_words as nw
from services.script_text.lexicons import Lexicon, Rule, nfc

# 1,50,000 (Indian), 150,000 (international) or 150000, with an optional decimal part.
NUM = r"(?:\d{1,2}(?:,\d\d)+,\d{3}|\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
NEG = r"(?P<neg>(?:(?<=^)|(?<=[\s(]))[-−])?"
END = r"(?![\w\u0900-\u097f])"


def _indian_grouping(raw: str) -> bool:
    return re.search(r",\d\d,", raw) is not None


def spoken_number(raw: str, lang: str, *, indian: bool = False) -> str:
    """A number as written (``1,50,000``, ``3.5``, ``0123``) in words."""
    indian = indian or _indian_grouping(raw)
    plain = raw.replace(",", "")
    whole, _, frac = plain.partition(".")
    if not frac and "," not in raw and (len(whole) >= 10 or (len(whole) > 1 and whole[0] == "0")):
        return nw.digits(whole, lang)  # a phone number, PIN or code: digit by digit
    return nw.decimal(ascii_digits(plain), lang, indian=indian)


def ascii_digits(digits: str) -> str:
    return "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in digits)


def number_value(raw: str) -> float:
    return float(ascii_digits(raw.replace(",", "")))


def signed(match: re.Match[str], words: str, lang: str) -> str:
    if match.groupdict().get("neg"):
        return f"{nw.MINUS.get(lang, nw.MINUS['en'])} {words}"
    return words


def hindi_amount(raw: str) -> str | None:
    """Halves as Hindi says them before a unit, लाख or प्रतिशत: डेढ़ (1.5), ढाई (2.5),
    साढ़े तीन (3.5); ``None`` for any other number."""
    value = number_value(raw)
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
_MULT_RE = "|".join(sorted((re.escape(nfc(k)) for k in _MULT), key=len, reverse=True))
_CUR_BEFORE = re.compile(
    nfc(
        r"(?<![A-Za-z])(?P<cur>₹|(?i:rs)\.?|(?i:inr)|रु\.?|(?i:us)?\$|(?i:usd)|€|(?i:eur)|£|(?i:gbp))\s?"
        rf"(?P<num>{NUM})(?:\s?(?P<mult>(?i:{_MULT_RE})){END})?(?:\s?/-)?"
    )
)
_CUR_AFTER = re.compile(
    nfc(rf"(?P<num>{NUM})(?:\s?(?P<mult>(?i:{_MULT_RE})))?\s?(?P<cur>/-|₹|(?i:rs)\.?{END})")
)
_MULTIPLIED = re.compile(nfc(rf"(?<![\d.,])(?P<num>{NUM})\s?(?P<mult>(?i:{_MULT_RE})){END}"))


def _money(match: re.Match[str], lang: str, lex: Lexicon) -> str:
    sign = match["cur"].lower().rstrip(".")
    kind = _CURRENCY_SIGNS[nfc(sign)]
    one, many, minor_one, minor_many = lex.currencies[kind]
    raw, mult = match["num"], match["mult"]
    indian = kind == "rupee"
    if mult:
        halves = hindi_amount(raw) if lang == "hi" else None
        amount = halves or spoken_number(raw, lang, indian=indian)
        return f"{amount} {lex.multipliers[_MULT[nfc(mult.lower())]]} {many}"
    whole, _, frac = raw.replace(",", "").partition(".")
    major = int(ascii_digits(whole))
    words = []
    if major or not frac:
        words.append(f"{spoken_number(whole, lang, indian=indian)} {one if major == 1 else many}")
    if frac:
        if len(frac) > 2:  # not minor units: read the decimal
            return f"{spoken_number(raw, lang, indian=indian)} {many}"
        minor = int(ascii_digits(frac.ljust(2, "0")))
        if minor:
            minor_words = f"{nw.cardinal(minor, lang)} {minor_one if minor == 1 else minor_many}"
            words.append(minor_words)
    joiner = f" {lex.and_} " if lang == "en" else " "
    return joiner.join(words)


def _multiplied(match: re.Match[str], lang: str, lex: Lexicon) -> str:
    raw = match["num"]
    amount = (hindi_amount(raw) if lang == "hi" else None) or spoken_number(raw, lang, indian=True)
    return f"{amount} {lex.multipliers[_MULT[nfc(match['mult'].lower())]]}"


_PERCENT = re.compile(rf"{NEG}(?P<num>{NUM})\s?%")

_UNIT_KEYS = {
    "km/h": "km/h", "kmph": "km/h", "km": "km", "kg": "kg", "kgs": "kg", "cm": "cm", "mm": "mm",
    "ml": "ml", "m": "m", "g": "g", "gm": "g", "l": "l", "L": "l", "hr": "hr", "hrs": "hr",
    "min": "min", "mins": "min", "sec": "sec", "secs": "sec", "GB": "GB", "MB": "MB",
    "°C": "°C", "°F": "°F", "°": "°", "किमी": "किमी", "किलो": "किलो",
}  # fmt: skip
_UNITS = re.compile(
    nfc(
        rf"{NEG}(?P<num>{NUM})\s?(?P<unit>"
        + "|".join(sorted((re.escape(k) for k in _UNIT_KEYS), key=len, reverse=True))
        + r")(?![\w\u0900-\u097f])"
    )
)


def _unit(match: re.Match[str], lang: str, lex: Lexicon) -> str | None:
    key = _UNIT_KEYS[match["unit"]]
    if key not in lex.units:
        return None
    one, many = lex.units[key]
    raw = match["num"]
    amount = (hindi_amount(raw) if lang == "hi" else None) or spoken_number(raw, lang)
    return signed(match, f"{amount} {one if number_value(raw) == 1 else many}", lang)


_EN_ORDINAL = re.compile(r"(?<![\d.,])(?P<num>\d+)(?P<suf>st|nd|rd|th)(?![\w])")
_HI_ORDINAL = re.compile(
    nfc(
        r"(?<![\d.,])(?P<num>\d+)\s?(?P<suf>ला|ली|ले|रा|री|रे|था|थी|थे|ठा|ठी|ठे|वाँ|वां|वीं|वी|वें|वे)(?![\u0900-\u097f\w])"
    )
)
_PLAIN = re.compile(rf"{NEG}(?P<num>{NUM})")


def _hindi_ordinal(match: re.Match[str]) -> str:
    n, suffix = int(ascii_digits(match["num"])), match["suf"]
    word = nw.ordinal(n, "hi", feminine=suffix.endswith(("ी", "ीं")))
    if suffix.endswith(("े", "ें")):  # oblique: पहले, पाँचवें
        word = word[:-1] + "े" if word.endswith("ा") else word.replace("वाँ", "वें")
    return word


def _percent(m: re.Match[str], lang: str, lex: Lexicon) -> str:
    amount = (hindi_amount(m["num"]) if lang == "hi" else None) or spoken_number(m["num"], lang)
    return signed(m, f"{amount} {lex.percent}", lang)


def _en_ordinal(m: re.Match[str], lang: str, lex: Lexicon) -> str:
    n = int(ascii_digits(m["num"]))
    return nw.ordinal(n, "hi") if lang == "hi" else nw.ordinal(n, lang)


def _hi_ordinal(m: re.Match[str], lang: str, lex: Lexicon) -> str | None:
    return _hindi_ordinal(m) if lang == "hi" else None


def plain_numbers(text: str, lang: str) -> str:
    """Every number left in ``text`` as words (a code or phone number digit by digit)."""

    def replace(match: re.Match[str]) -> str:
        return f" {signed(match, spoken_number(match['num'], lang), lang)} "

    return _PLAIN.sub(replace, text)


RULES: list[Rule] = [
    (_CUR_BEFORE, _money),
    (_CUR_AFTER, _money),
    (_MULTIPLIED, _multiplied),
    (_PERCENT, _percent),
    (_UNITS, _unit),
    (_EN_ORDINAL, _en_ordinal),
    (_HI_ORDINAL, _hi_ordinal),
]
