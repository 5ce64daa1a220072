"""Media storage back ends, chosen by ``[storage] backend``.

The registry maps a name to ``"module:Class"`` and imports the module only when that back end
is used, so the default (local disk) never imports boto3 or the Cloudinary SDK. Each class
builds itself from settings with ``from_settings(settings)`` and reads only its own section.

    get_storage()            the back end for the current settings (one per settings object)
    backend_class("s3")      the class; ConfigError naming the valid names for an unknown one
"""

from __future__ import annotations

import threading
from typing import Any

from errors import N_
from registry import Registry
from secrets_manager import get_settings
from storage.base import Storage, StoredObject, check_key, content_type

__all__ = [
    "BACKENDS",
    "Storage",
    "StoredObject",
    "backend_class",
    "check_key",
    "content_type",
    "get_storage",
    "reset_storage_cache",
]

BACKENDS: dict[str, str] = {
    "local": "storage.local:LocalStorage",
    "s3": "storage.s3:S3Storage",
    "cloudinary": "storage.cloudinary_store:CloudinaryStorage",
}
# What to install when a back end's module cannot be imported.
REQUIRES: dict[str, str] = {"s3": "boto3", "cloudinary": "cloudinary"}
REGISTRY: Registry[Storage] = Registry(
    BACKENDS,
    unknown=N_("Unknown storage back end {name!r}; valid names: {valid}."),
    requires=REQUIRES,
    missing=N_('The storage back end "{name}" needs a package: pip install {package}'),
)

_lock = threading.Lock()
_current: tuple[Any, Storage] | None = None
_override: Storage | None = None


def backend_class(name: str) -> type[Storage]:
    return REGISTRY.load(name)


def get_storage(settings: Any = None) -> Storage:
    """The configured back end, built once per settings object (settings are immutable; a
    reload builds a new one). Raises ConfigError for an unknown name or missing options."""
    global _current
    if _override is not None:
        return _override
    if settings is None:
        settings = get_settings()
    with _lock:
        if _current is not None and _current[0] is settings:
            return _current[1]
        store = REGISTRY.build(settings.storage.backend, settings)
        _current = (settings, store)  # holding it keeps `is` meaningful
        return store


def use_storage(store: Storage | None) -> Storage | None:
    """Tests: make ``store`` the back end regardless of settings (``None`` undoes it)."""
    global _override
    previous, _override = _override, store
    return previous


def reset_storage_cache() -> None:
    global _current
    with _lock:
        _current = None
