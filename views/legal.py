"""Terms of service and privacy policy (``/legal?doc=terms`` or ``?doc=privacy``), in the UI
language, for everyone (signed in or not). The text is ``services.legal``'s template filled
from settings."""

from __future__ import annotations

import streamlit as st

from i18n import _, current_language, format_date
from services import legal
from views._session import current_user

DOCS: tuple[str, ...] = ("terms", "privacy")


def _choice() -> str:
    wanted = st.query_params.get("doc")
    return wanted if wanted in DOCS else "terms"


def main() -> None:
    labels = {"terms": _("Terms of service"), "privacy": _("Privacy policy")}
    choice = st.segmented_control(
        _("Document"),
        options=list(DOCS),
        format_func=lambda kind: labels[kind],
        default=_choice(),
        key="legal_doc",
        label_visibility="collapsed",
    )
    kind = choice if choice in DOCS else _choice()
    if st.query_params.get("doc") != kind:
        st.query_params["doc"] = kind
    _acceptance()
    st.markdown(legal.document(kind, current_language()))


def _acceptance() -> None:
    """A signed-in account whose accepted versions are not the current ones (an account from
    before the terms existed, or the terms changed) can accept them here."""
    user = current_user()
    if user is None or not user.has_account:
        return
    if not legal.needs_acceptance(user.id):
        found = legal.acceptance(user.id)
        if found is not None:
            st.caption(
                _("You accepted these versions on {date}.").format(
                    date=format_date(found.accepted_at)
                )
            )
        return
    st.info(
        _("These terms or this privacy policy are new since you last accepted them."),
        icon=":material/info:",
    )
    if st.button(_("I accept the terms of service and the privacy policy"), key="legal_accept"):
        legal.accept(user.id)
        st.rerun()


main()
