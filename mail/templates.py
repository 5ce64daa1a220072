"""The e-mails the app sends, in English and Hindi (gettext catalogs, :mod:`i18n`).

Each function returns a :class:`mail.Message` in the recipient's language; links are
absolute (``[app] base_url``). Templates are marked with ``N_`` so pybabel extracts them.
"""

from __future__ import annotations

from errors import N_
from i18n import normalize_language, translations
from mail import Message

_VERIFY_SUBJECT = N_("Confirm your e-mail address for TalkingPhoto")
_VERIFY_BODY = N_(
    "Hello {name},\n\n"
    "Please confirm that this is your e-mail address by opening this link:\n\n"
    "{link}\n\n"
    "The link works once and for 24 hours. If you did not create a TalkingPhoto account, "
    "you can ignore this e-mail.\n\n"
    "— TalkingPhoto"
)
_RESET_SUBJECT = N_("Reset your TalkingPhoto password")
_RESET_BODY = N_(
    "Hello,\n\n"
    "Someone asked to reset the password of the TalkingPhoto account for this e-mail "
    "address. To choose a new password, open this link:\n\n"
    "{link}\n\n"
    "The link works once and for 1 hour. If it was not you, ignore this e-mail: your "
    "password stays as it is.\n\n"
    "— TalkingPhoto"
)


def _t(language: str, msgid: str) -> str:
    return translations(normalize_language(language)).gettext(msgid)


def verification(to: str, name: str, link: str, language: str = "en") -> Message:
    return Message(
        to=to,
        subject=_t(language, _VERIFY_SUBJECT),
        text=_t(language, _VERIFY_BODY).format(name=name or to.split("@", 1)[0], link=link),
        kind="verify",
    )


def password_reset(to: str, link: str, language: str = "en") -> Message:
    return Message(
        to=to,
        subject=_t(language, _RESET_SUBJECT),
        text=_t(language, _RESET_BODY).format(link=link),
        kind="reset",
    )
