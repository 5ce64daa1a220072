"""The one function that turns a gateway's answer into credits: :func:`settle`.

The return page, both webhooks and reconciliation all call it with a :class:`RemotePayment`
the gateway vouched for (fetched server to server, or inside a signed webhook). It is
idempotent and safe under races: the purchase row is read with ``FOR UPDATE`` (SQLite's
``BEGIN IMMEDIATE`` serialises writers the same way), a paid purchase is never paid again,
and the ledger entry's unique reference (``<gateway>:<ref>``) is a second lock on the door.

Credits move only when the gateway says *paid* and the amount, currency and our purchase id
match the purchase row exactly; anything else marks the purchase ``mismatch`` and is logged
for an operator (no credits). Expired or failed payments mark a pending purchase so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from db.models import Purchase, utcnow
from db.session import session_scope
from payments.base import RemotePayment
from services import analytics, credits

log = logging.getLogger("talkingphoto.payments")

OutcomeKind = Literal["credited", "already", "pending", "expired", "failed", "mismatch", "unknown"]


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    purchase_id: int | None = None
    user_id: int | None = None
    credits: int = 0

    @property
    def paid(self) -> bool:
        return self.kind in ("credited", "already")


def ledger_reference(gateway: str, ref: str) -> str:
    return f"{gateway}:{ref}"


def _problems(purchase: Purchase, remote: RemotePayment) -> list[str]:
    problems = []
    if remote.amount_minor != purchase.amount_minor:
        problems.append(f"amount {remote.amount_minor} != {purchase.amount_minor}")
    if remote.currency != purchase.currency:
        problems.append(f"currency {remote.currency} != {purchase.currency}")
    if remote.purchase_id != purchase.id:
        problems.append(f"purchase id {remote.purchase_id} != {purchase.id}")
    return problems


def settle(gateway: str, remote: RemotePayment) -> Outcome:
    """Record the gateway's answer about ``remote.ref`` once; grant the pack if it is paid."""
    outcome = _settle(gateway, remote)
    if outcome.kind == "credited":
        analytics.record(
            "purchase",
            user_id=outcome.user_id,
            data={"gateway": gateway, "credits": outcome.credits},
        )
    return outcome


def _settle(gateway: str, remote: RemotePayment) -> Outcome:
    with session_scope() as session:
        purchase = session.scalar(
            select(Purchase)
            .where(Purchase.gateway == gateway, Purchase.gateway_ref == remote.ref)
            .with_for_update()
        )
        if purchase is None and remote.purchase_id is not None:
            # The gateway answered before we stored its reference (a crash or a webhook
            # racing start_purchase): the purchase id it carries links them, once.
            purchase = session.scalar(
                select(Purchase)
                .where(
                    Purchase.id == remote.purchase_id,
                    Purchase.gateway == gateway,
                    Purchase.gateway_ref.is_(None),
                )
                .with_for_update()
            )
            if purchase is not None:
                purchase.gateway_ref = remote.ref
        if purchase is None:
            log.warning("payment %s:%s matches no purchase", gateway, remote.ref)
            return Outcome("unknown")
        done = Outcome("already", purchase.id, purchase.user_id, purchase.credits)
        if purchase.status == "paid":
            return done
        if purchase.status == "mismatch":
            return Outcome("mismatch", purchase.id, purchase.user_id)
        if remote.status != "paid":
            if remote.status in ("expired", "failed") and purchase.status == "pending":
                purchase.status = remote.status
                purchase.failure_reason = f"gateway reports {remote.status}"
            return Outcome(remote.status, purchase.id, purchase.user_id)
        problems = _problems(purchase, remote)
        if problems:
            purchase.status = "mismatch"
            purchase.failure_reason = "; ".join(problems)
            log.warning(
                "payment %s:%s for purchase %s NOT credited: %s",
                gateway,
                remote.ref,
                purchase.id,
                purchase.failure_reason,
            )
            return Outcome("mismatch", purchase.id, purchase.user_id)
        purchase.status = "paid"
        purchase.paid_at = utcnow()
        purchase.failure_reason = None
        if purchase.user_id is not None:
            credits.post(
                session,
                purchase.user_id,
                purchase.credits,
                ledger_reference(gateway, remote.ref),
                f"purchase {purchase.pack_id}",
            )
        log.info(
            "purchase %s paid via %s: %d credits to user %s",
            purchase.id,
            gateway,
            purchase.credits,
            purchase.user_id,
        )
        return Outcome("credited", purchase.id, purchase.user_id, purchase.credits)
