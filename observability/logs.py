"""Logging for TalkingPhoto: one set-up, loguru underneath, nothing secret ever written.

Call :func:`configure` once per process, before other work (the app calls it from
``services.startup.start_background``; the CLI and workers may call it too). It is safe to
call again (settings changed, tests): the previous set-up is replaced.

* Every module keeps using ``logging.getLogger(...)``; the stdlib root logger hands each record
  to loguru (:class:`InterceptHandler`), so there is one output and one set of rules.
* Output: readable lines in development, JSON lines in production
  (``[logging] json_lines``: None = JSON in production only), to stderr and, when
  ``[logging] file`` is set, to a file rotated and pruned by ``rotation`` / ``retention``.
* Context: :func:`bind` sets job, user and request ids in context variables; every record
  logged inside the block carries them (threads and ``asyncio`` tasks each keep their own).
* Scrubbing (:func:`scrub`): configured secret values (``secrets_manager.redact``), bearer and
  basic credentials, ``key=value`` secrets, vendor key formats, credentials inside URLs,
  card-like numbers that pass the Luhn check, and e-mail addresses (masked to ``a***@host``).
  It runs on the message *and* the formatted traceback before any sink sees the record;
  local variables are never rendered (``diagnose=False``). Loggers that keep their own
  handlers (Streamlit's) get a :class:`ScrubFilter` on those handlers.
* The last error records are kept in memory (:func:`recent_errors`, :func:`errors_since`) for
  the admin health page and the error rate.

An error shown to a user carries a short reference (``views._components.show_unexpected``
logs it as ``ref``); searching the log for that reference finds the traceback.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import inspect
import json
import logging
import re
import sys
import threading
import traceback
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from loguru import logger

from observability.redaction import ScrubFilter, scrub
from secrets_manager import get_settings

if TYPE_CHECKING:
    from secrets_manager import Settings

CONTEXT_KEYS: tuple[str, ...] = ("job_id", "user_id", "request_id", "ref")
RING_SIZE = 200

_context: dict[str, contextvars.ContextVar[str | None]] = {
    key: contextvars.ContextVar(f"tp_log_{key}", default=None) for key in CONTEXT_KEYS
}
_lock = threading.Lock()
_configured = False


# ------------------------------------------------------------------------------------ context


@contextlib.contextmanager
def bind(**ids: object) -> Iterator[None]:
    """Attach ``job_id`` / ``user_id`` / ``request_id`` / ``ref`` to every record logged in the
    block (this thread or task only)."""
    unknown = set(ids) - set(CONTEXT_KEYS)
    if unknown:
        raise ValueError(f"unknown log context {sorted(unknown)}; known: {CONTEXT_KEYS}")
    tokens = [(_context[k], _context[k].set(None if v is None else str(v))) for k, v in ids.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current_context() -> dict[str, str]:
    return {k: v for k, var in _context.items() if (v := var.get()) is not None}


# ---------------------------------------------------------------------------- the error ring


@dataclass(frozen=True)
class ErrorRecord:
    """One ERROR (or worse) record, scrubbed, for the admin page."""

    ts: dt.datetime
    level: str
    logger: str
    message: str
    ref: str | None
    job_id: str | None


_REF_IN_TEXT = re.compile(r"\((?:ref|reference) ([0-9a-fA-F-]{6,36})\)")
_ring: deque[ErrorRecord] = deque(maxlen=RING_SIZE)
_ring_lock = threading.Lock()


def _ring_sink(message: Any) -> None:
    record = message.record
    extra = record["extra"]
    text = str(record["message"])
    ref = extra.get("ref")
    if ref is None and (found := _REF_IN_TEXT.search(text)):
        ref = found.group(1)
    entry = ErrorRecord(
        ts=record["time"].astimezone(dt.UTC),
        level=record["level"].name,
        logger=str(extra.get("logger", record["name"])),
        message=text.splitlines()[0][:500] if text else "",
        ref=ref,
        job_id=extra.get("job_id"),
    )
    with _ring_lock:
        _ring.append(entry)


def recent_errors(limit: int = 50) -> list[ErrorRecord]:
    """The newest error records first (only those logged since :func:`configure`)."""
    with _ring_lock:
        items = list(_ring)
    return items[::-1][:limit]


def errors_since(since: dt.datetime) -> int:
    with _ring_lock:
        return sum(1 for e in _ring if e.ts >= since)


def clear_errors() -> None:
    with _ring_lock:
        _ring.clear()


# ----------------------------------------------------------------------- records and formats


def _patch(record: dict[str, Any]) -> None:
    """Runs once per record before any sink: context ids, scrubbed message and traceback."""
    extra = record["extra"]
    for key, value in current_context().items():
        extra.setdefault(key, value)
    for key in CONTEXT_KEYS:  # ids only, but whatever a caller put there is scrubbed too
        if extra.get(key) is not None:
            extra[key] = scrub(str(extra[key]))
    extra.setdefault("logger", record["name"])
    record["message"] = scrub(str(record["message"]))
    exc = record["exception"]
    text = ""
    if exc is not None and exc.type is not None:
        text = "".join(traceback.format_exception(exc.type, exc.value, exc.traceback))
        record["exception"] = None  # loguru would format it again, unscrubbed
    extra["exc_text"] = scrub(text).rstrip("\n")


def _context_suffix(extra: dict[str, Any]) -> str:
    parts = [f"{k}={extra[k]}" for k in CONTEXT_KEYS if extra.get(k) is not None]
    return (" [" + " ".join(parts) + "]") if parts else ""


def _text_format(record: dict[str, Any]) -> str:
    extra = record["extra"]
    extra["_ctx"] = _context_suffix(extra)
    tail = "\n{extra[exc_text]}" if extra.get("exc_text") else ""
    return (
        "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <7} | {extra[logger]} | {message}{extra[_ctx]}"
        + tail
        + "\n"
    )


def _json_format(record: dict[str, Any]) -> str:
    extra = record["extra"]
    body: dict[str, Any] = {
        "time": record["time"].astimezone(dt.UTC).isoformat(timespec="milliseconds"),
        "level": record["level"].name,
        "logger": extra.get("logger", record["name"]),
        "message": record["message"],
        "where": f"{record['name']}:{record['function']}:{record['line']}",
    }
    for key in CONTEXT_KEYS:
        if extra.get(key) is not None:
            body[key] = extra[key]
    if extra.get("exc_text"):
        body["exception"] = extra["exc_text"]
    extra["_json"] = json.dumps(body, ensure_ascii=False, default=str)
    return "{extra[_json]}\n"


# ------------------------------------------------------------------------ stdlib interception


class InterceptHandler(logging.Handler):
    """Hands stdlib records to loguru, keeping the caller's location and ``extra`` ids."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        frame, depth = inspect.currentframe(), 0
        while frame is not None and (depth == 0 or frame.f_code.co_filename == logging.__file__):
            frame = frame.f_back
            depth += 1
        ids = {k: str(v) for k in CONTEXT_KEYS if (v := getattr(record, k, None)) is not None}
        logger.opt(depth=depth, exception=record.exc_info or None).bind(
            logger=record.name, **ids
        ).log(level, record.getMessage())


def _foreign_handlers() -> list[logging.Handler]:
    """Handlers of loggers that do not propagate to the root (Streamlit's own loggers log
    "Uncaught app execution" with the traceback straight to stderr)."""
    found: list[logging.Handler] = []
    for logger_ in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger_, logging.Logger) and not logger_.propagate:
            found += [h for h in logger_.handlers if not isinstance(h, InterceptHandler)]
    return found


def _scrub_foreign_handlers(install: bool) -> None:
    for handler in _foreign_handlers():
        for existing in [f for f in handler.filters if isinstance(f, ScrubFilter)]:
            handler.removeFilter(existing)
        if install:
            handler.addFilter(ScrubFilter())


# -------------------------------------------------------------------------------- set-up


def configure(
    settings: Settings | None = None,
    *,
    stream: TextIO | None = None,
) -> None:
    """Set up logging from settings (Sentry is started beside it, by ``services.startup``).

    ``stream`` replaces stderr (tests). Replaces any earlier set-up of this process.
    """
    global _configured
    if settings is None:
        settings = get_settings()
    cfg = settings.logging
    json_lines = settings.is_production if cfg.json_lines is None else cfg.json_lines
    fmt = _json_format if json_lines else _text_format
    with _lock:
        logger.remove()
        logger.configure(patcher=_patch)  # type: ignore[arg-type]
        common: dict[str, Any] = {"format": fmt, "backtrace": False, "diagnose": False}
        logger.add(stream or sys.stderr, level=cfg.level, colorize=False, **common)
        if cfg.file:
            logger.add(
                cfg.file,
                level=cfg.level,
                rotation=cfg.rotation,
                # "14 days" keeps files that young; a bare number keeps that many files.
                retention=int(cfg.retention) if cfg.retention.isdigit() else cfg.retention,
                encoding="utf-8",
                **common,
            )
        logger.add(_ring_sink, level="ERROR", format="{message}", catch=True)
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.addHandler(InterceptHandler())
        root.setLevel(cfg.level)
        logging.captureWarnings(True)
        _scrub_foreign_handlers(install=True)
        _configured = True


def is_configured() -> bool:
    return _configured


def reset() -> None:
    """Undo :func:`configure` (tests): loguru back to its default stderr sink, root bare."""
    global _configured
    with _lock:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if isinstance(handler, InterceptHandler):
                root.removeHandler(handler)
        root.setLevel(logging.WARNING)
        logging.captureWarnings(False)
        _scrub_foreign_handlers(install=False)
        logger.remove()
        logger.configure(patcher=lambda record: None)
        logger.add(sys.stderr)
        _configured = False
    clear_errors()
