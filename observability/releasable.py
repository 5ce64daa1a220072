"""Caches the engine drops when it has been quiet, and the bookkeeping that says when.

The local engine keeps what is slow to load: the Piper voice (an onnxruntime session, about
200 MB measured after a few videos), the face nets of each worker thread (about 20 MB each),
caption fonts, cached voice samples. Kept for ever, a server that made its last video an
hour ago still holds them all (``benchmarks/soak.py``: 690 MB after every browser had
closed, against 144 MB at start). Dropped after ``[engine] idle_unload_s`` without engine
use, the RSS falls back toward idle; the next job loads them again (about a second).

Contract, for one :class:`Releasables` registry (the process-wide one is :data:`ENGINE`):

* :meth:`~Releasables.register` ``(name, release)``: a module that owns a cache registers a
  function that forgets it. ``release`` only drops references (no I/O, no waiting) and the
  cache must fill itself again on its next use.
* :meth:`~Releasables.in_use`: a context manager around every use of the engine (a job's
  render). While one is open nothing is released, and a release in progress holds the lock,
  so no use starts half-way through it.
* :meth:`~Releasables.release_if_idle` ``(idle_s)``: called by the health sampler; once no use
  is open and the last one ended ``idle_s`` ago, calls every registered release once (until
  the engine is used again), then hands the freed heap back to the OS.

Beside the caches, :meth:`~Releasables.register_sweep` takes housekeeping that frees what
closed sessions leave behind (the app registers Streamlit's, see ``views/_closed_sessions.py``);
:meth:`~Releasables.sweep` runs each one on every sampler tick, busy or not.

The clock is injectable (``clock=``; tests pass ``now=``), so no test waits.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator

from observability import memory

log = logging.getLogger("talkingphoto.memory")

__all__ = ["ENGINE", "Releasables", "in_use", "register", "register_sweep"]


class Releasables:
    """Named release functions, a count of open uses and the time the last one ended."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._releases: dict[str, Callable[[], object]] = {}
        self._sweeps: dict[str, Callable[[], object]] = {}
        self._active = 0
        self._last_used = clock()
        self._released = True  # nothing is loaded before the first use

    def register(self, name: str, release: Callable[[], object]) -> None:
        """Add (or replace) the release function called ``name``."""
        with self._lock:
            self._releases[name] = release

    def register_sweep(self, name: str, sweep: Callable[[], object]) -> None:
        """Add (or replace) housekeeping run on every :meth:`sweep`; it must not block."""
        with self._lock:
            self._sweeps[name] = sweep

    def sweep(self) -> list[str]:
        """Run every registered sweep (a failing one is logged, the others still run)."""
        with self._lock:
            sweeps = list(self._sweeps.items())
        done: list[str] = []
        for name, sweep in sweeps:
            try:
                sweep()
            except Exception:
                log.exception("sweep %s failed", name)
                continue
            done.append(name)
        return done

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._releases)

    @contextlib.contextmanager
    def in_use(self) -> Iterator[None]:
        """Mark the engine busy for the ``with`` block (re-entrant, any number of threads)."""
        with self._lock:
            self._active += 1
            self._released = False
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                self._last_used = self.clock()

    @property
    def active(self) -> int:
        """Uses open right now."""
        with self._lock:
            return self._active

    @property
    def last_used(self) -> float:
        """When the last use ended (on :attr:`clock`)."""
        with self._lock:
            return self._last_used

    def release_if_idle(self, idle_s: float, now: float | None = None) -> list[str]:
        """Release every cache if the engine has been idle ``idle_s`` seconds; the names
        released (empty: busy, used too recently, already released, or ``idle_s`` <= 0)."""
        if idle_s <= 0:
            return []
        now = self.clock() if now is None else now
        return self._release_unless(
            lambda: bool(self._active or self._released or now - self._last_used < idle_s)
        )

    def release_now(self) -> list[str]:
        """Release every cache unless the engine is in use (then nothing: returns [])."""
        return self._release_unless(lambda: bool(self._active))

    def _release_unless(self, keep: Callable[[], bool]) -> list[str]:
        """Release every cache unless ``keep()`` (evaluated under the lock) says not to."""
        with self._lock:
            if keep():
                return []
            released = self._release_locked()
        gc.collect()  # onnxruntime sessions and nets sit in reference cycles now and then
        memory.release_free_memory()
        return released

    def _release_locked(self) -> list[str]:
        done: list[str] = []
        for name, release in self._releases.items():
            try:
                release()
            except Exception:  # one bad cache must not keep the others loaded
                log.exception("releasing %s failed", name)
                continue
            done.append(name)
        self._released = True
        return done


ENGINE = Releasables()
"""The process-wide registry of the local engine's caches."""


def register(name: str, release: Callable[[], object]) -> None:
    """Register ``release`` with :data:`ENGINE` (called at import by the module that owns the
    cache)."""
    ENGINE.register(name, release)


def register_sweep(name: str, sweep: Callable[[], object]) -> None:
    """Register housekeeping with :data:`ENGINE` (see :meth:`Releasables.register_sweep`)."""
    ENGINE.register_sweep(name, sweep)


def in_use() -> contextlib.AbstractContextManager[None]:
    """:meth:`Releasables.in_use` of :data:`ENGINE`."""
    return ENGINE.in_use()
