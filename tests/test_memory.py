"""observability.memory: the glibc calls that keep the server's RSS flat (benchmarks/soak.py)."""

from __future__ import annotations

import ctypes.util
import platform

import pytest

from observability import memory

glibc = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="malloc_trim and mallopt are glibc's",
)


@glibc
def test_arenas_are_capped_and_free_heap_is_handed_back() -> None:
    assert ctypes.util.find_library("c")
    assert memory.limit_arenas(2) is True
    blocks = [bytearray(64 * 1024) for _ in range(2000)]  # ~128 MB of heap, then freed
    del blocks
    assert isinstance(memory.release_free_memory(), bool)


def test_a_bad_environment_value_falls_back_to_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "lots")
    expected = memory._libc() is not None
    assert memory.limit_arenas() is expected
