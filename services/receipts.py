"""A receipt per paid purchase, as a small self-contained HTML file to download and print
(issue 15, item 11).

Amounts are formatted by Babel in the purchase's own currency (``payments.catalog``), in the
page's language. Tax: INR prices include GST, so an INR receipt states the GST part the
purchase row recorded; the app has no GST registration number (GSTIN) setting, so none is
printed and the document is a *receipt*, not a tax invoice. The seller is the operator from
``[legal]`` (company name and address) when configured, else "TalkingPhoto". Everything
shown is escaped.
"""

from __future__ import annotations

import html

from i18n import _, babel_locale, format_datetime
from payments import catalog
from payments.checkout import PurchaseView
from secrets_manager import get_settings

GATEWAYS = {"stripe": "Stripe", "razorpay": "Razorpay", "demo": "Test (demo)"}


def file_name(purchase: PurchaseView) -> str:
    return f"talkingphoto-receipt-{purchase.id}.html"


def receipt_html(
    purchase: PurchaseView, *, buyer: str, item: str, tz_name: str | None = None
) -> str:
    """The receipt of a paid purchase; ValueError for one that is not paid. ``item`` is what
    was bought as the page words it ("60 credits", with the page's plural rules)."""
    if purchase.status != "paid":
        raise ValueError(f"purchase {purchase.id} is not paid")
    legal = get_settings().legal
    seller = legal.company_name or "TalkingPhoto"
    lang = babel_locale().split("_")[0]
    when = format_datetime(purchase.paid_at or purchase.created_at, tz_name=tz_name)
    amount = catalog.format_money(purchase.amount_minor, purchase.currency)
    rows = [
        (_("Order"), str(purchase.id)),
        (_("Date"), when),
        (_("Billed to"), buyer),
        (_("Item"), item),
        (_("Paid with"), GATEWAYS.get(purchase.gateway, purchase.gateway)),
        (_("Payment reference"), purchase.gateway_ref or "—"),
    ]
    total_rows = [(_("Total paid"), amount)]
    if purchase.currency == "INR" and purchase.tax_minor:
        total_rows.append(
            (_("of which GST"), catalog.format_money(purchase.tax_minor, purchase.currency))
        )

    def table(pairs: list[tuple[str, str]], css: str) -> str:
        cells = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in pairs
        )
        return f'<table class="{css}">{cells}</table>'

    address = f"<p>{html.escape(legal.company_address)}</p>" if legal.company_address else ""
    gst = _("Prices in rupees include GST.")  # (not inside the f-string: see tests/test_i18n)
    note = f"<p>{html.escape(gst)}</p>" if purchase.currency == "INR" else ""
    title = _("Receipt")
    return (
        f'<!doctype html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} {purchase.id}</title><style>"
        "body{font-family:system-ui,'Noto Sans','Noto Sans Devanagari',sans-serif;"
        "max-width:40rem;margin:2rem auto;color:#1D2233;padding:0 1rem}"
        "table{border-collapse:collapse;width:100%;margin:1rem 0}"
        "th,td{text-align:left;padding:.4rem .2rem;border-bottom:1px solid #E4E0F5}"
        ".total td{font-weight:700}"
        "</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p><b>{html.escape(seller)}</b></p>{address}"
        f"{table(rows, 'facts')}{table(total_rows, 'total')}{note}</body></html>"
    )
