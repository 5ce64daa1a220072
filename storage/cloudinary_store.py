"""Cloudinary with its Python SDK (uploads, destroy, Admin API) and requests (downloads).

Reads only ``[cloudinary]``: ``cloud_name``, ``api_key``, ``api_secret`` (all required),
``api_base`` (the API host; tests point it at tests/fakes/cloudinary_api.py) and ``folder``.
Every call passes these options explicitly, so the SDK's global ``cloudinary.config()`` (and a
stray ``CLOUDINARY_URL``) is never used.

How keys map to assets (payments_storage.md D.1):

* ``.mp4`` -> ``resource_type="video"``; ``.jpg``/``.png`` -> ``"image"``; captions -> ``"raw"``.
  Without ``resource_type="video"`` an upload or destroy goes to ``/image/...`` and fails;
* public id = ``<folder>/<key without extension>`` (raw assets keep the extension);
* every asset is uploaded with ``type="authenticated"``: nothing is public. Playback uses a
  **signed delivery URL** (``s--<sig>--``; Cloudinary signed URLs do not expire by themselves),
  downloads and :meth:`open` use the signed, time-limited **download API** (``expires_at``).

Every SDK / HTTP error goes through :func:`translate`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, cast

import cloudinary.api
import cloudinary.exceptions
import cloudinary.uploader
import cloudinary.utils
import requests

from errors import N_, ConfigError, StorageError, StorageKeyError, StorageUnavailable
from storage.base import Storage, StoredObject, check_key

CONNECT_S = 5.0
READ_S = 120.0
OPEN_URL_EXPIRY_S = 300  # the download URL open() fetches at once
LIST_PAGE = 500
DELIVERY_TYPE = "authenticated"
RESOURCE_TYPES = ("image", "video", "raw")
_BY_SUFFIX = {".mp4": "video", ".mov": "video", ".webm": "video", ".jpg": "image", ".jpeg": "image"}
_BY_SUFFIX |= {".png": "image", ".webp": "image"}


def translate(exc: Exception, key: str) -> StorageError:
    """The one place a Cloudinary or HTTP error becomes ours."""
    name = type(exc).__name__
    if isinstance(exc, cloudinary.exceptions.NotFound):
        return StorageKeyError(detail=f"cloudinary: not found: {key}")
    if isinstance(exc, cloudinary.exceptions.BadRequest):
        return StorageError(detail=f"cloudinary: BadRequest for {key}")
    if isinstance(exc, cloudinary.exceptions.Error):
        # AuthorizationRequired / NotAllowed (settings), RateLimited, GeneralError (5xx),
        # plain Error (socket errors, unparsable answers).
        return StorageUnavailable(detail=f"cloudinary: {name} for {key}")
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        if exc.response.status_code == 404:
            return StorageKeyError(detail=f"cloudinary download: 404 for {key}")
        return StorageUnavailable(
            detail=f"cloudinary download: HTTP {exc.response.status_code} for {key}"
        )
    return StorageUnavailable(detail=f"cloudinary: {name} for {key}")


class CloudinaryStorage(Storage):
    name = "cloudinary"
    large_upload_bytes = 20_000_000  # upload_large (20 MB chunks) above this size

    def __init__(
        self,
        *,
        cloud_name: str,
        api_key: str,
        api_secret: str,
        api_base: str,
        folder: str,
        http: requests.Session | None = None,
    ) -> None:
        self.folder = folder.strip("/")
        self.http = http or requests.Session()
        self._options: dict[str, Any] = {
            "cloud_name": cloud_name,
            "api_key": api_key,
            "api_secret": api_secret,
            "upload_prefix": api_base,
            "secure": True,
        }

    @classmethod
    def from_settings(cls, settings: Any) -> CloudinaryStorage:
        section = settings.cloudinary
        for name in ("cloud_name", "api_key", "api_secret"):
            if not getattr(section, name):
                raise ConfigError(
                    N_('[cloudinary] {name} is required when [storage] backend = "{backend}".'),
                    params={"name": name, "backend": "cloudinary"},
                )
        return cls(
            cloud_name=section.cloud_name,
            api_key=section.api_key,
            api_secret=section.api_secret.get_secret_value(),
            api_base=section.api_base,
            folder=section.folder,
        )

    # ------------------------------------------------------------------------- key <-> asset

    def asset(self, key: str) -> tuple[str, str, str | None]:
        """(public id, resource type, format) of ``key``."""
        check_key(key)
        path = PurePosixPath(key)
        resource_type = _BY_SUFFIX.get(path.suffix.lower(), "raw")
        prefix = f"{self.folder}/" if self.folder else ""
        if resource_type == "raw":
            return prefix + key, "raw", None
        return prefix + str(path.with_suffix("")), resource_type, path.suffix[1:].lower()

    def _key(self, resource: dict[str, Any], resource_type: str) -> str:
        public_id = str(resource["public_id"])
        prefix = f"{self.folder}/" if self.folder else ""
        key = public_id[len(prefix) :] if public_id.startswith(prefix) else public_id
        return key if resource_type == "raw" else f"{key}.{resource['format']}"

    # ---------------------------------------------------------------------------- contract

    def put(self, key: str, source: bytes | Path) -> None:
        public_id, resource_type, _fmt = self.asset(key)
        options = {
            **self._options,
            "resource_type": resource_type,
            "public_id": public_id,
            "type": DELIVERY_TYPE,
            "overwrite": True,
            "invalidate": True,
            "timeout": READ_S,
        }
        try:
            if isinstance(source, Path) and source.stat().st_size > self.large_upload_bytes:
                result = cloudinary.uploader.upload_large(str(source), **options)
            else:
                # Bytes go with a file name (the SDK would call them "file").
                name = PurePosixPath(key).name
                data = (name, source) if isinstance(source, bytes) else str(source)
                result = cloudinary.uploader.upload(data, **options)
        except (cloudinary.exceptions.Error, OSError) as exc:
            raise translate(exc, key) from exc
        if not isinstance(result, dict) or result.get("public_id") != public_id:
            raise StorageUnavailable(detail=f"cloudinary: unexpected upload answer for {key}")
        if isinstance(source, Path):
            source.unlink(missing_ok=True)  # put() moves a file, like the local back end

    def _download_url(self, key: str, expires_s: int, attachment: bool) -> str:
        public_id, resource_type, fmt = self.asset(key)
        return str(
            cloudinary.utils.private_download_url(
                public_id,
                fmt or "",
                resource_type=resource_type,
                type=DELIVERY_TYPE,
                attachment=attachment or None,
                expires_at=int(time.time()) + int(expires_s),
                **self._options,
            )
        )

    def open(self, key: str) -> BinaryIO:
        url = self._download_url(key, OPEN_URL_EXPIRY_S, attachment=False)
        try:
            response = self.http.get(url, stream=True, timeout=(CONNECT_S, READ_S))
            response.raise_for_status()
        except requests.RequestException as exc:
            raise translate(exc, key) from exc
        response.raw.decode_content = True
        return cast(BinaryIO, response.raw)

    def delete(self, key: str) -> None:
        public_id, resource_type, _fmt = self.asset(key)
        try:
            result = cloudinary.uploader.destroy(
                public_id,
                resource_type=resource_type,
                type=DELIVERY_TYPE,
                invalidate=True,
                timeout=READ_S,
                **self._options,
            )
        except cloudinary.exceptions.NotFound:
            return
        except cloudinary.exceptions.Error as exc:
            raise translate(exc, key) from exc
        if result.get("result") not in ("ok", "not found"):
            raise StorageUnavailable(detail=f"cloudinary destroy of {key}: {result!r}"[:300])

    def _resource(self, key: str) -> dict[str, Any] | None:
        public_id, resource_type, _fmt = self.asset(key)
        try:
            return dict(
                cloudinary.api.resource(
                    public_id, resource_type=resource_type, type=DELIVERY_TYPE, **self._options
                )
            )
        except cloudinary.exceptions.NotFound:
            return None
        except cloudinary.exceptions.Error as exc:
            raise translate(exc, key) from exc

    def exists(self, key: str) -> bool:
        return self._resource(key) is not None

    def size(self, key: str) -> int:
        found = self._resource(key)
        return int(found.get("bytes", 0)) if found else 0

    def list(self, prefix: str) -> Iterator[StoredObject]:
        full = f"{self.folder}/{prefix}" if self.folder else prefix
        for resource_type in RESOURCE_TYPES:
            cursor: str | None = None
            while True:
                try:
                    page = cloudinary.api.resources(
                        resource_type=resource_type,
                        type=DELIVERY_TYPE,
                        prefix=full,
                        max_results=LIST_PAGE,
                        next_cursor=cursor,
                        **self._options,
                    )
                except cloudinary.exceptions.Error as exc:
                    raise translate(exc, prefix) from exc
                for item in page.get("resources", ()):
                    yield StoredObject(
                        key=self._key(item, resource_type),
                        size=int(item.get("bytes", 0)),
                        modified=_parse_time(str(item.get("created_at", ""))),
                    )
                cursor = page.get("next_cursor")
                if not cursor:
                    break

    def url(self, key: str, *, expires_s: int, download_name: str | None = None) -> str:
        if download_name:
            return self._download_url(key, expires_s, attachment=True)
        public_id, resource_type, fmt = self.asset(key)
        url, _options = cloudinary.utils.cloudinary_url(
            public_id,
            resource_type=resource_type,
            type=DELIVERY_TYPE,
            format=fmt,
            sign_url=True,
            **self._options,
        )
        return str(url)


def _parse_time(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)  # unknown age: counted as new, so never swept early
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
