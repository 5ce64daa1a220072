"""My videos: the creator's history, newest first: play, rename, download, share, delete, retry.

Each video is one compact card (thumbnail, title, status, actions in one row, also on a
phone); Play opens the player under the row. A video being made updates by itself: its card
is a ``st.fragment(run_every=POLL_S)`` that re-reads the job row, and when the job finishes
the fragment asks for one full rerun, which draws the finished card without a timer, so
nothing polls once no video is being made.

Videos are played and downloaded by URL (``views._media``): nothing is read into the
session. Deleting, sharing and renaming are state-driven (only one dialog per run, and
AppTest can click inside them). After a delete the next run shows "Deleted <title>".
"""

from __future__ import annotations

import logging

import streamlit as st

import ui_theme
from errors import N_, TalkingPhotoError
from i18n import _, format_date, format_number, format_seconds, ngettext
from secrets_manager import get_settings
from services import jobs, lifecycle, sharing
from views._components import (
    ACTIVE_STATUSES,
    STATUS_LABELS,
    localized_error,
    localized_job_error,
    short_language,
    show_error,
)
from views._feedback import rating_widget
from views._media import copy_box, download_url, format_bytes, playback_url, player, share_buttons
from views._session import CREATE_PAGE, require_user

POLL_S = 2.0  # how often a card of a video being made re-reads its row
EXPIRY_CHOICES: dict[int | None, str] = {
    None: N_("Never"),
    1: N_("After 1 day"),
    7: N_("After 7 days"),
    30: N_("After 30 days"),
}
FLASH = "videos_flash"  # a toast for the next run (st.toast before st.rerun would be lost)
log = logging.getLogger("talkingphoto.ui")

# Compact cards: one row (thumbnail, title and status, actions) at every width; Streamlit's
# columns would stack into a screen-tall card on a phone. Button texts stay for screen
# readers but are hidden on narrow screens, where the icons speak for themselves.
_CSS = """
<style>
[class*="st-key-job_"] { padding: 0.55rem 0.7rem !important; }
[class*="st-key-row_"] { flex-wrap: nowrap !important; align-items: center; }
[class*="st-key-info_"] { min-width: 0; flex: 1 1 auto; }
[class*="st-key-thumb_"] { flex: none; width: 72px; }
[class*="st-key-thumb_"] img { width: 72px; height: 72px; object-fit: cover;
  border-radius: 10px; }
.tp-thumb-empty { width: 72px; height: 72px; border-radius: 10px;
  background: linear-gradient(135deg, #E9E6FF, #F3F1FB);
  display: flex; align-items: center; justify-content: center; }
.tp-thumb-empty span { width: 0; height: 0; margin-left: 4px; border-style: solid;
  border-width: 11px 0 11px 18px; border-color: transparent transparent transparent #8C82F5; }
.tp-title { font-weight: 650; font-size: 1.02rem; color: #1D2233; margin: 0 0 0.15rem 0;
  line-height: 1.35; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
[class*="st-key-info_"] .tp-meta { line-height: 1.5; }
/* Streamlit pulls a Markdown block's next neighbour up by 1rem; here it has none, and the
   pull made the second meta line spill over the card's border. */
[class*="st-key-info_"] [data-testid="stMarkdownContainer"] { margin-bottom: 0 !important; }
[class*="st-key-acts_"] { flex: none; width: auto !important; }
[class*="st-key-acts_"] button { min-height: 44px; min-width: 44px; }
[class*="st-key-player_"] [data-testid="stVideo"] { max-height: min(62vh, 560px); }
@media (max-width: 640px) {
  [class*="st-key-thumb_"], [class*="st-key-thumb_"] img, .tp-thumb-empty {
    width: 56px; height: 56px; }
  [class*="st-key-acts_"] button [data-testid="stMarkdownContainer"] {
    position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
    white-space: nowrap; }
  [class*="st-key-acts_"] button { padding: 0 0.55rem; }
  [class*="st-key-info_"] .tp-meta { font-size: 0.82rem; }
  .tp-wide { display: none; }
}
</style>
"""


def _tz() -> str | None:
    return st.context.timezone if isinstance(st.context.timezone, str) else None


def _close_dialogs() -> None:
    for key in ("confirm_delete", "share_job", "new_share", "renaming"):
        st.session_state.pop(key, None)


def _flash(message: str, icon: str) -> None:
    st.session_state[FLASH] = (message, icon)


def _show_flash() -> None:
    if flash := st.session_state.pop(FLASH, None):
        st.toast(flash[0], icon=flash[1])


# ------------------------------------------------------------------------------- delete


@st.dialog(_("Delete this video?"), on_dismiss=_close_dialogs)
def _confirm_delete(job: jobs.JobView, user_id: int) -> None:
    # The creator's own title, shown as typed (never Markdown).
    st.markdown(
        f'<p class="tp-title" dir="auto">{ui_theme.inert(job.title)}</p>', unsafe_allow_html=True
    )
    st.write(_("The video and its files will be removed. This cannot be undone."))
    col_yes, col_no = st.columns(2)
    with col_yes:
        if st.button(_("Delete"), type="primary", key="confirm_delete_yes", width="stretch"):
            try:
                jobs.delete(job.id, user_id)
            except TalkingPhotoError as exc:
                show_error(exc)
                return
            _close_dialogs()
            st.session_state.pop("playing", None)
            _flash(_("Deleted {title}").format(title=job.title), ":material/delete:")
            st.rerun()
    with col_no:
        if st.button(_("Keep it"), key="confirm_delete_no", width="stretch"):
            _close_dialogs()
            st.rerun()


# -------------------------------------------------------------------------------- share


@st.dialog(_("Share this video"), on_dismiss=_close_dialogs, width="large")
def _share_dialog(job: jobs.JobView, user_id: int) -> None:
    links = sharing.links_for_job(job.id, user_id)
    live = [link for link in links if link.active() and link.token]
    if live:
        newest = live[0]
        title = newest.title or job.title
        if (st.session_state.get("new_share") or {}).get("job") == job.id:
            st.success(_("Your link is ready."), icon=":material/link:")
        share_buttons(_public(newest.path or ""), title, key=f"share_{newest.id}")
        with st.expander(_("Embed on a website")):
            st.caption(_("Paste this code into a web page to show the video there."))
            code = sharing.embed_code(
                newest.token or "", _base_url(), title, poster=job.thumbnail_key is not None
            )
            copy_box(code, key=f"embed_{newest.id}", label=_("Embed code"), multiline=True)
    with st.expander(_("Make another link"), expanded=not live):
        _new_link_form(job, user_id)
    _existing_links(links, user_id, job, shown=live[0].id if live else None)
    if st.button(_("Done"), key="share_done", width="stretch"):
        _close_dialogs()
        st.rerun()


def _base_url() -> str:
    """Links people keep and pass on are built from ``[app] base_url``, never from the
    address this visitor happens to use."""
    return get_settings().app.base_url.rstrip("/")


def _public(path: str) -> str:
    return _base_url() + path


def _new_link_form(job: jobs.JobView, user_id: int) -> None:
    title = st.text_input(
        _("Title shown with the video"),
        value=job.title[: sharing.TITLE_MAX_CHARS],
        max_chars=sharing.TITLE_MAX_CHARS,
        key=f"share_title_{job.id}",
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
            sharing.create(job.id, user_id, title=title, expires_in_days=expiry)
        except TalkingPhotoError as exc:
            show_error(exc)
            return
        st.session_state["new_share"] = {"job": job.id}
        st.rerun()


def _existing_links(
    links: list[sharing.ShareLinkView], user_id: int, job: jobs.JobView, *, shown: int | None
) -> None:
    """Every link not revoked, with its facts, a Copy box (except ``shown``, whose link is
    already at the top of the dialog) and Revoke."""
    if not links:
        return
    st.markdown("**" + _("Links to this video") + "**")
    for link in links:
        with st.container(border=True, key=f"link_{link.id}"):
            facts = [
                link.title or job.title,
                _("made {date}").format(date=format_date(link.created_at, tz_name=_tz())),
                ngettext("{n} view", "{n} views", link.views).format(n=format_number(link.views)),
            ]
            if link.expires_at is not None:
                label = _("expires {date}") if link.active() else _("expired {date}")
                facts.append(label.format(date=format_date(link.expires_at, tz_name=_tz())))
            ui_theme.plain_caption(" · ".join(facts))  # the title is the creator's text
            if link.path and link.active() and link.id != shown:
                copy_box(_public(link.path), key=f"link_{link.id}", label=_("Copy link"))
            elif link.active():
                st.caption(_("This older link cannot be shown again; make a new one to copy."))
            if st.button(_("Revoke"), key=f"revoke_{link.id}", icon=":material/link_off:"):
                sharing.revoke(link.id, user_id)
                st.session_state.pop("new_share", None)
                st.toast(_("The link no longer works."), icon=":material/link_off:")
                st.rerun()


# -------------------------------------------------------------------------------- rename


def _rename_form(job: jobs.JobView, user_id: int) -> None:
    with st.form(key=f"rename_{job.id}", border=False):
        title = st.text_input(
            _("Title"), value=job.title, max_chars=jobs.TITLE_MAX_CHARS, key=f"title_{job.id}"
        )
        with st.container(horizontal=True, gap="small"):
            save = st.form_submit_button(_("Save"), type="primary", icon=":material/check:")
            cancel = st.form_submit_button(_("Cancel"))
    if cancel:
        st.session_state.pop("renaming", None)
        st.rerun()
    if save:
        try:
            jobs.rename(job.id, user_id, title)
        except TalkingPhotoError as exc:
            st.error(localized_error(exc), icon=":material/error:")
            return
        st.session_state.pop("renaming", None)
        _flash(_("Renamed."), ":material/edit:")
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
    with st.container(key=f"thumb_{job.id}", width="content"):
        if job.thumbnail_key and (url := playback_url(job.thumbnail_key)):
            st.image(url, width=72, alt="")  # decorative: the card names the video
        else:
            st.html('<div class="tp-thumb-empty" aria-hidden="true"><span></span></div>')


def _open(key: str, job_id: str) -> None:
    """A menu item's callback: open ``key``'s dialog or form for the job and close the menu
    (a callback runs before the page, the only moment the menu's state may be set)."""
    _close_dialogs()
    st.session_state[key] = job_id
    st.session_state[f"more_{job_id}"] = False


def _menu(job: jobs.JobView, user_id: int, playable: bool) -> None:
    """Everything but Play, behind one button: the row stays one line on a phone."""
    with st.popover(
        _("More"), icon=":material/more_vert:", key=f"more_{job.id}", on_change="rerun"
    ):
        st.button(
            _("Rename"),
            key=f"rename_{job.id}",
            icon=":material/edit:",
            width="stretch",
            on_click=_open,
            args=("renaming", job.id),
        )
        if playable:
            name = f"talkingphoto-{job.id[:8]}.mp4"
            if url := download_url(job.video_key or "", name):
                st.link_button(
                    _("Download"),
                    url,
                    key=f"download_{job.id}",
                    icon=":material/download:",
                    width="stretch",
                )
            if sharing.enabled():
                st.button(
                    _("Share"),
                    key=f"share_{job.id}",
                    icon=":material/share:",
                    width="stretch",
                    on_click=_open,
                    args=("share_job", job.id),
                )
        retryable = job.status in ("failed", "cancelled") and job.photo_deleted_at is None
        if retryable and st.button(
            _("Try again"), key=f"retry_{job.id}", icon=":material/refresh:", width="stretch"
        ):
            _retry(job, user_id)
        if job.status not in ACTIVE_STATUSES:
            st.button(
                _("Delete"),
                key=f"delete_{job.id}",
                icon=":material/delete:",
                width="stretch",
                on_click=_open,
                args=("confirm_delete", job.id),
            )


def _info(job: jobs.JobView) -> None:
    """Title, then status and facts: one Markdown block (two would add Streamlit's gaps)."""
    label = _(STATUS_LABELS.get(job.status, job.status))
    if job.status in ACTIVE_STATUSES:
        label += f" {round(job.percent)}%"
    facts = [
        format_date(job.created_at, tz_name=_tz()) if job.created_at else "",
        format_seconds(job.duration_s) if job.duration_s else "",
        short_language(job.params.language),
    ]
    text = " · ".join(ui_theme.inert(p) for p in facts if p)
    if job.media_bytes:
        text += f'<span class="tp-wide"> · {ui_theme.inert(format_bytes(job.media_bytes))}</span>'
    title = ui_theme.inert(job.title)  # the creator's text: shown as typed
    with st.container(key=f"info_{job.id}", gap=None):
        st.markdown(
            f'<div class="tp-title" dir="auto" title="{title}">{title}</div>'
            f'<div class="tp-meta">{ui_theme.status_badge_html(job.status, label)} {text}</div>',
            unsafe_allow_html=True,
        )


def _card(job: jobs.JobView, user_id: int) -> None:
    playable = job.status == "succeeded" and job.video_key is not None
    playing = playable and st.session_state.get("playing") == job.id
    with st.container(border=True, key=f"job_{job.id}"):
        with st.container(
            horizontal=True, vertical_alignment="center", gap="small", key=f"row_{job.id}"
        ):
            _thumbnail(job)
            _info(job)
            with st.container(horizontal=True, gap="small", key=f"acts_{job.id}", width="content"):
                if playable and st.button(
                    _("Hide") if playing else _("Play"),
                    key=f"play_{job.id}",
                    # Hide folds the player away; a pause icon would promise to pause it.
                    icon=":material/expand_less:" if playing else ":material/play_arrow:",
                    type="primary" if not playing else "secondary",
                ):
                    st.session_state["playing"] = None if playing else job.id
                    st.rerun()
                _menu(job, user_id, playable)
        if st.session_state.get("renaming") == job.id:
            _rename_form(job, user_id)
        if job.status in ACTIVE_STATUSES:
            st.progress(min(100, max(0, round(job.percent))))
        if job.status == "failed" and (message := localized_job_error(job)):
            st.caption(message)
        if job.status == "succeeded" and job.video_key is None:
            st.caption(_("The video file is no longer stored."))
        if playing:
            with st.container(key=f"player_{job.id}"):
                player(job.video_key or "", vtt_key=job.vtt_key)
            rating_widget(job.id, user_id)  # 5 stars and a comment, after the video plays


@st.fragment(run_every=POLL_S)
def _live_card(job_id: str, user_id: int) -> None:
    """A video being made: re-read every ``POLL_S`` seconds; once it is done, one full rerun
    draws the finished card (and its thumbnail, size, actions) and this timer is gone."""
    try:
        job = jobs.get(job_id, user_id)
    except TalkingPhotoError:
        st.rerun()  # deleted elsewhere
        return
    if not job.active:
        st.rerun()
    _card(job, user_id)


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
    _show_flash()
    items = jobs.list_for_user(user.id)
    if not items:
        ui_theme.empty_state(
            "🎞️",
            _("No videos yet"),
            _("Upload a portrait, type a script, and your first talking video appears here."),
        )
        st.page_link(CREATE_PAGE, label=_("Create your first video"), icon=":material/movie:")
        return
    st.html(_CSS)
    _usage_line(user.id, len(items))
    for job in items:
        if job.active:
            _live_card(job.id, user.id)
        else:
            _card(job, user.id)
    by_id = {job.id: job for job in items}
    if (job_id := st.session_state.get("confirm_delete")) and job_id in by_id:
        _confirm_delete(by_id[job_id], user.id)
    elif (job_id := st.session_state.get("share_job")) and sharing.enabled() and job_id in by_id:
        _share_dialog(by_id[job_id], user.id)


main()
