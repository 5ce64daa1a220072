"""Streamlit sessions whose browser has gone are shut down, so their files leave memory.

Streamlit's own session manager, session storage and uploaded-file manager; the storage's
clock is injected (a TTLCache with ``timer=``), so nothing waits for the 120 s TTL.
"""

from __future__ import annotations

import asyncio
from typing import Any

from streamlit.runtime.caching.ttl_cache import TTLCache
from streamlit.runtime.memory_session_storage import MemorySessionStorage
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.script_data import ScriptData
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.runtime.uploaded_file_manager import UploadedFileRec
from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

from views._closed_sessions import ClosedSessionSweeper, file_bytes

TTL_S = 120
PHOTO = b"\xff\xd8" + b"x" * 500_000


class Browser:
    """The websocket end of a session (Streamlit's SessionClient)."""

    def write_forward_msg(self, msg: Any) -> None:
        pass


def uploaded_bytes(files: MemoryUploadedFileManager) -> int:
    return file_bytes(files.get_stats())


def run(test: Any) -> None:
    async def main() -> None:  # AppSession wants a running event loop, as in the server
        now = [0.0]
        storage = MemorySessionStorage(ttl_seconds=TTL_S)
        storage._cache = TTLCache(maxsize=128, ttl=TTL_S, timer=lambda: now[0])
        files = MemoryUploadedFileManager("/_stcore/upload_file")
        manager = WebsocketSessionManager(storage, files, ScriptCache(), None)
        test(manager, files, now)

    asyncio.run(main())


def connect(manager: WebsocketSessionManager, files: MemoryUploadedFileManager) -> str:
    sid = manager.connect_session(Browser(), ScriptData("app_streamlit_cloud.py", False), {})
    files.add_file(sid, UploadedFileRec("photo", "portrait.jpg", "image/jpeg", PHOTO))
    return sid


def test_files_of_an_expired_session_are_freed() -> None:
    def test(manager: WebsocketSessionManager, files: MemoryUploadedFileManager, now: list) -> None:
        sweeper = ClosedSessionSweeper()
        kept = connect(manager, files)  # a browser that stays
        gone = connect(manager, files)
        manager.disconnect_session(gone)  # the tab closes: kept for a reload, as Streamlit does
        assert sweeper.sweep(manager) == 0
        now[0] = TTL_S - 1
        assert sweeper.sweep(manager) == 0  # still resumable: nothing is taken away
        assert uploaded_bytes(files) == 2 * len(PHOTO)

        now[0] = TTL_S + 1  # expired: Streamlit stops listing it but keeps its files ...
        assert [i.session.id for i in manager.list_sessions()] == [kept]
        assert uploaded_bytes(files) == 2 * len(PHOTO)
        assert sweeper.sweep(manager) == 1  # ... until the sweep shuts it down
        assert uploaded_bytes(files) == len(PHOTO)
        assert manager.is_active_session(kept)
        assert sweeper.sweep(manager) == 0

    run(test)


def test_a_session_that_reconnects_is_left_alone() -> None:
    def test(manager: WebsocketSessionManager, files: MemoryUploadedFileManager, now: list) -> None:
        sweeper = ClosedSessionSweeper()
        sid = connect(manager, files)
        manager.disconnect_session(sid)
        assert sweeper.sweep(manager) == 0
        now[0] = 30
        again = manager.connect_session(
            Browser(), ScriptData("app_streamlit_cloud.py", False), {}, existing_session_id=sid
        )
        assert again == sid and manager.is_active_session(sid)
        now[0] = TTL_S + 1
        assert sweeper.sweep(manager) == 0
        assert uploaded_bytes(files) == len(PHOTO)

    run(test)
