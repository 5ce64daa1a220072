"""E-mail through a real SMTP server on loopback (aiosmtpd): verification, password reset,
e-mail change, the admin role once verified, resend limits, login, an unreachable server.

The server is started by the test; assertions are on the messages it received.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

import mail
from errors import AccountError, AuthError, InvalidToken, RateLimited
from services import accounts, audit, sessions
from tests.test_app_server import free_port

PASSWORD = "correct horse battery"
SMTP_USER, SMTP_PASSWORD = "talkingphoto", "smtp-pass-" + "9" * 12


@dataclass
class Inbox:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == SMTP_USER
            and data.password.decode() == SMTP_PASSWORD
        )
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def body(self, message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]

    def link(self, message: EmailMessage, name: str) -> str:
        found = re.search(rf"[?&]{name}=([A-Za-z0-9._-]+)", self.body(message))
        assert found, self.body(message)
        return found.group(1)


@pytest.fixture
def inbox(accounts_env: Callable[..., None]) -> Iterator[Inbox]:
    port = free_port()
    box = Inbox("127.0.0.1", port)
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=box.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    accounts_env(
        smtp__host="127.0.0.1",
        smtp__port=port,
        smtp__starttls="false",
        smtp__username=SMTP_USER,
        smtp__password=SMTP_PASSWORD,
        smtp__from_address="TalkingPhoto <no-reply@talkingphoto.example>",
        app__base_url="https://talkingphoto.example",
    )
    mail.reset_for_tests()
    try:
        yield box
    finally:
        controller.stop()
        mail.reset_for_tests()


def test_sign_up_mails_a_verification_link_that_works_once(inbox: Inbox) -> None:
    user = accounts.sign_up("asha@example.com", PASSWORD, "Asha")
    assert not user.email_verified
    (message,) = inbox.to("asha@example.com")
    assert message["From"] == "TalkingPhoto <no-reply@talkingphoto.example>"
    assert message["Subject"] == "Confirm your e-mail address for TalkingPhoto"
    assert "Hello Asha," in inbox.body(message)
    assert "https://talkingphoto.example/account?verify=" in inbox.body(message)
    assert inbox.logins == [SMTP_USER]  # logged in with [smtp] username/password
    token = inbox.link(message, "verify")
    assert accounts.verify_email(token).email_verified
    assert accounts.get_user(user.id).email_verified  # type: ignore[union-attr]
    with pytest.raises(InvalidToken, match="already used"):
        accounts.verify_email(token)


def test_a_verification_link_expires_after_24_hours(inbox: Inbox) -> None:
    import time

    accounts.sign_up("late@example.com", PASSWORD)
    token = inbox.link(inbox.to("late@example.com")[0], "verify")
    with pytest.raises(InvalidToken) as expired:
        accounts.verify_email(token, now=time.time() + 24 * 3600 + 1)
    assert expired.value.expired
    assert not accounts.sign_in("late@example.com", PASSWORD).email_verified


def test_hindi_speakers_get_the_mail_in_hindi(inbox: Inbox) -> None:
    accounts.sign_up("meena@example.com", PASSWORD, "मीना", locale="hi")
    (message,) = inbox.to("meena@example.com")
    assert message["Subject"] != "Confirm your e-mail address for TalkingPhoto"
    assert re.search("[\u0900-\u097f]", str(message["Subject"]))  # Devanagari
    assert "मीना" in inbox.body(message) and "verify=" in inbox.body(message)


def test_resending_is_limited(inbox: Inbox, accounts_env: Callable[..., None]) -> None:
    accounts_env(accounts__verification_resends_per_hour=1)
    user = accounts.sign_up("resend@example.com", PASSWORD)
    accounts.send_verification(user.id)
    with pytest.raises(RateLimited):
        accounts.send_verification(user.id)
    assert len(inbox.to("resend@example.com")) == 2
    accounts.verify_email(inbox.link(inbox.to("resend@example.com")[-1], "verify"))
    with pytest.raises(AccountError, match="already verified"):
        accounts.send_verification(user.id)


def test_the_admin_role_needs_a_verified_address(
    inbox: Inbox, accounts_env: Callable[..., None]
) -> None:
    accounts_env(accounts__admins='["Boss@Example.com"]')
    boss = accounts.sign_up("boss@EXAMPLE.com", PASSWORD)
    assert not boss.is_admin  # anyone could type the address
    verified = accounts.verify_email(inbox.link(inbox.to("boss@example.com")[0], "verify"))
    assert verified.is_admin
    assert [e.kind for e in audit.recent(user_id=boss.id)][:2] == ["role_granted", "email_verified"]


def test_password_reset_end_to_end(inbox: Inbox) -> None:
    user = accounts.sign_up("forgetful@example.com", PASSWORD)
    sid, handoff = sessions.start(user.id)
    raw, _ = sessions.activate(handoff)
    inbox.messages.clear()

    accounts.request_password_reset(" Forgetful@Example.com ", client="198.51.100.3")
    (message,) = inbox.messages
    assert message["To"] == "forgetful@example.com"
    assert message["Subject"] == "Reset your TalkingPhoto password"
    token = inbox.link(message, "reset")
    accounts.check_reset_token(token)
    with pytest.raises(Exception, match="too easy"):
        accounts.reset_password(token, "password123")  # weak: refused, link still good
    accounts.reset_password(token, "a much better passphrase")
    assert accounts.sign_in("forgetful@example.com", "a much better passphrase").id == user.id
    with pytest.raises(AuthError):
        accounts.sign_in("forgetful@example.com", PASSWORD)
    assert sessions.resolve(raw) is None and not sessions.is_active(sid)  # every session ended
    with pytest.raises(InvalidToken, match="already used"):
        accounts.reset_password(token, "yet another passphrase")
    with pytest.raises(InvalidToken, match="already used"):
        accounts.check_reset_token(token)


def test_a_reset_link_expires_after_an_hour_and_dies_with_a_password_change(
    inbox: Inbox,
) -> None:
    import time

    user = accounts.sign_up("hourly@example.com", PASSWORD)
    accounts.request_password_reset("hourly@example.com")
    token = inbox.link(inbox.to("hourly@example.com")[-1], "reset")
    with pytest.raises(InvalidToken) as expired:
        accounts.reset_password(token, "a much better passphrase", now=time.time() + 3601)
    assert expired.value.expired
    accounts.change_password(user.id, PASSWORD, "changed in the meantime")
    with pytest.raises(InvalidToken):
        accounts.reset_password(token, "a much better passphrase")


def test_reset_says_the_same_for_unknown_addresses_and_mails_nobody(inbox: Inbox) -> None:
    assert accounts.request_password_reset("nobody@example.com") is None
    assert inbox.messages == []
    (event,) = audit.recent(kind="reset_requested")
    assert event.user_id is None and event.email == "nobody@example.com"


def test_reset_requests_are_limited(inbox: Inbox, accounts_env: Callable[..., None]) -> None:
    accounts_env(ratelimit__password_reset="2/hour")
    accounts.sign_up("spam@example.com", PASSWORD)
    inbox.messages.clear()
    for _ in range(2):
        accounts.request_password_reset("spam@example.com", client="203.0.113.1")
    with pytest.raises(RateLimited):
        accounts.request_password_reset("spam@example.com", client="203.0.113.2")
    assert len(inbox.messages) == 2


def test_changing_the_email_needs_the_password_and_a_new_verification(
    inbox: Inbox, accounts_env: Callable[..., None]
) -> None:
    accounts_env(accounts__admins='["boss@example.com"]')
    boss = accounts.sign_up("boss@example.com", PASSWORD)
    accounts.verify_email(inbox.link(inbox.to("boss@example.com")[0], "verify"))
    with pytest.raises(AuthError):
        accounts.change_email(boss.id, "wrong password!", "new@example.com")
    moved = accounts.change_email(boss.id, PASSWORD, "New@Example.com")
    assert moved.email == "new@example.com" and not moved.email_verified and not moved.is_admin
    (message,) = inbox.to("new@example.com")
    assert accounts.verify_email(inbox.link(message, "verify")).email_verified
    other = accounts.sign_up("other@example.com", PASSWORD)
    with pytest.raises(AccountError, match="already uses"):
        accounts.change_email(other.id, PASSWORD, "new@example.com")
    # The old address's verification link is no good for the new one.
    with pytest.raises(InvalidToken):
        accounts.verify_email(inbox.link(inbox.to("boss@example.com")[0], "verify"))


def test_an_unreachable_server_does_not_lose_the_sign_up(
    inbox: Inbox, accounts_env: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    accounts_env(smtp__port=free_port())  # nobody listens there
    mail.reset_for_tests()
    user = accounts.sign_up("offline@example.com", PASSWORD)
    assert user.id and inbox.messages == []
    assert "verification e-mail not sent" in caplog.text
    assert SMTP_PASSWORD not in caplog.text
    with pytest.raises(mail.MailError):
        accounts.send_verification(user.id)
