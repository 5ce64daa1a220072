"""The gateways' hosted payment pages, as far as a browser test needs them.

Stripe Checkout (``session.url``) and Razorpay's payment-link page (``short_url``) are web
pages on the gateway's domain where the buyer pays, after which the gateway redirects the
browser back to our return URL. The fakes serve a minimal stand-in: ``GET`` shows the amount
and a "Pay" button (and "Cancel" for Stripe); ``POST`` marks the payment paid through the
fake's own test hook and answers ``303`` to the URL the real gateway would redirect to.
"""

from __future__ import annotations

import html
from http.server import BaseHTTPRequestHandler


def send_page(handler: BaseHTTPRequestHandler, title: str, amount: str, action: str) -> None:
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title></head>
<body><main><h1>{html.escape(title)}</h1><p>Amount: {html.escape(amount)}</p>
<form method="post" action="{html.escape(action)}"><button type="submit">Pay</button></form>
</main></body></html>""".encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def redirect(handler: BaseHTTPRequestHandler, location: str) -> None:
    handler.send_response(303)
    handler.send_header("Location", location)
    handler.send_header("Content-Length", "0")
    handler.end_headers()
