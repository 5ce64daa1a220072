"""Pieces the pages share: the current user, error display, labels, lazy file readers.

Kept here so each page stays a thin "read input -> call one service -> render" script.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from errors import (
    FaceError,
    InputError,
    InsufficientCredits,
    JobError,
    JobNotFound,
    LanguageError,
    PhotoError,
    ProviderError,
    QueueFull,
    ScriptError,
    TalkingPhotoError,
    VoiceError,
)
from i18n import _, current_language, translate_known

log = logging.getLogger("talkingphoto.ui")


def N_(message: str) -> str:
    """Mark a string for the catalog without translating it yet (translated where shown)."""
    return message


ACTIVE_STATUSES = frozenset({"queued", "running"})

STAGE_LABELS: dict[str, str] = {
    "queued": N_("Waiting to start"),
    "voice": N_("Preparing voice"),
    "face": N_("Finding face"),
    "animate": N_("Animating"),
    "encode": N_("Encoding"),
    "upload": N_("Saving"),
    "done": N_("Finishing"),
}

STATUS_LABELS: dict[str, str] = {
    "queued": N_("Queued"),
    "running": N_("Making"),
    "succeeded": N_("Ready"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}

GENDER_LABELS: dict[str, str] = {
    "female": N_("female"),
    "male": N_("male"),
    "neutral": N_("neutral"),
}

# The default user messages of errors.py, so they are translated when shown as they are.
KNOWN_MESSAGES: tuple[str, ...] = (
    N_("Something went wrong."),
    N_("That input cannot be used."),
    N_("That photo cannot be used."),
    N_("That script cannot be used."),
    N_("That language is not available."),
    N_("That voice is not available."),
    N_("No face was found in the photo."),
    N_("The video job could not be run."),
    N_("We are busy right now; please try again in a minute."),
    N_("You do not have enough credits for this video."),
    N_("The video was cancelled."),
    N_("That video was not found."),
    N_("The video service failed."),
    N_("The video service is unavailable right now."),
    N_("The video service rejected this request."),
    N_("The video service is not configured correctly."),
    # services/jobs.py and background_tasks.py
    N_("This video is still being made; cancel it first."),
    N_("Only a failed or cancelled video can be tried again."),
    N_("The photo for this video is no longer stored; please upload it again."),
    N_("Your account was not found; please sign in again."),
    N_(
        "The app restarted while your video was being made. Your credits were refunded; "
        "please try again."
    ),
    # services/photos.py and providers/local/face.py
    N_("The file is empty."),
    N_("This file is not a JPEG, PNG or WebP image."),
    N_("The photo file is damaged or incomplete."),
    N_(
        "No face was found in the photo. Use a clear, front-facing portrait with the "
        "whole face visible."
    ),
    N_("Several faces found; animating the largest."),
    N_("The script is empty; type what the photo should say."),
)

# Service messages with numbers in them: (pattern of the English text, catalog template).
# A message that matches no pattern still reaches the creator (see localized_message).
_NUM = r"[\d,.]+"
MESSAGE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"The photo is (?P<w>\d+)×(?P<h>\d+) px; the short side must be at least "
            r"(?P<min>\d+) px\."
        ),
        N_("The photo is {w}×{h} px; the short side must be at least {min} px."),
    ),
    (
        re.compile(rf"The photo is (?P<size>{_NUM}) MB; the limit is (?P<limit>{_NUM}) MB\."),
        N_("The photo is {size} MB; the limit is {limit} MB."),
    ),
    (
        re.compile(rf"The photo is (?P<mp>{_NUM}) megapixels; the limit is (?P<limit>{_NUM})\."),
        N_("The photo is {mp} megapixels; the limit is {limit}."),
    ),
    (
        re.compile(
            r"The face is too small \((?P<px>\d+) px across\); it must be at least "
            r"(?P<min>\d+) px\. Use a closer or higher-resolution photo\."
        ),
        N_(
            "The face is too small ({px} px across); it must be at least {min} px. "
            "Use a closer or higher-resolution photo."
        ),
    ),
    (
        re.compile(rf"The script is (?P<n>{_NUM}) characters; the limit is (?P<limit>{_NUM})\."),
        N_("The script is {n} characters; the limit is {limit}."),
    ),
    (
        re.compile(r"This video needs (?P<cost>\d+) credits?; you have (?P<have>-?\d+)\."),
        N_("This video needs {cost} credits; you have {have}."),
    ),
    (
        re.compile(
            r"You already have (?P<n>\d+) videos in progress \(the limit is "
            r"(?P<limit>\d+)\)\. Wait for one to finish or cancel it\."
        ),
        N_(
            "You already have {n} videos in progress (the limit is {limit}). "
            "Wait for one to finish or cancel it."
        ),
    ),
    (
        re.compile(
            r"Something went wrong while making your video\. Your credits were refunded\. "
            r"Reference: (?P<ref>\w+)"
        ),
        N_(
            "Something went wrong while making your video. Your credits were refunded. "
            "Reference: {ref}"
        ),
    ),
)

# Most specific first: a specific message we cannot translate is shown after this summary.
_ERROR_SUMMARIES: tuple[tuple[type[TalkingPhotoError], str], ...] = (
    (FaceError, N_("No face was found in the photo.")),
    (PhotoError, N_("That photo cannot be used.")),
    (ScriptError, N_("That script cannot be used.")),
    (LanguageError, N_("That language is not available.")),
    (VoiceError, N_("That voice is not available.")),
    (InputError, N_("That input cannot be used.")),
    (QueueFull, N_("We are busy right now; please try again in a minute.")),
    (InsufficientCredits, N_("You do not have enough credits for this video.")),
    (JobNotFound, N_("That video was not found.")),
    (JobError, N_("The video job could not be run.")),
    (ProviderError, N_("The video service failed.")),
    (TalkingPhotoError, N_("Something went wrong.")),
)


def localized_message(message: str, error_type: type[TalkingPhotoError] = TalkingPhotoError) -> str:
    """A user-safe message in the UI language.

    Services write messages in English (often with specifics such as sizes). When the
    catalog knows the exact message it is translated; otherwise a translated summary for
    the error's kind comes first and the specific English text follows it.
    """
    known = translate_known(message)
    if known is not None:
        return known
    for pattern, template in MESSAGE_PATTERNS:
        if match := pattern.fullmatch(message):
            return _(template).format(**match.groupdict())
    summary = next(s for cls, s in _ERROR_SUMMARIES if issubclass(error_type, cls))
    return f"{_(summary)} ({message})"


def localized_note(note: str) -> str:
    """A remark such as "several faces: used the largest", translated when the catalog has it."""
    return _(note)


def show_error(exc: TalkingPhotoError) -> None:
    st.error(localized_message(exc.user_message, type(exc)), icon=":material/error:")


def show_unexpected(exc: BaseException, where: str) -> None:
    """Log a bug with a reference id; show only the id (never a traceback)."""
    ref = uuid.uuid4().hex[:8]
    log.error("unexpected error in %s (ref %s)", where, ref, exc_info=exc)
    st.error(
        _("Something went wrong on our side. If it keeps happening, quote reference {ref}.").format(
            ref=ref
        ),
        icon=":material/error:",
    )


def lazy_reader(path: Path) -> Callable[[], bytes]:
    """A download_button ``data`` callable: the file is read only when the user clicks."""

    def read() -> bytes:
        return path.read_bytes()

    return read


def existing(path: Path | str | None) -> Path | None:
    if path is None:
        return None
    p = Path(path)
    return p if p.is_file() else None


def language_label(code: str) -> str:
    """``"हिन्दी — Hindi"``; just the native name when both are the same."""
    from providers.local.languages import LANGUAGES

    lang = LANGUAGES.get(code)
    if lang is None:
        return code
    if lang.native_name == lang.english_name:
        return lang.native_name
    return f"{lang.native_name} — {lang.english_name}"


def short_language(code: str) -> str:
    from providers.local.languages import LANGUAGES

    lang = LANGUAGES.get(code)
    if lang is None:
        return code
    return lang.native_name if current_language() != "en" else lang.english_name
