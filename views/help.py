"""Help: answers to the common problems, the support channels (India first), a contact form
that opens a ticket (the latest video and payment are attached automatically), and the
creator's tickets with support's replies."""

from __future__ import annotations

import streamlit as st

import ui_theme
from errors import N_, TalkingPhotoError
from i18n import _, format_datetime
from secrets_manager import get_settings
from services import support
from views._components import localized_error
from views._session import current_user

FAQ: tuple[tuple[str, str], ...] = (
    (
        N_("“No face found” — what do I do?"),
        N_(
            "Use a clear, well-lit photo where one face looks at the camera and fills at least "
            "a fifth of the picture. Sunglasses, a face turned sideways, heavy shadow or a very "
            "small face make detection fail. A phone selfie at arm's length works well."
        ),
    ),
    (
        N_("My payment is pending"),
        N_(
            "UPI and some cards take a minute to confirm. Open Buy credits and press “I have "
            "paid: check now”. If money left your account but no credits arrived after 30 "
            "minutes, open a ticket below: the payment is attached to it automatically and we "
            "fix it by hand. A payment that fails is never charged."
        ),
    ),
    (
        N_("My video failed"),
        N_(
            "The credits of a failed video are given back automatically (see Receipts). The "
            "message on the video says why; most often a shorter script or another photo "
            "helps. Press “Try again” on My videos, or open a ticket and we will look at it."
        ),
    ),
    (
        N_("How do I get a refund?"),
        N_(
            "Unused credits can be refunded within 14 days of purchase: open a ticket with the "
            "category “Refund”. The money goes back to the card or UPI account you paid with, "
            "usually within 5 to 7 working days."
        ),
    ),
)


def _channels() -> None:
    cfg = get_settings().support
    lines = []
    if cfg.email:
        lines.append(_("E-mail: {address}").format(address=cfg.email))
    if cfg.phone_india:
        lines.append(_("Phone (India): {number}").format(number=cfg.phone_india))
    if cfg.whatsapp_india:
        lines.append(_("WhatsApp (India): {number}").format(number=cfg.whatsapp_india))
    lines.append(_("Hours: {hours}").format(hours=cfg.hours))
    lines.append(_("We answer within {hours} hours.").format(hours=cfg.response_hours))
    for line in lines:
        ui_theme.plain_caption(line)


def _contact_form(user_id: int) -> None:
    def submit() -> None:
        state = st.session_state
        try:
            ticket = support.open_ticket(
                user_id,
                state.get("ticket_category", "other"),
                state.get("ticket_subject", ""),
                state.get("ticket_body", ""),
            )
        except TalkingPhotoError as exc:
            state["ticket_error"] = localized_error(exc)
            return
        state["ticket_subject"] = state["ticket_body"] = ""
        state["ticket_done"] = ticket.id

    with st.form("ticket_form"):
        st.selectbox(
            _("What is it about?"),
            options=list(support.CATEGORY_LABELS),
            format_func=lambda c: _(support.CATEGORY_LABELS[c]),
            key="ticket_category",
        )
        st.text_input(_("Subject"), key="ticket_subject", max_chars=support.SUBJECT_MAX)
        st.text_area(_("Message"), key="ticket_body", max_chars=support.BODY_MAX, height=140)
        st.caption(_("Your latest video and payment are attached so we can look them up."))
        st.form_submit_button(
            _("Send to support"), type="primary", on_click=submit, icon=":material/send:"
        )
    error = st.session_state.pop("ticket_error", None)
    if error:
        st.error(error, icon=":material/error:")
    done = st.session_state.pop("ticket_done", None)
    if done:
        st.success(
            _("Ticket #{id} sent. We will answer here and by e-mail.").format(id=done),
            icon=":material/check:",
        )


STATUS = {"open": N_("Waiting for support"), "answered": N_("Answered"), "closed": N_("Closed")}


def _tickets(user_id: int) -> None:
    tickets = support.my_tickets(user_id)
    st.subheader(_("Your tickets"))
    if not tickets:
        st.caption(_("No tickets yet."))
        return
    tz = st.context.timezone if isinstance(st.context.timezone, str) else None
    for ticket in tickets:
        title = f"#{ticket.id} · {ticket.subject} · {_(STATUS[ticket.status])}"
        with st.expander(title, expanded=ticket.status == "answered"):
            for message in ticket.messages:
                who = _("Support") if message.author == "support" else _("You")
                ui_theme.plain_caption(f"{who} · {format_datetime(message.created_at, tz_name=tz)}")
                st.text(message.body)
            if ticket.status != "closed":
                key = f"ticket_more_{ticket.id}"

                def send(ticket_id: int = ticket.id, key: str = key) -> None:
                    try:
                        support.add_message(user_id, ticket_id, st.session_state.get(key, ""))
                        st.session_state[key] = ""
                    except TalkingPhotoError as exc:
                        st.session_state["ticket_error"] = localized_error(exc)

                st.text_area(_("Write back"), key=key, height=80)
                st.button(_("Send"), key=f"ticket_send_{ticket.id}", on_click=send)


def main() -> None:
    st.title(_("Help"))
    st.subheader(_("Common problems"))
    for question, answer in FAQ:
        with st.expander(_(question)):
            st.markdown(_(answer))
    st.subheader(_("Contact us"))
    _channels()
    user = current_user()
    if user is None or not user.has_account:  # a guest has no address we could answer
        st.info(_("Sign in to open a support ticket."), icon=":material/login:")
        return
    _contact_form(user.id)
    _tickets(user.id)


main()
