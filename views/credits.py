"""Buy credits: packs in INR (GST included, Razorpay) or USD (Stripe), the checkout, and the
return from the gateway (query parameters, see views/_payment_return.py).

Opening the page re-checks the creator's pending purchases of the last day with the gateway
(reconciliation), so a payment whose tab was closed before returning is still credited.
Without gateway keys in development, a clearly labelled demo gateway runs the same path.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import streamlit as st

from errors import N_, TalkingPhotoError
from i18n import _, current_language, format_number, ngettext
from payments import catalog, checkout, demo, gateways, reconcile
from secrets_manager import get_settings
from services import accounts, credits
from views._components import show_error
from views._payment_return import OUTCOME_KEY, handle_return, process, show_outcome
from views._scroll import scroll_into_view
from views._session import ACCOUNT_PAGE, require_user

CHECKOUT_KEY = "checkout_purchase_id"
RECONCILE_EVERY_S = 30.0

GATEWAY_NOTES = {
    "razorpay": N_("Pay with UPI, Indian cards or netbanking through Razorpay."),
    "stripe": N_("Pay by card through Stripe."),
}


def _reconcile(user_id: int, *, force: bool = False) -> None:
    last = st.session_state.get("reconciled_at", 0.0)
    if not force and time.monotonic() - last < RECONCILE_EVERY_S:
        return
    st.session_state["reconciled_at"] = time.monotonic()
    outcomes = reconcile.reconcile_user(user_id)
    granted = sum(o.credits for o in outcomes if o.kind == "credited")
    if granted:
        st.session_state[OUTCOME_KEY] = ("result", "paid", {"n": granted})
        st.rerun()


def _currency(user: accounts.UserView) -> str:
    available = gateways.available_currencies()
    if not available:
        st.info(_("Buying credits is not available right now."))
        st.stop()
    browser = st.context.locale if isinstance(st.context.locale, str) else None
    default = catalog.default_currency(current_language(), browser, user.currency)
    if default not in available:
        default = available[0]
    labels = {"INR": _("₹ Indian rupees"), "USD": _("$ US dollars")}
    currency = st.radio(
        _("Currency"),
        options=available,
        index=available.index(default),
        format_func=lambda c: labels.get(c, c),
        horizontal=True,
        key="currency",
        on_change=_remember_currency,
        args=(user,),
    )
    return str(currency)


def _remember_currency(user: accounts.UserView) -> None:
    # Only a choice the creator made is saved; the default is re-derived on every visit.
    if user.has_account and st.session_state.get("currency") in catalog.CURRENCIES:
        accounts.update_profile(user.id, currency=st.session_state["currency"])


def _pack_card(pack: catalog.Pack, currency: str, gst: float) -> bool:
    price = pack.price(currency)
    with st.container(border=True, key=f"pack_{pack.id}"):
        st.markdown(
            "### "
            + ngettext("{n} credit", "{n} credits", pack.credits).format(
                n=format_number(pack.credits)
            )
        )
        st.markdown("**" + catalog.format_money(price.amount_minor, currency) + "**")
        if currency == "INR":
            st.caption(
                _("incl. {percent}% GST: {tax}").format(
                    percent=format_number(gst, decimals=2),
                    tax=catalog.format_money(price.tax_minor, currency),
                )
            )
        return st.button(_("Buy"), key=f"buy_{pack.id}", type="primary", width="stretch")


def _checkout_panel(user_id: int) -> None:
    purchase_id = st.session_state.get(CHECKOUT_KEY)
    purchase = checkout.get_purchase(purchase_id) if isinstance(purchase_id, int) else None
    if purchase is None or purchase.status != "pending" or not purchase.checkout_url:
        st.session_state.pop(CHECKOUT_KEY, None)
        return
    amount = catalog.format_money(purchase.amount_minor, purchase.currency)
    # The panel opens under the packs, two screens below the Buy button on a phone.
    scroll_into_view("checkout_panel", f"checkout:{purchase.id}")
    with st.container(border=True, key="checkout_panel"):
        if purchase.gateway == demo.NAME:
            st.warning(
                _(
                    "Test purchase (demo gateway): no real payment is made. This exists only "
                    "while the app runs in development without payment keys."
                ),
                icon=":material/science:",
            )
            col_pay, col_cancel = st.columns(2)
            if col_pay.button(
                _("Complete test payment of {amount}").format(amount=amount),
                key="demo_pay",
                type="primary",
            ):
                demo.complete(purchase.gateway_ref or "")
                _finish_demo(purchase.checkout_url)
            if col_cancel.button(_("Cancel"), key="demo_cancel"):
                demo.cancel(purchase.gateway_ref or "")
                st.session_state.pop(CHECKOUT_KEY, None)
                st.rerun()
            return
        st.link_button(
            _("Pay {amount} securely").format(amount=amount),
            purchase.checkout_url,
            type="primary",
            icon=":material/lock:",
        )
        st.caption(
            _("The payment page opens in a new tab. Your credits appear here once it is paid.")
        )
        if st.button(_("I have paid: check now"), key="check_payment", icon=":material/refresh:"):
            _reconcile(user_id, force=True)
            st.info(_("Your payment is not confirmed yet."))


def _finish_demo(checkout_url: str) -> None:
    # The same return the gateway would send, through the same verification and fulfilment.
    process(dict(parse_qsl(urlsplit(checkout_url).query)))
    st.session_state.pop(CHECKOUT_KEY, None)
    st.rerun()


def main() -> None:
    user = require_user()
    handle_return()
    st.title(_("Buy credits"))
    show_outcome(signed_in=True)
    try:
        _reconcile(user.id)
    except TalkingPhotoError as exc:
        show_error(exc)
    balance = credits.balance(user.id)
    st.caption(
        ngettext("Balance: {n} credit", "Balance: {n} credits", balance).format(
            n=format_number(balance)
        )
    )
    if user.is_guest:
        st.info(_("Create a free account to buy credits."))
        st.page_link(ACCOUNT_PAGE, label=_("Create a free account"), icon=":material/person_add:")
        return

    currency = _currency(user)
    gateway_name = gateways.gateway_name_for(currency)
    if note := GATEWAY_NOTES.get(gateway_name):
        st.caption(_(note))
    settings_gst = get_settings().credits.gst_percent
    packs = catalog.packs()
    columns = st.columns(len(packs)) if packs else []
    for column, pack in zip(columns, packs, strict=True):
        with column:
            if _pack_card(pack, currency, settings_gst):
                try:
                    purchase = checkout.start_purchase(user.id, pack.id, currency)
                except TalkingPhotoError as exc:
                    show_error(exc)
                else:
                    st.session_state[CHECKOUT_KEY] = purchase.id
    _checkout_panel(user.id)


main()
