"""One shape for every family of back ends: providers, storage, payment gateways, mail.

A family maps a name to ``"module:Class"``; the module is imported only when that back end is
used, so a default install never pays for (or needs) a vendor's SDK. The class builds itself
from settings with ``from_settings(settings)`` and reads only its own section.

    REGISTRY = Registry(
        {"local": "storage.local:LocalStorage", "s3": "storage.s3:S3Storage"},
        unknown=N_("Unknown storage back end {name!r}; valid names: {valid}."),
        requires={"s3": "boto3"},
        missing=N_('The storage back end "{name}" needs a package: pip install {package}'),
    )
    REGISTRY.load("s3")                  # the class; ConfigError naming valid names or the package
    REGISTRY.build("s3", settings)       # REGISTRY.load("s3").from_settings(settings)

(the fsspec / django-storages pattern). ``entries`` is the family's own dict, so a test can
add a double with ``monkeypatch.setitem(REGISTRY.entries, "fake", "tests.fakes:Fake")``.
"""

from __future__ import annotations

import importlib
from typing import Any, Generic, TypeVar

from errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(
        self,
        entries: dict[str, str],
        *,
        unknown: str,
        requires: dict[str, str] | None = None,
        missing: str | None = None,
    ) -> None:
        self.entries = entries
        self.requires = requires or {}
        self._unknown = unknown  # params: name, valid
        self._missing = missing  # params: name, package

    def names(self) -> list[str]:
        return sorted(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def load(self, name: str) -> type[T]:
        """The class registered as ``name``. An unknown name, or a module that cannot be
        imported because its package is missing, is a :class:`ConfigError`."""
        target = self.entries.get(name)
        if target is None:
            valid = ", ".join(self.names())
            # The family's own message names the list "valid" or "choices".
            key = "valid" if "{valid" in self._unknown else "choices"
            raise ConfigError(self._unknown, params={"name": name, key: valid})
        module_name, _, class_name = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            if self._missing is None or name not in self.requires:
                raise
            raise ConfigError(
                self._missing, params={"name": name, "package": self.requires[name]}
            ) from exc
        cls: type[T] = getattr(module, class_name)
        return cls

    def build(self, name: str, settings: Any, **options: Any) -> T:
        """An instance of ``name`` made from ``settings`` (its ``from_settings``)."""
        cls: Any = self.load(name)
        instance: T = cls.from_settings(settings, **options)
        return instance
