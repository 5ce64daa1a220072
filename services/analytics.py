"""First-party product events (visit, upload, generate, success, download, share, purchase).

Stored in the ``events`` table with ``kind = "analytics.<name>"`` when
``[features] enable_analytics`` is on; nothing is recorded otherwise. Recording never raises:
a lost analytics event must not break a creator's action.
"""

from __future__ import annotations

import logging
from typing import Any

from db.models import Event
from db.session import session_scope
from secrets_manager import get_settings

log = logging.getLogger("talkingphoto.analytics")

EVENTS: tuple[str, ...] = (
    "visit",
    "upload",
    "generate",
    "success",
    "download",
    "share",
    "purchase",
)
PREFIX = "analytics."


def record(
    name: str,
    *,
    user_id: int | None = None,
    job_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> bool:
    """Append one event; returns whether it was stored."""
    if name not in EVENTS:
        raise ValueError(f"unknown analytics event {name!r}; known: {', '.join(EVENTS)}")
    try:
        if not get_settings().features.enable_analytics:
            return False
        with session_scope() as session:
            session.add(
                Event(kind=PREFIX + name, user_id=user_id, job_id=job_id, data=data or None)
            )
        return True
    except Exception:
        log.warning("analytics event %s not recorded", name, exc_info=True)
        return False
