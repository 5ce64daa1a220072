"""Stripe Checkout (USD) through the ``stripe`` SDK.

A one-time Checkout Session per purchase: mode ``payment``, inline ``price_data``,
``client_reference_id`` = our user, ``metadata.purchase_id`` = our purchase, and the
purchase's own idempotency key, so a double click or an SDK retry cannot open two sessions.
The success URL carries Stripe's literal ``{CHECKOUT_SESSION_ID}`` and our signed state.

Only ``[stripe]`` settings are read. ``api_base`` points the SDK at a fake server in tests.
Network retries are off: Stripe's idempotency would make them safe, but a page must not hang;
the buyer can click again (a new purchase, a new key).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any, NoReturn

import stripe

from errors import N_, GatewayUnavailable, PaymentVerificationError
from payments.base import (
    MAX_EVENT_ID_CHARS,
    Checkout,
    Order,
    RemotePayment,
    RemoteStatus,
    WebhookEvent,
    digits,
)
from secrets_manager import Settings, StripeSettings, get_settings

log = logging.getLogger("talkingphoto.payments.stripe")

NAME = "stripe"
CONNECT_S = 10.0
READ_S = 30.0
SESSION_ID_PREFIX = "cs_"


def configured(config: StripeSettings) -> bool:
    return config.secret_key is not None


def _raise_unavailable(exc: stripe.StripeError) -> NoReturn:
    """The one place Stripe's errors become ours (the vendor text goes to the log only)."""
    kind = type(exc).__name__
    status = getattr(exc, "http_status", None)
    code = getattr(exc, "code", None)
    log.warning("stripe error %s (http %s, code %s)", kind, status, code)
    raise GatewayUnavailable(
        gateway=NAME, detail=f"stripe {kind} http={status} code={code}"
    ) from exc


class StripeGateway:
    name = NAME
    currency = "USD"

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return configured(settings.stripe)

    @classmethod
    def from_settings(cls, settings: Settings, currency: str = "USD") -> StripeGateway:
        return cls(settings.stripe)

    def __init__(self, config: StripeSettings | None = None) -> None:
        self._config = config or get_settings().stripe
        if self._config.secret_key is None:
            raise GatewayUnavailable(gateway=NAME, detail="stripe secret_key is not set")

    def _client(self) -> stripe.StripeClient:
        assert self._config.secret_key is not None
        return stripe.StripeClient(
            self._config.secret_key.get_secret_value(),
            base_addresses={"api": self._config.api_base},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=(CONNECT_S, READ_S)),
        )

    def create_checkout(self, order: Order) -> Checkout:
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": order.currency.lower(),
                        "unit_amount": order.amount_minor,
                        "product_data": {"name": order.description},
                    },
                }
            ],
            "success_url": order.success_url,
            "cancel_url": order.cancel_url,
            "client_reference_id": str(order.user_id),
            "metadata": {
                "purchase_id": str(order.purchase_id),
                "user_id": str(order.user_id),
                "pack": order.pack_id,
                "credits": str(order.credits),
            },
        }
        if order.email:
            params["customer_email"] = order.email
        try:
            session = self._client().v1.checkout.sessions.create(
                params, {"idempotency_key": f"talkingphoto-purchase-{order.purchase_id}"}
            )
        except stripe.StripeError as exc:
            _raise_unavailable(exc)
        data = session.to_dict()
        if not data.get("id") or not data.get("url"):
            raise GatewayUnavailable(gateway=NAME, detail="stripe session without id or url")
        return Checkout(ref=str(data["id"]), url=str(data["url"]))

    def return_reference(self, params: Mapping[str, str]) -> str:
        session_id = params.get("session_id") or ""
        # Still the literal template: the URL was opened without going through Stripe.
        if not session_id.startswith(SESSION_ID_PREFIX) or len(session_id) > 255:
            raise PaymentVerificationError(
                N_("We could not verify that payment."), gateway=NAME, detail="bad session_id"
            )
        return session_id

    def fetch(self, ref: str) -> RemotePayment:
        try:
            session = self._client().v1.checkout.sessions.retrieve(ref)
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "http_status", None) == 404:
                raise PaymentVerificationError(
                    gateway=NAME, detail="stripe session not found"
                ) from exc
            _raise_unavailable(exc)
        except stripe.StripeError as exc:
            _raise_unavailable(exc)
        return remote_from_session(session.to_dict())


def remote_from_session(data: Mapping[str, Any]) -> RemotePayment:
    """Our view of a Checkout Session (from ``retrieve`` or a signed webhook event)."""
    status: RemoteStatus
    if (
        data.get("status") == "complete"
        and data.get("payment_status") == "paid"
        and data.get("mode", "payment") == "payment"
    ):
        status = "paid"
    elif data.get("status") == "expired":
        status = "expired"
    else:
        status = "pending"  # open, or complete but an async payment is still on its way
    metadata = data.get("metadata") or {}
    purchase_id = digits(metadata.get("purchase_id")) if isinstance(metadata, Mapping) else None
    amount = data.get("amount_total")
    currency = data.get("currency")
    return RemotePayment(
        ref=str(data.get("id", "")),
        status=status,
        amount_minor=int(amount) if isinstance(amount, int) else None,
        currency=str(currency).upper() if currency else None,
        purchase_id=purchase_id,
    )


# ------------------------------------------------------------------------------ webhooks

EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)


def parse_webhook(raw: bytes, signature: str | None, secret: str) -> WebhookEvent:
    """A signed Stripe event (``Stripe-Signature`` checked by the SDK on the exact bytes).

    PaymentVerificationError, with the reason in its detail, for a bad signature or a body
    that is signed but not shaped like a Checkout Session event: the route answers 400 and
    nothing changes."""

    def reject(reason: str) -> PaymentVerificationError:
        return PaymentVerificationError(gateway=NAME, detail=f"stripe webhook: {reason}")

    try:
        event = stripe.Webhook.construct_event(raw, signature, secret)
        data = event.to_dict()
    except stripe.SignatureVerificationError:
        raise reject("bad signature") from None
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise reject(f"unreadable body ({type(exc).__name__})") from None
    if not isinstance(data, Mapping):
        raise reject("the body is not an object")
    event_id, event_type = data.get("id"), data.get("type")
    if not isinstance(event_id, str) or not event_id or len(event_id) > MAX_EVENT_ID_CHARS:
        raise reject("missing or malformed event id")
    if not isinstance(event_type, str):
        raise reject("missing event type")
    if event_type not in EVENTS:
        return WebhookEvent(event_id, event_type, None)
    body = data.get("data")
    session = body.get("object") if isinstance(body, Mapping) else None
    if not isinstance(session, Mapping):
        raise reject(f"{event_type} without a session object")
    payment = remote_from_session(session)
    if event_type == "checkout.session.async_payment_failed":
        payment = dataclasses.replace(payment, status="failed")
    return WebhookEvent(event_id, event_type, payment)
