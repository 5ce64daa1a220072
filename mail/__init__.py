"""Outgoing e-mail behind one small interface, chosen by ``[mail] backend``.

    send(message)        hand a :class:`Message` to the configured back end
    get_mailer()         the back end for the current settings
    backend_class(name)  the class; ConfigError naming the valid names for an unknown one

Back ends (the same registry shape as :mod:`storage`: a name, a lazily imported class,
``from_settings``):

* ``smtp``: any SMTP server (``[smtp] host, port, username, password, from_address,
  starttls, ssl``) through the standard library's ``smtplib``;
* ``outbox``: development; each message becomes a ``.eml`` file under
  ``<data_dir>/outbox/``, listed on the admin Outbox page.

With ``backend`` unset: smtp when ``[smtp] host`` is set, otherwise the outbox. A back end
implements one method, ``send(message) -> None``, and raises :class:`errors.ConfigError`
(settings) or :class:`MailError` (the server refused or could not be reached).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

from errors import N_, TalkingPhotoError
from registry import Registry
from secrets_manager import Settings, get_settings

BACKENDS: dict[str, str] = {
    "smtp": "mail.smtp:SMTPMailer",
    "outbox": "mail.outbox:OutboxMailer",
}
REGISTRY: Registry[Any] = Registry(
    BACKENDS, unknown=N_("Unknown mail back end {name!r}; valid names: {valid}.")
)

_lock = threading.Lock()
_current: tuple[Any, Mailer] | None = None


class MailError(TalkingPhotoError):
    """The mail server could not take the message (unreachable, refused, bad login)."""

    default_message = N_("We could not send the e-mail just now. Please try again later.")


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    # What kind of message (verify, reset, ...), for logs and the outbox list; no secrets.
    kind: str = ""


class Mailer(Protocol):
    def send(self, message: Message) -> None: ...


def backend_name(settings: Settings) -> str:
    if settings.mail.backend is not None:
        return settings.mail.backend
    return "smtp" if settings.smtp.host else "outbox"


def backend_class(name: str) -> Any:
    return REGISTRY.load(name)


def get_mailer() -> Mailer:
    """The back end for the current settings (rebuilt when the settings object changes)."""
    global _current
    settings = get_settings()
    with _lock:
        if _current is None or _current[0] is not settings:
            mailer: Mailer = REGISTRY.build(backend_name(settings), settings)
            _current = (settings, mailer)
        return _current[1]


def send(message: Message) -> None:
    get_mailer().send(message)


def outbox_messages(limit: int = 50) -> list[Any] | None:
    """The development outbox's newest messages, or None when mail goes out by SMTP."""
    mailer = get_mailer()
    messages = getattr(mailer, "messages", None)
    return messages(limit) if callable(messages) else None


def reset_for_tests() -> None:
    global _current
    with _lock:
        _current = None
