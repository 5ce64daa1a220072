"""A loopback fake of the part of Stripe's API we use, reached through the SDK's own
``base_addresses={"api": url}`` (``[stripe] api_base``).

    with FakeStripe(secret_key="sk_test_x") as fake:
        fake.url                          # http://127.0.0.1:<port>
        fake.pay(session_id)              # the buyer paid (status complete, payment_status paid)
        fake.pay(session_id, amount_total=1, currency="eur")   # what a tampered session says
        fake.expire(session_id)
        fake.event("checkout.session.completed", session_id)   # a webhook body (dict)

Endpoints: ``POST /v1/checkout/sessions`` (bracket-encoded form body, as the SDK sends it;
``Idempotency-Key`` honoured: same key and params -> the same session, other params -> 400
``idempotency_error``) and ``GET /v1/checkout/sessions/{id}``. Requests need
``Authorization: Bearer <secret_key>``; errors have Stripe's shape
``{"error": {"type", "code", "message", "param"}}``.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes import hosted_page
from tests.fakes.loopback import LoopbackServer

_KEY_PART = re.compile(r"\[([^\]]*)\]")


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][0][c]=v`` form pairs -> nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head = key.split("[", 1)[0]
        parts = [head, *_KEY_PART.findall(key[len(head) :])]
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt_is_index = not last and parts[i + 1].isdigit()
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append(None)
                if last:
                    node[index] = value
                else:
                    if node[index] is None:
                        node[index] = [] if nxt_is_index else {}
                    node = node[index]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if nxt_is_index else {})
    return root


class FakeStripe(LoopbackServer):
    def __init__(self, secret_key: str = "sk_test_fake") -> None:
        self.secret_key = secret_key
        self.sessions: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.creates = 0
        self._idempotency: dict[str, tuple[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._listen(self._handler())

    # ------------------------------------------------------------------ test hooks
    def pay(self, session_id: str, **override: Any) -> None:
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid", **override)

    def expire(self, session_id: str) -> None:
        with self._lock:
            self.sessions[session_id].update(status="expired")

    def session(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps(self.sessions[session_id]))

    def event(self, event_type: str, session_id: str, event_id: str | None = None) -> dict:
        return {
            "id": event_id or "evt_" + secrets.token_hex(8),
            "object": "event",
            "type": event_type,
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": self.session(session_id)},
        }

    # ------------------------------------------------------------------ API
    def _create(self, params: dict[str, Any], idem_key: str | None) -> tuple[int, dict]:
        fingerprint = json.dumps(params, sort_keys=True)
        with self._lock:
            if idem_key and idem_key in self._idempotency:
                seen, response = self._idempotency[idem_key]
                if seen != fingerprint:
                    return 400, _error(
                        "idempotency_error",
                        "idempotency_key_in_use",
                        "Keys for idempotent requests can only be used with the same parameters.",
                    )
                return 200, response
            if params.get("mode") != "payment" or not params.get("line_items"):
                return 400, _error(
                    "invalid_request_error", "parameter_missing", "Missing line_items", "line_items"
                )
            item = params["line_items"][0]
            price = item["price_data"]
            session_id = "cs_test_" + secrets.token_hex(12)
            amount = int(price["unit_amount"]) * int(item.get("quantity", "1"))
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": "payment",
                "status": "open",
                "payment_status": "unpaid",
                "amount_subtotal": amount,
                "amount_total": amount,
                "currency": price["currency"],
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata", {}),
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "url": f"{self.url}/pay/{session_id}",
                "livemode": False,
                "created": int(time.time()),
                "expires_at": int(time.time()) + 86400,
            }
            self.sessions[session_id] = session
            self.creates += 1
            if idem_key:
                self._idempotency[idem_key] = (fingerprint, session)
            return 200, dict(session)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_" + secrets.token_hex(6))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {fake.secret_key}":
                    return True
                self._send(
                    401,
                    _error("invalid_request_error", None, "Invalid API Key provided."),
                )
                return False

            def do_POST(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                fake.requests.append(("POST", self.path, headers))
                if hosted := re.fullmatch(r"/pay/([^/?]+)", urlsplit(self.path).path):
                    # The buyer pressed Pay on the hosted Checkout page (a browser, no key).
                    fake.pay(hosted.group(1))
                    session = fake.session(hosted.group(1))
                    target = str(session["success_url"]).replace(
                        "{CHECKOUT_SESSION_ID}", session["id"]
                    )
                    hosted_page.redirect(self, target)
                    return
                if not self._authorised():
                    return
                if urlsplit(self.path).path != "/v1/checkout/sessions":
                    self._send(404, _error("invalid_request_error", None, "Unrecognized URL"))
                    return
                params = unflatten(parse_qsl(body, keep_blank_values=True))
                self._send(*fake._create(params, self.headers.get("Idempotency-Key")))

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append(("GET", self.path, headers))
                if hosted := re.fullmatch(r"/pay/([^/?]+)", urlsplit(self.path).path):
                    session = fake.session(hosted.group(1))
                    amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
                    hosted_page.send_page(self, "Stripe Checkout (test)", amount, self.path)
                    return
                if not self._authorised():
                    return
                match = re.fullmatch(r"/v1/checkout/sessions/([^/?]+)", urlsplit(self.path).path)
                with fake._lock:
                    session = fake.sessions.get(match.group(1)) if match else None
                    body = dict(session) if session else None
                if body is None:
                    self._send(
                        404,
                        _error(
                            "invalid_request_error",
                            "resource_missing",
                            "No such checkout.session",
                            "session",
                        ),
                    )
                    return
                self._send(200, body)

        return Handler


def _error(kind: str, code: str | None, message: str, param: str | None = None) -> dict:
    return {"error": {"type": kind, "code": code, "message": message, "param": param}}
