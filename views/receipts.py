"""Receipts: the creator's purchases (with the GST part of INR prices) and credits ledger."""

from __future__ import annotations

import streamlit as st

from errors import N_
from i18n import _, format_datetime, format_number, ngettext
from payments import catalog, checkout
from services import credits
from views._session import require_user

STATUS_LABELS = {
    "pending": N_("Waiting for payment"),
    "paid": N_("Paid"),
    "failed": N_("Failed"),
    "expired": N_("Expired"),
    "mismatch": N_("Under review"),
}
GATEWAY_LABELS = {"stripe": "Stripe", "razorpay": "Razorpay", "demo": N_("Test (demo)")}
# Ledger reference prefix -> what the movement was, for people.
LEDGER_LABELS = (
    ("grant:signup:", N_("Welcome credits")),
    ("grant:guest:", N_("Trial credits")),
    ("stripe:", N_("Credits bought")),
    ("razorpay:", N_("Credits bought")),
    ("demo:", N_("Credits bought (test)")),
)


def _ledger_label(reference: str) -> str:
    if reference.startswith("job:"):
        return _("Refund for a video") if reference.endswith(":refund") else _("Video")
    for prefix, label in LEDGER_LABELS:
        if reference.startswith(prefix):
            return _(label)
    return _("Adjustment")


def _timezone() -> str | None:
    tz = st.context.timezone
    return tz if isinstance(tz, str) else None


def _purchases(user_id: int) -> None:
    st.subheader(_("Purchases"))
    rows = checkout.list_purchases(user_id)
    if not rows:
        st.caption(_("No purchases yet."))
        return
    tz = _timezone()
    table = [
        {
            _("Date"): format_datetime(p.paid_at or p.created_at, tz_name=tz),
            _("Order"): str(p.id),
            _("Credits"): format_number(p.credits),
            _("Amount"): catalog.format_money(p.amount_minor, p.currency),
            _("of which GST"): (
                catalog.format_money(p.tax_minor, p.currency) if p.currency == "INR" else "—"
            ),
            _("Paid with"): _(GATEWAY_LABELS.get(p.gateway, p.gateway)),
            _("Status"): _(STATUS_LABELS.get(p.status, p.status)),
        }
        for p in rows
    ]
    st.dataframe(table, hide_index=True, width="stretch", key="purchases_table")
    st.caption(_("Prices in rupees include GST. Keep this page as your record of each order."))


def _ledger(user_id: int) -> None:
    st.subheader(_("Credits history"))
    entries = credits.entries(user_id)
    if not entries:
        st.caption(_("No credit movements yet."))
        return
    tz = _timezone()
    table = [
        {
            _("Date"): format_datetime(e.created_at, tz_name=tz),
            _("What"): _ledger_label(e.reference),
            _("Credits"): ("+" if e.amount > 0 else "−") + format_number(abs(e.amount)),
        }
        for e in entries
    ]
    st.dataframe(table, hide_index=True, width="stretch", key="ledger_table")


def main() -> None:
    user = require_user()
    st.title(_("Receipts"))
    balance = credits.balance(user.id)
    st.caption(
        ngettext("Balance: {n} credit", "Balance: {n} credits", balance).format(
            n=format_number(balance)
        )
    )
    _purchases(user.id)
    _ledger(user.id)


main()
