"""Gateway webhooks: what ``POST /api/webhooks/stripe`` and ``/razorpay`` (``web.webhooks``) do.

Both take the raw body (a signature covers the exact bytes; re-serialised JSON would not
match). The gateway's own module verifies and parses it (``parse_webhook``); this module,
the same for every gateway, ignores an event id already seen (``webhook_events``) and
settles through :func:`payments.fulfil.settle`, the same idempotent path as the return page.
Answers: 200 when handled or ignored, 400 for a bad signature or body (nothing changes),
404 when that gateway's webhook secret is not configured. The blocking work runs in
Starlette's thread pool, never on the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from db.models import WebhookEvent as SeenEvent
from db.session import session_scope
from errors import PaymentVerificationError
from observability.redaction import scrub
from payments import fulfil, razorpay_gateway, stripe_gateway
from payments.base import WebhookEvent
from secrets_manager import get_settings

log = logging.getLogger("talkingphoto.payments.webhooks")

Answer = tuple[int, dict[str, Any]]


def _seen(gateway: str, event_id: str) -> bool:
    with session_scope() as session:
        found = session.scalar(
            select(SeenEvent.id).where(SeenEvent.gateway == gateway, SeenEvent.event_id == event_id)
        )
        return found is not None


def _remember(gateway: str, event_id: str, event_type: str) -> None:
    try:
        with session_scope() as session:
            session.add(SeenEvent(gateway=gateway, event_id=event_id, event_type=event_type))
    except IntegrityError:
        pass  # the same delivery handled twice at once: settle was idempotent anyway


# ------------------------------------------------------------------------------- routes


def _settle(gateway: str, parse: Callable[[], WebhookEvent]) -> Answer:
    """The gateway-neutral part: parse (the gateway checks its signature), skip a delivery
    already handled, settle through :func:`payments.fulfil.settle`, remember the event."""
    try:
        event = parse()
    except PaymentVerificationError as exc:
        log.warning("%s webhook rejected: %s", gateway, scrub(exc.detail or ""))
        return 400, {"error": "invalid signature or payload"}
    if _seen(gateway, event.id):
        return 200, {"received": True, "duplicate": True}
    if event.payment is not None:
        outcome = fulfil.settle(gateway, event.payment)
        log.info("%s %s %s -> %s", gateway, event.type, event.id, outcome.kind)
    _remember(gateway, event.id, event.type)
    return 200, {"received": True}


def handle_stripe(raw: bytes, signature: str | None) -> Answer:
    secret = get_settings().stripe.webhook_secret
    if secret is None:
        return 404, {"error": "stripe webhooks are not configured"}
    return _settle(
        stripe_gateway.NAME,
        lambda: stripe_gateway.parse_webhook(raw, signature, secret.get_secret_value()),
    )


def handle_razorpay(raw: bytes, signature: str | None, event_id: str | None) -> Answer:
    secret = get_settings().razorpay.webhook_secret
    if secret is None:
        return 404, {"error": "razorpay webhooks are not configured"}
    return _settle(
        razorpay_gateway.NAME,
        lambda: razorpay_gateway.parse_webhook(raw, signature, event_id, secret.get_secret_value()),
    )
