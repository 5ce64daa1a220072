"""No secret ever reaches a page, a log line or an error message.

Canary values are planted in every secret setting this part of the app uses (gateway keys,
webhook secrets, the JWT key) and in a user's password; then sign-up, sign-in, purchases,
gateway returns (good and forged), webhooks (good and forged), unreachable and misconfigured
gateways and bad settings all run. Everything a person or an operator could read (AppTest
page text, link targets, every log record at DEBUG, every error's message and detail) is
searched for the canaries and for password hashes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe
from streamlit.testing.v1 import AppTest

from errors import TalkingPhotoError
from payments import checkout, webhooks
from services import accounts
from tests.fakes.razorpay_api import FakeRazorpay
from tests.fakes.stripe_api import FakeStripe
from tests.test_accounts_pages import ENTRY, TIMEOUT_S, sign_in, sign_up, texts

STRIPE_KEY = "sk_test_CANARYstripeKEY0123456789"
STRIPE_WHSEC = "whsec" + "_CANARYwebhook0123456789"  # assembled: not a committed secret
RZP_SECRET = "CANARYrzpKeySecret0123456789"
RZP_WHSEC = "CANARYrzpWebhook0123456789"
JWT_KEY = "CANARYjwtSecretKey-0123456789-abcdefghij"
PASSWORD = "CANARY password horse staple"
CANARIES = (STRIPE_KEY, STRIPE_WHSEC, RZP_SECRET, RZP_WHSEC, JWT_KEY, PASSWORD, "CANARY")
HASH_MARKERS = ("$argon2", "argon2id$")


@pytest.fixture
def planted(
    accounts_env: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> Iterator[tuple[FakeStripe, FakeRazorpay, Callable[..., None]]]:
    import streamlit as st

    from services import startup

    caplog.set_level(logging.DEBUG)
    with (
        FakeStripe(secret_key=STRIPE_KEY) as fake_stripe,
        FakeRazorpay(key_id="rzp_test_canary", key_secret=RZP_SECRET) as fake_razorpay,
    ):
        accounts_env(
            features__enable_payments="true",
            features__allow_guest="false",
            stripe__secret_key=STRIPE_KEY,
            stripe__webhook_secret=STRIPE_WHSEC,
            stripe__api_base=fake_stripe.url,
            razorpay__key_id=fake_razorpay.key_id,
            razorpay__key_secret=RZP_SECRET,
            razorpay__webhook_secret=RZP_WHSEC,
            razorpay__api_base=fake_razorpay.url,
            jwt__secret_key=JWT_KEY,
        )
        startup.reset_for_tests()
        st.cache_resource.clear()
        yield fake_stripe, fake_razorpay, accounts_env
        startup.reset_for_tests()


def _page_text(at: AppTest) -> str:
    links = [f"{b.proto.label} {b.proto.url}" for b in at.get("link_button")]
    exceptions = [str(e.value) for e in at.exception]
    return "\n".join([texts(at), *links, *exceptions])


def _error_text(exc: BaseException) -> str:
    parts = [str(exc), repr(exc)]
    if isinstance(exc, TalkingPhotoError):
        parts += [exc.user_message, exc.detail or "", json.dumps(exc.params)]
    return "\n".join(parts)


def _assert_clean(where: str, text: str) -> None:
    for canary in (*CANARIES, *HASH_MARKERS):
        assert canary not in text, f"{canary!r} leaked into {where}"


def test_no_secret_reaches_pages_logs_or_errors(
    planted: tuple[FakeStripe, FakeRazorpay, Callable[..., None]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_stripe, fake_razorpay, settings = planted
    seen: list[tuple[str, str]] = []

    # --- pages: sign up, sign out, a wrong then a right password, buy, returns
    at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S).run()
    at = sign_up(at, "asha.k@example.com", PASSWORD)
    seen.append(("sign-up page", _page_text(at)))
    assert at.session_state["signup_password"] == ""  # the password is not kept
    at = at.sidebar.button(key="sign_out").click().run()
    at = sign_in(at, "asha.k@example.com", "a wrong password here")
    seen.append(("failed sign-in page", _page_text(at)))
    at = sign_in(at, "asha.k@example.com", PASSWORD)
    at.switch_page("views/credits.py").run()
    at.radio(key="currency").set_value("USD").run()
    at = at.button(key="buy_starter").click().run()
    seen.append(("checkout page", _page_text(at)))
    at.switch_page("views/receipts.py").run()
    seen.append(("receipts page", _page_text(at)))
    at.switch_page("views/account.py").run()
    seen.append(("account page", _page_text(at)))

    user = accounts.sign_in("asha.k@example.com", PASSWORD)
    usd = checkout.list_purchases(user.id)[0]
    success = fake_stripe.session(usd.gateway_ref)["success_url"]
    good = dict(
        parse_qsl(urlsplit(success.replace("{CHECKOUT_SESSION_ID}", usd.gateway_ref)).query)
    )
    inr = checkout.start_purchase(user.id, "starter", "INR")
    callback = dict(parse_qsl(urlsplit(fake_razorpay.link(inr.gateway_ref)["callback_url"]).query))
    paid = fake_razorpay.pay(inr.gateway_ref)
    fake_stripe.pay(usd.gateway_ref)
    returns = {
        "forged stripe state": {**good, "state": good["state"][:-3] + "xyz"},
        "forged razorpay signature": {**callback, **paid, "razorpay_signature": "00" * 32},
        "stripe return": good,
        "razorpay return": {**callback, **paid},
    }
    for name, query in returns.items():
        page = AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S)
        for key, value in query.items():
            page.query_params[key] = value
        page.run()  # signed out: the sign-in page handles the return
        seen.append((name, _page_text(page)))

    # --- webhooks: forged, stale and good deliveries, and their answers
    event = json.dumps(fake_stripe.event("checkout.session.completed", usd.gateway_ref))
    for header in (
        "t=1,v1=" + "0" * 64,
        stripe.WebhookSignature.generate_signature_header(event, STRIPE_WHSEC, 1),
        stripe.WebhookSignature.generate_signature_header(event, STRIPE_WHSEC),
    ):
        seen.append(
            ("stripe webhook answer", json.dumps(webhooks.handle_stripe(event.encode(), header)))
        )
    body = json.dumps(fake_razorpay.webhook("payment_link.paid", inr.gateway_ref)).encode()
    seen.append(
        ("razorpay webhook answer", json.dumps(webhooks.handle_razorpay(body, "bad", "e1")))
    )

    # --- errors: unreachable gateway, wrong key at the gateway, bad settings

    from secrets_manager import get_settings

    errors: list[BaseException] = []
    for base, key in (("http://127.0.0.1:9", STRIPE_KEY), (fake_stripe.url, STRIPE_KEY + "x")):
        settings(stripe__api_base=base, stripe__secret_key=key)
        with pytest.raises(TalkingPhotoError) as caught:
            checkout.start_purchase(user.id, "starter", "USD")
        errors.append(caught.value)
    settings(jwt__secret_key="CANARY-short")
    with pytest.raises(TalkingPhotoError) as caught:
        get_settings()
    errors.append(caught.value)
    settings(jwt__secret_key=JWT_KEY)
    with pytest.raises(TalkingPhotoError) as caught:
        accounts.sign_in("asha.k@example.com", PASSWORD + " typo")
    errors.append(caught.value)
    for exc in errors:
        seen.append((f"error {type(exc).__name__}", _error_text(exc)))

    # --- and everything logged on the way, at every level
    logged = [
        "\n".join(
            filter(
                None,
                [
                    r.getMessage(),
                    r.exc_text,
                    logging.Formatter().formatException(r.exc_info) if r.exc_info else "",
                ],
            )
        )
        for r in caplog.records
    ]
    assert len(logged) > 5  # the flows above really logged
    seen.append(("logs", "\n".join(logged)))

    assert any("Payment received" in text for _where, text in seen)  # the good paths ran
    for where, text in seen:
        _assert_clean(where, text)
