"""Which gateway takes which currency, chosen by name from settings.

INR goes to Razorpay and USD to Stripe when their keys are set. Without keys, development
uses the demo gateway (clearly labelled on the page); production never does: a currency
without a configured gateway is simply not on sale, and enabling payments with no gateway at
all stops start-up (:func:`payments.check_configuration`).
"""

from __future__ import annotations

from typing import Any

from errors import N_, PaymentError
from payments.base import Gateway
from payments.catalog import CURRENCIES
from registry import Registry
from secrets_manager import Settings, get_settings

# Imported only when used: a site selling in rupees only never imports Stripe's SDK.
REGISTRY: Registry[Any] = Registry(
    {
        "stripe": "payments.stripe_gateway:StripeGateway",
        "razorpay": "payments.razorpay_gateway:RazorpayGateway",
        "demo": "payments.demo:DemoGateway",
    },
    unknown=N_("Unknown payment gateway {name}; valid names: {valid}."),
)
GATEWAY_FOR_CURRENCY: dict[str, str] = {"INR": "razorpay", "USD": "stripe"}
DEMO = "demo"
NAMES: tuple[str, ...] = tuple(REGISTRY.entries)


def is_configured(name: str, settings: Settings | None = None) -> bool:
    return bool(REGISTRY.load(name).configured(settings or get_settings()))


def gateway_name_for(currency: str, settings: Settings | None = None) -> str:
    """The gateway that sells in ``currency`` here; PaymentError when none can."""
    settings = settings or get_settings()
    real = GATEWAY_FOR_CURRENCY.get(currency)
    if real is None:
        raise PaymentError(N_("That currency is not available."))
    if is_configured(real, settings):
        return real
    if is_configured(DEMO, settings):
        return DEMO
    raise PaymentError(
        N_("Payments in {currency} are not available right now."), params={"currency": currency}
    )


def available_currencies(settings: Settings | None = None) -> list[str]:
    settings = settings or get_settings()
    found = []
    for currency in CURRENCIES:
        try:
            gateway_name_for(currency, settings)
        except PaymentError:
            continue
        found.append(currency)
    return found


def get_gateway(name: str, currency: str = "USD") -> Gateway:
    """The adapter called ``name`` (``currency`` only matters to the demo)."""
    gateway: Gateway = REGISTRY.build(name, get_settings(), currency=currency)
    return gateway
