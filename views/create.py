"""Create page: photo -> script -> language and voice -> Generate -> live progress -> result.

A page, not a controller: photos are checked and staged by ``services.photos``, the service,
voices, price and checks are ``services.generation``'s, the job is ``services.jobs``'. Only
paths and small facts live in ``session_state``; the video is never read into the session.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import uuid
from pathlib import Path
from typing import Any

import streamlit as st

import ui_theme
from errors import N_, FaceError, PhotoError, RateLimited, ScriptError, TalkingPhotoError
from i18n import _, current_language, format_number, format_seconds, ngettext
from secrets_manager import get_settings
from services import credits, drafts, generation, jobs, photos
from services.generation import ASPECTS, CAPTION_MODES, LANGUAGES, Choice
from services.jobs import JobParams
from services.photos import StagedPhoto
from views import _job_card, _provider_choice
from views._components import (
    GENDER_LABELS,
    language_label,
    localized,
    localized_note,
    show_error,
)
from views._scroll import scroll_into_view
from views._session import CREDITS_PAGE, current_user, require_user

log = logging.getLogger("talkingphoto.create")

DRAFT_SOURCE = "draft"  # photo_source_id of a photo restored from the creator's draft
DRAFT_LOADED = "draft_loaded"
DRAFT_SEEN = "draft_seen"
# Draft option -> the widget's session key.
_DRAFT_KEYS = {
    "language": "language",
    "language_touched": "language_touched",
    "provider": "provider",
    "voice": "voice",
    "resolution": "opt_resolution",
    "captions": "opt_captions",
    "head_motion": "opt_head_motion",
    "speed": "opt_speed",
}
HEAD_MOTION = {0.0: N_("Off"), 0.15: N_("Subtle"), 0.3: N_("Natural"), 0.6: N_("Lively"),
               1.0: N_("Very lively")}  # fmt: skip

# ---------------------------------------------------------------- photo


def _stage(source_id: str, data: bytes, *, rate_limited: bool = True) -> None:
    """Check the upload once per file; keep the staged files' paths, or the error to show.

    The three keys change together, after the check: a run that Streamlit stops half-way
    (a newer event arrived: typing right after a reload did) must leave the old source id, so
    the next run checks the photo again. Setting the id first once left "this file is done"
    with no photo, and the page asked for the photo again (the soak, 3% of rounds)."""
    user = current_user() if rate_limited else None
    photo: StagedPhoto | None = None
    error: tuple[str, dict[str, object]] | None = None
    try:
        photo = photos.stage_upload(data, user_id=user.id if user is not None else None)
    except (PhotoError, FaceError, RateLimited) as exc:
        # Not the exception (it holds a traceback): its template and params, translated when
        # shown, so switching the UI language translates the message too.
        error = (exc.template, dict(exc.params))
    st.session_state.pop("photo", None)
    st.session_state.pop("photo_error", None)
    if photo is not None:
        st.session_state["photo"] = photo
    if error is not None:
        st.session_state["photo_error"] = error
    st.session_state["photo_source_id"] = source_id


def _forget_photo() -> None:
    for key in ("photo", "photo_error", "photo_source_id"):
        st.session_state.pop(key, None)


def _photo_input(max_mb: int) -> Any:
    ui_theme.translate_streamlit_widgets(max_mb)  # Streamlit's "Upload", "Take Photo"...
    uploader = {
        "label": _("Portrait photo (JPG, PNG or WebP, up to {mb} MB)").format(mb=max_mb),
        "type": ["jpg", "jpeg", "png", "webp"],
        "max_upload_size": max_mb,
        "key": "photo_upload",
    }
    if not get_settings().features.enable_mobile_upload:
        return st.file_uploader(**uploader)
    tab_upload, tab_camera = st.tabs([_("Upload a photo"), _("Take a photo")])
    with tab_upload:
        uploaded = st.file_uploader(**uploader)
    with tab_camera:
        shot = st.camera_input(_("Take a photo"), key="photo_camera", label_visibility="collapsed")
    # The newest of the two wins.
    if shot is not None and shot.file_id != st.session_state.get("camera_seen"):
        st.session_state["camera_seen"] = shot.file_id
        return shot
    return uploaded if uploaded is not None else shot


def _photo_section() -> StagedPhoto | None:
    ui_theme.step_header(1, _("Choose a portrait"))
    uploaded = _photo_input(get_settings().limits.max_upload_mb)
    restored = st.session_state.get("photo_source_id") == DRAFT_SOURCE
    if uploaded is None and restored and st.session_state.get("photo") is not None:
        # The photo of the creator's draft (the upload box cannot be refilled after a reload).
        st.caption(_("Your photo from last time is kept. Upload another to replace it."))
        if st.button(_("Remove photo"), key="remove_draft_photo", icon=":material/close:"):
            _forget_photo()
            st.rerun()
    elif uploaded is None:
        _forget_photo()
        st.caption(_("A clear, front-facing photo of one person works best."))
        return None

    if uploaded is not None and st.session_state.get("photo_source_id") != uploaded.file_id:
        with st.spinner(_("Checking the photo…")):
            _stage(uploaded.file_id, uploaded.getvalue())

    if err := st.session_state.get("photo_error"):
        template, params = err
        st.error(localized(template, params), icon=":material/no_photography:")
        return None

    photo: StagedPhoto | None = st.session_state.get("photo")
    if photo is None or not photo.is_present():
        # The staged files were swept; ask for the photo again rather than guess.
        st.session_state.pop("photo_source_id", None)
        st.session_state.pop("photo", None)
        st.warning(_("Please upload the photo again."))
        return None

    col_photo, col_face = st.columns([3, 2], vertical_alignment="center")
    with col_photo:
        st.image(
            photo.path, caption=_("Your photo"), width="stretch", alt=_("The photo you uploaded")
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


# ---------------------------------------------------------------- script, language, voice


def default_script_language(ui_language: str, codes: list[str]) -> str:
    """The script language offered first: the UI language when the chosen service has a
    voice for it (``codes``), else English, else the first language it speaks."""
    if ui_language in codes:
        return ui_language
    return "en" if "en" in codes else codes[0]


def _script_section(choice: Choice) -> tuple[str, str]:
    ui_theme.step_header(2, _("Write what they say"))
    codes = [c for c in LANGUAGES if c in choice.languages] or sorted(choice.languages) or ["en"]
    # Follow the UI language until the creator picks a language themselves.
    if not st.session_state.get("language_touched"):
        st.session_state["language"] = default_script_language(current_language(), codes)
    if st.session_state.get("language") not in codes:
        st.session_state["language"] = codes[0]
    language = st.selectbox(
        _("Language of the script"),
        options=codes,
        format_func=language_label,
        key="language",
        on_change=lambda: st.session_state.__setitem__("language_touched", True),
    )
    # No max_chars: the browser's maxlength silently drops a longer paste. A script over
    # the limit is kept, and refused with its length and the limit.
    script = st.text_area(
        _("Script"),
        key="script",
        height=150,
        placeholder=_("Type what the person in the photo should say…"),
    )
    limit = get_settings().limits.max_script_chars
    if script and len(script) > limit:
        st.error(
            localized(
                N_("The script is {n:,} characters; the limit is {limit:,}."),
                {"n": len(script), "limit": limit},
            ),
            icon=":material/warning:",
        )
    return script or "", language


def _voice_label(voice: Any) -> str:
    name = voice.name.lower()
    parts = [voice.name]
    if voice.gender != "neutral" and voice.gender not in name:
        parts.append(_(GENDER_LABELS.get(voice.gender, "neutral")))
    if voice.engine and voice.engine.split("-")[0].lower() not in name:
        parts.append(voice.engine)
    text = " · ".join(parts)
    return text + "  ✨ " + _("natural") if voice.natural else text


def _voice_section(choice: Choice, language: str) -> str | None:
    if choice.name == generation.AUTO:
        st.caption(_("Each service speaks with its own default voice for this language."))
        return None
    try:
        with st.spinner(_("Loading voices…")):
            found = generation.voices(choice.name, language)
    except TalkingPhotoError as exc:
        st.warning(localized(exc.template, exc.params), icon=":material/warning:")
        found = []
    if not found:
        st.info(_("The default voice for this language will be used."))
        return None
    # Labels are made now, in the page's language; format_func may be called later.
    labels = {v.id: _voice_label(v) for v in sorted(found, key=lambda v: (not v.natural, v.name))}
    # One picker per script language (its own key): a picker whose options change under the
    # same key kept showing the previous language's voice in the browser once the form's
    # options were also set from session state (drafts). "voice" holds the restored choice.
    key = f"voice_{language}"
    if key not in st.session_state and st.session_state.get("voice") in labels:
        st.session_state[key] = st.session_state["voice"]
    if st.session_state.get(key) not in labels:
        st.session_state.pop(key, None)
    # The whole column's width: the best voice's label ("… ✨ natural") is the longest and
    # was cut off beside the sample button.
    voice_id = st.selectbox(
        _("Voice"), options=list(labels), format_func=labels.__getitem__, key=key
    )
    st.session_state["voice"] = voice_id
    if (
        voice_id
        and generation.has_sample(voice_id, language)
        and st.button(_("▶ Play sample"), key="play_sample")
    ):
        st.session_state["sample_voice"] = voice_id
        st.session_state["sample_autoplay"] = True
    if voice_id and st.session_state.get("sample_voice") == voice_id:
        # Plays at once on the click that asked for it (the click is the browser's user
        # gesture); later reruns show the player without starting it again.
        autoplay = bool(st.session_state.pop("sample_autoplay", False))
        try:
            st.audio(generation.voice_sample(voice_id), format="audio/wav", autoplay=autoplay)
        except TalkingPhotoError as exc:
            show_error(exc)
    return voice_id


# ---------------------------------------------------------------- options and cost


def _options_section(choice: Choice, params: JobParams, photo: StagedPhoto | None) -> JobParams:
    fitting = generation.default_aspect(photo.width, photo.height) if photo else params.aspect
    if not get_settings().features.enable_advanced_options:
        return dataclasses.replace(params, aspect=fitting)
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
        # Defaults through the session (not index=/value=), so a restored draft's values
        # are taken without Streamlit's "default and Session State" warning.
        if st.session_state.get("opt_resolution") not in resolutions:
            st.session_state["opt_resolution"] = 720 if 720 in resolutions else resolutions[0]
        aspect_key = f"opt_aspect_{fitting}"
        if st.session_state.get(aspect_key) not in ASPECTS:
            st.session_state[aspect_key] = fitting
        motion = st.session_state.get("opt_head_motion")
        if motion not in HEAD_MOTION:
            st.session_state["opt_head_motion"] = min(
                HEAD_MOTION,
                key=lambda v: abs(v - (motion if isinstance(motion, int | float) else 0.3)),
            )
        st.session_state.setdefault("opt_speed", 1.0)
        col1, col2 = st.columns(2)
        with col1:
            resolution = st.selectbox(
                _("Resolution"),
                options=resolutions,
                format_func=lambda r: f"{r}p",
                key="opt_resolution",
            )
            # Keyed by the default, so a new photo's shape is offered again.
            aspect = st.selectbox(
                _("Shape"),
                options=list(ASPECTS),
                format_func=lambda a: aspect_labels.get(a, a),
                key=aspect_key,
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
            # Words, not a raw "0.30": how much the head moves while speaking.
            motion_labels = {v: _(label) for v, label in HEAD_MOTION.items()}
            head_motion = st.select_slider(
                _("Head motion"),
                options=list(HEAD_MOTION),
                format_func=motion_labels.__getitem__,
                key="opt_head_motion",
                help=_("Off keeps the head still; Very lively moves it the most."),
            )
            speed = st.slider(
                _("Speaking speed"), 0.5, 2.0, step=0.05, key="opt_speed", format="%.2f×"
            )
    return JobParams(
        language=params.language,
        voice=params.voice,
        provider=params.provider,
        resolution=int(resolution),
        aspect=str(aspect),
        captions=str(captions),
        head_motion=float(head_motion),
        speed=float(speed),
    )


def _cost_line(script: str, params: JobParams) -> int | None:
    if not script.strip():
        return None
    found = generation.estimate(script, params)
    ui_theme.cost_line(
        html.escape(
            _("{chars} of {limit} characters · about {duration}").format(
                chars=format_number(len(script)),
                limit=format_number(get_settings().limits.max_script_chars),
                duration=format_seconds(found.seconds),
            )
        )
        + " · <b>"
        + html.escape(
            ngettext("{n} credit", "{n} credits", found.credits).format(
                n=format_number(found.credits)
            )
        )
        + "</b>"
    )
    return found.credits


_READ_AS_CHARS = 280  # a preview, not the whole script: about three lines on a phone


def _read_as(script: str, language: str) -> bool:
    """The pronunciation preview: the words the script will be spoken and captioned as
    (numbers, dates, money, abbreviations written out; markup and emoji dropped), shown when
    they differ from what was typed, or why there is nothing to speak. It sits under the
    button, like the price, so the button does not move when the script box loses focus.
    False when the script has nothing to speak (then there is no price to show)."""
    if not script.strip() or len(script) > get_settings().limits.max_script_chars:
        return True
    try:
        spoken = generation.read_as(script, language)
    except ScriptError as exc:
        show_error(exc)
        return False
    if spoken is not None:
        if len(spoken) > _READ_AS_CHARS:
            cut = spoken[: _READ_AS_CHARS - 1]
            spoken = cut[: cut.rfind(" ")] if " " in cut else cut
            spoken = spoken.rstrip() + "…"
        ui_theme.plain_caption(_("Will be read as: {text}").format(text=spoken))
    return True


# ---------------------------------------------------------------- draft


def _restore_draft(user_id: int) -> None:
    """Once per browser session and creator (a reload is a new session; signing in to
    another account in this tab is another creator): refill the form from the creator's
    draft before any widget is drawn. What is already in the form is kept."""
    if st.session_state.get(DRAFT_LOADED) == user_id:
        return
    st.session_state[DRAFT_LOADED] = user_id
    try:
        draft = drafts.load(user_id)
    except TalkingPhotoError as exc:
        log.warning("draft not loaded: %s", type(exc).__name__)
        return
    if draft is None:
        return
    if draft.script and not st.session_state.get("script"):
        st.session_state["script"] = draft.script
    for name, key in _DRAFT_KEYS.items():
        if name in draft.options:
            st.session_state[key] = draft.options[name]
    data = drafts.photo_bytes(draft)
    if data and st.session_state.get("photo") is None:
        _stage(DRAFT_SOURCE, data, rate_limited=False)  # checked again, as any upload
        photo: StagedPhoto | None = st.session_state.get("photo")
        if photo is None:  # no longer acceptable (limits changed): start without it
            _forget_photo()
        elif aspect := draft.options.get("aspect"):
            fitting = generation.default_aspect(photo.width, photo.height)
            st.session_state[f"opt_aspect_{fitting}"] = aspect


def _draft_state(photo: StagedPhoto | None, script: str, params: JobParams) -> tuple[Any, ...]:
    options = {
        "language": params.language,
        "language_touched": bool(st.session_state.get("language_touched")),
        "voice": params.voice,
        "provider": params.provider,
        "resolution": params.resolution,
        "aspect": params.aspect,
        "captions": params.captions,
        "head_motion": params.head_motion,
        "speed": params.speed,
    }
    return (photo.path if photo else None, script, tuple(sorted(options.items())))


def _keep_draft(user_id: int, state: tuple[Any, ...]) -> None:
    """Save the form when it changed since it was last saved (or restored, or generated)."""
    if st.session_state.get(DRAFT_SEEN) == state:
        return
    st.session_state[DRAFT_SEEN] = state
    photo_path, script, options = state
    try:
        drafts.save(
            user_id,
            script=script,
            options=dict(options),
            photo=Path(photo_path) if photo_path else None,
        )
    except TalkingPhotoError as exc:  # a draft is a convenience; never block the form
        log.warning("draft not saved: %s", type(exc).__name__)


# ---------------------------------------------------------------- page


def _hint(
    busy: bool, photo: StagedPhoto | None, script: str, cost: int | None, balance: int
) -> str:
    if busy:
        return _("A video is being made; you can start the next one when it is done.")
    if photo is None:
        return _("Add a photo with a face to continue.")
    if not script.strip():
        return _("Write a script to continue.")
    if cost is not None and cost > balance:
        return _("You do not have enough credits for this video.")
    return ""


def main() -> None:
    user = require_user()
    ui_theme.hero("TalkingPhoto", _("Turn a portrait into a video that speaks your words."))
    _restore_draft(user.id)
    busy = _job_card.job_panel(user.id)
    if job_id := st.session_state.get("job_id"):
        # On a phone Generate is a screen below the card: bring the card to the creator, once
        # when the video starts and once when it is done.
        card = "progress_card" if busy else "result_card"
        scroll_into_view(card, f"{card}:{job_id}")

    # One token per rendered form: a double click or a replayed rerun returns the same job
    # (jobs.submit looks the token up) instead of creating and charging a second one.
    st.session_state.setdefault("submit_token", uuid.uuid4().hex)
    col_left, col_right = st.columns([1, 1], gap="large")
    with col_left:
        photo = _photo_section()
    with col_right:
        choice = _provider_choice.section()
        script, language = _script_section(choice)
        voice = _voice_section(choice, language)
        params = _options_section(
            choice, JobParams(language=language, voice=voice, provider=choice.name), photo
        )
        ui_theme.step_header(3, _("Make the video"))
        # The button comes first and does not wait for the script: a text box sends its value
        # when it loses focus, so on a phone the first tap on Generate both sends the script
        # and presses the button; nothing above it may move or be disabled in between.
        clicked = st.button(
            _("Generate video"),
            type="primary",
            key="generate",
            disabled=photo is None or busy,
            icon=":material/auto_awesome:",
            width="stretch",
        )
        balance = credits.balance(user.id)
        price = st.container()  # the price line above the preview, once the preview is known
        speakable = _read_as(script, language)
        with price:
            cost = _cost_line(script, params) if speakable else None
        st.caption(
            ngettext("Balance: {n} credit", "Balance: {n} credits", balance).format(
                n=format_number(balance)
            )
        )
        if hint := _hint(busy, photo, script, cost, balance):
            st.caption(hint)
        if cost is not None and cost > balance and get_settings().features.enable_payments:
            # The way on from a balance short of the price, right under it.
            st.page_link(CREDITS_PAGE, label=_("Buy credits"), icon=":material/shopping_cart:")
        draft_state = _draft_state(photo, script, params)
        if clicked and photo is not None:
            try:
                with st.spinner(_("Starting…")):
                    job = jobs.submit(
                        user.id,
                        photo=photo.load(),
                        script=script,
                        params=params,
                        idempotency_key=str(st.session_state["submit_token"]),
                    )
            except TalkingPhotoError as exc:
                show_error(exc)
            else:
                st.session_state["submit_token"] = uuid.uuid4().hex
                _job_card.remember_job(job.id)
                # The draft is used up: a reload starts a fresh form with the same voice and
                # options. This session's form stays as it is (to tweak and make another);
                # it is saved again once the creator changes something.
                st.session_state[DRAFT_SEEN] = draft_state
                try:
                    drafts.consume(user.id)
                except TalkingPhotoError as exc:
                    log.warning("draft not cleared: %s", type(exc).__name__)
                st.rerun()
        _keep_draft(user.id, draft_state)


main()
