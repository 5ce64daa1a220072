"""Development back end: every message is written to ``<data_dir>/outbox/`` as an ``.eml``
file (what an SMTP server would have received), for the admin Outbox page and tests."""

from __future__ import annotations

import email
import email.policy
import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mail import Message
from mail.smtp import build
from secrets_manager import Settings

log = logging.getLogger("talkingphoto.mail")
KEEP = 200  # newest messages kept; older files are removed when a new one is written


@dataclass(frozen=True)
class OutboxEntry:
    name: str
    to: str
    subject: str
    text: str
    sent_at: datetime


@dataclass(frozen=True)
class OutboxMailer:
    folder: Path
    from_address: str

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboxMailer:
        return cls(
            folder=Path(settings.app.data_dir) / "outbox", from_address=settings.smtp.from_address
        )

    def send(self, message: Message) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.folder / (name + ".tmp")
        tmp.write_bytes(build(message, self.from_address).as_bytes())
        os.replace(tmp, self.folder / name)
        for old in sorted(self.folder.glob("*.eml"))[:-KEEP]:
            old.unlink(missing_ok=True)
        log.info("mail written to the outbox: %s to %s", message.kind or "message", message.to)

    def messages(self, limit: int = 50) -> list[OutboxEntry]:
        """The newest messages first."""
        if not self.folder.is_dir():
            return []
        out: list[OutboxEntry] = []
        for path in sorted(self.folder.glob("*.eml"), reverse=True)[:limit]:
            parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = parsed.get_body(preferencelist=("plain",))
            out.append(
                OutboxEntry(
                    name=path.name,
                    to=str(parsed["To"]),
                    subject=str(parsed["Subject"]),
                    text=body.get_content() if body is not None else "",  # type: ignore[attr-defined]
                    sent_at=datetime.fromtimestamp(int(path.name.split("-")[0]) / 1e9, UTC),
                )
            )
        return out
