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
"dot" and "slash"). Tamil, Telugu, Bengali and Marathi get their rupee amounts and numeric
dates said (:mod:`regional`; their voices read the numbers themselves). Other languages get
markup and emoji removal, and number words where :mod:`services.number_words` covers them;
their remaining digits are left to the engine.
Every rule only writes words, so normalising twice gives the same text.

    markup.py        HTML, Markdown and emoji out
    addresses.py     URLs, e-mail, phone numbers; titles and abbreviations
    dates.py         dates, years, weekday ranges, times
    numbers.py       money, lakh/crore, %, units, ordinals, plain numbers
    number_words.py  numbers as words (num2words; an own Hindi table)
    regional.py      rupees and dates in Tamil, Telugu, Bengali and Marathi
    lexicons.py      each language's words for all of the above
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from errors import N_, ScriptError
from services.script_text import addresses, dates, numbers, regional
from services.script_text import number_words as nw
from services.script_text.lexicons import LEXICONS, Lexicon, Rule, nfc
from services.script_text.markup import drop_emoji, strip_markup

__all__ = ["NOTHING_TO_SAY", "normalise", "speakable"]

NOTHING_TO_SAY = N_(
    "The script has only emoji or symbols, nothing to speak. Type the words the photo should say."
)

_STRAY = re.compile(r"[*_~^|\\`<>{}\[\]#]+")
_SPACE_AFTER_OPEN = re.compile(r"([(])[ \t]+")
_SPACE_BEFORE_MARK = re.compile(r"[ \t]+([,.!?;:।॥)])")
_LEADING_MARKS = re.compile(r"^[ \t]*[,.;:!?।)]+[ \t]*", re.M)
_REPEATED_MARKS = re.compile(r"([,;:])(?:\s*[,;:])+")

_SENTENCE_GOES_ON = re.compile(r"[ \t]*[^\sA-Z]")  # not the end, a new line or a capital


def _keep_if_none(
    func: Callable[[re.Match[str], str, Lexicon], str | None], lang: str, lex: Lexicon
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


# Addresses first (they hold dots, digits and @), then dates and times (they hold numbers),
# then money, units and ordinals; what is left of the numbers comes last.
_RULES: list[Rule] = [*addresses.RULES, *dates.RULES, *numbers.RULES]


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
    text = nfc(text).replace("\r\n", "\n").replace("\r", "\n")
    text = drop_emoji(strip_markup(text))
    lex = LEXICONS.get(language)
    if lex is not None:
        for pattern, func in _RULES:
            text = pattern.sub(_keep_if_none(func, language, lex), text)
        for pattern, long in addresses.ABBREVIATIONS[language]:
            text = pattern.sub(long, text)
        text = re.sub(r"(?<=\w)\s*&\s*(?=\w)", f" {lex.and_} ", text)
    elif language in regional.LANGUAGES:
        text = regional.say(text, language)
    if lex is not None or nw.supported(language):
        text = numbers.plain_numbers(text, language)
    # What is left of symbols: pictographs outside the emoji blocks, stray markup characters.
    text = "".join(" " if unicodedata.category(ch) in ("So", "Sk") else ch for ch in text)
    text = _STRAY.sub(" ", text)
    text = _tidy(text)
    return nfc(text) if any(ch.isalnum() for ch in text) else ""


def speakable(text: str, language: str) -> str:
    """:func:`normalise`, refusing a script with nothing to speak (emoji or symbols only)
    with :class:`errors.ScriptError` ``NOTHING_TO_SAY``."""
    spoken = normalise(text, language)
    if not spoken:
        raise ScriptError(NOTHING_TO_SAY)
    return spoken
