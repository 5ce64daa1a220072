"""The credits page and the gateway return pages, driven by query parameters in AppTest
(the gateways are local fake servers reached through the SDKs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from payments import checkout
from services import accounts, credits
from tests.test_accounts_pages import ENTRY, PASSWORD, TIMEOUT_S, clean, texts


@pytest.fixture
def site(accounts_env: Callable[..., None]) -> Iterator[Callable[..., None]]:
    import streamlit as st

    from services import startup

    accounts_env(features__enable_payments="true", credits__signup_grant=5)
    startup.reset_for_tests()
    st.cache_resource.clear()
    st.cache_data.clear()
    yield accounts_env
    startup.reset_for_tests()


def credits_page(**query: str) -> AppTest:
    """A fresh session (as a gateway's redirect opens one) on the credits page."""
    at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()  # the default page first, as a URL opens the app; it leaves the return alone
    at.switch_page("views/credits.py")
    return clean(at.run())


def sidebar_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.sidebar.markdown)


def _stripe_return_query(fake, purchase: checkout.PurchaseView) -> dict[str, str]:
    ref = purchase.gateway_ref or ""
    url = fake.session(ref)["success_url"].replace("{CHECKOUT_SESSION_ID}", ref)
    return dict(parse_qsl(urlsplit(url).query))


def test_the_stripe_return_page_credits_once(site, fake_stripe) -> None:
    user = accounts.local_user()
    purchase = checkout.start_purchase(user.id, "starter", "USD")
    fake_stripe.pay(purchase.gateway_ref)
    query = _stripe_return_query(fake_stripe, purchase)

    at = credits_page(**query)
    assert "Payment received: 20 credits were added to your account." in texts(at)
    assert "25 credits" in sidebar_text(at)
    assert "state" not in at.query_params and "session_id" not in at.query_params
    # The same URL opened again in another tab: no second grant.
    again = credits_page(**query)
    assert "Payment received: 20 credits were added to your account." in texts(again)
    assert credits.balance(user.id) == 25


def test_a_forged_return_shows_an_error_and_changes_nothing(site, fake_stripe) -> None:
    user = accounts.local_user()
    purchase = checkout.start_purchase(user.id, "starter", "USD")
    query = _stripe_return_query(fake_stripe, purchase)
    query["state"] = query["state"][:-4] + "AAAA"
    at = credits_page(**query)
    assert "We could not verify that payment." in [e.value for e in at.error]
    assert credits.balance(user.id) == 5
    assert checkout.get_purchase(purchase.id).status == "pending"


def test_an_unpaid_return_says_so(site, fake_stripe) -> None:
    user = accounts.local_user()
    purchase = checkout.start_purchase(user.id, "starter", "USD")
    at = credits_page(**_stripe_return_query(fake_stripe, purchase))
    assert "Your payment is not confirmed yet." in texts(at)
    cancel = dict(
        parse_qsl(urlsplit(fake_stripe.session(purchase.gateway_ref)["cancel_url"]).query)
    )
    at = credits_page(**cancel)
    assert "Payment cancelled. No money was taken." in texts(at)
    assert credits.balance(user.id) == 5


def test_the_razorpay_return_page_in_hindi(site, fake_razorpay) -> None:
    user = accounts.local_user()
    purchase = checkout.start_purchase(user.id, "creator", "INR")
    link = fake_razorpay.link(purchase.gateway_ref)
    query = {
        **dict(parse_qsl(urlsplit(link["callback_url"]).query)),
        **fake_razorpay.pay(link["id"]),
    }
    at = credits_page(lang="hi", **query)
    assert "65 क्रेडिट" in sidebar_text(at)
    assert any("60" in s.value for s in at.success)
    assert credits.balance(user.id) == 65


def test_a_return_to_a_signed_out_session_credits_the_buyer(site, fake_razorpay) -> None:
    site(features__allow_guest="false")
    buyer = accounts.sign_up("away@example.com", PASSWORD)
    purchase = checkout.start_purchase(buyer.id, "starter", "INR")
    link = fake_razorpay.link(purchase.gateway_ref)
    query = {
        **dict(parse_qsl(urlsplit(link["callback_url"]).query)),
        **fake_razorpay.pay(link["id"]),
    }
    at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S)
    for key, value in query.items():
        at.query_params[key] = value
    at = clean(at.run())  # the sign-in page: the return URL's page is not open to visitors
    text = texts(at)
    assert "Payment received: 20 credits were added to your account." in text
    assert "Sign in to use them." in text
    assert credits.balance(buyer.id) == 25


def test_opening_the_credits_page_reconciles_pending_purchases(site, fake_stripe) -> None:
    user = accounts.local_user()
    purchase = checkout.start_purchase(user.id, "creator", "USD")
    fake_stripe.pay(purchase.gateway_ref)  # paid, but the buyer closed the tab
    at = credits_page()
    assert "Payment received: 60 credits were added to your account." in texts(at)
    assert "65 credits" in sidebar_text(at)


def test_prices_in_rupees_show_gst_and_indian_grouping(site) -> None:
    site(credits__packs='[{id="bulk", credits=5000, inr=149900.0, usd=1999.0}]')
    at = credits_page(lang="hi")
    text = texts(at)
    assert "₹1,49,900.00" in text and "18% GST" in text and "₹22,866.10" in text
    at.radio(key="currency").set_value("USD").run()
    text = texts(clean(at))
    assert "$1,999.00" in text and "GST" not in text


def test_buying_with_stripe_shows_the_pay_button(site, fake_stripe) -> None:
    at = credits_page()
    at.radio(key="currency").set_value("USD").run()
    at = clean(at.button(key="buy_creator").click().run())
    (purchase,) = checkout.list_purchases(accounts.local_user().id)
    (link,) = at.get("link_button")
    assert link.proto.url == purchase.checkout_url and "$6.99" in link.proto.label
    assert "Pay by card through Stripe." in texts(at)
    assert fake_stripe.creates == 1


def test_the_chosen_currency_is_remembered(site) -> None:
    from tests.test_accounts_pages import sign_in

    site(features__allow_guest="false")
    user = accounts.sign_up("rupees@example.com", PASSWORD)
    at = sign_in(clean(AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S).run()), user.email)
    at.switch_page("views/credits.py").run()
    assert at.radio(key="currency").value == "USD"  # English, no Indian locale: dollars
    at.radio(key="currency").set_value("INR").run()
    assert accounts.get_user(user.id).currency == "INR"
    again = sign_in(clean(AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S).run()), user.email)
    again.switch_page("views/credits.py").run()
    assert clean(again).radio(key="currency").value == "INR"
    assert "₹199.00" in texts(again) and "$2.99" not in texts(again)
