"""Create page: photo -> script -> language and voice -> Generate -> live progress -> result.

Memory rules (DESIGN "Memory"): the prepared photo and the face crop are written to small files
under the data dir and only their paths live in ``session_state``; the video is never read
into the session (the player and the download read the file).
The active job id is kept in ``st.query_params["job"]`` as well, so a reload finds it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

import ui_theme
from errors import FaceError, PhotoError, RateLimited, TalkingPhotoError
from i18n import _, current_language, format_number, format_seconds, ngettext
from providers.base import ASPECTS, CAPTION_MODES
from providers.local import speech
from secrets_manager import get_settings
from services import credits, jobs, photos, ratelimit
from views import _provider_choice
from views._components import (
    ACTIVE_STATUSES,
    GENDER_LABELS,
    STAGE_LABELS,
    existing,
    language_label,
    localized,
    localized_job_error,
    localized_note,
    short_language,
    show_error,
    show_unexpected,
)
from views._provider_choice import Choice
from views._session import current_user, require_user

MB = 1024 * 1024

# ---------------------------------------------------------------- state helpers


@dataclass(frozen=True)
class PhotoState:
    """What survives a rerun: paths and a few facts, never image bytes."""

    source_id: str  # the uploader's file_id, to process each upload once
    path: str
    width: int
    height: int
    format: str
    crop_path: str
    notes: tuple[str, ...]


def _active_job_id() -> str | None:
    job_id = st.query_params.get("job") or st.session_state.get("job_id")
    if job_id:
        st.session_state["job_id"] = job_id
        if st.query_params.get("job") != job_id:
            st.query_params["job"] = job_id
    return job_id or None


def _forget_job() -> None:
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


# ---------------------------------------------------------------- photo


def _process_photo(source_id: str, data: bytes) -> None:
    """Validate + orient + strip + downscale, find the face, keep two small files."""
    limits = get_settings().limits
    st.session_state.pop("photo", None)
    st.session_state.pop("photo_error", None)
    user = current_user()
    try:
        if user is not None:
            ratelimit.hit("upload", user.id)
        prepared = photos.prepare_photo(
            data,
            max_bytes=limits.max_upload_mb * MB,
            max_megapixels=limits.max_megapixels,
            min_side_px=limits.min_photo_side_px,
            max_side_px=limits.max_photo_side_px,
        )
        preview = photos.face_preview(prepared, min_face_px=limits.min_face_px)
    except (PhotoError, FaceError, RateLimited) as exc:
        # Not the exception (it holds a traceback): its template and params, translated when
        # shown, so switching the UI language translates the message too.
        st.session_state["photo_error"] = (exc.template, exc.params)
        st.session_state["photo_source_id"] = source_id
        return
    folder = photos.staged_upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(prepared.data).hexdigest()[:24]
    ext = "png" if prepared.data[:4] == b"\x89PNG" else "jpg"
    photo_path = folder / f"{digest}.{ext}"
    crop_path = folder / f"{digest}-face.jpg"
    _write_whole(photo_path, prepared.data)
    _write_whole(crop_path, preview.crop_jpeg)
    st.session_state["photo_source_id"] = source_id
    st.session_state["photo"] = PhotoState(
        source_id=source_id,
        path=str(photo_path),
        width=prepared.width,
        height=prepared.height,
        format=prepared.format,
        crop_path=str(crop_path),
        notes=tuple(preview.notes),
    )


def _write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` so that readers see the old file or the whole new one, never a part.
    The names are content hashes, so two creators uploading the same picture share a file,
    and one session must not read it while the other is half-way through writing it."""
    tmp = path.with_name(f".{uuid.uuid4().hex}.part")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _photo_section() -> PhotoState | None:
    features = get_settings().features
    limits = get_settings().limits
    ui_theme.step_header(1, _("Choose a portrait"))
    uploaded: Any = None
    if features.enable_mobile_upload:
        tab_upload, tab_camera = st.tabs([_("Upload a photo"), _("Take a photo")])
        with tab_upload:
            uploaded = _uploader(limits.max_upload_mb)
        with tab_camera:
            shot = st.camera_input(
                _("Take a photo"), key="photo_camera", label_visibility="collapsed"
            )
        # The newest of the two wins.
        if shot is not None and shot.file_id != st.session_state.get("camera_seen"):
            st.session_state["camera_seen"] = shot.file_id
            uploaded = shot
        elif uploaded is None and shot is not None:
            uploaded = shot
    else:
        uploaded = _uploader(limits.max_upload_mb)

    if uploaded is None:
        st.session_state.pop("photo", None)
        st.session_state.pop("photo_error", None)
        st.session_state.pop("photo_source_id", None)
        st.caption(_("A clear, front-facing photo of one person works best."))
        return None

    if st.session_state.get("photo_source_id") != uploaded.file_id:
        with st.spinner(_("Checking the photo…")):
            _process_photo(uploaded.file_id, uploaded.getvalue())

    if err := st.session_state.get("photo_error"):
        template, params = err
        st.error(localized(template, params), icon=":material/no_photography:")
        return None

    photo: PhotoState | None = st.session_state.get("photo")
    if photo is None or existing(photo.path) is None or existing(photo.crop_path) is None:
        # The temp files were swept; ask for the photo again rather than guess.
        st.session_state.pop("photo_source_id", None)
        st.session_state.pop("photo", None)
        st.warning(_("Please upload the photo again."))
        return None

    col_photo, col_face = st.columns([3, 2], vertical_alignment="center")
    with col_photo:
        st.image(
            photo.path,
            caption=_("Your photo"),
            width="stretch",
            alt=_("The photo you uploaded"),
        )
    with col_face:
        st.image(
            photo.crop_path,
            caption=_("Face found"),
            width="stretch",
            alt=_("Close-up of the face that will be animated"),
        )
    st.success(_("Face found — ready to animate."), icon=":material/face:")
    for note in photo.notes:
        st.caption(localized_note(note))
    return photo


def _uploader(max_mb: int) -> Any:
    return st.file_uploader(
        _("Portrait photo (JPG, PNG or WebP, up to {mb} MB)").format(mb=max_mb),
        type=["jpg", "jpeg", "png", "webp"],
        max_upload_size=max_mb,
        key="photo_upload",
    )


# ---------------------------------------------------------------- script, language, voice


def _default_language() -> str:
    return "hi" if current_language() == "hi" else "en"


def _script_section(choice: Choice) -> tuple[str, str]:
    limits = get_settings().limits
    ui_theme.step_header(2, _("Write what they say"))

    from providers.local.languages import LANGUAGES

    supported = choice.languages
    codes = [c for c in LANGUAGES if c in supported] or sorted(supported) or ["en"]
    # Follow the UI language until the creator picks a language themselves.
    if not st.session_state.get("language_touched"):
        st.session_state["language"] = _default_language()
    if st.session_state.get("language") not in codes:
        st.session_state["language"] = codes[0]
    language = st.selectbox(
        _("Language of the script"),
        options=codes,
        format_func=language_label,
        key="language",
        on_change=lambda: st.session_state.__setitem__("language_touched", True),
    )
    script = st.text_area(
        _("Script"),
        key="script",
        height=150,
        max_chars=limits.max_script_chars,
        placeholder=_("Type what the person in the photo should say…"),
    )
    return script or "", language


def _voice_section(choice: Choice, language: str) -> str | None:
    if choice.name == _provider_choice.AUTO:
        st.caption(_("Each service speaks with its own default voice for this language."))
        return None
    try:
        with st.spinner(_("Loading voices…")):
            found = _provider_choice.voices(choice.name, language)
    except TalkingPhotoError as exc:
        st.warning(localized(exc.template, exc.params), icon=":material/warning:")
        found = []
    voices = sorted(found, key=lambda v: (not v.natural, v.name))
    if not voices:
        st.info(_("The default voice for this language will be used."))
        return None

    # Labels are made now, in the page's language; format_func may be called later.
    labels: dict[str, str] = {}
    for v in voices:
        name = v.name.lower()
        parts = [v.name]
        if v.gender != "neutral" and v.gender not in name:
            parts.append(_(GENDER_LABELS.get(v.gender, "neutral")))
        if v.engine and v.engine.split("-")[0].lower() not in name:
            parts.append(v.engine)
        text = " · ".join(parts)
        labels[v.id] = text + "  ✨ " + _("natural") if v.natural else text

    # Samples are spoken by our own engine; a vendor's voices have no sample here.
    local = {v.id for v in speech.list_voices(language)}
    col_voice, col_sample = st.columns([3, 2], vertical_alignment="bottom")
    with col_voice:
        voice_id = st.selectbox(
            _("Voice"), options=list(labels), format_func=labels.__getitem__, key="voice"
        )
    with col_sample:
        if voice_id in local and st.button(_("▶ Play sample"), key="play_sample", width="stretch"):
            st.session_state["sample_voice"] = voice_id
    if voice_id and st.session_state.get("sample_voice") == voice_id:
        try:
            st.audio(_voice_sample(voice_id), format="audio/wav")
        except TalkingPhotoError as exc:
            show_error(exc)
    return voice_id


@st.cache_data(max_entries=24, show_spinner=False)
def _voice_sample(voice_id: str) -> bytes:
    """A short WAV per voice (a few dozen KB), shared by every session."""
    return speech.sample(voice_id)


# ---------------------------------------------------------------- options and cost


@dataclass(frozen=True)
class Options:
    resolution: int = 720
    aspect: str = "9:16"
    captions: str = "none"
    head_motion: float = 0.3
    speed: float = 1.0


def _options_section(choice: Choice) -> Options:
    if not get_settings().features.enable_advanced_options:
        return Options()
    resolutions = list(choice.caps.resolutions) if choice.caps else [720]
    captions_ok = bool(choice.caps and choice.caps.captions)  # Auto may end on a vendor
    aspect_labels = {
        "1:1": _("Square (1:1)"),
        "9:16": _("Portrait (9:16)"),
        "16:9": _("Landscape (16:9)"),
    }
    caption_labels = {
        "none": _("No captions"),
        "srt": _("Subtitle file"),
        "burn": _("On the video"),
    }
    with st.expander(_("Advanced options"), icon=":material/tune:"):
        col1, col2 = st.columns(2)
        with col1:
            resolution = st.selectbox(
                _("Resolution"),
                options=resolutions,
                index=resolutions.index(720) if 720 in resolutions else 0,
                format_func=lambda r: f"{r}p",
                key="opt_resolution",
            )
            aspect = st.selectbox(
                _("Shape"),
                options=list(ASPECTS),
                index=list(ASPECTS).index("9:16"),
                format_func=lambda a: aspect_labels.get(a, a),
                key="opt_aspect",
            )
            captions = st.selectbox(
                _("Captions"),
                options=list(CAPTION_MODES) if captions_ok else ["none"],
                format_func=lambda c: caption_labels.get(c, c),
                key="opt_captions" if captions_ok else "opt_captions_none",
                disabled=not captions_ok,
                help=None if captions_ok else _("Captions are made by our own engine only."),
            )
        with col2:
            head_motion = st.slider(
                _("Head motion"),
                0.0,
                1.0,
                0.3,
                0.05,
                key="opt_head_motion",
                help=_("0 keeps the head still; 1 is lively."),
            )
            speed = st.slider(_("Speaking speed"), 0.5, 2.0, 1.0, 0.05, key="opt_speed")
    return Options(int(resolution), str(aspect), str(captions), float(head_motion), float(speed))


def _cost_line(script: str, language: str, options: Options, choice: Choice) -> int | None:
    if not script.strip():
        return None
    limits = get_settings().limits
    seconds = credits.estimate_duration_s(script, language, options.speed)
    cost = credits.estimate_cost(seconds, _provider_choice.price(choice.name, language))
    chars = len(script)
    ui_theme.cost_line(
        html.escape(
            _("{chars} of {limit} characters · about {duration}").format(
                chars=format_number(chars),
                limit=format_number(limits.max_script_chars),
                duration=format_seconds(seconds),
            )
        )
        + " · "
        + "<b>"
        + html.escape(ngettext("{n} credit", "{n} credits", cost).format(n=format_number(cost)))
        + "</b>"
    )
    return cost


# ---------------------------------------------------------------- submit


def _submit(
    user_id: int,
    photo: PhotoState,
    script: str,
    language: str,
    voice: str | None,
    opt: Options,
    provider: str,
) -> None:
    # One token per rendered form: a double click or a replayed rerun returns the same job
    # (jobs.submit looks the token up) instead of creating and charging a second one.
    token = str(st.session_state.setdefault("submit_token", uuid.uuid4().hex))
    data = Path(photo.path).read_bytes()
    prepared = photos.PreparedPhoto(
        data=data, width=photo.width, height=photo.height, format=photo.format
    )
    params = jobs.JobParams(
        language=language,
        voice=voice,
        provider=provider,
        resolution=opt.resolution,
        aspect=opt.aspect,
        captions=opt.captions,
        head_motion=opt.head_motion,
        speed=opt.speed,
        pitch=1.0,
    )
    job = jobs.submit(user_id, photo=prepared, script=script, params=params, idempotency_key=token)
    st.session_state["submit_token"] = uuid.uuid4().hex
    st.session_state["job_id"] = job.id
    st.query_params["job"] = job.id


# ---------------------------------------------------------------- progress and result


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
                        st.session_state["job_id"] = new.id
                        st.query_params["job"] = new.id
                        st.rerun()
            with col_new:
                make_another = st.button(
                    _("Make another"), key="make_another", icon=":material/add:"
                )
    if make_another:
        _forget_job()
        st.rerun()


def _succeeded(job: jobs.JobView) -> bool:
    """Player on the left, facts and actions on the right; True when "Make another" is hit."""
    col_player, col_info = st.columns([2, 3], gap="large")
    with col_player:
        # Captions burned into the frames need no second, HTML subtitle track.
        # By URL (the /api/media route or the store's signed URL): never the bytes in memory.
        from views._media import player

        player(job.video_key or "", vtt_key=job.vtt_key if job.params.captions == "srt" else None)
        from views._feedback import rating_widget

        rating_widget(job.id, job.user_id)  # go-live: 5 stars and a comment under the video
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
        from views._media import download_url

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
        return st.button(
            _("Make another"), key="make_another", icon=":material/add:", width="stretch"
        )


def _job_panel(user_id: int) -> bool:
    """Shows the current job (progress or result); True while one is still running."""
    job_id = _active_job_id()
    if not job_id:
        return False
    try:
        job = jobs.get(job_id, user_id)
    except TalkingPhotoError:
        _forget_job()
        st.info(_("That video was not found."))
        return False
    if job.status in ACTIVE_STATUSES:
        _progress_panel(job.id, user_id)
        return True
    _result_panel(job, user_id)
    return False


# ---------------------------------------------------------------- page


def main() -> None:
    user = require_user()
    ui_theme.hero("TalkingPhoto", _("Turn a portrait into a video that speaks your words."))
    busy = _job_panel(user.id)

    st.session_state.setdefault("submit_token", uuid.uuid4().hex)
    col_left, col_right = st.columns([1, 1], gap="large")
    with col_left:
        photo = _photo_section()
    with col_right:
        choice = _provider_choice.section()
        script, language = _script_section(choice)
        voice = _voice_section(choice, language)
        options = _options_section(choice)
        ui_theme.step_header(3, _("Make the video"))
        balance = credits.balance(user.id)
        cost = _cost_line(script, language, options, choice)
        st.caption(
            ngettext("Balance: {n} credit", "Balance: {n} credits", balance).format(
                n=format_number(balance)
            )
        )
        ready = photo is not None and bool(script.strip()) and not busy
        if busy:
            hint = _("A video is being made; you can start the next one when it is done.")
        elif photo is None:
            hint = _("Add a photo with a face to continue.")
        elif not script.strip():
            hint = _("Write a script to continue.")
        elif cost is not None and cost > balance:
            hint = _("You do not have enough credits for this video.")
        else:
            hint = ""
        clicked = st.button(
            _("Generate video"),
            type="primary",
            key="generate",
            disabled=not ready,
            icon=":material/auto_awesome:",
            width="stretch",
        )
        if hint:
            st.caption(hint)
        if clicked and photo is not None:
            try:
                with st.spinner(_("Starting…")):
                    _submit(user.id, photo, script, language, voice, options, choice.name)
            except TalkingPhotoError as exc:
                show_error(exc)
            else:
                st.rerun()


main()
