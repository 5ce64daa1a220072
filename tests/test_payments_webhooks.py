"""POST /api/webhooks/stripe and /razorpay over real HTTP (uvicorn on loopback), signed with
the SDKs' own signature functions: paid -> credited once, replays and races -> no second
grant, forged or stale signatures -> 4xx and nothing changes."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest
import stripe
import uvicorn
from razorpay.utility.utility import Utility
from sqlalchemy import func, select
from starlette.applications import Starlette

from db.models import CreditEntry, Purchase, WebhookEvent
from db.session import session_scope
from payments import checkout
from services import accounts, credits
from web import webhooks

PASSWORD = "correct horse battery"


@pytest.fixture
def api() -> Iterator[str]:
    """The payment routes served by uvicorn on 127.0.0.1 (port 0), as in the app."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=webhooks.ROUTES), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture
def buyer(accounts_env: Callable[..., None]) -> accounts.UserView:
    accounts_env(credits__signup_grant=0)
    return accounts.sign_up("hooks@example.com", PASSWORD)


def _grants(user_id: int) -> int:
    with session_scope() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(CreditEntry).where(CreditEntry.user_id == user_id)
            )
            or 0
        )


# --------------------------------------------------------------------------------- stripe


def _stripe_post(api: str, payload: str, secret: str, timestamp: int | None = None):
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
    return _post(
        f"{api}/api/webhooks/stripe",
        payload.encode(),
        {"Stripe-Signature": header, "Content-Type": "application/json"},
    )


@pytest.fixture
def whsec(fake_stripe) -> str:
    from secrets_manager import get_settings

    secret = get_settings().stripe.webhook_secret
    assert secret is not None
    return secret.get_secret_value()


def test_a_signed_stripe_event_credits_once_and_replays_are_ignored(
    api: str, fake_stripe, buyer, whsec: str
) -> None:
    purchase = checkout.start_purchase(buyer.id, "starter", "USD")
    fake_stripe.pay(purchase.gateway_ref)
    payload = json.dumps(fake_stripe.event("checkout.session.completed", purchase.gateway_ref))

    assert _stripe_post(api, payload, whsec) == (200, {"received": True})
    assert credits.balance(buyer.id) == 20
    assert _stripe_post(api, payload, whsec) == (200, {"received": True, "duplicate": True})
    # The same session in a new event (Stripe's retries carry new ids): still once.
    again = json.dumps(fake_stripe.event("checkout.session.completed", purchase.gateway_ref))
    assert _stripe_post(api, again, whsec)[0] == 200
    assert credits.balance(buyer.id) == 20 and _grants(buyer.id) == 1
    assert checkout.get_purchase(purchase.id).status == "paid"


def test_async_payments_are_credited_when_they_succeed(
    api: str, fake_stripe, buyer, whsec: str
) -> None:
    purchase = checkout.start_purchase(buyer.id, "starter", "USD")
    fake_stripe.sessions[purchase.gateway_ref].update(status="complete")  # UPI/bank: unpaid
    completed = json.dumps(fake_stripe.event("checkout.session.completed", purchase.gateway_ref))
    assert _stripe_post(api, completed, whsec)[0] == 200
    assert credits.balance(buyer.id) == 0
    fake_stripe.pay(purchase.gateway_ref)
    succeeded = json.dumps(
        fake_stripe.event("checkout.session.async_payment_succeeded", purchase.gateway_ref)
    )
    assert _stripe_post(api, succeeded, whsec)[0] == 200
    assert credits.balance(buyer.id) == 20


@pytest.mark.parametrize("attack", ["wrong_secret", "stale", "altered", "missing", "not_json"])
def test_forged_or_stale_stripe_events_are_refused(
    api: str, fake_stripe, buyer, whsec: str, attack: str
) -> None:
    purchase = checkout.start_purchase(buyer.id, "starter", "USD")
    fake_stripe.pay(purchase.gateway_ref)
    payload = json.dumps(fake_stripe.event("checkout.session.completed", purchase.gateway_ref))
    url = f"{api}/api/webhooks/stripe"
    if attack == "wrong_secret":
        status, body = _stripe_post(api, payload, "whsec_not_ours")
    elif attack == "stale":  # a captured delivery replayed ten minutes later
        status, body = _stripe_post(api, payload, whsec, int(time.time()) - 600)
    elif attack == "altered":
        header = stripe.WebhookSignature.generate_signature_header(payload, whsec)
        tampered = payload.replace('"amount_total": 299', '"amount_total": 1')
        assert tampered != payload
        status, body = _post(url, tampered.encode(), {"Stripe-Signature": header})
    elif attack == "missing":
        status, body = _post(url, payload.encode(), {})
    else:
        status, body = _stripe_post(api, "{not json", whsec)
    assert status == 400 and body == {"error": "invalid signature or payload"}
    assert credits.balance(buyer.id) == 0
    assert checkout.get_purchase(purchase.id).status == "pending"
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_webhook_and_return_page_racing_grant_once(
    api: str, fake_stripe, buyer, whsec: str
) -> None:
    from urllib.parse import parse_qsl, urlsplit

    purchase = checkout.start_purchase(buyer.id, "creator", "USD")
    fake_stripe.pay(purchase.gateway_ref)
    success = fake_stripe.session(purchase.gateway_ref)["success_url"]
    params = dict(
        parse_qsl(urlsplit(success.replace("{CHECKOUT_SESSION_ID}", purchase.gateway_ref)).query)
    )
    payloads = [
        json.dumps(fake_stripe.event("checkout.session.completed", purchase.gateway_ref))
        for _ in range(3)
    ]
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def run(fn: Callable[[], object]) -> None:
        barrier.wait()
        try:
            fn()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    jobs = [lambda p=p: _stripe_post(api, p, whsec) for p in payloads]
    jobs += [lambda: checkout.complete_return(params) for _ in range(3)]
    threads = [threading.Thread(target=run, args=(fn,)) for fn in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert credits.balance(buyer.id) == 60 and _grants(buyer.id) == 1


def test_unconfigured_webhooks_answer_404(api: str, accounts_env: Callable[..., None]) -> None:
    status, _ = _post(f"{api}/api/webhooks/stripe", b"{}", {"Stripe-Signature": "t=1,v1=x"})
    assert status == 404
    status, _ = _post(f"{api}/api/webhooks/razorpay", b"{}", {"X-Razorpay-Signature": "x"})
    assert status == 404


# ------------------------------------------------------------------------------- razorpay


@pytest.fixture
def rzp_whsec(fake_razorpay) -> str:
    from secrets_manager import get_settings

    secret = get_settings().razorpay.webhook_secret
    assert secret is not None
    return secret.get_secret_value()


def _razorpay_post(api: str, body: str, secret: str, event_id: str) -> tuple[int, dict]:
    import hashlib
    import hmac

    signature = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    assert Utility().verify_webhook_signature(body, signature, secret)  # the SDK agrees
    return _post(
        f"{api}/api/webhooks/razorpay",
        body.encode(),
        {
            "X-Razorpay-Signature": signature,
            "X-Razorpay-Event-Id": event_id,
            "Content-Type": "application/json",
        },
    )


def test_a_signed_razorpay_event_credits_once_and_repeated_ids_are_ignored(
    api: str, fake_razorpay, buyer, rzp_whsec: str
) -> None:
    purchase = checkout.start_purchase(buyer.id, "starter", "INR")
    fake_razorpay.pay(purchase.gateway_ref)
    body = json.dumps(fake_razorpay.webhook("payment_link.paid", purchase.gateway_ref))
    assert _razorpay_post(api, body, rzp_whsec, "evt_1") == (200, {"received": True})
    assert _razorpay_post(api, body, rzp_whsec, "evt_1") == (
        200,
        {"received": True, "duplicate": True},
    )
    assert _razorpay_post(api, body, rzp_whsec, "evt_2")[0] == 200  # a re-delivery
    assert credits.balance(buyer.id) == 20 and _grants(buyer.id) == 1
    with session_scope() as session:
        events = session.scalars(select(WebhookEvent.event_id)).all()
    assert sorted(events) == ["evt_1", "evt_2"]


def test_razorpay_webhooks_need_the_webhook_secret_not_the_key_secret(
    api: str, fake_razorpay, buyer, rzp_whsec: str
) -> None:
    purchase = checkout.start_purchase(buyer.id, "starter", "INR")
    fake_razorpay.pay(purchase.gateway_ref)
    body = json.dumps(fake_razorpay.webhook("payment_link.paid", purchase.gateway_ref))
    status, _ = _razorpay_post(api, body, fake_razorpay.key_secret, "evt_k")
    assert status == 400
    status, _ = _post(
        f"{api}/api/webhooks/razorpay", body.encode(), {"X-Razorpay-Event-Id": "evt_none"}
    )
    assert status == 400
    assert credits.balance(buyer.id) == 0
    with session_scope() as session:
        assert session.get(Purchase, purchase.id).status == "pending"


def test_razorpay_webhook_with_a_wrong_amount_is_not_credited(
    api: str, fake_razorpay, buyer, rzp_whsec: str
) -> None:
    purchase = checkout.start_purchase(buyer.id, "starter", "INR")
    fake_razorpay.pay(purchase.gateway_ref, amount_paid=100)
    body = json.dumps(fake_razorpay.webhook("payment_link.paid", purchase.gateway_ref))
    assert _razorpay_post(api, body, rzp_whsec, "evt_m")[0] == 200
    assert credits.balance(buyer.id) == 0
    assert checkout.get_purchase(purchase.id).status == "mismatch"


def test_an_expired_link_event_marks_the_purchase(
    api: str, fake_razorpay, buyer, rzp_whsec: str
) -> None:
    purchase = checkout.start_purchase(buyer.id, "starter", "INR")
    fake_razorpay.expire(purchase.gateway_ref)
    body = json.dumps(fake_razorpay.webhook("payment_link.expired", purchase.gateway_ref))
    assert _razorpay_post(api, body, rzp_whsec, "evt_x")[0] == 200
    assert checkout.get_purchase(purchase.id).status == "expired"
    assert credits.balance(buyer.id) == 0


@pytest.mark.slow
def test_the_running_app_serves_the_webhook_routes(tmp_path) -> None:
    """`streamlit run` with no secrets: the routes exist (and say they are not configured)."""
    from tests.test_app_server import running_app

    with running_app(tmp_path) as base:
        for gateway in ("stripe", "razorpay"):
            status, body = _post(f"{base}/api/webhooks/{gateway}", b"{}", {})
            assert status == 404
            assert body == {"error": f"{gateway} webhooks are not configured"}


@pytest.mark.parametrize(
    "payload",
    [
        "[1,2,3]",
        '{"id": "evt_x", "type": "checkout.session.completed", "data": "x"}',
        '{"id": "evt_x", "type": "checkout.session.completed", "data": {"object": [1]}}',
        '{"id": "' + "e" * 300 + '", "type": "checkout.session.expired", "data": {}}',
    ],
    ids=["list", "data-string", "object-list", "long-id"],
)
def test_a_signed_but_malformed_stripe_event_is_400_not_500(
    api: str, fake_stripe, buyer, whsec: str, payload: str
) -> None:
    status, body = _stripe_post(api, payload, whsec)
    assert (status, body) == (400, {"error": "invalid signature or payload"})
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


@pytest.mark.parametrize(
    ("payload", "event_id"),
    [
        ('{"event": "payment_link.paid", "payload": "str"}', "evt_a"),
        ('{"event": "payment_link.paid", "payload": {"payment_link": {"entity": [1]}}}', "evt_b"),
        ('{"event": "payment_link.expired", "payload": {}}', "e" * 5000),
    ],
    ids=["payload-string", "entity-list", "long-event-id"],
)
def test_a_signed_but_malformed_razorpay_event_is_400_not_500(
    api: str, fake_razorpay, buyer, payload: str, event_id: str
) -> None:
    from secrets_manager import get_settings

    secret = get_settings().razorpay.webhook_secret
    assert secret is not None
    status, body = _razorpay_post(api, payload, secret.get_secret_value(), event_id)
    assert (status, body) == (400, {"error": "invalid signature or payload"})
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
