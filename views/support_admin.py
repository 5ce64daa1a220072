"""Admin: the support queue. Open tickets first (oldest waiting first); each shows the
creator, the attached video and payment, the conversation, and a reply box (the reply is
e-mailed to the creator in their language)."""

from __future__ import annotations

import logging

import streamlit as st

import ui_theme
from errors import N_, TalkingPhotoError
from i18n import _, format_datetime
from services import support
from views._components import localized_error
from views._session import current_user

log = logging.getLogger("talkingphoto.ui")
STATUS = {"open": N_("Waiting for support"), "answered": N_("Answered"), "closed": N_("Closed")}


def _reply(admin_id: int, ticket_id: int) -> None:
    key = f"support_reply_{ticket_id}"
    try:
        support.reply(admin_id, ticket_id, st.session_state.get(key, ""))
        st.session_state[key] = ""
        st.session_state["support_done"] = ticket_id
    except TalkingPhotoError as exc:
        st.session_state["support_error"] = localized_error(exc)


def _close(admin_id: int, ticket_id: int) -> None:
    try:
        support.close(admin_id, ticket_id)
    except TalkingPhotoError as exc:
        st.session_state["support_error"] = localized_error(exc)


def main() -> None:
    user = current_user()
    if user is None or not user.is_admin:
        log.warning("support page refused for user %s", user.id if user else "(signed out)")
        st.error(_("This page is for administrators only."), icon=":material/lock:")
        st.stop()
    st.title(_("Support"))
    error = st.session_state.pop("support_error", None)
    if error:
        st.error(error, icon=":material/error:")
    done = st.session_state.pop("support_done", None)
    if done:
        st.success(_("Reply to ticket #{id} sent.").format(id=done), icon=":material/check:")
    show_closed = st.toggle(_("Show closed tickets"), key="support_show_closed")
    tickets = [t for t in support.all_tickets() if show_closed or t.status != "closed"]
    waiting = sum(t.status == "open" for t in tickets)
    st.caption(_("{n} waiting for an answer").format(n=waiting))
    if not tickets:
        st.caption(_("No tickets."))
        return
    tz = st.context.timezone if isinstance(st.context.timezone, str) else None
    for ticket in tickets:
        title = f"#{ticket.id} · {ticket.subject} · {_(STATUS[ticket.status])}"
        with st.expander(title, expanded=ticket.status == "open"):
            ui_theme.plain_caption(
                " · ".join(
                    part
                    for part in (
                        ticket.user_email,
                        _(support.CATEGORY_LABELS.get(ticket.category, ticket.category)),
                        _("Video: {id}").format(id=ticket.job_id) if ticket.job_id else "",
                        _("Payment: {ref}").format(ref=ticket.purchase_label)
                        if ticket.purchase_label
                        else "",
                    )
                    if part
                )
            )
            for message in ticket.messages:
                who = _("Support") if message.author == "support" else ticket.user_email
                ui_theme.plain_caption(f"{who} · {format_datetime(message.created_at, tz_name=tz)}")
                st.text(message.body)
            if ticket.status != "closed":
                st.text_area(_("Reply"), key=f"support_reply_{ticket.id}", height=100)
                left, right = st.columns(2)
                left.button(
                    _("Send reply"),
                    key=f"support_send_{ticket.id}",
                    type="primary",
                    on_click=_reply,
                    args=(user.id, ticket.id),
                )
                right.button(
                    _("Close ticket"),
                    key=f"support_close_{ticket.id}",
                    on_click=_close,
                    args=(user.id, ticket.id),
                )


main()
