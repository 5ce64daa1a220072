"""SMTP back end (standard library ``smtplib``): STARTTLS or TLS, optional login."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from errors import N_, ConfigError
from mail import MailError, Message
from secrets_manager import Settings

log = logging.getLogger("talkingphoto.mail")


def build(message: Message, from_address: str) -> EmailMessage:
    """The MIME message (UTF-8 text, so Hindi travels intact)."""
    email = EmailMessage()
    email["From"] = from_address
    email["To"] = message.to
    email["Subject"] = message.subject
    domain = from_address.rsplit("@", 1)[-1].strip(" >") or "localhost"
    email["Message-ID"] = make_msgid(domain=domain)
    email.set_content(message.text, charset="utf-8")
    return email


@dataclass(frozen=True)
class SMTPMailer:
    host: str
    port: int
    from_address: str
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    use_ssl: bool = False
    timeout_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SMTPMailer:
        smtp = settings.smtp
        if not smtp.host:
            raise ConfigError(N_("E-mail by SMTP needs [smtp] host."))
        return cls(
            host=smtp.host,
            port=smtp.port,
            from_address=smtp.from_address,
            username=smtp.username,
            password=smtp.password.get_secret_value() if smtp.password else None,
            starttls=smtp.starttls,
            use_ssl=smtp.ssl,
            timeout_s=smtp.timeout_s,
        )

    def send(self, message: Message) -> None:
        email = build(message, self.from_address)
        try:
            if self.use_ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    timeout=self.timeout_s,
                    context=ssl.create_default_context(),
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            with client:
                if self.starttls and not self.use_ssl:
                    client.starttls(context=ssl.create_default_context())
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(email)
        except (smtplib.SMTPException, OSError) as exc:
            # The exception text may quote the server; it never holds our password.
            raise MailError(detail=f"smtp {self.host}:{self.port}: {type(exc).__name__}") from exc
        log.info("mail sent: %s to %s", message.kind or "message", message.to)
