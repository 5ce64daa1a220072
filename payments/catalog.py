"""Credit packs and their prices (``[credits] packs``), in INR and USD.

Money is handled in integer minor units (paise, cents). INR prices are what the buyer pays,
GST included (Indian B2C convention: no tax added at checkout); the GST part is
``price * gst / (100 + gst)``, computed once in paise with half-up rounding, and stated next to
the price and on receipts. Prices are formatted by Babel for the page's locale; the app's
locales are en_IN and hi_IN, which group digits the Indian way (``₹1,49,900.00``).

Which currency a creator sees follows their choice (saved on the account); by default Hindi
or an Indian browser locale means INR, everything else USD. The gateway follows the currency
(:mod:`payments.gateways`): INR -> Razorpay, USD -> Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency

from errors import N_, PaymentError
from i18n import DEFAULT_LANGUAGE, NUMBERING_SYSTEM, babel_locale, normalize_language
from secrets_manager import CreditPack, Settings, get_settings

CURRENCIES: tuple[str, ...] = ("INR", "USD")


@dataclass(frozen=True)
class Price:
    currency: str  # ISO 4217, upper case
    amount_minor: int  # what the buyer pays, tax included
    tax_minor: int  # the GST part of it (0 for USD)

    @property
    def net_minor(self) -> int:
        return self.amount_minor - self.tax_minor


@dataclass(frozen=True)
class Pack:
    id: str
    credits: int
    inr: Price
    usd: Price

    def price(self, currency: str) -> Price:
        if currency == "INR":
            return self.inr
        if currency == "USD":
            return self.usd
        raise PaymentError(N_("That currency is not available."))


def to_minor(amount: float) -> int:
    """Rupees or dollars (as configured) to paise or cents, rounded half up."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def gst_part(amount_minor: int, percent: float) -> int:
    """The GST inside a tax-inclusive amount, in the same minor units."""
    if percent <= 0:
        return 0
    rate = Decimal(str(percent))
    tax = Decimal(amount_minor) * rate / (Decimal(100) + rate)
    return int(tax.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _pack(config: CreditPack, gst_percent: float) -> Pack:
    inr = to_minor(config.inr)
    return Pack(
        id=config.id,
        credits=config.credits,
        inr=Price("INR", inr, gst_part(inr, gst_percent)),
        usd=Price("USD", to_minor(config.usd), 0),
    )


def packs(settings: Settings | None = None) -> list[Pack]:
    settings = settings or get_settings()
    return [_pack(p, settings.credits.gst_percent) for p in settings.credits.packs]


def get_pack(pack_id: str, settings: Settings | None = None) -> Pack:
    for pack in packs(settings):
        if pack.id == pack_id:
            return pack
    raise PaymentError(N_("That credit pack is not on sale."))


# Indian grouping (12,34,567.00) in every UI language: CLDR gives it to en_IN, hi_IN, ta_IN,
# te_IN and bn_IN but not to mr_IN (``¤#,##0.00``), and one price must read the same on
# every page.
MONEY_PATTERN = "¤#,##,##0.00"


def format_money(amount_minor: int, currency: str, language: str | None = None) -> str:
    """``₹1,499.00`` / ``$19.99`` in the page's locale (Indian digit grouping, Latin digits)."""
    return format_currency(
        Decimal(amount_minor) / 100,
        currency,
        format=MONEY_PATTERN,
        locale=babel_locale(language),
        numbering_system=NUMBERING_SYSTEM,
    )


def default_currency(
    language: str | None, browser_locale: str | None = None, saved: str | None = None
) -> str:
    """The currency to show first: the saved choice, else INR for an Indian-language UI
    (Hindi, Tamil, ...: every UI language but English) or an Indian browser locale
    (``en-IN``), else USD."""
    if saved in CURRENCIES:
        return str(saved)
    if normalize_language(language) != DEFAULT_LANGUAGE:
        return "INR"
    if isinstance(browser_locale, str):
        parts = browser_locale.replace("_", "-").split("-")
        if len(parts) > 1 and parts[-1].upper() == "IN":
            return "INR"
    return "USD"
