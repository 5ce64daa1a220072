"""Re-check a user's recent pending purchases with their gateway.

Covers "paid, but closed the tab before coming back" and a lost webhook: opening the credits
page asks the gateway about each of that user's purchases still ``pending`` and younger than
:data:`WINDOW_S`, and settles what it says through :func:`payments.fulfil.settle`. A gateway
that cannot be reached is skipped (logged); the next visit tries again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from db.models import Purchase, utcnow
from db.session import session_scope
from errors import ConfigError, PaymentError
from payments import fulfil, gateways

log = logging.getLogger("talkingphoto.payments")

WINDOW_S = 24 * 3600


def reconcile_user(user_id: int, *, now: datetime | None = None) -> list[fulfil.Outcome]:
    """Settle what the gateways say about ``user_id``'s pending purchases of the last 24 h."""
    cutoff = (now or utcnow()) - timedelta(seconds=WINDOW_S)
    with session_scope() as session:
        pending = session.execute(
            select(Purchase.gateway, Purchase.gateway_ref, Purchase.currency).where(
                Purchase.user_id == user_id,
                Purchase.status == "pending",
                Purchase.gateway_ref.is_not(None),
                Purchase.created_at >= cutoff,
            )
        ).all()
    outcomes = []
    for gateway_name, ref, currency in pending:
        try:
            remote = gateways.get_gateway(gateway_name, currency).fetch(ref)
        except (PaymentError, ConfigError) as exc:
            log.warning("reconcile %s:%s skipped (%s)", gateway_name, ref, type(exc).__name__)
            continue
        outcomes.append(fulfil.settle(gateway_name, remote))
    return outcomes
