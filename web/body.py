"""Request bodies read with a cap: the declared ``Content-Length`` is judged first, then the
stream is counted chunk by chunk, so an oversized body (chunked, or lying about its length) is
refused after at most ``limit`` bytes instead of being held in memory whole.

Returning early leaves the rest of the body unread; uvicorn then closes the connection after
the 413 instead of reading on.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

TOO_LARGE = "body too large"


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or ``None`` when it is (or says it is) longer than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                return None
        except ValueError:
            return None
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(headers: dict[str, str] | None = None) -> JSONResponse:
    """The 413 answer; ``Connection: close`` so the client stops sending the rest."""
    return JSONResponse(
        {"error": TOO_LARGE}, status_code=413, headers={**(headers or {}), "Connection": "close"}
    )
