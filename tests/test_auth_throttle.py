"""Throttling that cannot lock the owner out, and the audit trail it leaves.

Failures are counted per (account, client) and per client. The guessing pair waits (even
with the right password) and is told to reset by e-mail; the owner on a client without
failures signs in; a client spraying many accounts is slowed; the reset link frees the pair.
Every event is in ``auth_events`` and in the log, without passwords.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from errors import AuthError, RateLimited
from services import accounts, audit
from tests.test_accounts_pages import (
    app,
    clean,
    on_create_page,
    sign_in,
    site,  # noqa: F401  (fixture)
    texts,
)

PASSWORD = "correct horse battery"
WRONG = "guess guess guess"
ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


@pytest.fixture
def victim(accounts_env: Callable[..., None]) -> accounts.UserView:
    accounts_env(
        ratelimit__signin_per_account="3/15 minutes",
        ratelimit__signin_failures_per_client="10/hour",
        ratelimit__signin="1000/hour",
    )
    return accounts.sign_up("victim@example.com", PASSWORD)


def _fail(email: str, client: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AuthError):
            accounts.sign_in(email, WRONG, client=client)


def test_the_owner_is_never_locked_out_by_someone_elses_failures(
    victim: accounts.UserView,
) -> None:
    _fail("victim@example.com", ATTACKER, 3)
    with pytest.raises(RateLimited):
        accounts.sign_in("victim@example.com", WRONG, client=ATTACKER)
    # The right password, from a client with no failures: in.
    assert accounts.sign_in("victim@example.com", PASSWORD, client=OWNER).id == victim.id
    # Even in a different letter case: the pair is the normalised address.
    assert accounts.sign_in("VICTIM@example.com", PASSWORD, client=OWNER).id == victim.id


def test_the_guessing_pair_waits_even_with_the_right_password(
    victim: accounts.UserView,
) -> None:
    _fail("victim@example.com", ATTACKER, 3)
    with pytest.raises(RateLimited) as limited:
        accounts.sign_in("victim@example.com", PASSWORD, client=ATTACKER)
    assert "Reset your password by e-mail" in limited.value.user_message
    assert 0 < limited.value.retry_after_s <= 15 * 60
    # A wrong password at the limit is not checked (no timing or count leak).
    with pytest.raises(RateLimited):
        accounts.sign_in("victim@example.com", WRONG, client=ATTACKER)


def test_a_good_sign_in_clears_that_pairs_failures(victim: accounts.UserView) -> None:
    _fail("victim@example.com", OWNER, 2)
    accounts.sign_in("victim@example.com", PASSWORD, client=OWNER)
    _fail("victim@example.com", OWNER, 2)  # counting starts again: not throttled yet
    assert accounts.sign_in("victim@example.com", PASSWORD, client=OWNER).id == victim.id


def test_a_client_spraying_many_accounts_is_slowed(victim: accounts.UserView) -> None:
    for n in range(10):
        _fail(f"person{n}@example.com", ATTACKER, 1)  # unknown accounts count too
    with pytest.raises(RateLimited) as limited:
        accounts.sign_in("victim@example.com", PASSWORD, client=ATTACKER)
    assert "Too many attempts" in limited.value.user_message
    assert accounts.sign_in("victim@example.com", PASSWORD, client=OWNER).id == victim.id


def test_the_reset_link_frees_the_pair(
    victim: accounts.UserView, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[object] = []
    monkeypatch.setattr("mail.send", sent.append)
    _fail("victim@example.com", OWNER, 3)  # the owner forgot the password
    with pytest.raises(RateLimited):
        accounts.sign_in("victim@example.com", PASSWORD, client=OWNER)
    accounts.request_password_reset("victim@example.com", client=OWNER)
    (message,) = sent
    token = message.text.split("reset=", 1)[1].split()[0]  # type: ignore[attr-defined]
    accounts.reset_password(token, "a brand new passphrase", client=OWNER)
    assert accounts.sign_in("victim@example.com", "a brand new passphrase", client=OWNER)


def test_every_auth_event_is_audited_and_logged_without_secrets(
    victim: accounts.UserView, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="talkingphoto.auth")
    _fail("victim@example.com", ATTACKER, 3)
    accounts.sign_in("victim@example.com", PASSWORD, client=OWNER)
    kinds = [e.kind for e in reversed(audit.recent())]
    assert kinds == [
        "signup",
        "verification_sent",  # to the development outbox
        "signin_failed",
        "signin_failed",
        "signin_failed",
        "lockout",
        "signin_ok",
    ]
    (lockout,) = audit.recent(kind="lockout")
    assert (lockout.user_id, lockout.email, lockout.client) == (
        victim.id,
        "victim@example.com",
        ATTACKER,
    )
    assert [e.kind for e in audit.recent(email="VICTIM@")][:1] == ["signin_ok"]
    assert audit.recent(user_id=victim.id + 1000) == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged.count("auth_event") == 5  # the sign-up came before the capture
    assert PASSWORD not in logged and WRONG not in logged
    with pytest.raises(ValueError):
        audit.record("signin_ok", password="x")  # a programming error, never stored


def test_visitors_without_an_address_do_not_share_one_bucket(
    site: Callable[..., None],  # noqa: F811
) -> None:
    """On localhost (and behind a proxy that hides the address) Streamlit knows no client
    address. One such browser spraying wrong passwords is slowed; another is not."""
    site(
        features__allow_guest="false",
        ratelimit__signin_failures_per_client="3/hour",
        ratelimit__signin_per_account="100/hour",
        ratelimit__signin="1000/hour",
    )
    accounts.sign_up("owner@example.com", PASSWORD)
    sprayer = clean(app())
    for n in range(4):
        sprayer = sign_in(sprayer, f"someone{n}@example.com", WRONG)
    assert "Too many" in texts(sprayer)
    owner = sign_in(clean(app()), "owner@example.com", PASSWORD)
    assert "Too many" not in texts(owner)
    assert on_create_page(owner)


def test_browser_key_uses_the_address_when_there_is_one() -> None:
    from services import ratelimit

    assert ratelimit.browser_key("198.51.100.7", "abc") == "198.51.100.7"
    assert ratelimit.browser_key("unknown", "0a1b2c") == "unknown/0a1b2c"
    assert ratelimit.browser_key("unknown", "<script>") == "unknown/script"
    assert ratelimit.browser_key("unknown", "") == "unknown"
