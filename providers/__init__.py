"""Provider registry: names -> lazily imported classes, chosen by settings.

``get_provider("local")`` returns an instance; an unknown name is a :class:`ConfigError`
that lists the valid names. Entries are "module:Class" strings, imported only when used, so
listing providers never pays for a vendor's code. Which providers are *configured* (keys
set), their order, fallback and circuit breakers live in :mod:`providers.router`.
"""

from __future__ import annotations

import importlib
from typing import Any

from errors import N_, ConfigError
from providers.base import Provider

REGISTRY: dict[str, str] = {
    "local": "providers.local:LocalProvider",
    "d_id": "providers.d_id:DIdProvider",
    "heygen": "providers.heygen:HeyGenProvider",
    "synthesia": "providers.synthesia:SynthesiaProvider",
    "luma": "providers.luma:LumaProvider",
}
# The settings section holding each cloud provider's key, URLs and price.
SETTINGS_SECTIONS: dict[str, str] = {
    "d_id": "d_id",
    "heygen": "heygen",
    "synthesia": "synthesia",
    "luma": "luma_ai",
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
