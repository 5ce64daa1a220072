"""Provider registry: names -> lazily imported classes, chosen by settings.

``get_provider("local")`` returns an instance; an unknown name is a :class:`ConfigError`
that lists the valid names. Cloud adapters are added here by a later issue.
"""

from __future__ import annotations

import importlib
from typing import Any

from errors import N_, ConfigError
from providers.base import Provider

REGISTRY: dict[str, str] = {
    "local": "providers.local:LocalProvider",
}


def available() -> list[str]:
    return sorted(REGISTRY)


def get_provider(name: str, **options: Any) -> Provider:
    target = REGISTRY.get(name)
    if target is None:
        raise ConfigError(
            N_("Unknown provider '{name}'. Available: {choices}."),
            params={"name": name, "choices": ", ".join(available())},
        )
    module_name, _, cls_name = target.partition(":")
    module = importlib.import_module(module_name)
    cls = getattr(module, cls_name)
    provider: Provider = cls(**options)
    return provider
