"""Accounts: sign-up, sign-in, throttling, roles, guests, OIDC users and account deletion."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import CreditEntry, Event, Job, Purchase, User, utcnow
from db.session import session_scope
from errors import AccountError, AuthError, RateLimited, SignupError
from services import account_deletion, accounts, credits, jobs, media

PASSWORD = "correct horse battery"


# ------------------------------------------------------------------------------ sign up / in


def test_sign_up_normalises_the_email_hashes_the_password_and_grants_once(
    accounts_env: Callable[..., None],
) -> None:
    accounts_env(credits__signup_grant=15)
    user = accounts.sign_up("  Asha.Rao@Example.COM ", PASSWORD, "Asha")
    assert user.email == "asha.rao@example.com"
    assert user.display_name == "Asha" and user.has_account and not user.is_admin
    assert credits.balance(user.id) == 15
    with session_scope() as session:
        row = session.get(User, user.id)
        assert row is not None and row.password_hash is not None
        assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
        refs = session.scalars(select(CreditEntry.reference)).all()
    assert refs == [f"grant:signup:{user.id}"]

    # Same address in another case: taken.
    with pytest.raises(SignupError, match="already exists"):
        accounts.sign_up("ASHA.RAO@example.com", PASSWORD + "x")


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", PASSWORD, "valid e-mail"),
        ("a@b", PASSWORD, "valid e-mail"),
        ("me@example.com", "short", "at least 10 characters"),
        ("me@example.com", "aaaaaaaaaaaaaa", "too easy"),
        ("me@example.com", "password123", "too easy"),
        ("meera@example.com", "meera@example.com", "too easy"),
        ("meera@example.com", "Meera2024!!", "too easy"),
        ("me@example.com", "x" * 300, "at most 256"),
    ],
)
def test_sign_up_refuses_bad_input_and_creates_nothing(
    accounts_env: Callable[..., None], email: str, password: str, message: str
) -> None:
    with pytest.raises(SignupError, match=message):
        accounts.sign_up(email, password)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_password_length_follows_settings(accounts_env: Callable[..., None]) -> None:
    accounts_env(accounts__password_min_length=16)
    with pytest.raises(SignupError, match="at least 16"):
        accounts.sign_up("me@example.com", "fifteen chars!!")
    assert accounts.sign_up("me@example.com", "sixteen chars!!!").id


def test_sign_in_checks_the_password_and_says_the_same_for_unknown_emails(
    accounts_env: Callable[..., None],
) -> None:
    made = accounts.sign_up("ravi@example.com", PASSWORD)
    assert accounts.sign_in(" RAVI@example.com", PASSWORD) == made
    with pytest.raises(AuthError) as wrong:
        accounts.sign_in("ravi@example.com", PASSWORD + "!")
    with pytest.raises(AuthError) as unknown:
        accounts.sign_in("nobody@example.com", PASSWORD)
    assert wrong.value.user_message == unknown.value.user_message
    assert "password" in wrong.value.user_message


def test_failed_sign_ins_throttle_the_pair_not_the_owner(accounts_env: Callable[..., None]) -> None:
    """Five wrong passwords used to lock the account for everyone; now only the guessing
    client waits (the full set of rules is in test_auth_throttle.py)."""
    accounts_env(ratelimit__signin_per_account="3/15 minutes", ratelimit__signin="100/hour")
    accounts.sign_up("victim@example.com", PASSWORD)
    for _ in range(3):
        with pytest.raises(AuthError):
            accounts.sign_in("victim@example.com", "guess guess guess", client="203.0.113.9")
    # The guesser waits, even with the right password: guessing cannot continue.
    with pytest.raises(RateLimited) as limited:
        accounts.sign_in("victim@example.com", PASSWORD, client="203.0.113.9")
    assert 0 < limited.value.retry_after_s <= 15 * 60
    assert "Reset your password by e-mail" in limited.value.user_message
    # The owner, from a client without failures, signs in.
    assert accounts.sign_in("victim@example.com", PASSWORD, client="198.51.100.1").email == (
        "victim@example.com"
    )


def test_sign_ins_are_throttled_per_client(accounts_env: Callable[..., None]) -> None:
    accounts_env(ratelimit__signin="4/15 minutes")
    accounts.sign_up("asha@example.com", PASSWORD)
    for _ in range(4):
        accounts.sign_in("asha@example.com", PASSWORD, client="203.0.113.7")
    with pytest.raises(RateLimited):
        accounts.sign_in("asha@example.com", PASSWORD, client="203.0.113.7")
    assert accounts.sign_in("asha@example.com", PASSWORD, client="203.0.113.8")


def test_sign_ups_are_throttled_per_client(accounts_env: Callable[..., None]) -> None:
    accounts_env(ratelimit__signup="2/hour")
    accounts.sign_up("a1@example.com", PASSWORD, client="203.0.113.5")
    accounts.sign_up("a2@example.com", PASSWORD, client="203.0.113.5")
    with pytest.raises(RateLimited):
        accounts.sign_up("a3@example.com", PASSWORD, client="203.0.113.5")
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 2


def test_admins_come_from_settings_once_verified(accounts_env: Callable[..., None]) -> None:
    accounts_env(accounts__admins='[" BOSS@example.com "]')
    boss = accounts.sign_up("Boss@Example.com", PASSWORD)
    assert not boss.is_admin and not boss.email_verified  # anyone could type that address
    with session_scope() as session:
        session.get(User, boss.id).email_verified_at = utcnow()
    assert accounts.get_user(boss.id).is_admin
    assert not accounts.sign_up("staff@example.com", PASSWORD).is_admin
    assert not accounts.local_user().is_admin


def test_oidc_users_are_created_once(accounts_env: Callable[..., None]) -> None:
    first = accounts.sign_in_oidc("Priya@Example.com", "Priya", email_verified=True)
    second = accounts.sign_in_oidc("priya@example.com", "Priya")
    assert first.id == second.id and first.auth_method == "oidc" and first.has_account
    assert credits.balance(first.id) == 20
    with pytest.raises(AuthError):
        accounts.sign_in_oidc("", "No e-mail")


def test_profile_updates(accounts_env: Callable[..., None]) -> None:
    user = accounts.sign_up("meena@example.com", PASSWORD)
    updated = accounts.update_profile(
        user.id, display_name=" Meena\x00 K ", locale="hi", currency="INR"
    )
    assert (updated.display_name, updated.locale, updated.currency) == ("Meena K", "hi", "INR")
    with pytest.raises(AccountError):
        accounts.update_profile(user.id, currency="EUR")


@pytest.mark.parametrize("lang", ["ta", "te", "bn", "mr"])
def test_every_ui_language_can_be_saved(accounts_env: Callable[..., None], lang: str) -> None:
    user = accounts.sign_up(f"{lang}@example.com", PASSWORD)
    assert accounts.update_profile(user.id, locale=lang).locale == lang


def test_a_language_the_ui_lacks_is_refused_and_nothing_changes(
    accounts_env: Callable[..., None],
) -> None:
    user = accounts.sign_up("kavya@example.com", PASSWORD)
    accounts.update_profile(user.id, locale="ta")
    for bad in ("kn", "TA", "ta_IN", ""):
        with pytest.raises(AccountError, match="language is not available"):
            accounts.update_profile(user.id, locale=bad)
    assert accounts.get_user(user.id).locale == "ta"


# ----------------------------------------------------------------------------------- guests


def _make_video(user_id: int, astronaut: Path, script: str = "Hello there.") -> jobs.JobView:
    from services import photos

    prepared = photos.prepare_photo(astronaut.read_bytes())
    params = jobs.JobParams(language="en", provider="fake")
    return jobs.submit(user_id, photo=prepared, script=script, params=params)


def test_a_guest_tries_then_upgrades_keeping_videos(
    accounts_env: Callable[..., None], jobs_env: object, astronaut_path: Path
) -> None:
    accounts_env(credits__guest_grant=3, credits__signup_grant=20)
    guest = accounts.start_guest(client="203.0.113.20")
    assert guest.is_guest and not guest.has_account
    assert credits.balance(guest.id) == 3
    video = _make_video(guest.id, astronaut_path)
    assert video.status == "succeeded"

    upgraded = accounts.sign_up("guest.now@example.com", PASSWORD, upgrade_user_id=guest.id)
    assert upgraded.id == guest.id and upgraded.has_account and not upgraded.is_guest
    assert [j.id for j in jobs.list_for_user(upgraded.id)] == [video.id]
    # Sign-up tops the guest's 3 up to the sign-up grant of 20 in all.
    assert credits.balance(upgraded.id) == 20 - video.cost_credits
    # Upgrading twice is not a way to farm the grant.
    with pytest.raises(SignupError):
        accounts.sign_up("again@example.com", PASSWORD, upgrade_user_id=guest.id)


def test_a_guest_signing_in_brings_finished_videos_but_not_credits(
    accounts_env: Callable[..., None], jobs_env: object, astronaut_path: Path
) -> None:
    account = accounts.sign_up("owner@example.com", PASSWORD)
    guest = accounts.start_guest()
    video = _make_video(guest.id, astronaut_path)
    assert accounts.adopt_guest_videos(guest.id, account.id) == 1
    assert [j.id for j in jobs.list_for_user(account.id)] == [video.id]
    assert credits.balance(account.id) == 20


def test_guests_need_the_setting(accounts_env: Callable[..., None]) -> None:
    accounts_env(features__allow_guest="false")
    with pytest.raises(AccountError, match="sign in"):
        accounts.start_guest()
    accounts_env(
        app__environment="production", features__allow_guest="true", jwt__secret_key="k" * 40
    )
    assert accounts.start_guest().is_guest


# --------------------------------------------------------------------------------- deletion


def test_deleting_an_account_removes_files_and_rows_and_keeps_anonymous_purchases(
    accounts_env: Callable[..., None], jobs_env, astronaut_path: Path
) -> None:
    accounts_env(features__enable_analytics="true")
    user = accounts.sign_up("leaving@example.com", PASSWORD, "Leaving Soon")
    other = accounts.sign_up("staying@example.com", PASSWORD)
    done = _make_video(user.id, astronaut_path, "First video.")
    jobs_env.mode = "reject"
    failed = _make_video(user.id, astronaut_path, "This one failed.")
    jobs_env.mode = "ok"
    kept = _make_video(other.id, astronaut_path, "Not mine.")
    from services import analytics

    analytics.record("visit", user_id=user.id)
    with session_scope() as session:
        session.add(
            Purchase(
                user_id=user.id,
                gateway="razorpay",
                gateway_ref="plink_tax",
                pack_id="starter",
                credits=20,
                currency="INR",
                amount_minor=19900,
                tax_minor=3036,
                status="paid",
            )
        )
        keys = [
            k
            for job in session.scalars(select(Job).where(Job.user_id == user.id))
            for k in (job.photo_key, job.video_key, job.thumbnail_key)
            if k
        ]
    assert keys and all(media.exists(k) for k in keys)

    report = account_deletion.delete_account(user.id)

    assert report.videos_deleted == 2 and report.purchases_anonymised == 1
    assert not any(media.exists(k) for k in keys)
    assert accounts.get_user(user.id) is None
    with pytest.raises(AuthError):
        accounts.sign_in("leaving@example.com", PASSWORD)
    with session_scope() as session:
        row = session.get(User, user.id)
        assert row is not None
        assert (row.email, row.display_name, row.password_hash) == (
            f"deleted-{user.id}@deleted.invalid",
            "",
            None,
        )
        assert (
            session.scalar(select(func.count()).select_from(Job).where(Job.user_id == user.id)) == 0
        )
        assert session.get(Job, done.id) is None and session.get(Job, failed.id) is None
        assert (
            session.scalar(
                select(func.count()).select_from(CreditEntry).where(CreditEntry.user_id == user.id)
            )
            == 0
        )
        purchase = session.scalars(select(Purchase)).one()
        assert purchase.user_id is None and purchase.tax_minor == 3036  # tax records stay
        assert (
            session.scalar(select(func.count()).select_from(Event).where(Event.user_id == user.id))
            == 0
        )
    # Somebody else's video and credits are untouched.
    assert jobs.get(kept.id, other.id).status == "succeeded"
    assert credits.balance(other.id) == 20 - kept.cost_credits
    # The address can be used again.
    assert accounts.sign_up("leaving@example.com", PASSWORD).id != user.id


def test_deletion_cancels_a_queued_video_first(
    accounts_env: Callable[..., None], jobs_env, astronaut_path: Path
) -> None:
    import background_tasks
    from tests.fakes import ManualExecutor

    background_tasks.set_executor(ManualExecutor())  # the job waits in the queue
    user = accounts.sign_up("busy@example.com", PASSWORD)
    queued = _make_video(user.id, astronaut_path)
    assert queued.status == "queued"
    account_deletion.delete_account(user.id)
    with session_scope() as session:
        assert session.get(Job, queued.id) is None
    with pytest.raises(AccountError):
        account_deletion.delete_account(user.id)  # already gone
