"""``POST /api/webhooks/stripe`` and ``/api/webhooks/razorpay``: read the raw body (a signature
covers the exact bytes) and hand it to :mod:`payments.webhooks` in Starlette's thread pool."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from payments.webhooks import handle_razorpay, handle_stripe
from web.body import read_capped, too_large

MAX_BODY_BYTES = 1_000_000


async def _body(request: Request) -> bytes | None:
    """The raw body, read with a cap while streaming (``None``: over ``MAX_BODY_BYTES``)."""
    return await read_capped(request, MAX_BODY_BYTES)


async def stripe_webhook(request: Request) -> JSONResponse:
    raw = await _body(request)
    if raw is None:
        return too_large()
    status, body = await run_in_threadpool(
        handle_stripe, raw, request.headers.get("stripe-signature")
    )
    return JSONResponse(body, status_code=status)


async def razorpay_webhook(request: Request) -> JSONResponse:
    raw = await _body(request)
    if raw is None:
        return too_large()
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
