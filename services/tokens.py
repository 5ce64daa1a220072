"""Signed tokens for everything that crosses a redirect or a link (PyJWT, HS256).

``sign(purpose, claims, expires_s)`` returns a compact JWT; ``verify(purpose, token)`` returns
its claims or raises :class:`errors.InvalidToken`. The purpose travels inside the token
(claim ``pur``), so a share-link token can never be replayed as a payment-return state.

The key is ``[jwt] secret_key`` (at least 32 characters, checked by the settings). Without
it, development uses a random key kept in ``<data_dir>/jwt_secret.key`` (created once, mode
0600) so tokens survive a restart; production refuses to start
(:func:`check_configuration`, called from ``services.startup.start_services``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import jwt

from errors import N_, ConfigError, InvalidToken
from secrets_manager import Settings, get_settings

ALGORITHM = "HS256"
DEV_KEY_FILE = "jwt_secret.key"
_RESERVED = frozenset({"pur", "iat", "exp"})
_lock = threading.Lock()
_dev_keys: dict[Path, str] = {}


def check_configuration(settings: Settings | None = None) -> None:
    """Stop start-up in production when no signing key is configured."""
    settings = settings or get_settings()
    if settings.is_production and settings.jwt.secret_key is None:
        raise ConfigError(
            N_(
                "[jwt] secret_key is required in production: set it to a random string of at "
                "least 32 characters (or TALKINGPHOTO__JWT__SECRET_KEY)."
            )
        )


def _dev_key(data_dir: Path) -> str:
    path = data_dir / DEV_KEY_FILE
    with _lock:
        if path in _dev_keys:
            return _dev_keys[path]
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two processes starting at once agree on one key (the loser reads it).
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_text("utf-8").strip()
        else:
            key = secrets.token_urlsafe(48)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(key)
        _dev_keys[path] = key
        return key


def _key(settings: Settings) -> str:
    if settings.jwt.secret_key is not None:
        return settings.jwt.secret_key.get_secret_value()
    check_configuration(settings)
    return _dev_key(Path(settings.app.data_dir))


def derive(purpose: str, material: str) -> str:
    """A URL-safe secret (43 characters) that only this server can compute from ``material``:
    HMAC-SHA256 under the signing key, bound to ``purpose``. Lets a random value stored in
    the database (a share link's salt) be turned back into the link's token without storing
    the token itself; a copy of the database alone opens nothing."""
    if not purpose or not material:
        raise ValueError("derive needs a purpose and material")
    digest = hmac.new(
        _key(get_settings()).encode("utf-8"),
        f"{purpose}\x00{material}".encode(),
        hashlib.sha256,
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def stored_hash(secret: str) -> str:
    """What the database keeps of a random secret handed to a browser (a session id, a share
    link's token): its SHA-256, so a copy of the database opens nothing."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def sign(
    purpose: str,
    claims: dict[str, Any],
    expires_s: float | None = None,
    *,
    now: float | None = None,
) -> str:
    """A token carrying ``claims`` for ``purpose``; it expires ``expires_s`` seconds from now
    (never, when None). ``now`` (unix seconds) is for tests."""
    if not purpose:
        raise ValueError("a token needs a purpose")
    clash = _RESERVED & set(claims)
    if clash:
        raise ValueError(f"reserved claim names: {sorted(clash)}")
    issued = int(now if now is not None else time.time())
    payload: dict[str, Any] = {**claims, "pur": purpose, "iat": issued}
    if expires_s is not None:
        payload["exp"] = issued + int(expires_s)
    return jwt.encode(payload, _key(get_settings()), algorithm=ALGORITHM)


def verify(purpose: str, token: str, *, now: float | None = None) -> dict[str, Any]:
    """The claims of a valid, unexpired ``token`` made for ``purpose`` (without ``pur``,
    ``iat``, ``exp``). Raises :class:`errors.InvalidToken` otherwise."""
    if not token or not isinstance(token, str):
        raise InvalidToken(detail="empty token")
    try:
        payload = jwt.decode(
            token,
            _key(get_settings()),
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "require": ["pur", "iat"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(detail=f"bad token ({type(exc).__name__})") from None
    if payload.get("pur") != purpose:
        raise InvalidToken(detail="token made for another purpose")
    expires = payload.get("exp")
    current = now if now is not None else time.time()
    if expires is not None and (not isinstance(expires, int | float) or current >= expires):
        raise InvalidToken(N_("This link has expired."), detail="expired token", expired=True)
    return {k: v for k, v in payload.items() if k not in _RESERVED}


def reset_for_tests() -> None:
    with _lock:
        _dev_keys.clear()
