"""My videos: the creator's history, newest first, with play, download, delete and retry.

Only one video player is rendered at a time (``st.video`` copies the file into the in-memory
media store), and deleting asks for confirmation in a state-driven dialog.
"""

from __future__ import annotations

import logging

import streamlit as st

import ui_theme
from errors import TalkingPhotoError
from i18n import _, format_datetime, format_seconds
from services import jobs
from views._components import (
    ACTIVE_STATUSES,
    STATUS_LABELS,
    existing,
    lazy_reader,
    localized_job_error,
    short_language,
    show_error,
)
from views._session import require_user

CREATE_PAGE = "views/create.py"
log = logging.getLogger("talkingphoto.ui")


def _close_dialog() -> None:
    st.session_state.pop("confirm_delete", None)


@st.dialog(_("Delete this video?"), on_dismiss=_close_dialog)
def _confirm_delete(job_id: str, user_id: int) -> None:
    st.write(_("The video and its files will be removed. This cannot be undone."))
    col_yes, col_no = st.columns(2)
    with col_yes:
        if st.button(_("Delete"), type="primary", key="confirm_delete_yes", width="stretch"):
            try:
                jobs.delete(job_id, user_id)
            except TalkingPhotoError as exc:
                show_error(exc)
                return
            _close_dialog()
            st.session_state.pop("playing", None)
            st.toast(_("Video deleted."), icon=":material/delete:")
            st.rerun()
    with col_no:
        if st.button(_("Keep it"), key="confirm_delete_no", width="stretch"):
            _close_dialog()
            st.rerun()


def _retry(job: jobs.JobView, user_id: int) -> None:
    try:
        new = jobs.retry(job.id, user_id, idempotency_key=f"retry:{job.id}")
    except TalkingPhotoError as exc:
        show_error(exc)
        return
    lang = st.query_params.get("lang")
    params = {"job": new.id} | ({"lang": lang} if lang else {})
    st.switch_page(CREATE_PAGE, query_params=params)


def _thumbnail(job: jobs.JobView) -> None:
    """The small still; a missing or unreadable file shows a placeholder, not an error."""
    if thumb := existing(job.thumbnail_path):
        try:
            st.image(str(thumb), width=96)
            return
        except (OSError, ValueError):
            log.warning("unreadable thumbnail for job %s", job.id)
    st.markdown("### 🎬")


def _job_row(job: jobs.JobView, user_id: int) -> None:
    tz = st.context.timezone if isinstance(st.context.timezone, str) else None
    with st.container(border=True, key=f"job_{job.id}"):
        col_thumb, col_info, col_actions = st.columns([1, 3, 2], vertical_alignment="center")
        with col_thumb:
            _thumbnail(job)
        with col_info:
            ui_theme.status_badge(job.status, _(STATUS_LABELS.get(job.status, job.status)))
            excerpt = job.script if len(job.script) <= 90 else job.script[:87] + "…"
            ui_theme.script_excerpt(excerpt)
            facts = [
                format_datetime(job.created_at, tz_name=tz) if job.created_at else "",
                format_seconds(job.duration_s) if job.duration_s else "",
                short_language(job.params.language),
            ]
            if job.status in ACTIVE_STATUSES:
                facts.append(f"{round(job.percent)}%")
            ui_theme.meta_line(facts)
            if job.status == "failed" and (message := localized_job_error(job)):
                st.caption(message)
        with col_actions:
            video = existing(job.video_path) if job.status == "succeeded" else None
            if video is not None:
                playing = st.session_state.get("playing") == job.id
                if st.button(
                    _("Hide") if playing else _("Play"),
                    key=f"play_{job.id}",
                    icon=":material/pause:" if playing else ":material/play_arrow:",
                    width="stretch",
                ):
                    st.session_state["playing"] = None if playing else job.id
                    st.rerun()
                st.download_button(
                    _("Download"),
                    data=lazy_reader(video),
                    file_name=f"talkingphoto-{job.id[:8]}.mp4",
                    mime="video/mp4",
                    key=f"download_{job.id}",
                    on_click="ignore",
                    icon=":material/download:",
                    width="stretch",
                )
            if job.status in ("failed", "cancelled") and st.button(
                _("Try again"), key=f"retry_{job.id}", icon=":material/refresh:", width="stretch"
            ):
                _retry(job, user_id)
            if job.status not in ACTIVE_STATUSES and st.button(
                _("Delete"), key=f"delete_{job.id}", icon=":material/delete:", width="stretch"
            ):
                st.session_state["confirm_delete"] = job.id
                st.rerun()
        if video is not None and st.session_state.get("playing") == job.id:
            vtt = existing(job.vtt_path)
            # Local path -> in-memory media store; one player at a time keeps that small.
            st.video(str(video), subtitles=str(vtt) if vtt else None)


def main() -> None:
    user = require_user()
    st.title(_("My videos"))
    items = jobs.list_for_user(user.id)
    if not items:
        ui_theme.empty_state(
            "🎞️",
            _("No videos yet"),
            _("Upload a portrait, type a script, and your first talking video appears here."),
        )
        st.page_link(CREATE_PAGE, label=_("Create your first video"), icon=":material/movie:")
        return
    st.caption(_("Newest first. Videos being made update when you reopen this page."))
    for job in items:
        _job_row(job, user.id)
    if job_id := st.session_state.get("confirm_delete"):
        _confirm_delete(job_id, user.id)


main()
