"""Credit packs, gateways (Stripe, Razorpay, demo) and fulfilment.

    catalog        packs, INR (GST included) and USD prices, formatting, default currency
    gateways       currency -> gateway; demo only outside production
    stripe_gateway / razorpay_gateway / demo   one adapter each (payments.base.Gateway)
    checkout       start a purchase, handle the buyer's return, list receipts
    fulfil         the one idempotent function that marks a purchase paid and grants credits
    reconcile      re-ask the gateway about a user's recent pending purchases
    webhooks       POST /api/webhooks/stripe and /api/webhooks/razorpay (Starlette)

:func:`check_configuration` is called once at start-up (``services.startup.start_services``).
"""

from __future__ import annotations

from errors import N_, ConfigError
from secrets_manager import Settings, get_settings


def check_configuration(settings: Settings | None = None) -> None:
    """Stop start-up when payments are on in production without any gateway keys, or when
    a gateway is half configured (a key without its webhook secret)."""
    from payments import razorpay_gateway, stripe_gateway

    settings = settings or get_settings()
    if not settings.features.enable_payments:
        return
    stripe_ok = stripe_gateway.configured(settings.stripe)
    razorpay_ok = razorpay_gateway.configured(settings.razorpay)
    if settings.is_production and not (stripe_ok or razorpay_ok):
        raise ConfigError(
            N_(
                "[features] enable_payments is on in production but no payment gateway is "
                "configured: set [stripe] secret_key or [razorpay] key_id and key_secret (the "
                "demo gateway never runs in production)."
            )
        )
    if settings.is_production and stripe_ok and settings.stripe.webhook_secret is None:
        raise ConfigError(
            N_("[stripe] webhook_secret is required in production when Stripe is configured.")
        )
    if settings.is_production and razorpay_ok and settings.razorpay.webhook_secret is None:
        raise ConfigError(
            N_("[razorpay] webhook_secret is required in production when Razorpay is configured.")
        )
