"""Which gateway takes which currency, chosen by name from settings.

INR goes to Razorpay and USD to Stripe when their keys are set. Without keys, development
uses the demo gateway (clearly labelled on the page); production never does: a currency
without a configured gateway is simply not on sale, and enabling payments with no gateway at
all stops start-up (:func:`payments.check_configuration`).
"""

from __future__ import annotations

from errors import N_, ConfigError, PaymentError
from payments import demo, razorpay_gateway, stripe_gateway
from payments.base import Gateway
from payments.catalog import CURRENCIES
from secrets_manager import Settings, get_settings

GATEWAY_FOR_CURRENCY: dict[str, str] = {"INR": razorpay_gateway.NAME, "USD": stripe_gateway.NAME}
NAMES: tuple[str, ...] = (stripe_gateway.NAME, razorpay_gateway.NAME, demo.NAME)


def is_configured(name: str, settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    if name == stripe_gateway.NAME:
        return stripe_gateway.configured(settings.stripe)
    if name == razorpay_gateway.NAME:
        return razorpay_gateway.configured(settings.razorpay)
    if name == demo.NAME:
        return not settings.is_production
    raise ConfigError(
        N_("Unknown payment gateway {name}; valid names: {valid}."),
        params={"name": name, "valid": ", ".join(NAMES)},
    )


def gateway_name_for(currency: str, settings: Settings | None = None) -> str:
    """The gateway that sells in ``currency`` here; PaymentError when none can."""
    settings = settings or get_settings()
    real = GATEWAY_FOR_CURRENCY.get(currency)
    if real is None:
        raise PaymentError(N_("That currency is not available."))
    if is_configured(real, settings):
        return real
    if not settings.is_production:
        return demo.NAME
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
    if name == stripe_gateway.NAME:
        return stripe_gateway.StripeGateway()
    if name == razorpay_gateway.NAME:
        return razorpay_gateway.RazorpayGateway()
    if name == demo.NAME:
        return demo.DemoGateway(currency)
    raise ConfigError(
        N_("Unknown payment gateway {name}; valid names: {valid}."),
        params={"name": name, "valid": ", ".join(NAMES)},
    )
