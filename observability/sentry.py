"""Error reports to Sentry, only when ``[sentry] dsn`` is set, scrubbed like the logs.

:func:`init_sentry` is called at start-up (``services.startup.start_background``). Errors
logged through stdlib ``logging`` at ERROR (with their traceback) become Sentry events; INFO
and above become breadcrumbs. Every event and breadcrumb passes :func:`before_send` /
:func:`before_breadcrumb`, which apply ``observability.redaction.scrub_data`` to every string
(configured secrets, tokens, passwords, card numbers, e-mails) and replace values under
secret-looking keys. No personal data is sent (``send_default_pii=False``), local variables
are not captured, and the reference id a user was shown (``ref``) becomes a tag, so a support
request finds its event.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from observability.redaction import scrub_data
from observability.release import app_version

if TYPE_CHECKING:
    from secrets_manager import Settings

log = logging.getLogger("talkingphoto.errors")

_DROP_REQUEST_KEYS = ("cookies", "data", "env")


def before_send(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Scrub an event in place of Sentry's own rules; never drops the event."""
    event.pop("user", None)  # no personal data, whatever an integration added
    request = event.get("request")
    if isinstance(request, dict):
        for key in _DROP_REQUEST_KEYS:
            request.pop(key, None)
    extra = event.get("extra")
    if isinstance(extra, dict) and extra.get("ref"):
        event.setdefault("tags", {})
        if isinstance(event["tags"], dict):
            event["tags"]["ref"] = str(extra["ref"])
    scrubbed: dict[str, Any] = scrub_data(event)
    return scrubbed


def before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = scrub_data(crumb)
    return result


def init_sentry(settings: Settings) -> bool:
    """Start the Sentry client when a DSN is configured; returns whether it did."""
    dsn = settings.sentry.dsn
    if dsn is None or not dsn.get_secret_value():
        return False
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration

    release = f"talkingphoto@{app_version()}"
    disabled: list[Any] = []
    try:
        from sentry_sdk.integrations.loguru import LoguruIntegration

        # Our modules log through stdlib logging, which Sentry already sees; loguru would
        # report every error a second time.
        disabled.append(LoguruIntegration())
    except Exception:  # pragma: no cover - integration missing in a future sentry-sdk
        pass
    sentry_sdk.init(
        dsn=dsn.get_secret_value(),
        environment=settings.app.environment,
        release=release,
        traces_sample_rate=settings.sentry.traces_sample_rate,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=before_send,  # type: ignore[arg-type]
        before_breadcrumb=before_breadcrumb,  # type: ignore[arg-type]
        integrations=[LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)],
        disabled_integrations=disabled,
    )
    log.info("error reports go to Sentry (%s)", settings.app.environment)
    return True


def shutdown(timeout_s: float = 2.0) -> None:
    """Send what is queued and stop the client (tests; process exit)."""
    import sentry_sdk

    client = sentry_sdk.get_client()
    if client.is_active():
        client.flush(timeout=timeout_s)
        client.close(timeout=timeout_s)
