"""Gateway webhooks: what ``POST /api/webhooks/stripe`` and ``/razorpay`` (``web.webhooks``) do.

Both take the raw body (a signature covers the exact bytes; re-serialised JSON would not
match), verify it with the SDK, ignore an event id they have seen (``webhook_events``), and
settle through :func:`payments.fulfil.settle`, the same idempotent path as the return page.
Answers: 200 when handled or ignored, 400 for a bad signature or body (nothing changes),
404 when that gateway's webhook secret is not configured. The blocking work runs in
Starlette's thread pool, never on the event loop.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from typing import Any

import stripe
from razorpay.errors import SignatureVerificationError as RazorpaySignatureError
from razorpay.utility.utility import Utility as RazorpayUtility
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from db.models import WebhookEvent
from db.session import session_scope
from errors import GatewayUnavailable
from payments import fulfil, razorpay_gateway, stripe_gateway
from secrets_manager import get_settings

log = logging.getLogger("talkingphoto.payments.webhooks")

Answer = tuple[int, dict[str, Any]]

STRIPE_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)
RAZORPAY_EVENTS = frozenset(
    {
        "payment_link.paid",
        "payment_link.partially_paid",
        "payment_link.expired",
        "payment_link.cancelled",
    }
)


def _seen(gateway: str, event_id: str) -> bool:
    with session_scope() as session:
        found = session.scalar(
            select(WebhookEvent.id).where(
                WebhookEvent.gateway == gateway, WebhookEvent.event_id == event_id
            )
        )
        return found is not None


def _remember(gateway: str, event_id: str, event_type: str) -> None:
    try:
        with session_scope() as session:
            session.add(WebhookEvent(gateway=gateway, event_id=event_id, event_type=event_type))
    except IntegrityError:
        pass  # the same delivery handled twice at once: settle was idempotent anyway


# ------------------------------------------------------------------------------- stripe


def handle_stripe(raw: bytes, signature: str | None) -> Answer:
    secret = get_settings().stripe.webhook_secret
    if secret is None:
        return 404, {"error": "stripe webhooks are not configured"}
    try:
        event = stripe.Webhook.construct_event(raw, signature, secret.get_secret_value())
    except (ValueError, stripe.SignatureVerificationError) as exc:
        log.warning("stripe webhook rejected: %s", type(exc).__name__)
        return 400, {"error": "invalid signature or payload"}
    data = event.to_dict()
    event_id, event_type = str(data.get("id", "")), str(data.get("type", ""))
    if not event_id:
        return 400, {"error": "event without id"}
    if _seen(stripe_gateway.NAME, event_id):
        return 200, {"received": True, "duplicate": True}
    if event_type in STRIPE_EVENTS:
        session_obj = (data.get("data") or {}).get("object") or {}
        remote = stripe_gateway.remote_from_session(session_obj)
        if event_type == "checkout.session.async_payment_failed":
            remote = dataclasses.replace(remote, status="failed")
        outcome = fulfil.settle(stripe_gateway.NAME, remote)
        log.info("stripe %s %s -> %s", event_type, event_id, outcome.kind)
    _remember(stripe_gateway.NAME, event_id, event_type)
    return 200, {"received": True}


# ----------------------------------------------------------------------------- razorpay


def handle_razorpay(raw: bytes, signature: str | None, event_id: str | None) -> Answer:
    secret = get_settings().razorpay.webhook_secret
    if secret is None:
        return 404, {"error": "razorpay webhooks are not configured"}
    try:
        body = raw.decode("utf-8")
        # The SDK wants the body as str, keyed with the *webhook* secret (not key_secret).
        RazorpayUtility().verify_webhook_signature(body, signature or "", secret.get_secret_value())
        payload = json.loads(body)
    except (UnicodeDecodeError, RazorpaySignatureError, ValueError) as exc:
        log.warning("razorpay webhook rejected: %s", type(exc).__name__)
        return 400, {"error": "invalid signature or payload"}
    if not isinstance(payload, dict):
        return 400, {"error": "invalid payload"}
    event_type = str(payload.get("event", ""))
    # Razorpay's header is unique per event; without it, the signed body identifies it.
    event_id = event_id or "sha256:" + hashlib.sha256(raw).hexdigest()
    if _seen(razorpay_gateway.NAME, event_id):
        return 200, {"received": True, "duplicate": True}
    if event_type in RAZORPAY_EVENTS:
        entity = (((payload.get("payload") or {}).get("payment_link") or {}).get("entity")) or {}
        try:
            remote = razorpay_gateway.remote_from_link(entity)
        except GatewayUnavailable:  # an unknown status: keep it out of the ledger, log it
            log.warning("razorpay %s %s: unusable payment link entity", event_type, event_id)
            return 400, {"error": "unusable payment link"}
        outcome = fulfil.settle(razorpay_gateway.NAME, remote)
        log.info("razorpay %s %s -> %s", event_type, event_id, outcome.kind)
    _remember(razorpay_gateway.NAME, event_id, event_type)
    return 200, {"received": True}
