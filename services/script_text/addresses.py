"""URLs, e-mail addresses and phone numbers read aloud, and abbreviations written out.

An address is spelled the way people say it ("talkingphoto dot in slash offers"); a phone
number digit by digit. Titles (Dr, Mr, ...) are read before a name with or without their dot;
other abbreviations (e.g., etc.) only with it, keeping a dot that ended the sentence.
"""

from __future__ import annotations

import re

from services.script_text import number_words as nw
from services.script_text.lexicons import LEXICONS, Lexicon, Rule, nfc

_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+"
    r"|(?<![\w@.])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\."
    r"(?:com|in|org|net|io|co|gov|edu|info|app|dev|ai|me|tv|uk|us)(?:/[^\s<>\"']*)?(?![\w@])"
)
_PHONE = re.compile(r"(?<![\w+])(?P<plus>\+)?(?P<num>\d[\d -]{8,}\d)(?![\w])")
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_URL_PARTS = re.compile(r"(www)(?=\.)|(\d+)|([A-Za-z]+|[^\x00-\x7f]+)|([./\-_@:?=&#+~%])")


def _say_address(address: str, lang: str, lex: Lexicon) -> str:
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


def _phone(match: re.Match[str], lang: str, lex: Lexicon) -> str | None:
    """A phone number (ten digits or more, maybe spaced): digit by digit, "plus" first."""
    digits = re.sub(r"\D", "", match["num"])
    if len(digits) < 10:
        return None
    said = " ".join(nw.digits(group, lang) for group in re.split(r"[ -]+", match["num"]))
    return (lex.url_words["+"] + " " if match["plus"] else "") + said


def _address(match: re.Match[str], lang: str, lex: Lexicon) -> str:
    found = match.group(0)
    trail = ""
    while found and found[-1] in ".,;:!?)]'\"":
        found, trail = found[:-1], found[-1] + trail
    return _say_address(found, lang, lex) + trail


def _abbreviation_rules(lex: Lexicon) -> list[tuple[re.Pattern[str], str]]:
    rules: list[tuple[re.Pattern[str], str]] = []
    for short, long in lex.abbreviations.items():
        if short == "No.":  # "No." is "number" only before a number
            rules.append((re.compile(r"(?<!\w)No\.\s?(?=\d)"), long + " "))
            continue
        at_end = re.compile(nfc(rf"(?<![\w.]){re.escape(short)}(?=\s*$|\n)"), re.M)
        rules.append((at_end, long + "."))
        if short == "etc.":  # "etc." before a capital most likely ended the sentence
            rules.append((re.compile(r"(?<![\w.])etc\.(?=\s+[A-Z])"), long + "."))
        rules.append((re.compile(nfc(rf"(?<![\w.]){re.escape(short)}")), long))
    for short, long in lex.titles.items():
        rules.append((re.compile(nfc(rf"(?<![\w.]){re.escape(short)}\.?(?=\s+\w)")), long))
    return rules


ABBREVIATIONS: dict[str, list[tuple[re.Pattern[str], str]]] = {
    lang: _abbreviation_rules(lex) for lang, lex in LEXICONS.items()
}

RULES: list[Rule] = [(_EMAIL, _address), (_URL, _address), (_PHONE, _phone)]
