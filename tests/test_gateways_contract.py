"""One contract, three payment gateways: Stripe and Razorpay (against local fakes of their
documented APIs, through the real SDKs and their signature functions) and the demo.

:class:`GatewayContract` holds what every adapter must do; each ``Test*`` class only says how
to make it pay, expire, come back from the hosted page, and sign a webhook. Gateway-specific
facts stay in tests/test_payments.py and tests/test_payments_webhooks.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from errors import GatewayUnavailable, PaymentVerificationError
from payments import demo, gateways, razorpay_gateway, stripe_gateway
from payments.base import Gateway, Order
from secrets_manager import get_settings

SUCCESS = "http://localhost:8501/credits?provider=x&state=s"


def order(purchase_id: int = 41, currency: str = "USD", amount: int = 699) -> Order:
    return Order(
        purchase_id, 7, "creator", 60, currency, amount, "60 credits", SUCCESS, SUCCESS + "&c=1"
    )


class GatewayContract:
    name: str
    currency: str
    has_webhooks = True
    settings_section: str | None = None  # the section whose api_base can be pointed away

    @pytest.fixture
    def gateway(self) -> Gateway:  # pragma: no cover - each gateway overrides it
        raise NotImplementedError

    def pay(self, ref: str) -> dict[str, str]:
        """Mark ``ref`` paid at the gateway; the query it returns the buyer with."""
        raise NotImplementedError  # pragma: no cover

    def expire(self, ref: str) -> None:
        raise NotImplementedError  # pragma: no cover

    def forged_return(self, ref: str) -> dict[str, str]:
        raise NotImplementedError  # pragma: no cover

    def signed_webhook(self, ref: str, body: bytes | None = None) -> Callable[[], Any]:
        """A call of the gateway's ``parse_webhook`` on a correctly signed paid event (or on
        ``body``, signed as it is)."""
        raise NotImplementedError  # pragma: no cover

    # ------------------------------------------------------------------------- contract

    def test_the_registry_builds_it_from_settings(self, gateway: Gateway) -> None:
        built = gateways.get_gateway(self.name, self.currency)
        assert built.name == self.name == gateway.name
        assert gateways.is_configured(self.name, get_settings())
        assert self.name in gateways.NAMES

    def test_a_checkout_has_a_reference_and_a_page_to_pay_on(self, gateway: Gateway) -> None:
        checkout = gateway.create_checkout(order(currency=self.currency))
        assert checkout.ref and checkout.url.startswith("http")

    def test_an_unpaid_checkout_is_pending_and_grants_nothing(self, gateway: Gateway) -> None:
        ref = gateway.create_checkout(order(currency=self.currency)).ref
        remote = gateway.fetch(ref)
        assert remote.ref == ref and remote.status == "pending"

    def test_a_paid_checkout_reports_what_was_paid_and_for_which_purchase(
        self, gateway: Gateway
    ) -> None:
        ref = gateway.create_checkout(order(41, self.currency, 699)).ref
        params = self.pay(ref)
        assert gateway.return_reference(params) == ref
        remote = gateway.fetch(ref)
        assert (remote.status, remote.amount_minor) == ("paid", 699)
        assert (remote.currency, remote.purchase_id) == (self.currency, 41)

    def test_an_expired_checkout_is_expired(self, gateway: Gateway) -> None:
        ref = gateway.create_checkout(order(currency=self.currency)).ref
        self.expire(ref)
        assert gateway.fetch(ref).status == "expired"

    def test_a_forged_return_is_refused(self, gateway: Gateway) -> None:
        ref = gateway.create_checkout(order(currency=self.currency)).ref
        with pytest.raises(PaymentVerificationError):
            gateway.return_reference(self.forged_return(ref))

    def test_a_signed_webhook_names_the_payment(self, gateway: Gateway) -> None:
        if not self.has_webhooks:
            pytest.skip(f"{self.name} has no webhooks")
        ref = gateway.create_checkout(order(41, self.currency, 699)).ref
        self.pay(ref)
        event = self.signed_webhook(ref)()
        assert event.id and event.payment is not None
        assert (event.payment.ref, event.payment.status) == (ref, "paid")
        assert event.payment.purchase_id == 41

    def test_an_unreachable_gateway_is_unavailable_and_says_no_secret(
        self, gateway: Gateway, accounts_env: Callable[..., None]
    ) -> None:
        if self.settings_section is None:
            pytest.skip(f"{self.name} is not reached over the network")
        # Nothing listens on the discard port.
        accounts_env(**{f"{self.settings_section}__api_base": "http://127.0.0.1:9"})
        with pytest.raises(GatewayUnavailable) as caught:
            gateways.get_gateway(self.name, self.currency).create_checkout(
                order(currency=self.currency)
            )
        assert "secret" not in str(caught.value).lower()

    @pytest.mark.parametrize(
        "body",
        [
            b"[1,2,3]",
            # Stripe reads "type" and "data", Razorpay "event" and "payload": strings, not objects.
            b'{"id": "evt_1", "type": "checkout.session.completed", "data": "x",'
            b' "event": "payment_link.paid", "payload": "str"}',
            b'{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": [1]},'
            b' "event": "payment_link.paid", "payload": {"payment_link": {"entity": [1]}}}',
            b"not json",
            "\u00b2".encode(),
        ],
        ids=["list", "strings", "list-entity", "not-json", "superscript"],
    )
    def test_a_signed_but_malformed_webhook_is_refused(self, gateway: Gateway, body: bytes) -> None:
        if not self.has_webhooks:
            pytest.skip(f"{self.name} has no webhooks")
        with pytest.raises(PaymentVerificationError):
            self.signed_webhook("none", body)()


class TestStripe(GatewayContract):
    name, currency, settings_section = "stripe", "USD", "stripe"

    @pytest.fixture
    def gateway(self, fake_stripe: Any) -> Gateway:
        self.fake = fake_stripe
        return stripe_gateway.StripeGateway()

    def pay(self, ref: str) -> dict[str, str]:
        self.fake.pay(ref)
        return {"session_id": ref}

    def expire(self, ref: str) -> None:
        self.fake.expire(ref)

    def forged_return(self, ref: str) -> dict[str, str]:
        return {"session_id": "{CHECKOUT_SESSION_ID}"}

    def signed_webhook(self, ref: str, body: bytes | None = None) -> Callable[[], Any]:
        raw = body or json.dumps(self.fake.event("checkout.session.completed", ref)).encode()
        secret = get_settings().stripe.webhook_secret
        assert secret is not None
        header = stripe.WebhookSignature.generate_signature_header(
            raw.decode("utf-8"), secret.get_secret_value(), int(time.time())
        )
        return lambda: stripe_gateway.parse_webhook(raw, header, secret.get_secret_value())


def test_a_purchase_id_of_non_ascii_digits_is_no_purchase() -> None:
    session = {"id": "cs_1", "status": "complete", "payment_status": "paid"}
    remote = stripe_gateway.remote_from_session({**session, "metadata": {"purchase_id": "\u00b2"}})
    assert remote.purchase_id is None  # "²".isdigit() is true, int("²") raises
    assert (
        stripe_gateway.remote_from_session(
            {**session, "metadata": {"purchase_id": "42"}}
        ).purchase_id
        == 42
    )


class TestRazorpay(GatewayContract):
    name, currency, settings_section = "razorpay", "INR", "razorpay"

    @pytest.fixture
    def gateway(self, fake_razorpay: Any) -> Gateway:
        self.fake = fake_razorpay
        return razorpay_gateway.RazorpayGateway()

    def pay(self, ref: str) -> dict[str, str]:
        return dict(self.fake.pay(ref))

    def expire(self, ref: str) -> None:
        self.fake.expire(ref)

    def forged_return(self, ref: str) -> dict[str, str]:
        params = dict(self.fake.pay(ref))
        params["razorpay_payment_link_status"] = "paid"
        params["razorpay_signature"] = "0" * 64
        return params

    def signed_webhook(self, ref: str, body: bytes | None = None) -> Callable[[], Any]:
        raw = body or json.dumps(self.fake.webhook("payment_link.paid", ref)).encode()
        secret = get_settings().razorpay.webhook_secret
        assert secret is not None
        mac = hmac.new(secret.get_secret_value().encode(), raw, hashlib.sha256).hexdigest()
        return lambda: razorpay_gateway.parse_webhook(raw, mac, None, secret.get_secret_value())


class TestDemo(GatewayContract):
    name, currency = "demo", "USD"
    has_webhooks = False

    @pytest.fixture
    def gateway(self, accounts_env: Callable[..., None]) -> Gateway:
        accounts_env(features__enable_payments="true")
        demo.reset_for_tests()
        return demo.DemoGateway("USD")

    def pay(self, ref: str) -> dict[str, str]:
        demo.complete(ref)
        return {"ref": ref}

    def expire(self, ref: str) -> None:
        demo.cancel(ref)

    def forged_return(self, ref: str) -> dict[str, str]:
        return {"ref": "demo_" + "x" * 16}
