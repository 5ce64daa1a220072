"""Job media (photos, videos, thumbnails, captions) through the configured storage back end.

Addressed by *keys* such as ``jobs/<job id>/video.mp4``; the database stores keys, never paths
or URLs. The back end is ``[storage] backend`` (see :mod:`storage`): local disk by default, S3
or Cloudinary when configured. Callers use only these functions:

    job_key, put, exists, delete, size, open, delete_job_files        any back end
    local_path(key), materialize(key, folder)                         a file on this machine
    playback_url(key), download_url(key, name), public_url(key)       URLs for browsers/vendors

Bad keys raise :class:`errors.InvalidStorageKey` (also a ``ValueError``); a store that cannot
be reached raises :class:`errors.StorageUnavailable`; a missing object read with :func:`open`
raises :class:`errors.StorageKeyError`.

**URLs.** Remote back ends hand out their own signed URLs (S3 presigned, Cloudinary signed).
Local disk has none, so :func:`playback_url` returns the app's route ``/api/media/<token>``
(``web/media.py``): a path, relative to the app; pages turn it into an absolute URL. The
token is signed (``services.tokens``, purpose ``"media"``) and expires after ``[storage]
url_expiry_s``. URLs are reused for a while (see :data:`_urls`) so a page rerun hands the
player the same URL and playback does not restart.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import storage
from secrets_manager import get_settings
from services import tokens

MEDIA_ROUTE = "/api/media/"
TOKEN_PURPOSE = "media"
URL_CACHE_MAX = 2048
_urls: OrderedDict[tuple[object, ...], str] = OrderedDict()
_urls_lock = threading.Lock()


def _store() -> storage.Storage:
    return storage.get_storage()


def root() -> Path:
    """The local media folder (created on demand); used by the local back end only."""
    path = get_settings().app.data_dir / "media"
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_key(job_id: str, name: str) -> str:
    """The key of one of a job's files, e.g. ``job_key(id, "video.mp4")``."""
    return f"jobs/{job_id}/{name}"


def put(key: str, source: bytes | Path) -> str:
    """Store ``source`` under ``key`` and return the key.

    Bytes are written; a :class:`Path` is *moved* (the job's work folder is thrown away
    afterwards, so a move avoids copying a video). A reader never sees half an object.
    """
    _store().put(storage.check_key(key), source)
    return key


def open(key: str) -> BinaryIO:
    """A readable stream of ``key`` (close it); never the whole object in memory."""
    return _store().open(storage.check_key(key))


def exists(key: str) -> bool:
    return _store().exists(storage.check_key(key))


def delete(key: str) -> None:
    """Remove ``key``; a missing object is fine."""
    _store().delete(storage.check_key(key))


def size(key: str) -> int:
    """Stored size of ``key`` in bytes (0 when missing)."""
    return _store().size(storage.check_key(key))


def total_size(*keys: str | None) -> int:
    """The stored size of several keys together (``None`` entries are skipped)."""
    return sum(size(key) for key in keys if key)


def _cache_dir() -> Path:
    return get_settings().app.data_dir / "cache" / "media"


def local_file(key: str) -> Path | None:
    """The stored file itself when media lives on this disk, else ``None`` (never downloads)."""
    return _store().local_path(storage.check_key(key))


def local_path(key: str) -> Path:
    """A local file path for reading ``key``.

    Local disk: the stored file itself (may not exist: check :func:`exists`). A remote back
    end: a copy in ``<data_dir>/cache/media`` downloaded on first use (the cleanup removes
    old copies); prefer :func:`materialize` with the job's work folder there.
    """
    store = _store()
    own = store.local_path(storage.check_key(key))
    if own is not None:
        return own
    cached = _cache_dir() / key
    if not cached.is_file():
        store.download(key, cached)
    return cached


def materialize(key: str, folder: Path) -> Path:
    """A local file holding ``key``'s bytes, for code that needs a path (the engine, ffmpeg).

    Local storage returns the stored file itself (no copy; do not modify it); a remote back
    end downloads into ``folder``.
    """
    store = _store()
    own = store.local_path(storage.check_key(key))
    if own is not None:
        return own
    return store.download(key, folder / key.rsplit("/", 1)[-1])


def delete_job_files(job_id: str, *, keep_photo: bool = False) -> None:
    """Remove everything stored for a job (a failed job leaves nothing but, optionally, its
    photo for a retry)."""
    store = _store()
    prefix = job_key(storage.check_key(job_id), "")
    for obj in list(store.list(prefix)):
        if keep_photo and obj.key[len(prefix) :].startswith("photo"):
            continue
        store.delete(obj.key)
    cached = _cache_dir() / "jobs" / job_id  # downloaded copies (remote back ends) go too
    if cached.is_dir():
        for path in cached.iterdir():
            if not (keep_photo and path.name.startswith("photo")):
                path.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------ URLs


def _window(expires_s: int) -> tuple[int, int]:
    """(start of the current reuse window, its length): URLs made in one window are reused,
    so each keeps at least ``expires_s - length`` seconds of life."""
    length = max(1, min(600, expires_s // 4))
    now = int(time.time())
    return now - now % length, length


def _cached(cache_key: tuple[object, ...], make: Callable[[], str]) -> str:
    with _urls_lock:
        if cache_key in _urls:
            _urls.move_to_end(cache_key)
            return _urls[cache_key]
    url = str(make())
    with _urls_lock:
        _urls[cache_key] = url
        while len(_urls) > URL_CACHE_MAX:
            _urls.popitem(last=False)
    return url


def _url(key: str, download_name: str | None, share_id: int | None, expires_s: int | None) -> str:
    storage.check_key(key)
    store = _store()
    life = int(expires_s or get_settings().storage.url_expiry_s)
    start, _length = _window(life)
    cache_key = (store, key, download_name, share_id, life, start)

    def make() -> str:
        remote = store.url(key, expires_s=life, download_name=download_name)
        if remote is not None:
            return remote

        claims: dict[str, object] = {"k": key, "e": start + life}  # "e": for Cache-Control
        if download_name:
            claims["n"] = download_name
        if share_id is not None:
            claims["s"] = share_id
        return MEDIA_ROUTE + tokens.sign(TOKEN_PURPOSE, claims, life, now=start)

    return _cached(cache_key, make)


def playback_url(key: str, *, share_id: int | None = None) -> str:
    """A URL the browser's player can stream (and seek in) for ``[storage] url_expiry_s``.

    Remote back ends: their signed URL (absolute). Local disk: ``/api/media/<token>``, a path
    relative to the app (see :func:`absolute`). ``share_id``: the URL stops working as soon
    as that share link is revoked (local route; remote URLs run out at their expiry)."""
    return _url(key, None, share_id, None)


def download_url(key: str, file_name: str) -> str:
    """Like :func:`playback_url`, served as an attachment named ``file_name``."""
    return _url(key, file_name, None, None)


def public_url(key: str, expires_s: int | None = None) -> str | None:
    """A URL on the internet that serves ``key`` (for vendors that fetch the photo themselves),
    or ``None`` when the storage back end has none (local disk)."""
    url = _store().url(storage.check_key(key), expires_s=int(expires_s or 3600))
    return url if url and url.startswith(("http://", "https://")) else None


def absolute(url: str, origin: str) -> str:
    """``url`` made absolute against ``origin`` (``scheme://host[:port]``) when it is a path."""
    return url if url.startswith(("http://", "https://")) else origin.rstrip("/") + url


def read_token(token: str, *, now: float | None = None) -> dict[str, object]:
    """The claims of a media route token (``k`` key, ``e`` expiry in unix seconds, ``n``
    download name, ``s`` share id); :class:`errors.InvalidToken` when forged or expired
    (at ``now``, unix seconds, default the current time)."""
    return tokens.verify(TOKEN_PURPOSE, token, now=now)


def clear_url_cache() -> None:
    with _urls_lock:
        _urls.clear()
