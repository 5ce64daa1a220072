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


_READY_SUBJECT = N_("Your video is ready: {title}")
_READY_BODY = N_(
    "Hello {name},\n\n"
    'Your talking video "{title}" is ready. Watch, download or share it here:\n\n'
    "{link}\n\n"
    "— TalkingPhoto"
)
_FAILED_SUBJECT = N_("Your video could not be made: {title}")
_FAILED_BODY = N_(
    "Hello {name},\n\n"
    'We could not make your talking video "{title}".\n\n'
    "{reason}\n\n"
    "Your credits for it were refunded. You can try again from your videos:\n\n"
    "{link}\n\n"
    "— TalkingPhoto"
)
_OPT_OUT = N_(
    "You get this e-mail because you asked to hear when a video is done. To stop these "
    "e-mails, turn them off on your account page: {link}"
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


def _filled(language: str, template: str, params: dict[str, object]) -> str:
    """A stored error template (a catalog msgid) in ``language``; English when the catalog
    lacks it or its placeholders do not match."""
    try:
        return _t(language, template).format(**params) if params else _t(language, template)
    except (KeyError, IndexError, ValueError):
        return template.format(**params) if params else template


def video_done(
    to: str,
    name: str,
    title: str,
    *,
    videos_link: str,
    account_link: str,
    error: tuple[str, dict[str, object]] | None = None,
    language: str = "en",
) -> Message:
    """ "Your video is ready" or, with ``error`` (template, params), "could not be made"."""
    hello = name or to.split("@", 1)[0]
    footer = "\n\n" + _t(language, _OPT_OUT).format(link=account_link)
    if error is None:
        return Message(
            to=to,
            subject=_t(language, _READY_SUBJECT).format(title=title),
            text=_t(language, _READY_BODY).format(name=hello, title=title, link=videos_link)
            + footer,
            kind="video_ready",
        )
    reason = _filled(language, error[0], error[1])
    return Message(
        to=to,
        subject=_t(language, _FAILED_SUBJECT).format(title=title),
        text=_t(language, _FAILED_BODY).format(
            name=hello, title=title, reason=reason, link=videos_link
        )
        + footer,
        kind="video_failed",
    )
