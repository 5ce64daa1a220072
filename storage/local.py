"""Local disk under ``<data_dir>/media`` (the default back end; no configuration).

Keys map to files below the root and can never leave it: :func:`storage.base.check_key`
refuses ``..``, absolute paths and backslashes, and the resolved path is checked against the
resolved root as well (a symlink planted inside the folder cannot point outside it).

Writes go through a temporary file in the target folder and an atomic rename, so a reader
never sees half a file. The temporary name is itself a valid key (``tmp-<hex>.partial``), so
a crash mid-write leaves an object the orphan cleanup finds and removes.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from errors import N_, InvalidStorageKey, StorageKeyError, StorageUnavailable
from storage.base import Storage, StoredObject, check_key

PARTIAL_PREFIX = "tmp-"
PARTIAL_SUFFIX = ".partial"


class LocalStorage(Storage):
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def from_settings(cls, settings: Any) -> LocalStorage:
        return cls(settings.app.data_dir / "media")

    # ------------------------------------------------------------------------------ paths

    def _root(self) -> Path:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(detail=f"cannot create media folder: {exc}") from exc
        return self.root

    def path_for(self, key: str) -> Path:
        root = self._root()
        path = root / check_key(key)
        resolved_root = root.resolve()
        if resolved_root not in path.resolve().parents:
            raise InvalidStorageKey(N_("That file name is not allowed."), detail=f"key {key!r}")
        return path

    def local_path(self, key: str) -> Path:
        return self.path_for(key)

    # ---------------------------------------------------------------------------- contract

    def put(self, key: str, source: bytes | Path) -> None:
        target = self.path_for(key)
        tmp = target.with_name(f"{PARTIAL_PREFIX}{secrets.token_hex(8)}{PARTIAL_SUFFIX}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, bytes):
                with tmp.open("wb") as fh:
                    fh.write(source)
            else:
                shutil.move(os.fspath(source), tmp)
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StorageUnavailable(detail=f"local write of {key} failed: {exc}") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path_for(key).open("rb")
        except FileNotFoundError as exc:
            raise StorageKeyError(detail=f"missing {key}") from exc
        except IsADirectoryError as exc:
            raise StorageKeyError(detail=f"{key} is a folder") from exc

    def delete(self, key: str) -> None:
        """Remove ``key``; a missing file is fine. Empty folders left behind are removed up
        to (not including) the top-level one (``jobs/``), which a concurrent put may use."""
        path = self.path_for(key)
        path.unlink(missing_ok=True)
        keep = self.root / key.split("/", 1)[0]
        parent = path.parent
        while parent != keep and keep in parent.parents:
            try:
                parent.rmdir()  # only succeeds when empty
            except OSError:
                break
            parent = parent.parent

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def size(self, key: str) -> int:
        path = self.path_for(key)
        return path.stat().st_size if path.is_file() else 0

    def list(self, prefix: str) -> Iterator[StoredObject]:
        # A string prefix, as on S3: walk the deepest folder it names, then filter.
        base = self._root()
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = base / check_key(folder) if folder else base
        if not start.is_dir():
            return
        for path in sorted(start.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            key = path.relative_to(base).as_posix()
            if not key.startswith(prefix):
                continue
            stat = path.stat()
            modified = datetime.fromtimestamp(stat.st_mtime, UTC)
            yield StoredObject(key=key, size=stat.st_size, modified=modified)
