"""Buying credits through Stripe and Razorpay (local fake servers reached through the SDKs'
own base-URL settings) and the demo gateway: credits granted exactly once, and only for a
payment the gateway confirms with the right amount and currency."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import razorpay
from sqlalchemy import func, select, update

from db.models import CreditEntry, Purchase, utcnow
from db.session import session_scope
from errors import (
    AccountError,
    ConfigError,
    GatewayUnavailable,
    PaymentError,
    PaymentVerificationError,
    RateLimited,
)
from payments import catalog, checkout, demo, gateways, reconcile
from payments import check_configuration as check_payments
from services import accounts, credits

PASSWORD = "correct horse battery"


@pytest.fixture
def buyer(accounts_env: Callable[..., None]) -> accounts.UserView:
    accounts_env(credits__signup_grant=5)
    return accounts.sign_up("buyer@example.com", PASSWORD)


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def _purchase_row(purchase_id: int) -> Purchase:
    with session_scope() as session:
        row = session.get(Purchase, purchase_id)
        assert row is not None
        return row


def _grants() -> int:
    with session_scope() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(CreditEntry)
                .where(CreditEntry.reason.like("purchase %"))
            )
            or 0
        )


# ------------------------------------------------------------------------------- catalog


def test_inr_prices_include_gst_and_use_indian_grouping(settings_env: Callable[..., None]) -> None:
    pack = catalog.get_pack("starter")
    assert (pack.inr.amount_minor, pack.inr.tax_minor, pack.inr.net_minor) == (19900, 3036, 16864)
    assert (pack.usd.amount_minor, pack.usd.tax_minor) == (299, 0)
    assert catalog.format_money(14990000, "INR", "en") == "₹1,49,900.00"
    assert catalog.format_money(14990000, "INR", "hi") == "₹1,49,900.00"
    assert catalog.format_money(1999, "USD", "en") == "$19.99"
    assert catalog.gst_part(100000, 18) == 15254  # ₹1,000 incl. 18% -> ₹152.54 GST
    settings_env(credits__gst_percent=0)
    assert catalog.get_pack("starter").inr.tax_minor == 0
    with pytest.raises(PaymentError):
        catalog.get_pack("platinum")


def test_the_default_currency_follows_language_and_locale() -> None:
    assert catalog.default_currency("hi") == "INR"
    assert catalog.default_currency("en", "en-IN") == "INR"
    assert catalog.default_currency("en", "en-US") == "USD"
    assert catalog.default_currency("en", None) == "USD"
    assert catalog.default_currency("hi", "hi-IN", saved="USD") == "USD"
    for lang in ("ta", "te", "bn", "mr"):  # every Indian-language UI starts in rupees
        assert catalog.default_currency(lang) == "INR", lang


@pytest.mark.parametrize("lang", ["en", "hi", "ta", "te", "bn", "mr"])
def test_rupee_amounts_read_with_latin_digits_in_every_ui_language(lang: str) -> None:
    """Bengali and Marathi default to native digits in CLDR (৳১,৫০০ / ₹१,५००); prices stay in
    the digits receipts, gateways and creators use."""
    assert catalog.format_money(150000, "INR", lang) == "₹1,500.00"
    assert catalog.format_money(1234567_00, "INR", lang) == "₹12,34,567.00"


# ------------------------------------------------------------------------------- gateways


def test_gateways_follow_currency_and_keys(accounts_env: Callable[..., None]) -> None:
    accounts_env(features__enable_payments="true")
    assert gateways.gateway_name_for("USD") == "demo"  # development without keys
    assert gateways.gateway_name_for("INR") == "demo"
    accounts_env(stripe__secret_key="sk_test_" + "x" * 20)
    assert gateways.gateway_name_for("USD") == "stripe"
    assert gateways.gateway_name_for("INR") == "demo"
    accounts_env(app__environment="production", jwt__secret_key="j" * 40)
    assert gateways.available_currencies() == ["USD"]
    with pytest.raises(PaymentError, match="Payments in INR are not available"):
        gateways.gateway_name_for("INR")


def test_production_never_runs_the_demo(accounts_env: Callable[..., None]) -> None:
    accounts_env(
        app__environment="production", features__enable_payments="true", jwt__secret_key="j" * 40
    )
    with pytest.raises(ConfigError, match="no payment gateway is configured"):
        check_payments()
    with pytest.raises(ConfigError, match="demo"):
        demo.DemoGateway()
    with pytest.raises(ConfigError):
        gateways.get_gateway("demo")
    accounts_env(stripe__secret_key="sk_live_" + "x" * 20)
    with pytest.raises(ConfigError, match="webhook_secret"):
        check_payments()
    accounts_env(stripe__webhook_secret="whsec_" + "x" * 20)
    check_payments()
    accounts_env(features__enable_payments="false", stripe__secret_key="")
    check_payments()  # payments off: nothing to check


# --------------------------------------------------------------------------------- stripe


def test_stripe_checkout_session_is_made_as_documented(fake_stripe, buyer) -> None:
    purchase = checkout.start_purchase(buyer.id, "creator", "USD")
    assert purchase.gateway == "stripe" and purchase.status == "pending"
    session = fake_stripe.session(purchase.gateway_ref)
    assert session["mode"] == "payment"
    assert (session["amount_total"], session["currency"]) == (699, "usd")
    assert session["metadata"]["purchase_id"] == str(purchase.id)
    assert session["client_reference_id"] == str(buyer.id)
    # Stripe's literal placeholder survives, next to our signed state.
    assert "session_id={CHECKOUT_SESSION_ID}" in session["success_url"]
    assert "provider=stripe&state=ey" in session["success_url"]
    assert session["success_url"].startswith("http://localhost:8501/credits?")
    (_method, _path, headers) = next(r for r in fake_stripe.requests if r[0] == "POST")
    assert headers["idempotency-key"] == f"talkingphoto-purchase-{purchase.id}"
    assert purchase.checkout_url == session["url"]


def test_stripe_idempotency_key_makes_one_session_per_purchase(fake_stripe, buyer) -> None:
    from payments.base import Order
    from payments.stripe_gateway import StripeGateway

    order = Order(7, buyer.id, "starter", 20, "USD", 299, "20 credits", "http://a/s", "http://a/c")
    first = StripeGateway().create_checkout(order)
    again = StripeGateway().create_checkout(order)  # a double click, an SDK retry
    assert first == again and fake_stripe.creates == 1


@pytest.fixture
def stripe_purchase(fake_stripe, buyer) -> Callable[..., checkout.PurchaseView]:
    def make(pack: str = "starter") -> checkout.PurchaseView:
        return checkout.start_purchase(buyer.id, pack, "USD")

    return make


def _stripe_return(fake, purchase: checkout.PurchaseView) -> dict[str, str]:
    """The URL Stripe sends the buyer back to, with its placeholder filled in."""
    ref = purchase.gateway_ref or ""
    return _query(fake.session(ref)["success_url"].replace("{CHECKOUT_SESSION_ID}", ref))


def test_paid_stripe_checkout_is_credited_once(fake_stripe, buyer, stripe_purchase) -> None:
    purchase = stripe_purchase()
    params = _stripe_return(fake_stripe, purchase)
    fake_stripe.pay(purchase.gateway_ref)
    result = checkout.complete_return(params)
    assert result.kind == "credited" and result.purchase.status == "paid"
    assert credits.balance(buyer.id) == 5 + 20
    # The same return again (reload, second tab): nothing more.
    assert checkout.complete_return(params).kind == "already"
    assert credits.balance(buyer.id) == 25 and _grants() == 1
    with session_scope() as session:
        refs = session.scalars(select(CreditEntry.reference)).all()
    assert f"stripe:{purchase.gateway_ref}" in refs


def test_unpaid_or_expired_stripe_sessions_are_not_credited(
    fake_stripe, buyer, stripe_purchase
) -> None:
    purchase = stripe_purchase()
    params = _stripe_return(fake_stripe, purchase)
    assert checkout.complete_return(params).kind == "pending"
    fake_stripe.expire(purchase.gateway_ref)
    result = checkout.complete_return(params)
    assert result.kind == "expired" and result.purchase.status == "expired"
    assert credits.balance(buyer.id) == 5


@pytest.mark.parametrize(
    "tamper", [{"amount_total": 1}, {"currency": "eur"}, {"metadata": {"purchase_id": "999"}}]
)
def test_amount_or_currency_mismatch_is_not_credited_and_is_logged(
    fake_stripe, buyer, stripe_purchase, caplog: pytest.LogCaptureFixture, tamper: dict
) -> None:
    purchase = stripe_purchase()
    fake_stripe.pay(purchase.gateway_ref, **tamper)
    with caplog.at_level(logging.WARNING, logger="talkingphoto.payments"):
        result = checkout.complete_return(_stripe_return(fake_stripe, purchase))
    assert result.kind == "mismatch" and result.purchase.status == "mismatch"
    assert credits.balance(buyer.id) == 5
    assert f"purchase {purchase.id} NOT credited" in caplog.text
    # Paying "properly" afterwards does not unlock it: an operator looks at it.
    fake_stripe.pay(
        purchase.gateway_ref,
        amount_total=299,
        currency="usd",
        metadata={"purchase_id": str(purchase.id)},
    )
    assert checkout.complete_return(_stripe_return(fake_stripe, purchase)).kind == "mismatch"
    assert _purchase_row(purchase.id).failure_reason


def test_forged_returns_change_nothing(fake_stripe, buyer, stripe_purchase) -> None:
    mine = stripe_purchase()
    other = stripe_purchase("creator")
    fake_stripe.pay(mine.gateway_ref)
    good = _stripe_return(fake_stripe, mine)
    forged_state = {**good, "state": good["state"][:-3] + "abc"}
    swapped = {**good, "session_id": other.gateway_ref or ""}  # someone else's session
    wrong_gateway = {**good, "provider": "razorpay"}
    placeholder = {**good, "session_id": "{CHECKOUT_SESSION_ID}"}
    for params in (forged_state, swapped, wrong_gateway, placeholder, {**good, "state": ""}):
        with pytest.raises(PaymentVerificationError):
            checkout.complete_return(params)
    assert credits.balance(buyer.id) == 5
    assert _purchase_row(mine.id).status == "pending"


def test_a_stale_return_state_is_refused(
    fake_stripe, buyer, stripe_purchase, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    purchase = stripe_purchase()
    fake_stripe.pay(purchase.gateway_ref)
    params = _stripe_return(fake_stripe, purchase)
    later = time.time() + checkout.RETURN_STATE_TTL_S + 1
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(PaymentVerificationError):
        checkout.complete_return(params)
    monkeypatch.undo()
    assert credits.balance(buyer.id) == 5


def test_two_tabs_returning_at_once_grant_once(fake_stripe, buyer, stripe_purchase) -> None:
    purchase = stripe_purchase()
    fake_stripe.pay(purchase.gateway_ref)
    params = _stripe_return(fake_stripe, purchase)
    barrier = threading.Barrier(4)
    kinds: list[str] = []

    def tab() -> None:
        barrier.wait()
        kinds.append(checkout.complete_return(params).kind)

    threads = [threading.Thread(target=tab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(kinds) == ["already", "already", "already", "credited"]
    assert credits.balance(buyer.id) == 25 and _grants() == 1


def test_an_unreachable_gateway_fails_the_purchase_cleanly(
    accounts_env: Callable[..., None], buyer
) -> None:
    accounts_env(
        features__enable_payments="true",
        stripe__secret_key="sk_test_" + "z" * 20,
        stripe__api_base="http://127.0.0.1:9",  # nothing listens on the discard port
    )
    with pytest.raises(GatewayUnavailable) as caught:
        checkout.start_purchase(buyer.id, "starter", "USD")
    assert "sk_test_" not in str(caught.value)
    with session_scope() as session:
        row = session.scalars(select(Purchase)).one()
    assert row.status == "failed" and row.gateway_ref is None


def test_guests_cannot_buy_and_purchases_are_throttled(
    accounts_env: Callable[..., None], fake_stripe, buyer
) -> None:
    guest = accounts.start_guest()
    with pytest.raises(AccountError, match="account to buy"):
        checkout.start_purchase(guest.id, "starter", "USD")
    accounts_env(ratelimit__purchase="2/hour")
    checkout.start_purchase(buyer.id, "starter", "USD")
    checkout.start_purchase(buyer.id, "starter", "USD")
    with pytest.raises(RateLimited):
        checkout.start_purchase(buyer.id, "starter", "USD")
    assert fake_stripe.creates == 2


# ------------------------------------------------------------------------------- razorpay


def test_razorpay_payment_link_is_made_as_documented(fake_razorpay, buyer) -> None:
    purchase = checkout.start_purchase(buyer.id, "studio", "INR")
    assert purchase.gateway == "razorpay"
    assert (purchase.amount_minor, purchase.tax_minor) == (149900, 22866)
    link = fake_razorpay.link(purchase.gateway_ref)
    assert (link["amount"], link["currency"], link["accept_partial"]) == (149900, "INR", False)
    assert link["reference_id"].startswith(f"tp-{purchase.id}-")
    assert link["callback_method"] == "get"
    callback = _query(link["callback_url"])
    assert callback["provider"] == "razorpay" and callback["state"].startswith("ey")


def _razorpay_return(fake, purchase: checkout.PurchaseView, **override) -> dict[str, str]:
    link = fake.link(purchase.gateway_ref)
    return {**_query(link["callback_url"]), **fake.pay(purchase.gateway_ref, **override)}


def test_paid_razorpay_link_is_credited_once(fake_razorpay, buyer) -> None:
    purchase = checkout.start_purchase(buyer.id, "starter", "INR")
    params = _razorpay_return(fake_razorpay, purchase)
    assert checkout.complete_return(params).kind == "credited"
    assert checkout.complete_return(params).kind == "already"
    assert credits.balance(buyer.id) == 25 and _grants() == 1
    with session_scope() as session:
        refs = session.scalars(select(CreditEntry.reference)).all()
    assert f"razorpay:{purchase.gateway_ref}" in refs


def test_razorpay_callback_signature_key_names(fake_razorpay, buyer) -> None:
    """The SDK trap: given the callback's own query names it says False instead of raising;
    our mapping gives it the names it reads."""
    from payments.razorpay_gateway import callback_signature_fields

    purchase = checkout.start_purchase(buyer.id, "starter", "INR")
    params = _razorpay_return(fake_razorpay, purchase)
    client = razorpay.Client(auth=(fake_razorpay.key_id, fake_razorpay.key_secret))
    assert client.utility.verify_payment_link_signature(params) is False
    assert client.utility.verify_payment_link_signature(callback_signature_fields(params)) is True


def test_forged_razorpay_callbacks_change_nothing(fake_razorpay, buyer) -> None:
    purchase = checkout.start_purchase(buyer.id, "starter", "INR")
    params = _razorpay_return(fake_razorpay, purchase)
    bad_signature = {**params, "razorpay_signature": "0" * 64}
    other_status = {**params, "razorpay_payment_link_status": "cancelled"}
    no_signature = {k: v for k, v in params.items() if k != "razorpay_signature"}
    for forged in (bad_signature, other_status, no_signature):
        with pytest.raises(PaymentVerificationError):
            checkout.complete_return(forged)
    assert credits.balance(buyer.id) == 5
    assert _purchase_row(purchase.id).status == "pending"


def test_a_signed_callback_still_needs_a_paid_link(fake_razorpay, buyer) -> None:
    """A genuine signature says "paid", but the link (asked server to server) is not."""
    purchase = checkout.start_purchase(buyer.id, "starter", "INR")
    params = _razorpay_return(fake_razorpay, purchase)
    fake_razorpay.links[purchase.gateway_ref]["status"] = "created"
    assert checkout.complete_return(params).kind == "pending"
    fake_razorpay.expire(purchase.gateway_ref)
    assert checkout.complete_return(params).kind == "expired"
    assert credits.balance(buyer.id) == 5


@pytest.mark.parametrize("tamper", [{"amount_paid": 100}, {"currency": "USD"}])
def test_razorpay_mismatch_is_not_credited(
    fake_razorpay, buyer, caplog: pytest.LogCaptureFixture, tamper: dict
) -> None:
    purchase = checkout.start_purchase(buyer.id, "starter", "INR")
    params = _razorpay_return(fake_razorpay, purchase, **tamper)
    with caplog.at_level(logging.WARNING, logger="talkingphoto.payments"):
        assert checkout.complete_return(params).kind == "mismatch"
    assert credits.balance(buyer.id) == 5 and "NOT credited" in caplog.text


# ------------------------------------------------------------------------- reconciliation


def test_reconciliation_credits_a_paid_purchase_whose_tab_was_closed(
    fake_stripe, fake_razorpay, buyer
) -> None:
    usd = checkout.start_purchase(buyer.id, "starter", "USD")
    inr = checkout.start_purchase(buyer.id, "creator", "INR")
    unpaid = checkout.start_purchase(buyer.id, "studio", "USD")
    fake_stripe.pay(usd.gateway_ref)
    fake_razorpay.pay(inr.gateway_ref)
    kinds = sorted(o.kind for o in reconcile.reconcile_user(buyer.id))
    assert kinds == ["credited", "credited", "pending"]
    assert credits.balance(buyer.id) == 5 + 20 + 60
    assert reconcile.reconcile_user(buyer.id)[0].kind == "pending"  # paid ones are done
    assert _purchase_row(unpaid.id).status == "pending"


def test_reconciliation_looks_back_one_day_only(fake_stripe, buyer) -> None:
    old = checkout.start_purchase(buyer.id, "starter", "USD")
    fake_stripe.pay(old.gateway_ref)
    with session_scope() as session:
        session.execute(
            update(Purchase)
            .where(Purchase.id == old.id)
            .values(created_at=utcnow() - timedelta(hours=25))
        )
    assert reconcile.reconcile_user(buyer.id) == []
    assert credits.balance(buyer.id) == 5
    # Injected clock: seen from an hour after it was made, it is in the window.
    assert reconcile.reconcile_user(buyer.id, now=utcnow() - timedelta(hours=24))[0].paid


def test_reconciliation_skips_an_unreachable_gateway(
    accounts_env: Callable[..., None], fake_stripe, buyer
) -> None:
    purchase = checkout.start_purchase(buyer.id, "starter", "USD")
    fake_stripe.pay(purchase.gateway_ref)
    accounts_env(stripe__api_base="http://127.0.0.1:9")
    assert reconcile.reconcile_user(buyer.id) == []
    accounts_env(stripe__api_base=fake_stripe.url)
    assert reconcile.reconcile_user(buyer.id)[0].kind == "credited"


# ------------------------------------------------------------------------------------ demo


def test_the_demo_gateway_runs_the_same_purchase_and_fulfil_path(
    accounts_env: Callable[..., None], buyer
) -> None:
    accounts_env(features__enable_payments="true")
    purchase = checkout.start_purchase(buyer.id, "starter", "INR")
    assert purchase.gateway == "demo" and purchase.tax_minor == 3036
    params = _query(purchase.checkout_url or "")
    assert checkout.complete_return(params).kind == "pending"  # not "paid" yet
    demo.complete(purchase.gateway_ref or "")
    assert checkout.complete_return(params).kind == "credited"
    assert checkout.complete_return(params).kind == "already"
    assert credits.balance(buyer.id) == 25
    with session_scope() as session:
        assert (
            f"demo:{purchase.gateway_ref}" in session.scalars(select(CreditEntry.reference)).all()
        )


# ------------------------------------------------------------------------- failed videos


def test_a_failed_generation_is_refunded(
    accounts_env: Callable[..., None], jobs_env, astronaut_path: Path
) -> None:
    from services import jobs, photos

    user = accounts.sign_up("maker@example.com", PASSWORD)
    jobs_env.mode = "reject"
    prepared = photos.prepare_photo(astronaut_path.read_bytes())
    job = jobs.submit(
        user.id, photo=prepared, script="Hello.", params=jobs.JobParams("en", provider="fake")
    )
    assert job.status == "failed"
    assert credits.balance(user.id) == 20
    with session_scope() as session:
        amounts = dict(session.execute(select(CreditEntry.reference, CreditEntry.amount)).all())
    assert amounts[f"job:{job.id}:debit"] == -job.cost_credits
    assert amounts[f"job:{job.id}:refund"] == job.cost_credits
