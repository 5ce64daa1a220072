"""Terms of service and privacy policy (``/legal?doc=terms`` or ``?doc=privacy``), in the UI
language, for everyone (signed in or not). The text is ``services.legal``'s template filled
from settings."""

from __future__ import annotations

import streamlit as st

from i18n import _, current_language
from services import legal

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
    st.markdown(legal.document(kind, current_language()))


main()
