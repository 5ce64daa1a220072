"""Provider registry: names -> lazily imported classes, chosen by settings.

``get_provider("local")`` returns an instance; an unknown name is a :class:`ConfigError`
that lists the valid names. Entries are "module:Class" strings, imported only when used, so
listing providers never pays for a vendor's code. Which providers are *configured* (keys
set), their order, fallback and circuit breakers live in :mod:`providers.router`.
"""

from __future__ import annotations

from typing import Any

from errors import N_
from providers.base import Provider
from registry import Registry
from secrets_manager import Settings

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


_REGISTRY: Registry[Provider] = Registry(
    REGISTRY, unknown=N_("Unknown provider '{name}'. Available: {choices}.")
)


def available() -> list[str]:
    return _REGISTRY.names()


def provider_class(name: str) -> type[Provider]:
    """The class registered as ``name``; ConfigError listing the valid names if unknown."""
    return _REGISTRY.load(name)


def from_settings(name: str, settings: Settings) -> Provider:
    """``name`` built from settings (each provider reads only its own section)."""
    return _REGISTRY.build(name, settings)


def get_provider(name: str, **options: Any) -> Provider:
    return provider_class(name)(**options)
