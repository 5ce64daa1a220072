"""Job media (photos, videos, thumbnails, captions) on local disk under ``<data_dir>/media``.

A deliberately tiny interface — :func:`put`, :func:`local_path`, :func:`exists`, :func:`delete`
— addressed by *keys* such as ``jobs/<job id>/video.mp4``. The database stores keys, never
paths, so the storage issue can swap this module for an S3/Cloudinary back end without a
schema change. Keys are validated: no absolute paths, no ``..``, no backslashes.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from secrets_manager import get_settings

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


def root() -> Path:
    """The media folder (created on demand)."""
    path = get_settings().app.data_dir / "media"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _path_for(key: str) -> Path:
    if not _KEY.fullmatch(key) or ".." in key.split("/"):
        raise ValueError(f"invalid media key {key!r}")
    return root() / key


def job_key(job_id: str, name: str) -> str:
    """The key of one of a job's files, e.g. ``job_key(id, "video.mp4")``."""
    return f"jobs/{job_id}/{name}"


def put(key: str, source: bytes | Path) -> str:
    """Store ``source`` under ``key`` and return the key.

    Bytes are written; a :class:`Path` is *moved* (the job's work folder is thrown away
    afterwards, so a move avoids copying a video). Writes go through a temporary file in the
    same folder and an atomic rename, so a reader never sees half a file.
    """
    target = _path_for(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    tmp = Path(tmp_name)
    try:
        if isinstance(source, bytes):
            with os.fdopen(fd, "wb") as fh:
                fh.write(source)
        else:
            os.close(fd)
            shutil.move(os.fspath(source), tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return key


def local_path(key: str) -> Path:
    """A local file path for reading ``key`` (may not exist: check :func:`exists`)."""
    return _path_for(key)


def exists(key: str) -> bool:
    return _path_for(key).is_file()


def delete(key: str) -> None:
    """Remove ``key``; a missing file is fine. Empty folders left behind are removed, except
    the top-level one (``jobs/``), which a concurrent :func:`put` may be about to use."""
    path = _path_for(key)
    path.unlink(missing_ok=True)
    keep = root() / key.split("/", 1)[0]
    parent = path.parent
    while parent != keep and keep in parent.parents:
        try:
            parent.rmdir()  # only succeeds when empty
        except OSError:
            break
        parent = parent.parent


def size(key: str) -> int:
    """Stored size of ``key`` in bytes (0 when missing)."""
    path = _path_for(key)
    return path.stat().st_size if path.is_file() else 0


def materialize(key: str, folder: Path) -> Path:
    """A local file holding ``key``'s bytes, for code that needs a path (the engine, ffmpeg).

    Local storage returns the stored file itself (no copy; do not modify it); a remote back
    end downloads into ``folder``.
    """
    return _path_for(key)


def delete_job_files(job_id: str, *, keep_photo: bool = False) -> None:
    """Remove everything stored for a job (a failed job leaves nothing but, optionally, its
    photo for a retry)."""
    folder = root() / "jobs" / job_id
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if keep_photo and path.name.startswith("photo"):
            continue
        delete(job_key(job_id, path.name))


def public_url(key: str, expires_s: int | None = None) -> str | None:
    """A URL on the internet that serves ``key`` (for vendors that fetch the photo themselves),
    or ``None`` when the storage back end has none (local disk)."""
    return None
