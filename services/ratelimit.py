"""Abuse limits shared by every part of the app, on the ``limits`` library.

``hit(action, *identities)`` counts one attempt of ``action`` (a key of ``[ratelimit]``:
signup, signin, signin_per_account, upload, generate, purchase) for the given identity parts
(a client address, an e-mail, a user id) and raises :class:`errors.RateLimited` with
``retry_after_s`` when the limit is used up. ``check`` asks the same question without counting
(for "count only failures" limits such as sign-in per account).

Counters live where ``[ratelimit] storage_uri`` says: ``memory://`` for one process,
``redis://...`` when several replicas must share them. Left at ``memory://`` while
``[jobs] broker_url`` is set (the scale-out set-up), they go to the broker's Redis instead:
with several replicas, per-process counters would multiply every limit. A moving window is
used, so a burst at the edge of a fixed window cannot double the limit.

:func:`client_address` returns the address to count a browser by: the direct peer, or, when
that peer is one of ``[ratelimit] trusted_proxies``, the right-most address in
``X-Forwarded-For`` that is not itself a trusted proxy (left-most entries are whatever the
client chose to send). When there is no address at all (a visitor on localhost, a proxy that
hides it), :func:`browser_key` counts that browser session on its own: all such visitors never
share one bucket, or a handful of failed sign-ins would lock the whole site.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from errors import RateLimited
from secrets_manager import RateLimitSettings, get_settings

ACTIONS: tuple[str, ...] = (
    "signup",
    "signin",
    "signin_per_account",
    "upload",
    "generate",
    "purchase",
)
UNKNOWN_CLIENT = "unknown"
NAMESPACE = "talkingphoto"
MEMORY = "memory://"

_lock = threading.Lock()
_limiters: dict[str, tuple[Storage, MovingWindowRateLimiter]] = {}


def storage_uri(configured: str | None = None) -> str:
    """Where counters live: ``configured`` (``[ratelimit] storage_uri`` by default), except
    that the in-memory default moves to ``[jobs] broker_url`` when one is set."""
    settings = get_settings()
    uri = settings.ratelimit.storage_uri if configured is None else configured
    if uri == MEMORY and settings.jobs.broker_url:
        return settings.jobs.broker_url
    return uri


def _limiter(uri: str) -> MovingWindowRateLimiter:
    uri = storage_uri(uri)
    with _lock:
        pair = _limiters.get(uri)
        if pair is None:
            store = storage_from_string(uri)
            pair = (store, MovingWindowRateLimiter(store))
            _limiters[uri] = pair
        return pair[1]


def _item(action: str, config: RateLimitSettings) -> RateLimitItem:
    if action not in ACTIONS:
        raise ValueError(f"unknown rate-limit action {action!r}; known: {', '.join(ACTIONS)}")
    return parse(getattr(config, action))


def _identities(identities: Iterable[object]) -> list[str]:
    parts = [str(i).strip().lower() for i in identities]
    return [p or UNKNOWN_CLIENT for p in parts] or [UNKNOWN_CLIENT]


def _keys(action: str, identities: Iterable[object]) -> list[str]:
    # The limits library adds the limit itself ("5/1/hour") to the storage key, so changing
    # a setting starts a fresh count.
    return [NAMESPACE, action, *_identities(identities)]


def _retry_after(limiter: MovingWindowRateLimiter, item: RateLimitItem, keys: list[str]) -> float:
    reset_at, _remaining = limiter.get_window_stats(item, *keys)
    return max(1.0, math.ceil(reset_at - time.time()))


def _enforce(action: str, identities: tuple[object, ...], *, count: bool) -> None:
    config = get_settings().ratelimit
    item = _item(action, config)
    limiter = _limiter(config.storage_uri)
    keys = _keys(action, identities)
    allowed = limiter.hit(item, *keys) if count else limiter.test(item, *keys)
    if not allowed:
        raise RateLimited(
            retry_after_s=_retry_after(limiter, item, keys), detail=f"rate limit {action}"
        )


def hit(action: str, *identities: object) -> None:
    """Count one attempt; RateLimited (nothing counted) when the limit is used up."""
    _enforce(action, identities, count=True)


def check(action: str, *identities: object) -> None:
    """RateLimited if ``action`` is already used up for these identities; counts nothing."""
    _enforce(action, identities, count=False)


def clear(action: str, *identities: object) -> None:
    """Forget the count (e.g. the failed sign-ins of an account after a good one)."""
    config = get_settings().ratelimit
    item = _item(action, config)
    _limiter(config.storage_uri).clear(item, *_keys(action, identities))


def _parse_ip(value: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Iterable[str]) -> bool:
    for proxy in proxies:
        try:
            if ip in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(
    headers: Mapping[str, Any] | Any, peer: object, trusted_proxies: Iterable[str] | None = None
) -> str:
    """The client's address for counting; ``"unknown"`` when there is none.

    ``headers`` may be ``st.context.headers`` (case-insensitive ``get``) or a dict; ``peer``
    is the direct connection's address (``st.context.ip_address``; None or a non-string in
    tests). X-Forwarded-For is only believed when ``peer`` is a trusted proxy.
    """
    proxies = list(
        trusted_proxies if trusted_proxies is not None else get_settings().ratelimit.trusted_proxies
    )
    peer_ip = _parse_ip(peer)
    if peer_ip is None:
        return UNKNOWN_CLIENT
    if not proxies or not _trusted(peer_ip, proxies):
        return str(peer_ip)
    forwarded = None
    try:
        forwarded = headers.get("X-Forwarded-For") or headers.get("x-forwarded-for")
    except AttributeError:
        forwarded = None
    if not isinstance(forwarded, str):
        return str(peer_ip)
    hops = [_parse_ip(part) for part in forwarded.split(",")]
    for hop in reversed(hops):
        if hop is None:
            break  # garbage from an untrusted hop: stop believing the chain
        if not _trusted(hop, proxies):
            return str(hop)
    return str(peer_ip)


def browser_key(address: str, browser_token: str) -> str:
    """The identity to count a browser by: its address, or, when the address is unknown,
    ``unknown/<browser_token>`` (a random token the browser session keeps). A visitor who
    starts a new session starts a new count, which is the price of not locking everybody
    else out with them; per-account limits still hold whatever the client."""
    if address != UNKNOWN_CLIENT:
        return address
    token = "".join(ch for ch in browser_token if ch.isalnum())[:32]
    return f"{UNKNOWN_CLIENT}/{token}" if token else UNKNOWN_CLIENT


def reset_for_tests() -> None:
    """Drop every counter (memory storage) and forget the limiters."""
    with _lock:
        for store, _limiter_obj in _limiters.values():
            with contextlib.suppress(NotImplementedError):
                store.reset()
        _limiters.clear()
