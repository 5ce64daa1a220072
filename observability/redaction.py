"""Redaction: text and nested data without secrets or personal data.

A leaf used by logging (:mod:`observability.logs`), error reports (:mod:`observability.sentry`)
and health probes. :func:`scrub` removes configured secret values (``secrets_manager.redact``),
bearer and basic credentials, ``key=value`` secrets, vendor key formats, credentials inside URLs,
card-like numbers that pass the Luhn check, and e-mail addresses (masked to ``a***@host``).
:class:`ScrubFilter` applies it to stdlib records for handlers we do not own.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

from secrets_manager import MASK, redact

__all__ = ["MASK", "ScrubFilter", "luhn_ok", "scrub", "scrub_data"]


_KV_NAMES = (
    r"api[_-]?key|apikey|x-api-key|access[_-]?token|refresh[_-]?token|id[_-]?token|token|"
    r"secret|client[_-]?secret|key[_-]?secret|secret[_-]?key|webhook[_-]?secret|password|"
    r"passwd|pwd|authorization|dsn|signature"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Credentials inside URLs: scheme://user:pass@host, and Sentry's scheme://key@host.
    (re.compile(r"(?<=://)[^/\s:@]+(?::[^/\s@]*)?@"), MASK + "@"),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=:-]{8,}"), r"\1 " + MASK),
    # Basic credentials are base64: require a digit or padding so prose ("basic usage") stays.
    (
        re.compile(r"(?i)\b(basic)\s+(?=[A-Za-z0-9+/=]*[0-9=])[A-Za-z0-9+/]{12,}={0,2}"),
        r"\1 " + MASK,
    ),
    (
        re.compile(rf"(?i)(\b(?:{_KV_NAMES})\b[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;)}}\]]+)"),
        r"\1" + MASK,
    ),
    (re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}"), MASK),
    (re.compile(r"\b(?:whsec|rzp_live|rzp_test)_[A-Za-z0-9]{8,}"), MASK),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), MASK),
)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum every payment card number passes."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if 13 <= len(digits) <= 19 and luhn_ok(digits):
        return "[card ****" + digits[-4:] + "]"
    return match.group(0)


def scrub(text: str) -> str:
    """``text`` without secrets or personal data (see the module docstring). Never raises."""
    if not text:
        return text
    with contextlib.suppress(Exception):  # broken settings must not stop logging
        text = redact(text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    text = _CARD.sub(_mask_card, text)
    return _EMAIL.sub(r"\1***@\2", text)


def scrub_data(value: Any, _depth: int = 0) -> Any:
    """:func:`scrub` applied to every string in nested dicts/lists; values under secret-looking
    keys are replaced whole (used for Sentry events and JSON bodies)."""
    if _depth > 20:
        return value
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {
            k: (MASK if _secret_key(k) and v not in (None, "") else scrub_data(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(scrub_data(v, _depth + 1) for v in value)
    return value


_SECRET_KEY = re.compile(rf"(?i)^(?:{_KV_NAMES}|cookie|set-cookie|x-razorpay-signature)$")


def _secret_key(key: object) -> bool:
    return isinstance(key, str) and bool(_SECRET_KEY.match(key))


class ScrubFilter(logging.Filter):
    """Scrubs a stdlib record's message and traceback in place (for handlers we do not own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True
