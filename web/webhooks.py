"""``POST /api/webhooks/stripe`` and ``/api/webhooks/razorpay``: read the raw body (a signature
covers the exact bytes) and hand it to :mod:`payments.webhooks` in Starlette's thread pool."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from payments.webhooks import handle_razorpay, handle_stripe

MAX_BODY_BYTES = 1_000_000


async def _body(request: Request) -> bytes | None:
    raw = await request.body()
    return raw if len(raw) <= MAX_BODY_BYTES else None


async def stripe_webhook(request: Request) -> JSONResponse:
    raw = await _body(request)
    if raw is None:
        return JSONResponse({"error": "body too large"}, status_code=413)
    status, body = await run_in_threadpool(
        handle_stripe, raw, request.headers.get("stripe-signature")
    )
    return JSONResponse(body, status_code=status)


async def razorpay_webhook(request: Request) -> JSONResponse:
    raw = await _body(request)
    if raw is None:
        return JSONResponse({"error": "body too large"}, status_code=413)
    status, body = await run_in_threadpool(
        handle_razorpay,
        raw,
        request.headers.get("x-razorpay-signature"),
        request.headers.get("x-razorpay-event-id"),
    )
    return JSONResponse(body, status_code=status)


ROUTES: list[BaseRoute] = [
    Route("/api/webhooks/stripe", stripe_webhook, methods=["POST"]),
    Route("/api/webhooks/razorpay", razorpay_webhook, methods=["POST"]),
]
