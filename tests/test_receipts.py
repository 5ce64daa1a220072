"""A receipt per paid purchase (issue 15, item 11): services.receipts and the Receipts page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from payments.checkout import PurchaseView
from tests.test_accounts_pages import app, clean, sign_up, site  # noqa: F401


def _purchase(currency: str, amount: int, tax: int, status: str = "paid") -> PurchaseView:
    when = dt.datetime(2026, 12, 5, 10, 30, tzinfo=dt.UTC)
    return PurchaseView(
        id=42, gateway="razorpay", gateway_ref="pay_<b>X1", pack_id="starter", credits=60,
        currency=currency, amount_minor=amount, tax_minor=tax, status=status,
        checkout_url=None, created_at=when, paid_at=when,
    )  # fmt: skip


def test_an_inr_receipt_states_the_amount_and_its_gst_part(foundation_env) -> None:
    from services import receipts

    page = receipts.receipt_html(
        _purchase("INR", 49_900, 7_612), buyer="Asha <asha@x.in>", item="60 credits"
    )
    assert "₹499.00" in page and "₹76.12" in page and "of which GST" in page
    assert "60 credits" in page and "Order" in page and "42" in page
    assert "Asha &lt;asha@x.in&gt;" in page and "pay_&lt;b&gt;X1" in page  # escaped
    assert "GSTIN" not in page and "Tax invoice" not in page  # no invented tax numbers


def test_a_usd_receipt_has_no_tax_lines(foundation_env) -> None:
    from services import receipts

    page = receipts.receipt_html(_purchase("USD", 699, 0), buyer="Sam", item="60 credits")
    assert "$6.99" in page
    assert "GST" not in page


def test_only_a_paid_purchase_has_a_receipt(foundation_env) -> None:
    from services import receipts

    with pytest.raises(ValueError, match="not paid"):
        receipts.receipt_html(
            _purchase("USD", 699, 0, status="pending"), buyer="Sam", item="60 credits"
        )


def test_the_receipts_page_offers_each_paid_order_as_a_download(
    site: Callable[..., None],  # noqa: F811
) -> None:
    site(features__allow_guest="false", features__enable_payments="true")
    at = sign_up(clean(app()), "receipt@example.com")
    at.switch_page("views/receipts.py").run()
    assert not [s for s in at.selectbox if s.key == "receipt_order"]  # nothing paid yet
    at.switch_page("views/credits.py").run()
    at = clean(at.button(key="buy_starter").click().run())
    at = clean(at.button(key="demo_pay").click().run())
    at.switch_page("views/receipts.py").run()
    clean(at)
    order = at.selectbox(key="receipt_order")
    assert len(order.options) == 1 and order.options[0].startswith("Order ")
    download = at.download_button(key="receipt_download")
    assert download.label == "Download receipt"
