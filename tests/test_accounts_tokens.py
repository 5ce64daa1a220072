"""services.tokens: signed links and states (PyJWT), and the [jwt] key rules."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest

from errors import ConfigError, InvalidToken
from secrets_manager import get_settings
from services import tokens


def test_a_token_round_trips_for_its_purpose_only(accounts_env: Callable[..., None]) -> None:
    token = tokens.sign("share", {"job": "abc", "n": 3}, expires_s=600)
    assert tokens.verify("share", token) == {"job": "abc", "n": 3}
    with pytest.raises(InvalidToken):
        tokens.verify("payment-return", token)


def test_altered_or_foreign_tokens_are_refused(accounts_env: Callable[..., None]) -> None:
    token = tokens.sign("share", {"job": "abc"})
    header, _body, signature = token.split(".")
    forged_body = jwt.utils.base64url_encode(b'{"job":"xyz","pur":"share","iat":1}').decode()
    for bad in (
        f"{header}.{forged_body}.{signature}",
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        jwt.encode({"job": "abc", "pur": "share", "iat": 1}, "another key " * 4, "HS256"),
        jwt.encode({"job": "abc", "pur": "share", "iat": 1}, None, algorithm="none"),
        "",
        "not a token",
    ):
        with pytest.raises(InvalidToken) as caught:
            tokens.verify("share", bad)
        assert not caught.value.expired


def test_tokens_expire_on_an_injected_clock(accounts_env: Callable[..., None]) -> None:
    token = tokens.sign("reset", {"uid": 7}, expires_s=60, now=1_000_000)
    assert tokens.verify("reset", token, now=1_000_059) == {"uid": 7}
    with pytest.raises(InvalidToken) as caught:
        tokens.verify("reset", token, now=1_000_060)
    assert caught.value.expired and caught.value.user_message == "This link has expired."


def test_reserved_claims_cannot_be_smuggled(accounts_env: Callable[..., None]) -> None:
    with pytest.raises(ValueError):
        tokens.sign("share", {"pur": "payment-return"})


def test_development_keeps_a_random_key_under_data_dir(
    accounts_env: Callable[..., None], foundation_env: Path
) -> None:
    token = tokens.sign("share", {"job": "a"})
    key_file = foundation_env / tokens.DEV_KEY_FILE
    assert key_file.is_file() and len(key_file.read_text()) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    tokens.reset_for_tests()  # a restart: the key is read back, old links still work
    assert tokens.verify("share", token) == {"job": "a"}


def test_a_configured_key_is_used_and_changing_it_invalidates_tokens(
    accounts_env: Callable[..., None],
) -> None:
    accounts_env(jwt__secret_key="a" * 32)
    token = tokens.sign("share", {"job": "a"})
    assert jwt.decode(token, "a" * 32, algorithms=["HS256"])["job"] == "a"
    accounts_env(jwt__secret_key="b" * 32)
    with pytest.raises(InvalidToken):
        tokens.verify("share", token)


def test_short_keys_are_refused_at_load(accounts_env: Callable[..., None]) -> None:
    accounts_env(jwt__secret_key="too-short")
    with pytest.raises(ConfigError) as caught:
        get_settings()
    assert "at least 32 characters" in str(caught.value)
    assert "too-short" not in str(caught.value)


def test_production_without_a_key_stops_start_up(accounts_env: Callable[..., None]) -> None:
    accounts_env(app__environment="production")
    with pytest.raises(ConfigError, match=r"\[jwt\] secret_key is required in production"):
        tokens.check_configuration()
    with pytest.raises(ConfigError):
        tokens.sign("share", {})  # never a silent random key in production
    accounts_env(jwt__secret_key="p" * 40)
    tokens.check_configuration()
    assert tokens.verify("share", tokens.sign("share", {"x": 1})) == {"x": 1}
