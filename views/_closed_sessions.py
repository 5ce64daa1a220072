"""Shut down Streamlit sessions whose browser left and never came back.

Streamlit (1.67) keeps a disconnected session in its session storage for
``server.disconnectedSessionTTL`` (120 s) so that a reload can resume it. When that time is
up the entry only stops being *listed*: it leaves the storage at the storage's next write
(another browser disconnecting), and only then does ``AppSession.__del__`` call
``shutdown()``, which is what drops the session's uploaded files (the photo) from the
uploaded-file manager and its images and audio from the media file manager. On a server
whose browsers have all gone quiet there is no next write, so the last sessions' files stay
in memory for good (shown by ``tests/test_closed_sessions.py`` with Streamlit's own classes).

:class:`ClosedSessionSweeper` remembers every session it sees waiting in storage; once one
has left the listing without becoming active again (expired, or evicted), it shuts it down.
:func:`schedule_sweep` runs a sweep on Streamlit's event loop, where the session manager
lives (it is not thread-safe); the app registers it with the health sampler's sweeps
(:mod:`observability.releasable`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

log = logging.getLogger("talkingphoto.memory")

# Streamlit's CacheStat categories for the two managers a shutdown empties.
FILE_CATEGORIES = ("UploadedFileManager", "st_memory_media_file_storage")


class _Session(Protocol):
    @property
    def id(self) -> str: ...

    def shutdown(self) -> None: ...


class _SessionManager(Protocol):
    def list_sessions(self) -> Sequence[Any]: ...

    def is_active_session(self, session_id: str) -> bool: ...


class ClosedSessionSweeper:
    """Shuts down sessions that have left Streamlit's storage of disconnected sessions."""

    def __init__(self) -> None:
        self._waiting: dict[str, _Session] = {}

    def sweep(self, manager: _SessionManager) -> int:
        """One pass (on Streamlit's event loop); returns how many sessions were shut down."""
        gone = self.collect(manager)
        for session in gone:
            session.shutdown()  # idempotent: a session Streamlit closed itself is left alone
        return len(gone)

    def collect(self, manager: _SessionManager) -> list[_Session]:
        """The sessions that have left the storage since the last pass (not shut down yet)."""
        stored: dict[str, _Session] = {}
        for info in manager.list_sessions():
            if not manager.is_active_session(info.session.id):
                stored[info.session.id] = info.session
        gone = [
            session
            for sid, session in self._waiting.items()
            if sid not in stored and not manager.is_active_session(sid)
        ]
        self._waiting = stored
        return gone


_SWEEPER = ClosedSessionSweeper()


def file_bytes(stats: Mapping[str, Sequence[Any]]) -> int:
    """Bytes of uploaded files and media files in a ``StatsManager.get_stats()`` answer."""
    return sum(
        int(getattr(stat, "byte_length", 0))
        for family in stats.values()
        for stat in family
        if getattr(stat, "category_name", "") in FILE_CATEGORIES
    )


def schedule_sweep() -> None:
    """From any thread: run one sweep on Streamlit's event loop (no-op without a runtime)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return
    runtime = Runtime.instance()
    manager = getattr(runtime, "_session_mgr", None)
    try:
        loop = runtime._get_async_objs().eventloop
    except (AttributeError, RuntimeError):  # not started yet, or Streamlit changed inside
        return
    if manager is None or loop.is_closed():
        return

    def run() -> None:
        try:
            gone = _SWEEPER.collect(manager)
            if not gone:
                return  # the usual tick: nothing to shut down, no stats gathered
            before = file_bytes(runtime.stats_mgr.get_stats())
            for session in gone:
                session.shutdown()
            after = file_bytes(runtime.stats_mgr.get_stats())
            log.info(
                "shut down %d closed Streamlit sessions; their files %.1f -> %.1f MB",
                len(gone),
                before / 2**20,
                after / 2**20,
            )
        except Exception:
            log.exception("closed-session sweep failed")

    loop.call_soon_threadsafe(run)
