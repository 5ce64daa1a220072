"""Process start-up: what must hold before the app serves anyone, and the background threads.

:func:`start_services` runs once per process (idempotent, thread-safe) from the server's
lifespan (``web.lifespan``) and from the page script: configuration checks that must stop
start-up (production without a signing key, payments without keys), schema, job recovery,
voices, the sweep of stale staged uploads. :func:`start_background` runs in the server process
only (not in page-script tests): logging and Sentry, the health sampler, the media cleanup.
"""

from __future__ import annotations

import logging
import threading

import background_tasks
import health_monitor
import payments
from db.session import init_db
from observability import logs, memory, sentry
from observability.release import app_version
from providers.local import voices
from secrets_manager import get_settings
from services import lifecycle, photos, tokens

log = logging.getLogger("talkingphoto.startup")

_start_lock = threading.Lock()
_started = False


def start_services() -> None:
    global _started
    with _start_lock:
        if _started:
            return
        settings = get_settings()
        tokens.check_configuration(settings)
        payments.check_configuration(settings)
        init_db()
        background_tasks.recover_jobs()
        voices.configure(settings.providers.piper_voices)
        photos.sweep_staged_uploads()
        _started = True
        log.info("services started (version %s)", app_version())


def start_background() -> None:
    """Logging and Sentry set-up, the health sampler and the periodic media cleanup.
    Idempotent."""
    settings = get_settings()
    memory.limit_arenas()  # before the sampler and the job workers start their threads
    if not logs.is_configured():
        logs.configure(settings)
        sentry.init_sentry(settings)
    health_monitor.start_sampler()
    lifecycle.start_scheduler()


def reset_for_tests() -> None:
    global _started
    with _start_lock:
        _started = False
