"""Admin: the auth audit trail (filter by kind or e-mail) and the development outbox (the
e-mails the app would have sent, when no SMTP server is configured)."""

from __future__ import annotations

import streamlit as st

from i18n import _, format_datetime
from services import audit
from views._session import current_user, session_mode_text


def _require_admin() -> None:
    user = current_user()
    if user is None or not user.is_admin:
        st.error(_("This page is for administrators only."), icon=":material/lock:")
        st.stop()


def _audit() -> None:
    st.subheader(_("Sign-in activity"))
    col_kind, col_email = st.columns(2)
    kind = col_kind.selectbox(
        _("Event"), options=["", *audit.KINDS], key="audit_kind", format_func=lambda k: k or "—"
    )
    email = col_email.text_input(_("E-mail contains"), key="audit_email")
    events = audit.recent(kind=kind or None, email=email or None, limit=300)
    if not events:
        st.caption(_("No events match."))
        return
    st.dataframe(
        [
            {
                _("Time"): format_datetime(e.ts),
                _("Event"): e.kind,
                _("E-mail"): e.email,
                _("User"): e.user_id,
                _("Client"): e.client,
                _("Details"): ", ".join(f"{k}={v}" for k, v in sorted(e.data.items())),
            }
            for e in events
        ],
        hide_index=True,
        width="stretch",
    )


def _outbox() -> None:
    st.subheader(_("Outbox"))
    messages = audit.outbox()
    if messages is None:
        st.caption(_("E-mail goes out through the SMTP server; there is no local outbox."))
        return
    st.caption(
        _(
            "Development mail: nothing is sent. These are the e-mails the app wrote to its "
            "data folder, newest first."
        )
    )
    if not messages:
        st.caption(_("No e-mail yet."))
    for message in messages:
        with st.expander(f"{format_datetime(message.sent_at)} · {message.to} · {message.subject}"):
            st.text(message.text)


def main() -> None:
    _require_admin()
    st.title(_("Outbox and sign-in activity"))
    st.info(session_mode_text(), icon=":material/cookie:")
    _outbox()
    st.divider()
    _audit()


main()
