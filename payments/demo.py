"""The demo gateway: a clearly labelled test purchase for development without gateway keys.

It stands in for a remote gateway and goes through the very same purchase, return, fulfil
and reconciliation code; only the "remote" side is a table in this process, where
:func:`complete` (the "Complete test payment" button) marks a checkout paid. No money moves.
It refuses to exist in production (ConfigError), whatever the settings say.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from errors import N_, ConfigError, PaymentVerificationError
from payments.base import Checkout, Order, RemotePayment, RemoteStatus
from secrets_manager import Settings, get_settings

NAME = "demo"
REF_PREFIX = "demo_"


@dataclass
class _DemoCheckout:
    purchase_id: int
    amount_minor: int
    currency: str
    status: RemoteStatus = "pending"


_lock = threading.Lock()
_checkouts: dict[str, _DemoCheckout] = {}


def _refuse_in_production() -> None:
    if get_settings().is_production:
        raise ConfigError(N_("The demo payment gateway cannot run in production."))


class DemoGateway:
    name = NAME

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        """Development only: production never offers the demo."""
        return not settings.is_production

    @classmethod
    def from_settings(cls, settings: Settings, currency: str = "USD") -> DemoGateway:
        return cls(currency)

    def __init__(self, currency: str = "USD") -> None:
        _refuse_in_production()
        self.currency = currency

    def create_checkout(self, order: Order) -> Checkout:
        _refuse_in_production()
        ref = REF_PREFIX + secrets.token_urlsafe(12)
        with _lock:
            _checkouts[ref] = _DemoCheckout(order.purchase_id, order.amount_minor, order.currency)
        separator = "&" if "?" in order.success_url else "?"
        return Checkout(ref=ref, url=order.success_url + separator + urlencode({"ref": ref}))

    def return_reference(self, params: Mapping[str, str]) -> str:
        ref = params.get("ref") or ""
        with _lock:
            known = ref in _checkouts
        if not ref.startswith(REF_PREFIX) or not known:
            raise PaymentVerificationError(
                N_("We could not verify that payment."), gateway=NAME, detail="unknown demo ref"
            )
        return ref

    def fetch(self, ref: str) -> RemotePayment:
        _refuse_in_production()
        with _lock:
            checkout = _checkouts.get(ref)
        if checkout is None:
            # The process restarted: the demo "gateway" forgot it, like an expired session.
            return RemotePayment(ref, "expired", None, None, None)
        return RemotePayment(
            ref=ref,
            status=checkout.status,
            amount_minor=checkout.amount_minor if checkout.status == "paid" else None,
            currency=checkout.currency,
            purchase_id=checkout.purchase_id,
        )


def complete(ref: str) -> None:
    """The buyer "pays" the test checkout (what the button on the credits page does)."""
    _refuse_in_production()
    with _lock:
        checkout = _checkouts.get(ref)
        if checkout is None:
            raise PaymentVerificationError(gateway=NAME, detail="unknown demo ref")
        checkout.status = "paid"


def cancel(ref: str) -> None:
    _refuse_in_production()
    with _lock:
        checkout = _checkouts.get(ref)
        if checkout is not None and checkout.status == "pending":
            checkout.status = "expired"


def reset_for_tests() -> None:
    with _lock:
        _checkouts.clear()
