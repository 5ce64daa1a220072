"""What every payment gateway adapter provides (Stripe, Razorpay, the demo).

An adapter does three things and nothing else; the purchase rows, the credits and the
decision to grant belong to :mod:`payments.checkout` and :mod:`payments.fulfil`:

* ``create_checkout(order)`` -> :class:`Checkout` (the gateway's reference and the URL the
  buyer pays at); never retried on an ambiguous answer: a new click makes a new purchase.
* ``return_reference(params)`` -> the gateway reference named by the buyer's return URL, after
  checking whatever signature the gateway puts there (PaymentVerificationError if forged).
* ``fetch(ref)`` -> :class:`RemotePayment`, the gateway's own answer about that reference,
  asked server to server; the only thing credits are granted on (with the webhooks).

Vendor errors are translated in one function per adapter into GatewayUnavailable (could not
reach or use the gateway; nothing was granted) or PaymentVerificationError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

RemoteStatus = Literal["paid", "pending", "expired", "failed"]


@dataclass(frozen=True)
class Order:
    """What to charge for: one pending purchase row."""

    purchase_id: int
    user_id: int
    pack_id: str
    credits: int
    currency: str
    amount_minor: int
    description: str
    success_url: str
    cancel_url: str
    email: str | None = None


@dataclass(frozen=True)
class Checkout:
    ref: str  # cs_... / plink_... / demo_...
    url: str


@dataclass(frozen=True)
class RemotePayment:
    """The gateway's answer about one reference."""

    ref: str
    status: RemoteStatus
    amount_minor: int | None
    currency: str | None  # upper case
    purchase_id: int | None  # our id as the gateway recorded it (metadata / reference_id)


MAX_EVENT_ID_CHARS = 255  # the webhook_events.event_id column


@dataclass(frozen=True)
class WebhookEvent:
    """A signed webhook a gateway parsed: its id (deduplication), its type, and the payment
    it reports, or ``None`` for an event we do not act on (still remembered)."""

    id: str
    type: str
    payment: RemotePayment | None


def digits(value: object) -> int | None:
    """``int(value)`` for a string of ASCII digits (``"²".isdigit()`` is true), else None."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


class Gateway(Protocol):
    name: str
    currency: str

    def create_checkout(self, order: Order) -> Checkout: ...

    def return_reference(self, params: Mapping[str, str]) -> str: ...

    def fetch(self, ref: str) -> RemotePayment: ...
