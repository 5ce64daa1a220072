"""The 5-star rating under a finished video (``st.feedback``) with an optional comment."""

from __future__ import annotations

import streamlit as st

from errors import TalkingPhotoError
from i18n import _
from services import feedback
from views._components import localized_error


def _save(job_id: str, user_id: int) -> None:
    value = st.session_state.get(f"rate_{job_id}")
    if value is None:
        return
    comment = st.session_state.get(f"rate_comment_{job_id}", "")
    try:
        feedback.rate(user_id, job_id, int(value) + 1, comment)  # st.feedback counts from 0
        st.session_state[f"rate_done_{job_id}"] = True
    except TalkingPhotoError as exc:
        st.session_state[f"rate_error_{job_id}"] = localized_error(exc)


def rating_widget(job_id: str, user_id: int) -> None:
    """Stars save at once; the comment is saved with them when sent."""
    key = f"rate_{job_id}"
    if key not in st.session_state:
        mine = feedback.my_rating(user_id, job_id)
        if mine is not None:
            st.session_state[key] = mine.rating - 1
            st.session_state[f"rate_comment_{job_id}"] = mine.comment
    with st.container(key=f"rating_{job_id}"):
        st.markdown(_("How did this video turn out?"))
        st.feedback("stars", key=key, on_change=_save, args=(job_id, user_id))
        error = st.session_state.pop(f"rate_error_{job_id}", None)
        if error:
            st.error(error, icon=":material/error:")
        if st.session_state.get(key) is None:
            return
        with st.form(f"rate_form_{job_id}", border=False):
            st.text_area(
                _("Anything to add? (optional)"),
                key=f"rate_comment_{job_id}",
                max_chars=feedback.MAX_COMMENT,
                height=80,
            )
            st.form_submit_button(
                _("Send feedback"),
                on_click=_save,
                args=(job_id, user_id),
                key=f"rate_send_{job_id}",
            )
        if st.session_state.get(f"rate_done_{job_id}"):
            st.caption(_("Thank you for your rating!"))
