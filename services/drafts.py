"""The create form's draft: what a creator typed and chose survives a reload (issue 15, item 8).

One draft per creator (a signed-in account, or a guest with a user row): the script, the
create options (language, voice, service, resolution, shape, captions, head motion, speed)
and the photo. The row lives in ``drafts``; the photo, already cleaned by
``services.photos`` (no EXIF/GPS), is stored through ``services.media`` under
``drafts/<user id>/<content hash>.<ext>``, never in the row.

Bounded: the script is cut at :data:`MAX_SCRIPT_CHARS` (the form refuses a script over the
limit anyway; a draft just keeps a long one for the creator to shorten), only the known
options are kept, each checked for type and size, and a photo over :data:`MAX_PHOTO_BYTES`
is not kept.

After a successful Generate the draft is *consumed* (:func:`consume`): the script and photo
go, the language, voice and options stay, so the next form starts fresh with the same voice.
Deleting the account deletes the draft and its photo (:func:`erase_user`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from db.models import Draft as DraftRow
from db.session import read_scope, session_scope
from errors import StorageError
from services import media, photos

log = logging.getLogger("talkingphoto.drafts")

MAX_SCRIPT_CHARS = 20_000
MAX_PHOTO_BYTES = 12 * 1024 * 1024
MAX_TEXT_OPTION = 200
PREFIX = "drafts"
# The options a draft keeps, and the type each must have (anything else is dropped).
OPTIONS: dict[str, tuple[type, ...]] = {
    "language": (str,),
    "language_touched": (bool,),
    "voice": (str,),
    "provider": (str,),
    "resolution": (int,),
    "aspect": (str,),
    "captions": (str,),
    "head_motion": (float, int),
    "speed": (float, int),
}
KEPT_AFTER_GENERATE = ("language", "language_touched", "voice", "provider", "resolution",
                       "captions", "head_motion", "speed")  # fmt: skip


@dataclass(frozen=True)
class Draft:
    """A creator's unfinished form."""

    script: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    photo_key: str | None = None


def clean_options(options: Mapping[str, object]) -> dict[str, Any]:
    """Only the known options, of the right type and size (bool is not an int here)."""
    kept: dict[str, Any] = {}
    for name, types in OPTIONS.items():
        value = options.get(name)
        if value is None or (isinstance(value, bool) and bool not in types):
            continue
        if not isinstance(value, types):
            continue
        if isinstance(value, str) and len(value) > MAX_TEXT_OPTION:
            continue
        if isinstance(value, float) and value != value:  # NaN
            continue
        kept[name] = value
    return kept


def _photo_key(user_id: int, data: bytes) -> str:
    return f"{PREFIX}/{int(user_id)}/{photos.content_name(data)}"


def load(user_id: int) -> Draft | None:
    """The creator's draft, or None when there is none."""
    with read_scope() as session:
        row = session.get(DraftRow, user_id)
        if row is None:
            return None
        return Draft(
            script=row.script, options=clean_options(row.options or {}), photo_key=row.photo_key
        )


def save(user_id: int, *, script: str, options: Mapping[str, object], photo: Path | None) -> Draft:
    """Keep the form as it is now. ``photo`` is the staged (already cleaned) photo file, or
    None when the form has none; it is stored only when it changed (keyed by its content)."""
    script = (script or "")[:MAX_SCRIPT_CHARS]
    kept = clean_options(options)
    old = load(user_id)
    old_key = old.photo_key if old else None
    photo_key: str | None = None
    if photo is not None:
        try:
            data = photo.read_bytes()
        except OSError:
            data = b""  # swept meanwhile: the form will ask for it again
        if data and len(data) <= MAX_PHOTO_BYTES:
            photo_key = _photo_key(user_id, data)
            if photo_key != old_key:
                media.put(photo_key, data)
    with session_scope() as session:
        row = session.get(DraftRow, user_id)
        if row is None:
            row = DraftRow(user_id=user_id)
            session.add(row)
        row.script = script
        row.options = kept
        row.photo_key = photo_key
    if old_key and old_key != photo_key:
        _delete_quietly(old_key)
    return Draft(script=script, options=kept, photo_key=photo_key)


def photo_bytes(draft: Draft) -> bytes | None:
    """The draft's photo, or None (no photo, or it is no longer stored)."""
    if not draft.photo_key:
        return None
    try:
        with media.open(draft.photo_key) as stream:
            return stream.read(MAX_PHOTO_BYTES + 1)[:MAX_PHOTO_BYTES]
    except (StorageError, OSError, ValueError):
        return None


def consume(user_id: int) -> Draft | None:
    """After a successful Generate: the script and photo go, the voice and options stay."""
    draft = load(user_id)
    if draft is None:
        return None
    kept = {k: v for k, v in draft.options.items() if k in KEPT_AFTER_GENERATE}
    with session_scope() as session:
        row = session.get(DraftRow, user_id)
        if row is not None:
            row.script = ""
            row.options = kept
            row.photo_key = None
    if draft.photo_key:
        _delete_quietly(draft.photo_key)
    return Draft(script="", options=kept, photo_key=None)


def erase_user(user_id: int) -> None:
    """The account is being deleted: its draft row and draft photos go."""
    draft = load(user_id)
    with session_scope() as session:
        session.execute(delete(DraftRow).where(DraftRow.user_id == user_id))
    if draft and draft.photo_key:
        _delete_quietly(draft.photo_key)


def _delete_quietly(key: str) -> None:
    try:
        media.delete(key)
    except (StorageError, OSError, ValueError) as exc:  # the row is what counts
        log.warning("draft photo %s not deleted: %s", key, type(exc).__name__)
