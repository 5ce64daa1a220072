"""Keep the server's memory flat: fewer malloc arenas, and free pages handed back to the OS.

A Streamlit server runs a thread per session script run plus the job workers; glibc gives
threads their own malloc arenas (up to 8 per core), and memory freed inside an arena is kept
by the process. After a burst of sessions and videos the RSS then stays hundreds of MB above
what is live (measured by ``benchmarks/soak.py``). Two standard glibc calls fix that:

* :func:`limit_arenas` (``mallopt(M_ARENA_MAX, n)``, what ``MALLOC_ARENA_MAX`` sets) caps the
  arenas made from now on; ``deploy/`` also sets the variable so it holds from the start;
* :func:`release_free_memory` (``malloc_trim(0)``) returns free pages at the top of every
  arena and whole free pages inside them; cheap (milliseconds), called after each job and by
  the health sampler.

Both are no-ops where the C library is not glibc (macOS, musl): they say so by returning False.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os

log = logging.getLogger("talkingphoto.memory")

M_ARENA_MAX = -8  # from glibc's malloc.h
DEFAULT_ARENAS = 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    except (OSError, AttributeError):  # not glibc: no malloc_trim / mallopt
        return None
    return libc


def limit_arenas(arenas: int | None = None) -> bool:
    """Cap glibc's malloc arenas (``MALLOC_ARENA_MAX`` from the environment, else 2).
    Returns whether the cap was set."""
    libc = _libc()
    if libc is None:
        return False
    if arenas is None:
        try:
            arenas = int(os.environ.get("MALLOC_ARENA_MAX", DEFAULT_ARENAS))
        except ValueError:
            arenas = DEFAULT_ARENAS
    ok = bool(libc.mallopt(M_ARENA_MAX, max(1, arenas)))
    if not ok:
        log.warning("mallopt(M_ARENA_MAX, %s) was refused", arenas)
    return ok


def release_free_memory() -> bool:
    """Hand free heap pages back to the OS (``malloc_trim(0)``). Returns whether any were."""
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.malloc_trim(0))
