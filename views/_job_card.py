"""The create page's job card: live progress while a video is made, then the result (player,
facts, download, rating) or the failure with "Try again".

The active job id lives in ``st.query_params["job"]`` as well as the session, so a reload
finds the job again. The card polls the job row (``services.jobs``) in a fragment; it never
holds the worker or the video bytes.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

import ui_theme
from errors import TalkingPhotoError
from i18n import _, format_number, format_seconds, ngettext
from services import jobs
from views import _provider_choice
from views._components import (
    ACTIVE_STATUSES,
    STAGE_LABELS,
    localized_job_error,
    localized_note,
    short_language,
    show_error,
    show_unexpected,
)
from views._feedback import rating_widget
from views._media import download_url, player


def remember_job(job_id: str) -> None:
    st.session_state["job_id"] = job_id
    st.query_params["job"] = job_id


def _active_job_id() -> str | None:
    job_id = st.query_params.get("job") or st.session_state.get("job_id")
    if job_id:
        st.session_state["job_id"] = job_id
        if st.query_params.get("job") != job_id:
            st.query_params["job"] = job_id
    return job_id or None


def forget_job() -> None:
    st.session_state.pop("job_id", None)
    if "job" in st.query_params:
        del st.query_params["job"]


def _elapsed_s(job: jobs.JobView) -> float:
    start = job.started_at or job.created_at
    if start is None:
        return 0.0
    now = (
        dt.datetime.now(start.tzinfo)
        if start.tzinfo
        else dt.datetime.now(dt.UTC).replace(tzinfo=None)
    )
    return max(0.0, (now - start).total_seconds())


@st.fragment(run_every="1s")
def _progress_panel(job_id: str, user_id: int) -> None:
    """Polls the job row every second; a full rerun when it ends stops the timer.

    A fragment rerun runs only this function, outside the page's error boundary, so it
    carries its own.
    """
    try:
        _progress_body(job_id, user_id)
    except TalkingPhotoError as exc:
        show_error(exc)
    except Exception as exc:
        show_unexpected(exc, "progress")


def _progress_body(job_id: str, user_id: int) -> None:
    job = jobs.get(job_id, user_id)
    if job.status not in ACTIVE_STATUSES:
        st.rerun()
    with st.container(key="progress_card"):
        if job.cancel_requested:
            stage = _("Cancelling…")
        else:
            stage = _(STAGE_LABELS.get(job.stage, "Waiting to start"))
        percent = job.percent if job.status == "running" else 0
        ui_theme.progress_card(
            _("Making your video"),
            f"{stage} · {format_number(percent)}%",
            percent,
            _(
                "{seconds} s elapsed · you can leave this page; the video will be in My videos."
            ).format(seconds=format_number(_elapsed_s(job))),
        )
        if st.button(
            _("Cancel"), key="cancel_job", icon=":material/close:", disabled=job.cancel_requested
        ):
            jobs.cancel(job_id, user_id)
            st.rerun()


def _result_panel(job: jobs.JobView, user_id: int) -> None:
    with st.container(key="result_card"):
        if job.status == "succeeded" and job.video_key:
            make_another = _succeeded(job)
        elif job.status == "cancelled":
            st.info(
                _("The video was cancelled. Your credits were returned."), icon=":material/block:"
            )
            make_another = st.button(_("Make another"), key="make_another", icon=":material/add:")
        else:
            message = localized_job_error(job) or _("The video could not be made.")
            st.error(message, icon=":material/error:")
            st.caption(_("Your credits were returned."))
            col_retry, col_new = st.columns(2)
            with col_retry:
                if st.button(_("Try again"), key="retry_job", icon=":material/refresh:"):
                    try:
                        new = jobs.retry(job.id, user_id, idempotency_key=f"retry:{job.id}")
                    except TalkingPhotoError as exc:
                        show_error(exc)
                    else:
                        remember_job(new.id)
                        st.rerun()
            with col_new:
                make_another = st.button(
                    _("Make another"), key="make_another", icon=":material/add:"
                )
    if make_another:
        forget_job()
        st.rerun()


def _succeeded(job: jobs.JobView) -> bool:
    """Player on the left, facts, actions and the rating on the right (on a phone, in that
    order under the video: "ready" and the download come before the stars); True when
    "Make another" is hit."""
    col_player, col_info = st.columns([2, 3], gap="medium")
    with col_player:
        # Captions burned into the frames need no second, HTML subtitle track.
        # By URL (the /api/media route or the store's signed URL): never the bytes in memory.
        player(job.video_key or "", vtt_key=job.vtt_key if job.params.captions == "srt" else None)
    with col_info:
        st.markdown("### " + _("Your video is ready"))
        facts = [
            format_seconds(job.duration_s) if job.duration_s else "",
            short_language(job.params.language),
            f"{job.params.resolution}p",
            ngettext("{n} credit", "{n} credits", job.cost_credits).format(
                n=format_number(job.cost_credits)
            ),
        ]
        ui_theme.meta_line(facts)
        _provider_choice.made_by(job)
        for note in job.notes:
            st.caption(localized_note(note))
        # Links, not bytes: the file streams from storage (the /api/media route or a signed
        # URL) without passing through this process's memory.
        name = f"talkingphoto-{job.id[:8]}"
        if url := download_url(job.video_key or "", f"{name}.mp4"):
            st.link_button(
                _("Download MP4"),
                url,
                key="download_video",
                icon=":material/download:",
                type="primary",
                width="stretch",
            )
        if job.srt_key and (url := download_url(job.srt_key, f"{name}.srt")):
            st.link_button(
                _("Download subtitles (.srt)"),
                url,
                key="download_srt",
                icon=":material/subtitles:",
                width="stretch",
            )
        again = st.button(
            _("Make another"), key="make_another", icon=":material/add:", width="stretch"
        )
        rating_widget(job.id, job.user_id)  # go-live: 5 stars and a comment
        return again


def job_panel(user_id: int) -> bool:
    """Shows the current job (progress or result); True while one is still running."""
    job_id = _active_job_id()
    if not job_id:
        return False
    try:
        job = jobs.get(job_id, user_id)
    except TalkingPhotoError:
        forget_job()
        st.info(_("That video was not found."))
        return False
    if job.status in ACTIVE_STATUSES:
        _progress_panel(job.id, user_id)
        return True
    _result_panel(job, user_id)
    return False
