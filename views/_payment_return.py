"""The buyer's way back from a gateway, driven by query parameters.

``/credits?provider=...&state=...`` (plus the gateway's own parameters) is handled by
:func:`handle_return` wherever it lands: on the credits page, or on the sign-in page when the
return opened a signed-out session. The outcome is kept in the session, the gateway's
parameters are removed from the URL (a reload or a shared URL cannot replay them, and the
sidebar balance is recomputed), and the message is shown by :func:`show_outcome`.
"""

from __future__ import annotations

import uuid

import streamlit as st

from errors import N_, TalkingPhotoError
from i18n import _, format_number, ngettext
from payments import checkout
from views._components import localized
from views._scroll import scroll_into_view

OUTCOME_KEY = "payment_outcome"
_KEEP = ("lang",)

_MESSAGES: dict[str, tuple[str, str]] = {
    "pending": (
        "info",
        N_(
            "Your payment is not confirmed yet. The credits are added as soon as it is; "
            "opening this page checks again."
        ),
    ),
    "expired": ("warning", N_("That payment did not go through, so no credits were added.")),
    "failed": ("warning", N_("That payment did not go through, so no credits were added.")),
    "mismatch": (
        "error",
        N_(
            "We could not match that payment to your order, so no credits were added. "
            "Please contact support and quote order {order}."
        ),
    ),
    "cancelled": ("info", N_("Payment cancelled. No money was taken.")),
}


def _clear_gateway_params() -> None:
    for key in list(st.query_params.keys()):
        if key not in _KEEP:
            del st.query_params[key]


def process(params: dict[str, str]) -> None:
    """Verify and settle one return; the outcome waits in the session for show_outcome."""
    try:
        result = checkout.complete_return(params)
    except TalkingPhotoError as exc:
        st.session_state[OUTCOME_KEY] = ("error", exc.template, exc.params)
        return
    purchase = result.purchase
    if result.paid:
        st.session_state[OUTCOME_KEY] = ("result", "paid", {"n": purchase.credits})
    else:
        st.session_state[OUTCOME_KEY] = ("result", result.kind, {"order": purchase.id})


def handle_return() -> None:
    """Process a gateway return in the URL once, then rerun without it."""
    params = {key: st.query_params.get(key) or "" for key in st.query_params}
    if not checkout.is_return(params):
        return
    process(params)
    _clear_gateway_params()
    st.rerun()


def show_outcome(*, signed_in: bool) -> None:
    """The message of the last return or test payment, once."""
    outcome = st.session_state.pop(OUTCOME_KEY, None)
    if not outcome:
        return
    kind, template, values = outcome
    # Shown once, at the top of the page, while the creator may be two screens below (where
    # the payment panel was): bring it to them.
    with st.container(key="payment_outcome"):
        _show(kind, template, values, signed_in=signed_in)
    scroll_into_view("payment_outcome", f"outcome:{uuid.uuid4().hex}")


def _show(kind: str, template: str, values: dict[str, object], *, signed_in: bool) -> None:
    if kind == "error":
        st.error(localized(template, values), icon=":material/error:")
        return
    if template == "paid":
        n = int(str(values["n"]))
        st.success(
            ngettext(
                "Payment received: {n} credit was added to your account.",
                "Payment received: {n} credits were added to your account.",
                n,
            ).format(n=format_number(n)),
            icon=":material/check_circle:",
        )
        if not signed_in:
            st.caption(_("Sign in to use them."))
        return
    level, message = _MESSAGES.get(template, _MESSAGES["pending"])
    text = localized(message, values)
    getattr(st, level)(text)
