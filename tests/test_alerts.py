"""Alerts reach someone: a webhook receiver and an SMTP server on loopback, started here.

An alert fires once, stays quiet while the condition lasts (de-duplication), speaks again
after the cool-down or when it gets worse, says "resolved" once; a failed delivery is retried;
the webhook URL (a secret) never reaches the log.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

import mail
from db.models import HealthSample, Job, User
from db.session import session_scope
from observability import alerts
from tests.test_app_server import free_port

WEBHOOK_TOKEN = "T000/B000/secret-hook-token-123456"
T0 = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def body(self, message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]


class WebhookReceiver:
    """Records JSON POSTs; answers ``status`` (set it to 500 to play a broken receiver)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.status < 300:
                    receiver.posts.append(json.loads(body))
                    receiver.paths.append(self.path)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/services/{WEBHOOK_TOKEN}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def inbox(settings_env: Callable[..., None]) -> Iterator[Inbox]:
    port = free_port()
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings_env(
        smtp__host="127.0.0.1",
        smtp__port=port,
        smtp__starttls="false",
        smtp__from_address="TalkingPhoto <alerts@talkingphoto.example>",
    )
    mail.reset_for_tests()
    try:
        yield box
    finally:
        controller.stop()
        mail.reset_for_tests()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver()
    try:
        yield hook
    finally:
        hook.close()


@pytest.fixture
def channels(
    inbox: Inbox, receiver: WebhookReceiver, settings_env: Callable[..., None]
) -> tuple[Inbox, WebhookReceiver]:
    settings_env(
        alerts__emails='["oncall@example.com"]',
        alerts__webhooks=f'["{receiver.url}"]',
        alerts__cooldown_s=1800,
    )
    alerts.reset_for_tests()
    return inbox, receiver


def _health(status: str, *reasons: str) -> list[alerts.Condition]:
    return alerts.health_conditions(status, reasons)


def test_fires_once_cools_down_reminds_and_resolves(
    channels: tuple[Inbox, WebhookReceiver],
) -> None:
    inbox, hook = channels
    sent = alerts.evaluate(_health("degraded", "Memory 900 MB; the limit is 800 MB."), T0)
    assert [(n.kind, n.delivered) for n in sent] == [("firing", True)]
    assert inbox.subjects() == ["[TalkingPhoto] FIRING [degraded]: health is degraded"]
    assert "Memory 900 MB" in inbox.body(inbox.messages[0])
    assert len(hook.posts) == 1 and "FIRING" in hook.posts[0]["text"]
    assert "Memory 900 MB" in hook.posts[0]["text"]

    # Still degraded a minute, then 29 minutes later: nothing new (de-duplicated).
    for minutes in (1, 29):
        later = T0 + dt.timedelta(minutes=minutes)
        assert alerts.evaluate(_health("degraded", "Memory 910 MB."), later) == []
    assert len(inbox.messages) == 1 and len(hook.posts) == 1

    # The cool-down (30 min) is over: one reminder.
    reminder = alerts.evaluate(_health("degraded", "Memory 920 MB."), T0 + dt.timedelta(minutes=31))
    assert [n.kind for n in reminder] == ["reminder"]
    assert inbox.subjects()[-1].startswith("[TalkingPhoto] STILL FIRING [degraded]")

    # Worse (down) is news at once, cool-down or not.
    worse = alerts.evaluate(_health("down", "Database unreachable."), T0 + dt.timedelta(minutes=32))
    assert [n.kind for n in worse] == ["firing"]
    assert "[down]" in inbox.subjects()[-1]

    # Back to ok: resolved, once.
    resolved = alerts.evaluate(_health("ok"), T0 + dt.timedelta(minutes=40))
    assert [(n.kind, n.delivered) for n in resolved] == [("resolved", True)]
    assert inbox.subjects()[-1] == "[TalkingPhoto] RESOLVED: Health"
    assert "Back to normal after 40 min" in inbox.body(inbox.messages[-1])
    assert alerts.evaluate(_health("ok"), T0 + dt.timedelta(minutes=41)) == []
    assert len(inbox.messages) == len(hook.posts) == 4
    assert hook.paths[0] == f"/services/{WEBHOOK_TOKEN}"


def test_a_failed_delivery_is_retried_on_the_next_sample(
    settings_env: Callable[..., None], receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    settings_env(alerts__webhooks=f'["{receiver.url}"]')
    receiver.status = 500
    with caplog.at_level(logging.INFO):
        first = alerts.evaluate(_health("down", "Disk full."), T0)
    assert [(n.kind, n.delivered) for n in first] == [("firing", False)]
    assert WEBHOOK_TOKEN not in caplog.text  # the URL is a secret
    assert "answered 500" in caplog.text
    receiver.status = 200
    second = alerts.evaluate(_health("down", "Disk full."), T0 + dt.timedelta(minutes=1))
    assert [(n.kind, n.delivered) for n in second] == [("firing", True)]
    assert len(receiver.posts) == 1


def test_the_health_hook_alerts_on_a_launch_number_below_its_goal(
    channels: tuple[Inbox, WebhookReceiver],
) -> None:
    """Twenty finished videos, three failed: 85 % < 95 % is an alert; fixing it resolves."""
    inbox, hook = channels
    now = dt.datetime.now(dt.UTC)
    with session_scope() as session:
        user = User(email="c@example.com")
        session.add(user)
        session.flush()
        for n in range(20):
            session.add(
                Job(
                    id=f"job-{n:02d}",
                    user_id=user.id,
                    status="failed" if n < 3 else "succeeded",
                    script="Hi",
                    language="en",
                    provider="local",
                    cost_credits=1,
                    finished_at=now - dt.timedelta(minutes=n),
                )
            )
        session.add(HealthSample(ts=now, status="ok", data={}))
    clock = [0.0]
    notices = alerts.on_sample("ok", [], clock=lambda: clock[0])
    assert [(n.key, n.kind) for n in notices] == [("launch.success", "firing")]
    assert "Video success rate below 95%" in inbox.subjects()[-1]
    assert "85.00%" in inbox.body(inbox.messages[-1])
    # The next samples do not query the launch numbers again before LAUNCH_EVERY_S.
    clock[0] = 60.0
    assert alerts.on_sample("ok", [], clock=lambda: clock[0]) == []
    with session_scope() as session:
        for n in range(3):
            session.get(Job, f"job-{n:02d}").status = "succeeded"  # type: ignore[union-attr]
    clock[0] = alerts.LAUNCH_EVERY_S + 1
    resolved = alerts.on_sample("ok", [], clock=lambda: clock[0])
    assert [(n.key, n.kind) for n in resolved] == [("launch.success", "resolved")]
    assert len(hook.posts) == 2


def test_nothing_is_evaluated_without_channels(settings_env: Callable[..., None]) -> None:
    settings_env()
    assert not alerts.configured()
    assert alerts.on_sample("down", ["Database unreachable."]) == []
    assert alerts.state() == []


def test_the_health_sampler_sends_firing_then_resolved(
    channels: tuple[Inbox, WebhookReceiver], settings_env: Callable[..., None]
) -> None:
    """End to end through the real hook: the sampler's snapshot is degraded (memory limit
    below what this process uses), then healthy again."""
    import health_monitor

    _inbox, hook = channels
    settings_env(health__memory_mb_max=64, alerts__launch_numbers="false")
    clock = [0.0]
    sampler = health_monitor.Sampler(clock=lambda: clock[0])
    sampler.tick(background=False)
    assert len(hook.posts) == 1
    assert "FIRING" in hook.posts[0]["text"] and "Process memory" in hook.posts[0]["text"]
    assert "/health" in hook.posts[0]["text"]
    clock[0] = 30.0  # the next sample is due after sample_every_s (60 s)
    sampler.tick(background=False)
    assert len(hook.posts) == 1
    settings_env(health__memory_mb_max=1_000_000)
    clock[0] = 61.0
    sampler.tick(background=False)
    assert len(hook.posts) == 2 and "RESOLVED" in hook.posts[1]["text"]
