"""Gateway webhooks served next to the UI (filled in by the payments issue)."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
