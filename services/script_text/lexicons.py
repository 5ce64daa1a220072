"""The words each language uses when a script is read out, and the shape of a reading rule.

A :class:`Lexicon` holds what the rules in this package write out (percent, month and day
names, currencies, units, titles, abbreviations, how a URL is spelled aloud); ``LEXICONS``
has English and Hindi. A :data:`Rule` is a pattern and the function that says a match in a
language (``None``: leave the text as it is).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["EN", "EN_MONTHS", "HI", "HI_MONTHS", "LEXICONS", "Lexicon", "Rule", "nfc"]


def nfc(text: str) -> str:
    """``text`` in Unicode NFC (how scripts and patterns are compared: नुक़्ता forms differ)."""
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class Lexicon:
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


EN_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
HI_MONTHS = (
    "जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर",
    "नवंबर", "दिसंबर",
)  # fmt: skip

EN = Lexicon(
    percent="percent",
    and_="and",
    months=EN_MONTHS,
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

HI = Lexicon(
    percent="प्रतिशत",
    and_="और",
    months=HI_MONTHS,
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

LEXICONS: dict[str, Lexicon] = {"en": EN, "hi": HI}

Rule = tuple[re.Pattern[str], Callable[[re.Match[str], str, Lexicon], str | None]]
