"""Receipts: the creator's purchases (with the GST part of INR prices) and credits ledger."""

from __future__ import annotations

import streamlit as st

from errors import N_
from i18n import _, format_datetime, format_number, ngettext
from payments import catalog, checkout
from services import accounts, credits, receipts
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


def _purchases(user: accounts.UserView) -> None:
    st.subheader(_("Purchases"))
    rows = checkout.list_purchases(user.id)
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
    _receipt_download(user, [p for p in rows if p.status == "paid"], tz)


def _receipt_download(
    user: accounts.UserView, paid: list[checkout.PurchaseView], tz: str | None
) -> None:
    """One paid order at a time: pick it, download its receipt (an HTML file to print)."""
    if not paid:
        return
    by_id = {p.id: p for p in paid}
    labels = {
        p.id: _("Order {order} · {amount}").format(
            order=p.id, amount=catalog.format_money(p.amount_minor, p.currency)
        )
        for p in paid
    }
    col_pick, col_get = st.columns([3, 2], vertical_alignment="bottom")
    with col_pick:
        order = st.selectbox(
            _("Receipt for"),
            options=list(labels),
            format_func=labels.__getitem__,
            key="receipt_order",
        )
    buyer = " · ".join(x for x in (user.display_name, user.email) if x) if user.has_account else ""
    purchase = by_id[int(order)]
    with col_get:
        st.download_button(
            _("Download receipt"),
            data=receipts.receipt_html(
                purchase,
                buyer=buyer or _("Guest"),
                item=ngettext("{n} credit", "{n} credits", purchase.credits).format(
                    n=format_number(purchase.credits)
                ),
                tz_name=tz,
            ),
            file_name=receipts.file_name(purchase),
            mime="text/html",
            icon=":material/download:",
            key="receipt_download",
            on_click="ignore",
            width="stretch",
        )


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
    _purchases(user)
    _ledger(user.id)


main()
