"""Credits ledger: idempotent entries, balance as a sum, the price of a video, the local user."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import CreditEntry, User
from db.session import session_scope
from services import accounts, credits


@pytest.fixture
def user_id(foundation_env: Path) -> int:
    with session_scope() as session:
        user = User(email="ledger@example.com")
        session.add(user)
        session.flush()
        return user.id


def test_balance_is_the_sum_of_entries(user_id: int) -> None:
    assert credits.balance(user_id) == 0
    with session_scope() as session:
        assert credits.post(session, user_id, 10, "test:grant:1", "grant")
        assert credits.post(session, user_id, -3, "test:debit:1", "debit")
        assert credits.post(session, user_id, 5, "test:grant:2", "grant")
    assert credits.balance(user_id) == 12


def test_a_reference_moves_credits_once(user_id: int) -> None:
    with session_scope() as session:
        assert credits.post(session, user_id, 7, "stripe:cs_123", "purchase") is True
    with session_scope() as session:
        # A replayed webhook, a second tab: same reference, no second grant, no error.
        assert credits.post(session, user_id, 7, "stripe:cs_123", "purchase") is False
        assert credits.post(session, user_id, 99, "stripe:cs_123", "different amount") is False
    assert credits.balance(user_id) == 7
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(CreditEntry)) == 1


def test_a_duplicate_does_not_spoil_the_surrounding_transaction(user_id: int) -> None:
    with session_scope() as session:
        credits.post(session, user_id, 1, "a", "first")
    with session_scope() as session:
        assert credits.post(session, user_id, 1, "a", "again") is False
        assert credits.post(session, user_id, 2, "b", "second") is True
    assert credits.balance(user_id) == 3


def test_an_entry_rolls_back_with_its_transaction(user_id: int) -> None:
    with pytest.raises(RuntimeError), session_scope() as session:
        credits.post(session, user_id, 50, "job:x:debit", "debit")
        raise RuntimeError("the job insert failed")
    assert credits.balance(user_id) == 0
    with session_scope() as session:  # the reference is free again
        assert credits.post(session, user_id, 50, "job:x:debit", "debit") is True


def test_concurrent_posts_of_one_reference_land_once(user_id: int) -> None:
    barrier = threading.Barrier(6)
    results: list[bool] = []

    def race() -> None:
        barrier.wait()
        with session_scope() as session:
            results.append(credits.post(session, user_id, 5, "razorpay:pay_1", "purchase"))

    threads = [threading.Thread(target=race) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]
    assert credits.balance(user_id) == 5


def test_refund_gives_back_exactly_the_debit_once(user_id: int) -> None:
    with session_scope() as session:
        credits.post(session, user_id, 10, "grant", "grant")
        credits.post(session, user_id, -4, credits.job_debit_reference("j1"), "debit")
    with session_scope() as session:
        assert credits.refund_job(session, user_id, "j1", "refund") is True
        assert credits.refund_job(session, user_id, "j1", "refund") is False
        assert credits.refund_job(session, user_id, "never-debited", "refund") is False
    assert credits.balance(user_id) == 10


# ----------------------------------------------------------------------------------- price

LATIN = "Hello everyone, welcome to my channel. Today I show you how easy it is. " * 2
HINDI = "नमस्ते दोस्तों, मेरे चैनल में आपका स्वागत है। आज मैं दिखाऊँगा कि यह कितना आसान है। " * 2


def test_latin_speech_runs_about_fourteen_letters_a_second() -> None:
    letters = sum(ch.isalpha() for ch in LATIN)
    seconds = credits.estimate_duration_s(LATIN, "en")
    assert 12.5 <= letters / seconds <= 15.0


def test_devanagari_is_slower_per_character_than_latin() -> None:
    per_char_hi = credits.estimate_duration_s(HINDI, "hi") / len(HINDI)
    per_char_en = credits.estimate_duration_s(LATIN, "en") / len(LATIN)
    assert per_char_hi > per_char_en


def test_mixed_scripts_digits_speed_and_empty() -> None:
    hinglish = "मेरा नाम Asha है"
    assert credits.estimate_duration_s(hinglish, "hi") == pytest.approx(
        credits.estimate_duration_s("मेरा नाम है", "hi") + credits.estimate_duration_s("Asha", "en"),
        abs=0.11,
    )
    assert credits.estimate_duration_s("2026", "en") == pytest.approx(1.0)
    assert credits.estimate_duration_s(LATIN, "en", speed=2.0) == pytest.approx(
        credits.estimate_duration_s(LATIN, "en") / 2, abs=0.06
    )
    assert credits.estimate_duration_s("  ...  ", "en") == 0.0
    with pytest.raises(ValueError):
        credits.estimate_duration_s("hi", "en", speed=0)


@pytest.mark.parametrize(
    ("seconds", "blocks"), [(0.0, 1), (1.0, 1), (30.0, 1), (30.1, 2), (60.0, 2), (61.0, 3)]
)
def test_cost_is_per_started_thirty_seconds(
    settings_env: Callable[..., None], seconds: float, blocks: int
) -> None:
    assert credits.estimate_cost(seconds) == blocks
    settings_env(credits__per_started_30s=3)
    assert credits.estimate_cost(seconds) == blocks * 3


# ------------------------------------------------------------------------------ local user


def test_current_user_is_created_once_with_one_signup_grant(
    settings_env: Callable[..., None],
) -> None:
    settings_env(credits__signup_grant=25)
    first = accounts.current_user()
    second = accounts.current_user()
    assert first == second
    assert first.email == accounts.LOCAL_EMAIL
    assert first.is_admin is False
    assert credits.balance(first.id) == 25
    with session_scope() as session:
        refs = session.scalars(select(CreditEntry.reference)).all()
        users = session.scalar(select(func.count()).select_from(User))
    assert refs == [f"grant:signup:{first.id}"]
    assert users == 1


def test_first_visit_from_two_tabs_makes_one_user(foundation_env: Path) -> None:
    barrier = threading.Barrier(4)
    seen: list[int] = []

    def visit() -> None:
        barrier.wait()
        seen.append(accounts.current_user().id)

    threads = [threading.Thread(target=visit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 1 and len(seen) == 4
    assert credits.balance(seen[0]) == 20
