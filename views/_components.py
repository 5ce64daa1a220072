"""Pieces the pages share: the current user, error display, labels, lazy file readers.

Kept here so each page stays a thin "read input -> call one service -> render" script.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from errors import N_, TalkingPhotoError, render
from i18n import _, current_language
from services.generation import LANGUAGES

if TYPE_CHECKING:
    from services.jobs import JobView

log = logging.getLogger("talkingphoto.ui")


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


def localized_error(exc: TalkingPhotoError) -> str:
    """``exc``'s message in the UI language: its template looked up in the catalog, filled
    with its params. Never parses the English text."""
    return localized(exc.template, exc.params)


def localized_job_error(job: JobView) -> str | None:
    """A failed job's stored message in the UI language (``None`` when it has none)."""
    if job.error_message is None:
        return None
    return localized(job.error_message, job.error_params)


def localized(template: str, params: Mapping[str, object]) -> str:
    """A message template (a catalog msgid) in the UI language, filled with ``params``.

    A template the catalog lacks (added after the last extraction; a job row written by an
    older release, which stored finished English) comes back from gettext unchanged: English.
    """
    try:
        return render(_(template), params)
    except (KeyError, IndexError, ValueError):
        # A translation whose placeholders do not fit the params: English beats a crash.
        log.warning("translation of %r does not fit its params %s", template, sorted(params))
        return render(template, params)


def localized_note(note: str) -> str:
    """A remark such as "several faces: used the largest", translated when the catalog has it."""
    return _(note)


def show_error(exc: TalkingPhotoError) -> None:
    st.error(localized_error(exc), icon=":material/error:")


def show_unexpected(exc: BaseException, where: str) -> str:
    """Log a bug with a short reference id and show only the id (never a traceback).

    Returns the reference. The log record carries it as ``ref`` (and Sentry as the ``ref``
    tag), so searching the log for the id a user quotes finds the traceback; the message and
    traceback are scrubbed of secrets by ``observability.redaction`` before they are written.
    """
    ref = uuid.uuid4().hex[:8]
    log.error("unexpected error in %s (ref %s)", where, ref, exc_info=exc, extra={"ref": ref})
    st.error(
        _("Something went wrong on our side. If it keeps happening, quote reference {ref}.").format(
            ref=ref
        ),
        icon=":material/error:",
    )
    return ref


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
    lang = LANGUAGES.get(code)
    if lang is None:
        return code
    if lang.native_name == lang.english_name:
        return lang.native_name
    return f"{lang.native_name} — {lang.english_name}"


def short_language(code: str) -> str:
    lang = LANGUAGES.get(code)
    if lang is None:
        return code
    return lang.native_name if current_language() != "en" else lang.english_name
