"""My videos: the creator's history, newest first, with play, download, share, delete, retry.

Videos are played and downloaded by URL (``views._media``): nothing is read into the
session. One player at a time; deleting and sharing happen in state-driven dialogs (only one
dialog per run, and AppTest can click inside them).
"""

from __future__ import annotations

import logging

import streamlit as st

import ui_theme
from errors import N_, TalkingPhotoError
from i18n import _, format_date, format_datetime, format_number, format_seconds, ngettext
from secrets_manager import get_settings
from services import jobs, lifecycle, sharing
from views._components import (
    ACTIVE_STATUSES,
    STATUS_LABELS,
    localized_job_error,
    short_language,
    show_error,
)
from views._feedback import rating_widget
from views._media import absolute, download_url, format_bytes, playback_url, player, share_buttons
from views._session import require_user

CREATE_PAGE = "views/create.py"
EXPIRY_CHOICES: dict[int | None, str] = {
    None: N_("Never"),
    1: N_("After 1 day"),
    7: N_("After 7 days"),
    30: N_("After 30 days"),
}
log = logging.getLogger("talkingphoto.ui")


def _tz() -> str | None:
    return st.context.timezone if isinstance(st.context.timezone, str) else None


def _close_dialogs() -> None:
    for key in ("confirm_delete", "share_job", "new_share"):
        st.session_state.pop(key, None)


# ------------------------------------------------------------------------------- delete


@st.dialog(_("Delete this video?"), on_dismiss=_close_dialogs)
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
            _close_dialogs()
            st.session_state.pop("playing", None)
            st.toast(_("Video deleted."), icon=":material/delete:")
            st.rerun()
    with col_no:
        if st.button(_("Keep it"), key="confirm_delete_no", width="stretch"):
            _close_dialogs()
            st.rerun()


# -------------------------------------------------------------------------------- share


@st.dialog(_("Share this video"), on_dismiss=_close_dialogs, width="large")
def _share_dialog(job: jobs.JobView, user_id: int) -> None:
    new = st.session_state.get("new_share")
    if new and new.get("job") == job.id:
        st.success(
            _(
                "Your link is ready. Copy it now: for your safety we keep only a fingerprint "
                "of it, so it cannot be shown again."
            ),
            icon=":material/link:",
        )
        share_buttons(absolute(new["path"]), new["title"], key="new_share")
    else:
        _new_link_form(job, user_id)
    _existing_links(job, user_id)
    if st.button(_("Done"), key="share_done", width="stretch"):
        _close_dialogs()
        st.rerun()


def _new_link_form(job: jobs.JobView, user_id: int) -> None:
    title = st.text_input(
        _("Title shown with the video"),
        max_chars=sharing.TITLE_MAX_CHARS,
        key="share_title",
        placeholder=_("A video made with TalkingPhoto"),
    )
    expiry = st.selectbox(
        _("Link stops working"),
        options=list(EXPIRY_CHOICES),
        format_func=lambda days: _(EXPIRY_CHOICES[days]),
        key="share_expiry",
    )
    st.caption(_("Anyone with the link can watch the video; no sign-in needed."))
    if st.button(_("Create link"), key="share_create", type="primary", icon=":material/link:"):
        try:
            made = sharing.create(job.id, user_id, title=title, expires_in_days=expiry)
        except TalkingPhotoError as exc:
            show_error(exc)
            return
        st.session_state["new_share"] = {
            "job": job.id,
            "path": made.path,
            "title": made.link.title or _("A video made with TalkingPhoto"),
        }
        st.rerun()


def _existing_links(job: jobs.JobView, user_id: int) -> None:
    links = sharing.links_for_job(job.id, user_id)
    if not links:
        return
    st.markdown("**" + _("Links to this video") + "**")
    for link in links:
        col_text, col_button = st.columns([3, 1], vertical_alignment="center")
        with col_text:
            facts = [
                link.title or _("Untitled"),
                _("made {date}").format(date=format_date(link.created_at, tz_name=_tz())),
                ngettext("{n} view", "{n} views", link.views).format(n=format_number(link.views)),
            ]
            if link.expires_at is not None:
                label = _("expires {date}") if link.active() else _("expired {date}")
                facts.append(label.format(date=format_date(link.expires_at, tz_name=_tz())))
            ui_theme.plain_caption(" · ".join(facts))  # the title is the creator's text
        with col_button:
            if st.button(_("Revoke"), key=f"revoke_{link.id}", icon=":material/link_off:"):
                sharing.revoke(link.id, user_id)
                st.session_state.pop("new_share", None)
                st.toast(_("The link no longer works."), icon=":material/link_off:")
                st.rerun()


# ---------------------------------------------------------------------------------- rows


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
    """The small still, by URL; anything missing shows a placeholder, not an error."""
    if job.thumbnail_key and (url := playback_url(job.thumbnail_key)):
        st.image(url, width=96, alt="")  # decorative: the row names the video
        return
    st.markdown("### 🎬")


def _actions(job: jobs.JobView, user_id: int, playable: bool) -> None:
    if playable:
        playing = st.session_state.get("playing") == job.id
        if st.button(
            _("Hide") if playing else _("Play"),
            key=f"play_{job.id}",
            icon=":material/pause:" if playing else ":material/play_arrow:",
            width="stretch",
        ):
            st.session_state["playing"] = None if playing else job.id
            st.rerun()
        name = f"talkingphoto-{job.id[:8]}.mp4"
        if url := download_url(job.video_key or "", name):
            st.link_button(
                _("Download"),
                url,
                key=f"download_{job.id}",
                icon=":material/download:",
                width="stretch",
            )
        if sharing.enabled() and st.button(
            _("Share"), key=f"share_{job.id}", icon=":material/share:", width="stretch"
        ):
            _close_dialogs()
            st.session_state["share_job"] = job.id
            st.rerun()
    retryable = job.status in ("failed", "cancelled") and job.photo_deleted_at is None
    if retryable and st.button(
        _("Try again"), key=f"retry_{job.id}", icon=":material/refresh:", width="stretch"
    ):
        _retry(job, user_id)
    if job.status not in ACTIVE_STATUSES and st.button(
        _("Delete"), key=f"delete_{job.id}", icon=":material/delete:", width="stretch"
    ):
        _close_dialogs()
        st.session_state["confirm_delete"] = job.id
        st.rerun()


def _job_row(job: jobs.JobView, user_id: int) -> None:
    playable = job.status == "succeeded" and job.video_key is not None
    with st.container(border=True, key=f"job_{job.id}"):
        col_thumb, col_info, col_actions = st.columns([1, 3, 2], vertical_alignment="center")
        with col_thumb:
            _thumbnail(job)
        with col_info:
            ui_theme.status_badge(job.status, _(STATUS_LABELS.get(job.status, job.status)))
            excerpt = job.script if len(job.script) <= 90 else job.script[:87] + "…"
            ui_theme.script_excerpt(excerpt)
            facts = [
                format_datetime(job.created_at, tz_name=_tz()) if job.created_at else "",
                format_seconds(job.duration_s) if job.duration_s else "",
                short_language(job.params.language),
                format_bytes(job.media_bytes) if job.media_bytes else "",
            ]
            if job.status in ACTIVE_STATUSES:
                facts.append(f"{round(job.percent)}%")
            ui_theme.meta_line(facts)
            if job.status == "failed" and (message := localized_job_error(job)):
                st.caption(message)
            if job.status == "succeeded" and job.video_key is None:
                st.caption(_("The video file is no longer stored."))
        with col_actions:
            _actions(job, user_id, playable)
        if playable and st.session_state.get("playing") == job.id:
            player(job.video_key or "", vtt_key=job.vtt_key)
            rating_widget(job.id, user_id)  # 5 stars and a comment, after the video plays


def _usage_line(user_id: int, count: int) -> None:
    used = lifecycle.storage_used(user_id)
    settings_days = _retention_days()
    parts = [
        ngettext("{n} video", "{n} videos", count).format(n=format_number(count)),
        _("{size} of storage").format(size=format_bytes(used)),
    ]
    if settings_days:
        parts.append(
            ngettext("videos are kept {n} day", "videos are kept {n} days", settings_days).format(
                n=format_number(settings_days)
            )
        )
    st.caption(" · ".join(parts))


def _retention_days() -> int:

    return get_settings().storage.video_retention_days


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
    _usage_line(user.id, len(items))
    st.caption(_("Newest first. Videos being made update when you reopen this page."))
    for job in items:
        _job_row(job, user.id)
    if job_id := st.session_state.get("confirm_delete"):
        _confirm_delete(job_id, user.id)
    elif (job_id := st.session_state.get("share_job")) and sharing.enabled():
        found = next((job for job in items if job.id == job_id), None)
        if found is not None:
            _share_dialog(found, user.id)


main()
