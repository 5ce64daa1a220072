"""Razorpay Payment Links (INR: UPI, Indian cards, netbanking) through the ``razorpay`` SDK.

A hosted Payment Link per purchase with ``reference_id`` naming our purchase, and a GET
callback to our credits page. Razorpay appends ``razorpay_payment_id``,
``razorpay_payment_link_id``, ``razorpay_payment_link_reference_id``,
``razorpay_payment_link_status`` and ``razorpay_signature`` to the callback URL; the signature
(HMAC-SHA256 with the key secret over ``plink|reference|status|payment``) is checked with the
SDK's ``verify_payment_link_signature``, whose dict keys are NOT the query names (passing the
query dict as it is silently returns False): :func:`callback_signature_fields` maps them.
Credits still wait for a server-side fetch of the link that says ``paid``.

Only ``[razorpay]`` settings are read; ``api_base`` points the SDK at a fake in tests.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any, NoReturn

import razorpay
import requests
from razorpay.errors import BadRequestError, GatewayError, ServerError, SignatureVerificationError
from razorpay.utility.utility import Utility as RazorpayUtility

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
from secrets_manager import RazorpaySettings, Settings, get_settings

log = logging.getLogger("talkingphoto.payments.razorpay")

NAME = "razorpay"
CONNECT_S = 10.0
READ_S = 30.0
LINK_LIFETIME_S = 3600  # Razorpay wants at least 15 minutes
LINK_ID_PREFIX = "plink_"


def configured(config: RazorpaySettings) -> bool:
    return config.key_id is not None and config.key_secret is not None


def reference_for(purchase_id: int) -> str:
    """Our purchase id as Razorpay's ``reference_id`` (unique per account, so a nonce keeps
    two databases sharing one test account from colliding)."""
    return f"tp-{purchase_id}-{secrets.token_hex(4)}"


def purchase_id_from_reference(reference: object) -> int | None:
    if not isinstance(reference, str):
        return None
    parts = reference.split("-")
    if len(parts) == 3 and parts[0] == "tp":
        return digits(parts[1])
    return None


def callback_signature_fields(params: Mapping[str, str]) -> dict[str, str]:
    """The callback's query parameters under the names the SDK's verifier reads."""
    return {
        "payment_link_id": params.get("razorpay_payment_link_id", ""),
        "payment_link_reference_id": params.get("razorpay_payment_link_reference_id", ""),
        "payment_link_status": params.get("razorpay_payment_link_status", ""),
        "razorpay_payment_id": params.get("razorpay_payment_id", ""),
        "razorpay_signature": params.get("razorpay_signature", ""),
    }


def _raise_unavailable(exc: Exception) -> NoReturn:
    """The one place Razorpay's errors become ours (vendor text goes to the log only)."""
    kind = type(exc).__name__
    log.warning("razorpay error %s", kind)
    raise GatewayUnavailable(gateway=NAME, detail=f"razorpay {kind}") from exc


_VENDOR_ERRORS = (BadRequestError, GatewayError, ServerError, requests.RequestException, ValueError)


class RazorpayGateway:
    name = NAME
    currency = "INR"

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return configured(settings.razorpay)

    @classmethod
    def from_settings(cls, settings: Settings, currency: str = "INR") -> RazorpayGateway:
        return cls(settings.razorpay)

    def __init__(self, config: RazorpaySettings | None = None) -> None:
        self._config = config or get_settings().razorpay
        if not configured(self._config):
            raise GatewayUnavailable(gateway=NAME, detail="razorpay keys are not set")

    def _client(self) -> razorpay.Client:
        assert self._config.key_id is not None and self._config.key_secret is not None
        return razorpay.Client(
            auth=(self._config.key_id, self._config.key_secret.get_secret_value()),
            base_url=self._config.api_base,
        )

    def create_checkout(self, order: Order, *, now: float | None = None) -> Checkout:
        issued = int(now if now is not None else time.time())
        body: dict[str, Any] = {
            "amount": order.amount_minor,
            "currency": order.currency,
            "accept_partial": False,
            "description": order.description,
            "reference_id": reference_for(order.purchase_id),
            "expire_by": issued + LINK_LIFETIME_S,
            "notify": {"sms": False, "email": False},
            "reminder_enable": False,
            "notes": {"purchase_id": str(order.purchase_id), "pack": order.pack_id},
            "callback_url": order.success_url,
            "callback_method": "get",
        }
        if order.email:
            body["customer"] = {"email": order.email}
        try:
            link = self._client().payment_link.create(body, timeout=(CONNECT_S, READ_S))
        except _VENDOR_ERRORS as exc:
            _raise_unavailable(exc)
        if not isinstance(link, dict) or not link.get("id") or not link.get("short_url"):
            raise GatewayUnavailable(gateway=NAME, detail="razorpay link without id or url")
        return Checkout(ref=str(link["id"]), url=str(link["short_url"]))

    def return_reference(self, params: Mapping[str, str]) -> str:
        fields = callback_signature_fields(params)
        try:
            ok = self._client().utility.verify_payment_link_signature(fields)
        except SignatureVerificationError:
            ok = False
        if not ok or not fields["payment_link_id"].startswith(LINK_ID_PREFIX):
            raise PaymentVerificationError(
                N_("We could not verify that payment."),
                gateway=NAME,
                detail="razorpay callback signature mismatch",
            )
        return fields["payment_link_id"]

    def fetch(self, ref: str) -> RemotePayment:
        try:
            link = self._client().payment_link.fetch(ref, timeout=(CONNECT_S, READ_S))
        except _VENDOR_ERRORS as exc:
            _raise_unavailable(exc)
        if not isinstance(link, dict):
            raise GatewayUnavailable(gateway=NAME, detail="razorpay link is not an object")
        return remote_from_link(link)


def remote_from_link(link: Mapping[str, Any]) -> RemotePayment:
    """Our view of a Payment Link entity (from ``fetch`` or a signed webhook)."""
    raw = link.get("status")
    status: RemoteStatus
    if raw == "paid":
        status = "paid"
    elif raw in ("expired", "cancelled"):
        status = "expired"
    elif raw in ("created", "partially_paid", "issued"):
        status = "pending"
    else:
        raise GatewayUnavailable(gateway=NAME, detail=f"unknown payment link status {raw!r}")
    paid = link.get("amount_paid")
    currency = link.get("currency")
    return RemotePayment(
        ref=str(link.get("id", "")),
        status=status,
        amount_minor=int(paid) if isinstance(paid, int) else None,
        currency=str(currency).upper() if currency else None,
        purchase_id=purchase_id_from_reference(link.get("reference_id")),
    )


# ------------------------------------------------------------------------------ webhooks

EVENTS = frozenset(
    {
        "payment_link.paid",
        "payment_link.partially_paid",
        "payment_link.expired",
        "payment_link.cancelled",
    }
)


def parse_webhook(
    raw: bytes, signature: str | None, event_id: str | None, secret: str
) -> WebhookEvent:
    """A signed Razorpay event (``X-Razorpay-Signature``: HMAC of the exact body with the
    *webhook* secret, checked by the SDK). The id is the ``X-Razorpay-Event-Id`` header, or
    the body's SHA-256 without it. PaymentVerificationError (detail: the reason) for a bad
    signature or a signed body that is not a payment-link event."""

    def reject(reason: str) -> PaymentVerificationError:
        return PaymentVerificationError(gateway=NAME, detail=f"razorpay webhook: {reason}")

    try:
        body = raw.decode("utf-8")
        RazorpayUtility().verify_webhook_signature(body, signature or "", secret)
        payload = json.loads(body)
    except SignatureVerificationError:
        raise reject("bad signature") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise reject(f"unreadable body ({type(exc).__name__})") from None
    if event_id is not None and (not event_id or len(event_id) > MAX_EVENT_ID_CHARS):
        raise reject("malformed event id")
    event_id = event_id or "sha256:" + hashlib.sha256(raw).hexdigest()
    if not isinstance(payload, dict):
        raise reject("the body is not an object")
    event_type = payload.get("event")
    if not isinstance(event_type, str):
        raise reject("missing event type")
    if event_type not in EVENTS:
        return WebhookEvent(event_id, event_type, None)
    inner = payload.get("payload")
    link = inner.get("payment_link") if isinstance(inner, dict) else None
    entity = link.get("entity") if isinstance(link, dict) else None
    if not isinstance(entity, dict):
        raise reject(f"{event_type} without a payment link entity")
    try:
        payment = remote_from_link(entity)
    except GatewayUnavailable as exc:  # an unknown status: keep it out of the ledger
        raise reject(exc.detail or "unusable payment link") from None
    return WebhookEvent(event_id, event_type, payment)
