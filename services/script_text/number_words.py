"""Numbers as words, per language, for what scripts are read as (:mod:`services.script_text`).

English and the languages ``num2words`` reads well come from that library (LGPL, used
unmodified); Hindi is ours, because num2words 0.5.14 has no Hindi. Hindi numbers 0-99 are
irregular (ikkees, unchaas, ...), so they are a table of one hundred words; above that the
Indian system counts in सौ (100), हज़ार (1,000), लाख (1,00,000) and करोड़ (1,00,00,000).

    cardinal(n, lang)              1500 -> "one thousand, five hundred" / "एक हज़ार पाँच सौ"
    decimal("3.14", lang)          "three point one four" / "तीन दशमलव एक चार"
    ordinal(n, lang)               21 -> "twenty-first" / "इक्कीसवाँ"
    year(n, lang)                  1998 -> "nineteen ninety-eight" / "उन्नीस सौ अट्ठानबे"
    digits("0123", lang)           "zero one two three" (phone numbers, codes)
    supported(lang)                whether numbers in ``lang`` can be read here at all

``indian=True`` reads English in lakhs and crores (num2words' ``en_IN``), as Indian readers do
for an amount written 1,50,000 or in rupees.
"""

from __future__ import annotations

from decimal import Decimal

from num2words import num2words

__all__ = ["HINDI_0_99", "cardinal", "decimal", "digits", "ordinal", "supported", "year"]

# fmt: off
HINDI_0_99: tuple[str, ...] = (
    "शून्य", "एक", "दो", "तीन", "चार", "पाँच", "छह", "सात", "आठ", "नौ",
    "दस", "ग्यारह", "बारह", "तेरह", "चौदह", "पंद्रह", "सोलह", "सत्रह", "अठारह", "उन्नीस",
    "बीस", "इक्कीस", "बाईस", "तेईस", "चौबीस", "पच्चीस", "छब्बीस", "सत्ताईस", "अट्ठाईस", "उनतीस",
    "तीस", "इकतीस", "बत्तीस", "तैंतीस", "चौंतीस", "पैंतीस", "छत्तीस", "सैंतीस", "अड़तीस", "उनतालीस",
    "चालीस", "इकतालीस", "बयालीस", "तैंतालीस", "चवालीस", "पैंतालीस", "छियालीस", "सैंतालीस", "अड़तालीस", "उनचास",  # noqa: E501
    "पचास", "इक्यावन", "बावन", "तिरपन", "चौवन", "पचपन", "छप्पन", "सत्तावन", "अट्ठावन", "उनसठ",
    "साठ", "इकसठ", "बासठ", "तिरसठ", "चौंसठ", "पैंसठ", "छियासठ", "सड़सठ", "अड़सठ", "उनहत्तर",
    "सत्तर", "इकहत्तर", "बहत्तर", "तिहत्तर", "चौहत्तर", "पचहत्तर", "छिहत्तर", "सतहत्तर", "अठहत्तर", "उन्यासी",
    "अस्सी", "इक्यासी", "बयासी", "तिरासी", "चौरासी", "पचासी", "छियासी", "सत्तासी", "अट्ठासी", "नवासी",
    "नब्बे", "इक्यानबे", "बानबे", "तिरानबे", "चौरानबे", "पंचानबे", "छियानबे", "सत्तानबे", "अट्ठानबे", "निन्यानबे",
)
# fmt: on
assert len(HINDI_0_99) == 100

# Ordinals that are not "<number>वाँ": masculine, feminine.
_HINDI_ORDINALS = {1: ("पहला", "पहली"), 2: ("दूसरा", "दूसरी"), 3: ("तीसरा", "तीसरी"),
                   4: ("चौथा", "चौथी"), 6: ("छठा", "छठी")}  # fmt: skip

# The decimal point and minus sign, spoken.
_POINT = {"en": "point", "hi": "दशमलव"}
MINUS = {"en": "minus", "hi": "माइनस"}  # as said aloud (the textbook ऋण is rarely heard)

# Languages num2words 0.5.14 reads correctly enough to speak (its Telugu doubles spaces and
# says "one lakh" as "ఒకటి లక్ష"; Tamil, Marathi and Hindi it lacks).
_NUM2WORDS = frozenset(
    {"en", "bn", "kn", "es", "fr", "de", "pt", "it", "nl", "ru", "pl", "tr", "id", "vi", "ar"}
)
_OWN = frozenset({"hi"})


def supported(lang: str) -> bool:
    """Whether numbers in ``lang`` are turned into words (otherwise they are left as digits,
    which the speech engine reads by its own rules)."""
    return lang in _OWN or lang in _NUM2WORDS


def _hindi(n: int) -> str:
    if n < 100:
        return HINDI_0_99[n]
    for size, word in ((10**7, "करोड़"), (10**5, "लाख"), (1000, "हज़ार"), (100, "सौ")):
        if n >= size:
            high, rest = divmod(n, size)
            head = f"{_hindi(high)} {word}"
            return f"{head} {_hindi(rest)}" if rest else head
    raise AssertionError("unreachable")  # pragma: no cover


def _clean(words: str) -> str:
    # num2words writes "one lakh, fifty thousand"; a comma there would be read as a pause.
    return " ".join(words.replace(",", " ").split())


def cardinal(n: int, lang: str, *, indian: bool = False) -> str:
    """``n`` (any integer) in words."""
    if n < 0:
        return f"{MINUS.get(lang, MINUS['en'])} {cardinal(-n, lang, indian=indian)}"
    if lang == "hi":
        return _hindi(n)
    if lang == "en" and indian:
        return _clean(num2words(n, lang="en_IN"))
    return _clean(num2words(n, lang=lang if lang in _NUM2WORDS else "en"))


def digits(text: str, lang: str) -> str:
    """Each digit of ``text`` as its own word (leading zeros, phone numbers, PIN codes)."""
    return " ".join(cardinal(int(ch), lang) for ch in text if ch.isdigit())


def decimal(text: str, lang: str, *, indian: bool = False) -> str:
    """A decimal written ``"12.05"`` as words: the whole part, then each digit after the
    point ("twelve point zero five"), the way it is read aloud."""
    whole, _, frac = text.partition(".")
    head = cardinal(int(whole or "0"), lang, indian=indian)
    if not frac:
        return head
    if lang not in _POINT:
        return _clean(num2words(Decimal(f"{int(whole or '0')}.{frac}"), lang=lang))
    return f"{head} {_POINT[lang]} {digits(frac, lang)}"


def ordinal(n: int, lang: str, *, feminine: bool = False) -> str:
    """``n`` as an ordinal: "first", "पहला" (Hindi has gender: "पहली" with ``feminine``)."""
    if lang == "hi":
        if n in _HINDI_ORDINALS:
            return _HINDI_ORDINALS[n][1 if feminine else 0]
        return _hindi(n) + ("वीं" if feminine else "वाँ")
    return _clean(num2words(n, lang=lang if lang in _NUM2WORDS else "en", to="ordinal"))


def year(n: int, lang: str) -> str:
    """A year as it is said: "nineteen ninety-eight", "twenty twenty-five";
    Hindi "उन्नीस सौ अट्ठानबे", "दो हज़ार पच्चीस"."""
    if lang == "hi":
        if 1100 <= n < 2000 and n % 100:
            return f"{_hindi(n // 100)} सौ {_hindi(n % 100)}"
        return _hindi(n)
    if lang == "en":
        return _clean(num2words(n, lang="en", to="year"))
    return cardinal(n, lang)
