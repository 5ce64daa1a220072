"""services.ratelimit: limits from settings, per identity, and whose address counts."""

from __future__ import annotations

from collections.abc import Callable
from unittest.mock import MagicMock

import pytest

from errors import RateLimited
from services import ratelimit


def test_a_limit_allows_its_count_then_says_when_to_retry(
    settings_env: Callable[..., None],
) -> None:
    settings_env(ratelimit__upload="3/minute")
    for _ in range(3):
        ratelimit.hit("upload", 42)
    with pytest.raises(RateLimited) as caught:
        ratelimit.hit("upload", 42)
    assert 1 <= caught.value.retry_after_s <= 60
    assert caught.value.params["seconds"] == round(caught.value.retry_after_s)
    ratelimit.hit("upload", 43)  # another user has their own count
    ratelimit.hit("generate", 42)  # and another action too


def test_an_hour_long_wait_is_told_in_minutes_in_either_language(
    settings_env: Callable[..., None],
) -> None:
    import i18n

    settings_env(ratelimit__signin_per_account="1/hour")
    ratelimit.hit("signin_per_account", 7)
    with pytest.raises(RateLimited) as caught:
        ratelimit.hit("signin_per_account", 7)
    error = caught.value
    assert error.params == {"minutes": 60}
    assert error.user_message == "Too many attempts. Please try again in 60 minutes."
    hindi = i18n.translations("hi").gettext(error.template).format(**error.params)
    assert "60 मिनट" in hindi and "सेकंड" not in hindi
    # a short wait keeps seconds: "in 1 minutes" would read worse than "in 45 seconds"
    assert RateLimited(retry_after_s=45).user_message.endswith("in 45 seconds.")


def test_check_does_not_count_and_clear_forgets(settings_env: Callable[..., None]) -> None:
    settings_env(ratelimit__signin_per_account="2/hour")
    for _ in range(5):
        ratelimit.check("signin_per_account", "a@example.com")
    ratelimit.hit("signin_per_account", "a@example.com")
    ratelimit.hit("signin_per_account", "a@example.com")
    with pytest.raises(RateLimited):
        ratelimit.check("signin_per_account", "a@example.com")
    ratelimit.clear("signin_per_account", "a@example.com")
    ratelimit.check("signin_per_account", "A@example.com")  # identities are case-insensitive


def test_unknown_actions_are_programming_errors(settings_env: Callable[..., None]) -> None:
    with pytest.raises(ValueError, match="known: signup"):
        ratelimit.hit("download", 1)


def test_a_changed_setting_applies_without_a_restart(settings_env: Callable[..., None]) -> None:
    settings_env(ratelimit__purchase="1/hour")
    ratelimit.hit("purchase", 1)
    with pytest.raises(RateLimited):
        ratelimit.hit("purchase", 1)
    settings_env(ratelimit__purchase="5/hour")
    ratelimit.hit("purchase", 1)


@pytest.mark.parametrize(
    ("headers", "peer", "proxies", "expected"),
    [
        # Nobody trusted: a client cannot choose its address by sending a header.
        ({"X-Forwarded-For": "1.1.1.1"}, "203.0.113.9", [], "203.0.113.9"),
        ({"X-Forwarded-For": "1.1.1.1"}, "203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
        # Behind our proxy: the right-most address that is not one of our proxies.
        ({"X-Forwarded-For": "198.51.100.7"}, "10.0.0.2", ["10.0.0.0/8"], "198.51.100.7"),
        (
            {"X-Forwarded-For": "6.6.6.6, 198.51.100.7, 10.0.0.3"},
            "10.0.0.2",
            ["10.0.0.0/8"],
            "198.51.100.7",
        ),
        ({"x-forwarded-for": "198.51.100.7"}, "10.0.0.2", ["10.0.0.2"], "198.51.100.7"),
        ({}, "10.0.0.2", ["10.0.0.0/8"], "10.0.0.2"),
        ({"X-Forwarded-For": "garbage"}, "10.0.0.2", ["10.0.0.0/8"], "10.0.0.2"),
        # What Streamlit reports for a local browser on a dual-stack socket.
        ({}, "::ffff:127.0.0.1", [], "127.0.0.1"),
        ({}, "[2001:db8::1]:443", [], "2001:db8::1"),
        # AppTest hands out mocks; no address at all is "unknown", never an error.
        ({}, None, [], "unknown"),
        (MagicMock(), MagicMock(), ["10.0.0.0/8"], "unknown"),
    ],
)
def test_client_address(
    settings_env: Callable[..., None], headers: object, peer: object, proxies, expected: str
) -> None:
    assert ratelimit.client_address(headers, peer, proxies) == expected


def test_trusted_proxies_come_from_settings(settings_env: Callable[..., None]) -> None:
    settings_env(ratelimit__trusted_proxies='["172.16.0.0/12"]')
    headers = {"X-Forwarded-For": "198.51.100.7"}
    assert ratelimit.client_address(headers, "172.17.0.1") == "198.51.100.7"
    assert ratelimit.client_address(headers, "192.0.2.1") == "192.0.2.1"


def test_generate_limit_refuses_cleanly_and_changes_nothing(
    jobs_env: object, settings_env: Callable[..., None]
) -> None:
    from sqlalchemy import func, select

    from db.models import CreditEntry, Job
    from db.session import session_scope
    from errors import RateLimited
    from services import accounts, credits, jobs
    from tests.test_jobs import SCRIPT, make_photo, params

    settings_env(ratelimit__generate="1/hour")
    user = accounts.get_or_create_user("busy@example.com")
    jobs.submit(user.id, photo=make_photo(), script=SCRIPT, params=params())
    balance = credits.balance(user.id)
    with session_scope() as session:
        before = (
            session.scalar(select(func.count(Job.id))),
            session.scalar(select(func.count(CreditEntry.id))),
        )
    with pytest.raises(RateLimited) as caught:
        jobs.submit(user.id, photo=make_photo(), script=SCRIPT, params=params())
    assert "try again in" in caught.value.user_message
    assert caught.value.retry_after_s > 0
    with session_scope() as session:
        after = (
            session.scalar(select(func.count(Job.id))),
            session.scalar(select(func.count(CreditEntry.id))),
        )
    assert after == before and credits.balance(user.id) == balance
    # Another creator is not affected.
    other = accounts.get_or_create_user("calm@example.com")
    assert jobs.submit(other.id, photo=make_photo(), script=SCRIPT, params=params()).id
