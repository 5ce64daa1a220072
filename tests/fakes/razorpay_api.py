"""A loopback fake of Razorpay's Payment Links API, reached through the SDK's own
``razorpay.Client(..., base_url=url)`` (``[razorpay] api_base``).

    with FakeRazorpay(key_id="rzp_test_x", key_secret="s3cret") as fake:
        fake.url
        query = fake.pay(link_id)         # the buyer paid: the callback's query parameters,
                                          # signed like Razorpay signs them (key_secret)
        fake.pay(link_id, amount_paid=100, currency="USD")   # what a tampered link says
        fake.expire(link_id)
        fake.webhook("payment_link.paid", link_id)           # a webhook body (dict)

Endpoints: ``POST /v1/payment_links`` (JSON; ``reference_id`` must be unique:
400 ``BAD_REQUEST_ERROR`` "payment link creation with reference ID already attempted";
``callback_method`` must be ``get`` when a callback is set; amount >= 100 paise) and
``GET /v1/payment_links/{id}``. Basic auth ``key_id:key_secret``; errors have Razorpay's shape.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.fakes import hosted_page
from tests.fakes.loopback import LoopbackServer


def link_signature(secret: str, link_id: str, reference: str, status: str, payment: str) -> str:
    message = f"{link_id}|{reference}|{status}|{payment}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class FakeRazorpay(LoopbackServer):
    def __init__(self, key_id: str = "rzp_test_fake", key_secret: str = "fake_secret") -> None:
        self.key_id = key_id
        self.key_secret = key_secret
        self.links: dict[str, dict[str, Any]] = {}
        self.creates = 0
        self.requests: list[tuple[str, str]] = []
        self._references: set[str] = set()
        self._lock = threading.Lock()
        self._listen(self._handler())

    # ------------------------------------------------------------------ test hooks
    def pay(self, link_id: str, **override: Any) -> dict[str, str]:
        """Mark the link paid and return the callback query Razorpay would redirect with."""
        payment_id = "pay_" + secrets.token_hex(7)
        with self._lock:
            link = self.links[link_id]
            link.update(status="paid", amount_paid=link["amount"])
            link["payments"] = [
                {
                    "payment_id": payment_id,
                    "amount": link["amount"],
                    "method": "upi",
                    "status": "captured",
                    "plink_id": link_id,
                }
            ]
            link.update(override)
            reference = link["reference_id"]
        return {
            "razorpay_payment_id": payment_id,
            "razorpay_payment_link_id": link_id,
            "razorpay_payment_link_reference_id": reference,
            "razorpay_payment_link_status": "paid",
            "razorpay_signature": link_signature(
                self.key_secret, link_id, reference, "paid", payment_id
            ),
        }

    def expire(self, link_id: str) -> None:
        with self._lock:
            self.links[link_id]["status"] = "expired"

    def link(self, link_id: str) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps(self.links[link_id]))

    def webhook(self, event: str, link_id: str) -> dict[str, Any]:
        link = self.link(link_id)
        return {
            "entity": "event",
            "account_id": "acc_fake",
            "event": event,
            "contains": ["payment_link", "order", "payment"],
            "payload": {"payment_link": {"entity": link}},
            "created_at": int(time.time()),
        }

    # ------------------------------------------------------------------ API
    def _create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        amount = body.get("amount")
        if not isinstance(amount, int) or amount < 100:
            return 400, _error("The amount must be at least INR 1.00", "amount")
        if body.get("callback_url") and body.get("callback_method") != "get":
            return 400, _error("callback_method should be get", "callback_method")
        reference = body.get("reference_id")
        with self._lock:
            if reference in self._references:
                return 400, _error(
                    "payment link creation with reference ID already attempted", "reference_id"
                )
            if reference:
                self._references.add(reference)
            link_id = "plink_" + secrets.token_hex(7)
            link = {
                "id": link_id,
                "entity": "payment_link",
                "amount": amount,
                "amount_paid": 0,
                "currency": body.get("currency", "INR"),
                "accept_partial": body.get("accept_partial", False),
                "description": body.get("description", ""),
                "reference_id": reference or "",
                "status": "created",
                "short_url": f"{self.url}/i/{link_id}",
                "callback_url": body.get("callback_url"),
                "callback_method": body.get("callback_method"),
                "expire_by": body.get("expire_by", 0),
                "notes": body.get("notes", {}),
                "payments": None,
                "created_at": int(time.time()),
            }
            self.links[link_id] = link
            self.creates += 1
            return 200, dict(link)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self
        expected = "Basic " + base64.b64encode(f"{self.key_id}:{self.key_secret}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") == expected:
                    return True
                self._send(401, _error("Authentication failed"))
                return False

            def do_POST(self) -> None:
                fake.requests.append(("POST", self.path))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if hosted := re.fullmatch(r"/i/([^/?]+)", urlsplit(self.path).path):
                    # The buyer paid by UPI on the hosted page: back to callback_url, signed.
                    query = fake.pay(hosted.group(1))
                    callback = str(fake.link(hosted.group(1))["callback_url"])
                    joiner = "&" if "?" in callback else "?"
                    hosted_page.redirect(self, callback + joiner + urlencode(query))
                    return
                if not self._authorised():
                    return
                if urlsplit(self.path).path.rstrip("/") != "/v1/payment_links":
                    self._send(404, _error("The requested URL was not found on the server."))
                    return
                self._send(*fake._create(json.loads(body or b"{}")))

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path))
                if hosted := re.fullmatch(r"/i/([^/?]+)", urlsplit(self.path).path):
                    link = fake.link(hosted.group(1))
                    amount = f"{link['amount'] / 100:.2f} {link['currency']}"
                    hosted_page.send_page(self, "Razorpay (test) — UPI", amount, self.path)
                    return
                if not self._authorised():
                    return
                match = re.fullmatch(r"/v1/payment_links/([^/?]+)", urlsplit(self.path).path)
                with fake._lock:
                    link = fake.links.get(match.group(1)) if match else None
                    body = dict(link) if link else None
                if body is None:
                    self._send(400, _error("The id provided does not exist", "id"))
                    return
                self._send(200, body)

        return Handler


def _error(description: str, field: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "code": "BAD_REQUEST_ERROR",
            "description": description,
            "source": "business",
            "step": "payment_initiation",
            "reason": "input_validation_failed",
            "metadata": {},
            "field": field,
        }
    }
