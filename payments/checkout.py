"""Buying a credit pack: start the purchase, handle the buyer's return, list receipts.

1. :func:`start_purchase` writes a ``pending`` purchase row (price, GST part, credits fixed
   now), asks the gateway for a checkout and stores its reference and URL.
2. The gateway sends the buyer back to ``<base_url>/credits?provider=<gw>&state=<signed>``
   plus its own parameters. :func:`complete_return` believes nothing in that URL: the state
   must be our signature (services.tokens) and name the purchase the gateway reference
   belongs to; the gateway's signature (Razorpay) is checked; then the gateway is asked
   server to server and :func:`payments.fulfil.settle` decides.
   The return lands in a new browser session (a new tab, maybe signed out): the purchase
   row, not the session, says whose credits these are.
3. Webhooks and reconciliation reach the same ``settle``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select

from db.models import Purchase, User
from db.session import session_scope
from errors import N_, AccountError, InvalidToken, PaymentVerificationError, TalkingPhotoError
from payments import catalog, fulfil, gateways
from payments.base import Order
from secrets_manager import get_settings
from services import ratelimit, tokens

RETURN_PURPOSE = "payment-return"
RETURN_STATE_TTL_S = 2 * 24 * 3600
RETURN_PATH = "credits"
STRIPE_SESSION_TEMPLATE = "{CHECKOUT_SESSION_ID}"  # Stripe fills it in; never URL-encoded


@dataclass(frozen=True)
class PurchaseView:
    id: int
    gateway: str
    gateway_ref: str | None
    pack_id: str
    credits: int
    currency: str
    amount_minor: int
    tax_minor: int
    status: str
    checkout_url: str | None
    created_at: datetime
    paid_at: datetime | None


@dataclass(frozen=True)
class ReturnResult:
    kind: Literal["credited", "already", "pending", "expired", "failed", "mismatch", "cancelled"]
    purchase: PurchaseView

    @property
    def paid(self) -> bool:
        return self.kind in ("credited", "already")


def _view(p: Purchase) -> PurchaseView:
    return PurchaseView(
        id=p.id,
        gateway=p.gateway,
        gateway_ref=p.gateway_ref,
        pack_id=p.pack_id,
        credits=p.credits,
        currency=p.currency,
        amount_minor=p.amount_minor,
        tax_minor=p.tax_minor,
        status=p.status,
        checkout_url=p.checkout_url,
        created_at=p.created_at,
        paid_at=p.paid_at,
    )


def return_urls(gateway: str, purchase_id: int, user_id: int) -> tuple[str, str]:
    """(success URL, cancel URL) carrying a signed state naming the purchase."""
    state = tokens.sign(
        RETURN_PURPOSE, {"pid": purchase_id, "uid": user_id, "gw": gateway}, RETURN_STATE_TTL_S
    )
    base = f"{get_settings().app.base_url}/{RETURN_PATH}?provider={gateway}&state={state}"
    success = base + ("&session_id=" + STRIPE_SESSION_TEMPLATE if gateway == "stripe" else "")
    return success, base + "&checkout=cancel"


def start_purchase(user_id: int, pack_id: str, currency: str) -> PurchaseView:
    """A pending purchase with its checkout URL (``checkout_url``), ready to pay.

    Raises PaymentError (pack or currency not on sale), GatewayUnavailable (the purchase is
    then marked failed; nothing was charged), AccountError for guests, RateLimited.
    """
    pack = catalog.get_pack(pack_id)
    price = pack.price(currency)
    gateway_name = gateways.gateway_name_for(currency)
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise AccountError(N_("Your account was not found; please sign in again."))
        if user.is_guest:
            raise AccountError(N_("Create a free account to buy credits."))
        email = user.email if user.auth_method in ("password", "oidc") else None
    ratelimit.hit("purchase", user_id)
    gateway = gateways.get_gateway(gateway_name, currency)
    with session_scope() as session:
        purchase = Purchase(
            user_id=user_id,
            gateway=gateway_name,
            pack_id=pack.id,
            credits=pack.credits,
            currency=price.currency,
            amount_minor=price.amount_minor,
            tax_minor=price.tax_minor,
            status="pending",
        )
        session.add(purchase)
        session.flush()
        purchase_id = purchase.id
    success_url, cancel_url = return_urls(gateway_name, purchase_id, user_id)
    order = Order(
        purchase_id=purchase_id,
        user_id=user_id,
        pack_id=pack.id,
        credits=pack.credits,
        currency=price.currency,
        amount_minor=price.amount_minor,
        description=f"TalkingPhoto {pack.credits} credits ({pack.id})",
        success_url=success_url,
        cancel_url=cancel_url,
        email=email,
    )
    try:
        checkout = gateway.create_checkout(order)
    except TalkingPhotoError:
        _mark(purchase_id, "failed", "the gateway did not create a checkout")
        raise
    with session_scope() as session:
        purchase = session.get(Purchase, purchase_id)
        assert purchase is not None
        purchase.gateway_ref = checkout.ref
        purchase.checkout_url = checkout.url
        return _view(purchase)


def _mark(purchase_id: int, status: str, reason: str) -> None:
    with session_scope() as session:
        purchase = session.get(Purchase, purchase_id)
        if purchase is not None and purchase.status == "pending":
            purchase.status = status
            purchase.failure_reason = reason


def is_return(params: Mapping[str, str]) -> bool:
    """Whether a page's query parameters are a gateway return."""
    return params.get("provider") in gateways.NAMES and bool(params.get("state"))


def complete_return(params: Mapping[str, str]) -> ReturnResult:
    """Verify a gateway return and settle it (see the module docstring).

    Raises PaymentVerificationError for anything forged, altered, expired or misdirected
    (nothing changes), GatewayUnavailable when the gateway cannot be asked.
    """
    provider = params.get("provider") or ""
    try:
        claims = tokens.verify(RETURN_PURPOSE, params.get("state") or "")
    except InvalidToken as exc:
        raise PaymentVerificationError(gateway=provider, detail=exc.detail) from None
    purchase_id = claims.get("pid")
    if claims.get("gw") != provider or not isinstance(purchase_id, int):
        raise PaymentVerificationError(gateway=provider, detail="state for another gateway")
    purchase = get_purchase(purchase_id)
    if purchase is None or purchase.gateway != provider:
        raise PaymentVerificationError(gateway=provider, detail="state names no purchase")
    if params.get("checkout") == "cancel":
        return ReturnResult("cancelled", purchase)
    gateway = gateways.get_gateway(provider, purchase.currency)
    ref = gateway.return_reference(params)
    if purchase.gateway_ref != ref:
        raise PaymentVerificationError(gateway=provider, detail="reference of another purchase")
    outcome = fulfil.settle(provider, gateway.fetch(ref))
    fresh = get_purchase(purchase_id)
    assert fresh is not None
    kind = "mismatch" if outcome.kind == "unknown" else outcome.kind
    return ReturnResult(kind, fresh)  # type: ignore[arg-type]


def get_purchase(purchase_id: int) -> PurchaseView | None:
    with session_scope() as session:
        purchase = session.get(Purchase, purchase_id)
        return _view(purchase) if purchase is not None else None


def list_purchases(user_id: int, limit: int = 100) -> list[PurchaseView]:
    """The user's purchases, newest first (receipts)."""
    with session_scope() as session:
        rows = session.scalars(
            select(Purchase)
            .where(Purchase.user_id == user_id)
            .order_by(Purchase.created_at.desc(), Purchase.id.desc())
            .limit(limit)
        )
        return [_view(p) for p in rows]
