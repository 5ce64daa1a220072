"""The router as creators meet it through the job runner: auto, fallback, breakers, money.

Jobs run inline (conftest's ``jobs_env``) against the fake HeyGen on loopback and the fake
local-like provider ("fake"); the clock is injected, so backoff and cooldown cost nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import background_tasks
from db.models import CreditEntry, Job, JobAttempt
from db.session import session_scope
from errors import ConfigError, InputError, VoiceError
from providers import http, router
from providers.base import GenerationRequest
from providers.heygen import HeyGenProvider
from services import accounts, credits, jobs
from tests import fakes
from tests.fakes.heygen import HeyGenServer
from tests.fakes.vendor_server import FakeClock
from tests.test_jobs import make_photo

SCRIPT = "Hello! This is a short test video."  # one 30 s block


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    fake = FakeClock()
    previous = http.set_default_clock(fake)
    router.reset()
    yield fake
    http.set_default_clock(previous)
    router.reset()


@pytest.fixture
def heygen(
    jobs_env: fakes.Plan, settings_env: Callable[..., None], clock: FakeClock
) -> Iterator[HeyGenServer]:
    with HeyGenServer() as server:
        settings_env(
            heygen__api_key=server.api_key,
            heygen__base_url=server.url,
            heygen__read_s=2,
            heygen__poll_every_s=5,
            providers__order="heygen,fake",
            providers__default="auto",
            providers__breaker_failures=2,
            providers__breaker_cooldown_s=60,
        )
        yield server


def submit(provider: str = "auto", **changes: Any) -> jobs.JobView:
    params = jobs.JobParams(language="en", voice=None, provider=provider)
    user = accounts.current_user()
    return jobs.submit(
        user.id, photo=make_photo(), script=SCRIPT, params=dataclasses.replace(params, **changes)
    )


def attempts(job_id: str) -> list[tuple[str, str, str | None]]:
    with session_scope() as session:
        rows = session.scalars(
            select(JobAttempt).where(JobAttempt.job_id == job_id).order_by(JobAttempt.id)
        )
        return [(a.provider, a.outcome, a.error_class) for a in rows]


def job_ledger(job_id: str) -> dict[str, int]:
    with session_scope() as session:
        rows = session.execute(
            select(CreditEntry.reference, CreditEntry.amount).where(
                CreditEntry.reference.like(f"job:{job_id}:%")
            )
        ).all()
    return {ref.rsplit(":", 1)[1]: amount for ref, amount in rows}


def balance() -> int:
    return credits.balance(accounts.current_user().id)


# --------------------------------------------------------------------------- fallback


def test_auto_falls_back_when_heygen_is_down_and_records_both_attempts(
    heygen: HeyGenServer, jobs_env: fakes.Plan
) -> None:
    heygen.stop()  # connection refused
    job = submit()
    assert job.status == "succeeded"
    assert (job.provider, job.provider_used) == ("auto", "fake")
    assert attempts(job.id) == [
        ("heygen", "failed", "ProviderUnavailable"),
        ("fake", "succeeded", None),
    ]
    user = accounts.current_user()
    assert [a.provider for a in jobs.attempts(job.id, user.id)] == ["heygen", "fake"]
    # Charged at submit by the first candidate (HeyGen, 4), settled to the fake's price (1).
    assert job_ledger(job.id) == {"debit": -4, "adjust": 3}
    assert job.cost_credits == 1 and balance() == 19
    assert jobs_env.requests[0].voice is None  # auto: each service's default voice
    user_id = accounts.current_user().id
    with session_scope() as session:  # a worker that settles twice moves credits once
        assert credits.adjust_job(session, user_id, job.id, 1, "again") == 0
    assert balance() == 19


def test_auto_falls_back_when_heygen_is_out_of_credit(heygen: HeyGenServer) -> None:
    heygen.fail("POST", "/v3/videos", 402, {"error": {"code": "insufficient_credit"}})
    job = submit()
    assert job.provider_used == "fake"
    assert attempts(job.id)[0] == ("heygen", "failed", "ProviderOutOfCredit")
    assert heygen.creates == 0


def test_a_rejected_photo_is_shown_not_retried_elsewhere(
    heygen: HeyGenServer, jobs_env: fakes.Plan
) -> None:
    heygen.outcome = "failed"
    heygen.failure_message = "No face was detected in the image."
    job = submit()
    assert job.status == "failed"
    assert job.error_text == "HeyGen could not make this video: No face was detected in the image."
    assert attempts(job.id) == [("heygen", "failed", "ProviderRejected")]
    assert jobs_env.requests == []  # the fake provider was never asked
    assert job_ledger(job.id) == {"debit": -4, "refund": 4} and balance() == 20


def test_an_explicit_choice_never_falls_back(heygen: HeyGenServer, jobs_env: fakes.Plan) -> None:
    heygen.stop()
    job = submit(provider="heygen")
    assert job.status == "failed"
    assert job.error_text == "HeyGen cannot be reached right now."
    assert attempts(job.id) == [("heygen", "failed", "ProviderUnavailable")]
    assert jobs_env.requests == [] and balance() == 20


def test_a_failed_job_keeps_only_its_photo(heygen: HeyGenServer, foundation_env: Path) -> None:
    heygen.outcome = "failed"
    job = submit(provider="heygen")
    files = sorted(p.name for p in (foundation_env / "media" / "jobs" / job.id).iterdir())
    assert files == ["photo.jpg"]


# ----------------------------------------------------------------------------- breaker


def test_the_breaker_opens_half_opens_and_closes(heygen: HeyGenServer, clock: FakeClock) -> None:
    heygen.fail("POST", "/v3/assets", 503, {"error": {"code": "internal_error"}}, times=100)
    for _ in range(2):  # breaker_failures = 2
        assert submit().provider_used == "fake"
    assert router.breaker_state("heygen") == "open"

    calls = len(heygen.requests)
    third = submit()
    assert third.provider_used == "fake"
    assert len(heygen.requests) == calls  # HeyGen was not even asked
    assert attempts(third.id)[0] == ("heygen", "skipped", "ProviderUnavailable")

    clock.advance(60)  # breaker_cooldown_s
    assert router.breaker_state("heygen") == "half_open"
    heygen.faults.clear()  # HeyGen is back
    trial = submit()
    assert trial.provider_used == "heygen"
    assert router.breaker_state("heygen") == "closed"


def test_a_failed_trial_opens_the_breaker_again() -> None:
    clock = FakeClock()
    cut = router.CircuitBreaker(failures=3, cooldown_s=30, clock=clock)
    for _ in range(3):
        assert cut.allow()
        cut.failure()
    assert cut.state == "open" and not cut.allow()
    clock.advance(30)
    assert cut.allow() and not cut.allow()  # one trial at a time
    cut.failure()
    assert cut.state == "open"
    clock.advance(30)
    assert cut.allow()
    cut.success()
    assert cut.state == "closed" and cut.allow()


def test_an_explicit_provider_with_an_open_breaker_fails_fast(heygen: HeyGenServer) -> None:
    cut = router.breaker("heygen")
    for _ in range(2):
        cut.failure()
    job = submit(provider="heygen")
    assert job.status == "failed"
    assert job.error_text == "HeyGen is having trouble right now; please try again later."
    assert heygen.requests == [] and balance() == 20


# ----------------------------------------------------------------------------- money


def test_credits_are_charged_once_by_the_provider_used(heygen: HeyGenServer) -> None:
    job = submit()
    assert job.status == "succeeded" and job.provider_used == "heygen"
    assert job_ledger(job.id) == {"debit": -4}
    assert job.cost_credits == 4 and balance() == 16
    user_id = accounts.current_user().id
    with session_scope() as session:  # settling at the same price moves nothing
        assert credits.adjust_job(session, user_id, job.id, 4, "again") == 0
    assert balance() == 16


def test_auto_with_a_chosen_voice_is_refused(heygen: HeyGenServer) -> None:
    with pytest.raises(VoiceError, match="Auto uses each service's default voice"):
        submit(voice="fake-en-1")
    assert balance() == 20


# ------------------------------------------------------------------------------ resume


class Crash(BaseException):
    pass


def test_a_restart_resumes_the_vendor_job_without_paying_twice(
    heygen: HeyGenServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = fakes.ManualExecutor()
    background_tasks.set_executor(held)
    job = submit()
    original = HeyGenProvider._wait

    def die(self: HeyGenProvider, *args: Any) -> Any:
        raise Crash()  # the app restarts while HeyGen renders

    monkeypatch.setattr(HeyGenProvider, "_wait", die)
    with pytest.raises(Crash):
        held.run_all()
    with session_scope() as session:
        row = session.get_one(Job, job.id)
        assert (row.status, row.provider_used, row.remote_id) == (
            "running",
            "heygen",
            heygen.made()[0].id,
        )
    monkeypatch.setattr(HeyGenProvider, "_wait", original)

    background_tasks.set_executor(background_tasks.SyncExecutor())
    report = background_tasks.recover_jobs()
    assert (report.resumed, report.requeued) == (1, 1)
    done = jobs.get(job.id, accounts.current_user().id)
    assert done.status == "succeeded" and done.provider_used == "heygen"
    assert heygen.creates == 1
    assert attempts(job.id) == [("heygen", "succeeded", None)]  # one attempt, resumed
    assert balance() == 16


# ------------------------------------------------------------------------------- plan


def _request(language: str = "en") -> GenerationRequest:
    return GenerationRequest(photo_path=Path("p.jpg"), script="Hi there", language=language)


def test_configured_providers_and_what_auto_may_pick(
    jobs_env: fakes.Plan, settings_env: Callable[..., None]
) -> None:
    settings_env(
        synthesia__api_key="s-key",
        synthesia__avatar_id="anna",
        luma_ai__api_key="l-key",
        d_id__api_key="d-key",
        providers__order="synthesia,luma,d_id,fake",
    )
    assert router.configured_providers() == ["synthesia", "luma", "d_id", "fake", "local"]
    # Synthesia cannot animate the photo, Luma does not speak: auto skips both.
    assert router.plan("auto", _request()) == ["d_id", "fake"]
    assert router.plan("auto", _request("hi")) == ["d_id", "fake"]
    with pytest.raises(InputError):
        router.plan("auto", _request("ja"))  # nobody configured speaks Japanese to a photo
    assert router.plan("synthesia", _request()) == ["synthesia"]  # chosen knowingly
    assert router.price_per_started_30s("d_id") == 3
    assert router.price_per_started_30s("local") == 1


def test_plan_refuses_what_nobody_can_do(
    jobs_env: fakes.Plan, settings_env: Callable[..., None]
) -> None:
    settings_env(providers__order="fake")
    with pytest.raises(InputError):
        router.plan("auto", _request("ru"))
    settings_env(providers__order="fake,nope")
    with pytest.raises(ConfigError, match="nope"):
        router.plan("auto", _request())
    with pytest.raises(ConfigError, match="not configured"):
        router.plan("heygen", _request())
    assert router.configured_providers() == ["fake", "local"]


def test_breaker_state_of_an_unused_provider_is_closed() -> None:
    router.reset()
    assert router.breaker_state("d_id") == "closed"


def test_luma_without_public_photo_urls_is_refused_before_charging(
    jobs_env: fakes.Plan, settings_env: Callable[..., None]
) -> None:
    settings_env(luma_ai__api_key="l-key")  # storage is local disk: no public URL
    with pytest.raises(InputError, match="public web address"):
        submit(provider="luma")
    assert balance() == 20
    assert jobs.list_for_user(accounts.current_user().id) == []
