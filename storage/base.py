"""The storage contract every back end implements (local disk, S3, Cloudinary).

Objects are addressed by *keys* such as ``jobs/<job id>/video.mp4``; the database stores keys,
never paths or URLs, so a deployment can change back end without a schema change. Keys are
checked by :func:`check_key` before any back end sees them: no absolute paths, no ``..``, no
backslashes, no empty segments.

    put(key, bytes | Path)     store (a Path is *moved*: the caller's copy is gone afterwards)
    open(key) -> BinaryIO      a readable stream; the whole object is never loaded at once
    url(key, ...) -> str|None  a time-limited URL a browser can fetch; None = no such thing
                               (local disk: the app's /api/media route serves it instead)
    delete(key)                a missing object is fine
    exists(key), size(key)     size is 0 for a missing object
    list(prefix)               StoredObject(key, size, modified) for everything under prefix
    usage(prefix)              total bytes under prefix

Errors: :class:`errors.StorageUnavailable` (cannot reach or write the store),
:class:`errors.StorageKeyError` (missing object), :class:`errors.InvalidStorageKey` (bad key).
"""

from __future__ import annotations

import mimetypes
import re
import secrets
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, ClassVar

from errors import N_, InvalidStorageKey

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_KEY_CHARS = 255  # the width of the *_key columns
CHUNK_BYTES = 1024 * 1024

CONTENT_TYPES: dict[str, str] = {
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
}


def check_key(key: str) -> str:
    """``key`` if it is a safe relative key, else :class:`InvalidStorageKey`."""
    parts = key.split("/") if isinstance(key, str) else []
    if (
        not parts
        or len(key) > MAX_KEY_CHARS
        or not all(_SEGMENT.fullmatch(part) for part in parts)
        or any(part in (".", "..") for part in parts)
    ):
        raise InvalidStorageKey(N_("That file name is not allowed."), detail=f"key {key!r}")
    return key


def content_type(key: str) -> str:
    suffix = PurePosixPath(key).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: datetime  # timezone-aware UTC


class Storage(ABC):
    """One back end. Instances are shared by threads: keep them free of per-call state."""

    name: ClassVar[str]

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Any) -> Storage:
        """Build from settings, reading only this back end's own section; ConfigError
        naming the missing or invalid key."""

    # ---------------------------------------------------------------- the required contract

    @abstractmethod
    def put(self, key: str, source: bytes | Path) -> None: ...

    @abstractmethod
    def open(self, key: str) -> BinaryIO: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int: ...

    @abstractmethod
    def list(self, prefix: str) -> Iterator[StoredObject]: ...

    def url(self, key: str, *, expires_s: int, download_name: str | None = None) -> str | None:
        """A URL a browser can fetch for ``expires_s`` seconds (``download_name``: served as
        an attachment with that file name); ``None`` when the back end has none."""
        return None

    # ------------------------------------------------------------------ derived operations

    def local_path(self, key: str) -> Path | None:
        """The object's own file when it lives on this machine's disk, else ``None``."""
        return None

    def usage(self, prefix: str = "") -> int:
        return sum(obj.size for obj in self.list(prefix))

    def download(self, key: str, target: Path) -> Path:
        """Copy the object into ``target`` (streamed in chunks) and return ``target``."""
        target.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own: two threads may fetch the same object at once.
        partial = target.with_name(f"{target.name}.{secrets.token_hex(6)}.partial")
        try:
            with self.open(key) as src, partial.open("wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK_BYTES)
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return target
