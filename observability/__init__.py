"""What the operators see: logs, error reports and health probes.

    redaction   scrub(): text and data without secrets or personal data (a leaf)
    release     app_version() from pyproject.toml (a leaf)
    logs        loguru set-up, context ids, the ring of recent errors
    sentry      error reports to Sentry when ``[sentry] dsn`` is set, scrubbed like the logs
    probes      the individual health checks that ``health_monitor`` judges

``redaction``, ``release``, ``logs`` and ``sentry`` are foundation: they import settings only.
``probes`` looks at the whole service (jobs, providers, payments, storage) and so sits at the
services layer (see docs/ARCHITECTURE.md).
"""
