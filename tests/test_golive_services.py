"""Go-live services as a creator, an admin and an operator notice them: the legal texts
filled from settings, the recorded acceptance, tickets that reach support by e-mail and whose
answers reach the creator, ratings, and the launch numbers computed from our tables."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Callable

import pytest
from PIL import Image
from sqlalchemy import func, select

from db.golive_models import SupportTicket, TicketMessage, VideoFeedback
from db.models import AuthSession, HealthSample, Job, Purchase, User, utcnow
from db.session import session_scope
from errors import InputError, JobNotFound
from secrets_manager import get_settings
from services import accounts, feedback, jobs, launch_metrics, legal, support
from services.photos import PreparedPhoto
from tests.test_alerts import Inbox, inbox  # noqa: F401  (the loopback SMTP fixture)

PASSWORD = "correct horse battery staple"


def _user(email: str = "asha@example.com", *, admin: bool = False) -> accounts.UserView:
    user = accounts.sign_up(email, PASSWORD, "Asha")
    if admin:
        with session_scope() as session:
            row = session.get(User, user.id)
            assert row is not None
            row.is_admin = True
            row.email_verified_at = utcnow()
    return user


def _photo() -> PreparedPhoto:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 400), (200, 150, 120)).save(buffer, "JPEG")
    return PreparedPhoto(data=buffer.getvalue(), width=320, height=400, format="JPEG")


def _video(user_id: int) -> jobs.JobView:
    params = jobs.JobParams(language="en", voice="fake-en-2", provider="fake", captions="srt")
    return jobs.submit(
        user_id, photo=_photo(), script="Hello there.", params=dataclasses.replace(params)
    )


# ------------------------------------------------------------------------------------ legal


def test_privacy_policy_is_a_marked_template_filled_from_settings(
    settings_env: Callable[..., None],
) -> None:
    settings_env(
        legal__company_name="Asha Media Pvt Ltd",
        legal__grievance_officer_name="R. Sharma",
        legal__grievance_officer_email="grievance@asha.example",
        storage__photo_retention_days=0,
    )
    text = legal.document("privacy", "en")
    assert "Template — review with counsel" in text
    assert "Asha Media Pvt Ltd" in text and "R\\. Sharma" in text
    assert "grievance@asha\\.example" in text
    assert "[to be filled in]" in text  # the phone and the address are not set
    assert "deleted as soon as your video is made" in text
    for right in ("**access**", "**correct and update**", "**erase**", "Data Protection Board"):
        assert right in text
    assert "None: everything runs on our own servers." in text
    hindi = legal.document("privacy", "hi")
    assert "गोपनीयता नीति" in hindi and "Asha Media Pvt Ltd" in hindi and "[भरा जाना है]" in hindi


def test_processors_are_named_only_when_configured(settings_env: Callable[..., None]) -> None:
    assert legal.processors(get_settings()) == []
    settings_env(
        d_id__api_key="did-key-123",
        features__enable_payments="true",
        razorpay__key_id="rzp_test_x",
        razorpay__key_secret="rzp-secret-123",
        storage__backend="s3",
        aws__bucket="b",
        smtp__host="smtp.mail.example",
    )
    names = [p.name for p in legal.processors(get_settings())]
    assert names == [
        "D-ID",
        "Razorpay",
        "Amazon Web Services (S3)",
        "E-mail delivery (smtp.mail.example)",
    ]
    text = legal.document("privacy", "en")
    assert "**D\\-ID**" in text and "Stripe" not in text and "HeyGen" not in text
    assert "rzp-secret-123" not in text and "did-key-123" not in text


def test_acceptance_is_recorded_with_the_versions(accounts_env: Callable[..., None]) -> None:
    user = _user()
    assert legal.needs_acceptance(user.id)
    accepted = legal.accept(user.id)
    assert (accepted.terms_version, accepted.privacy_version) == ("2026-12-01", "2026-12-01")
    assert not legal.needs_acceptance(user.id)
    accounts_env(legal__terms_version="2027-01-15")
    assert legal.needs_acceptance(user.id)  # new terms: accept again


# ---------------------------------------------------------------------------------- support


def test_a_ticket_reaches_support_and_the_answer_reaches_the_creator(
    accounts_env: Callable[..., None],
    jobs_env: object,
    inbox: Inbox,  # noqa: F811
) -> None:
    accounts_env(support__email="help@talkingphoto.example", app__base_url="https://tp.example")
    creator = _user()
    admin = _user("admin@example.com", admin=True)
    video = _video(creator.id)
    with session_scope() as session:
        session.add(
            Purchase(
                user_id=creator.id,
                gateway="razorpay",
                gateway_ref="order_1",
                pack_id="starter",
                credits=20,
                currency="INR",
                amount_minor=19900,
                status="pending",
            )
        )
    inbox.messages.clear()  # the sign-up verification mails
    ticket = support.open_ticket(
        creator.id, "payment", "UPI paid, no credits", "I paid 199 rupees by UPI an hour ago."
    )
    assert ticket.status == "open" and ticket.job_id == video.id
    assert ticket.purchase_label.startswith(f"#{ticket.purchase_id} razorpay pending 199.00 INR")
    (to_support,) = inbox.messages
    assert to_support["To"] == "help@talkingphoto.example"
    assert f"#{ticket.id}" in str(to_support["Subject"])
    body = inbox.body(to_support)
    assert "asha@example.com" in body and video.id in body and "razorpay pending" in body
    assert "https://tp.example/support" in body

    answered = support.reply(admin.id, ticket.id, "We credited your 20 credits by hand.")
    assert answered.status == "answered"
    assert [m.author for m in answered.messages] == ["creator", "support"]
    to_creator = inbox.messages[-1]
    assert to_creator["To"] == "asha@example.com"
    assert "We credited your 20 credits by hand." in inbox.body(to_creator)
    assert "https://tp.example/help" in inbox.body(to_creator)
    (mine,) = support.my_tickets(creator.id)
    assert mine.messages[-1].body == "We credited your 20 credits by hand."


def test_bad_ticket_input_changes_nothing(accounts_env: Callable[..., None]) -> None:
    creator = _user()
    other = _user("other@example.com")
    with pytest.raises(InputError, match="at least 10 characters"):
        support.open_ticket(creator.id, "other", "Hi", "short")
    with pytest.raises(InputError, match="subject"):
        support.open_ticket(creator.id, "other", "   ", "A long enough message here.")
    with pytest.raises(InputError, match="what the problem is about"):
        support.open_ticket(creator.id, "bogus", "Subject", "A long enough message here.")
    ticket = support.open_ticket(creator.id, "other", "Question", "A long enough message here.")
    with pytest.raises(InputError, match="Only an administrator"):
        support.reply(other.id, ticket.id, "I am not support at all.")
    with pytest.raises(support.TicketNotFound):
        support.add_message(other.id, ticket.id, "Someone else's ticket.")
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(SupportTicket)) == 1
        assert session.scalar(select(func.count()).select_from(TicketMessage)) == 1


def test_a_mail_server_that_is_down_loses_no_ticket(accounts_env: Callable[..., None]) -> None:
    from tests.test_app_server import free_port

    accounts_env(support__email="help@example.com", smtp__host="127.0.0.1")
    accounts_env(smtp__port=free_port(), smtp__starttls="false")
    import mail

    mail.reset_for_tests()
    creator = _user()
    ticket = support.open_ticket(creator.id, "other", "Question", "A long enough message here.")
    assert support.get_ticket(ticket.id).status == "open"
    mail.reset_for_tests()


# --------------------------------------------------------------------------------- feedback


def test_one_rating_per_video_and_bad_ratings_change_nothing(
    accounts_env: Callable[..., None], jobs_env: object
) -> None:
    creator = _user()
    other = _user("other@example.com")
    video = _video(creator.id)
    feedback.rate(creator.id, video.id, 4, "Nice lips")
    feedback.rate(creator.id, video.id, 5, "Even better on a second look")
    mine = feedback.my_rating(creator.id, video.id)
    assert mine is not None and (mine.rating, mine.comment) == (5, "Even better on a second look")
    for bad in (0, 6, True):
        with pytest.raises(InputError):
            feedback.rate(creator.id, video.id, bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="too long"):
        feedback.rate(creator.id, video.id, 3, "x" * 1001)
    with pytest.raises(JobNotFound):
        feedback.rate(other.id, video.id, 1)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(VideoFeedback)) == 1
    (latest,) = feedback.recent()
    assert (latest.rating, latest.user_email) == (5, "asha@example.com")


# --------------------------------------------------------------------------- launch numbers


def test_launch_numbers_from_our_tables(accounts_env: Callable[..., None]) -> None:
    from observability import probes

    # The process's request window is shared by every test that served a page: start empty,
    # with three requests (too few to judge).
    probes.REQUESTS.clear()
    for _ in range(3):
        probes.REQUESTS.record(0.05, error=False)
    now = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)
    every = get_settings().health.sample_every_s
    with session_scope() as session:
        # Two hours of samples a minute apart; the app was down for the last 6 minutes.
        for n in range(121):
            ts = now - dt.timedelta(seconds=every * (120 - n))
            session.add(HealthSample(ts=ts, status="down" if n >= 114 else "ok", data={}))
        users = [
            User(email=f"u{n}@example.com", created_at=now - dt.timedelta(days=40))
            for n in range(4)
        ]
        session.add_all(users)
        session.flush()
        for n, user in enumerate(users):
            for k in range(5):
                session.add(
                    Job(
                        id=f"{n}-{k}",
                        user_id=user.id,
                        status="failed" if (n, k) == (0, 0) else "succeeded",
                        script="Hi",
                        language="en",
                        provider="local",
                        cost_credits=1,
                        created_at=now - dt.timedelta(days=1 + k),
                        finished_at=now - dt.timedelta(days=1 + k),
                    )
                )
        for n, (currency, amount) in enumerate((("INR", 19900), ("INR", 49900), ("USD", 699))):
            session.add(
                Purchase(
                    user_id=users[n].id,
                    gateway="razorpay" if currency == "INR" else "stripe",
                    gateway_ref=f"r{n}",
                    pack_id="starter",
                    currency=currency,
                    amount_minor=amount,
                    status="paid",
                    paid_at=now - dt.timedelta(days=2),
                )
            )
        for n, stars in enumerate((5, 4, 5, 3, 5)):
            session.add(
                VideoFeedback(
                    user_id=users[n % 4].id,
                    job_id=f"{n % 4}-{n // 4 + 1}",
                    rating=stars,
                    comment="",
                    created_at=now - dt.timedelta(hours=5),
                    updated_at=now - dt.timedelta(hours=5),
                )
            )
        session.add(
            AuthSession(
                user_id=users[0].id,
                token_hash="x" * 64,
                created_at=now - dt.timedelta(days=3, minutes=30),
                last_seen_at=now - dt.timedelta(days=3),
                expires_at=now + dt.timedelta(days=30),
                absolute_expires_at=now + dt.timedelta(days=90),
            )
        )
    got = {n.key: n for n in launch_metrics.numbers(now)}
    assert got["uptime"].value == pytest.approx(114 / 120)
    assert got["uptime"].ok is False  # 95 % < 99.5 %
    assert got["success"].value == pytest.approx(19 / 20) and got["success"].ok is True
    assert got["satisfaction"].value == pytest.approx(4.4) and got["satisfaction"].ok is False
    assert got["session"].value == pytest.approx(30.0)
    revenue = got["revenue"].detail
    assert revenue["INR"] == {"revenue": 698.0, "payers": 2, "per_payer": 349.0}
    assert revenue["USD"]["per_payer"] == pytest.approx(6.99)
    assert got["retention_30"].detail == {"cohort": 4, "returned": 4}
    assert got["retention_7"].value == 1.0
    steps = got["conversion"].detail["steps"]
    assert [s["users"] for s in steps[1:]] == [4, 3]
    # With too little data nothing is judged: no alert on 3 requests or 1 rating.
    assert got["response"].ok is None and got["errors"].ok is None
    checks = {n.key for n in launch_metrics.goal_checks(now)}
    assert checks == {"uptime", "success", "satisfaction"}


def test_delete_my_data_erases_tickets_and_ratings(
    accounts_env: Callable[..., None], jobs_env: object
) -> None:
    from services import account_deletion

    creator = _user()
    video = _video(creator.id)
    feedback.rate(creator.id, video.id, 5, "Loved it")
    support.open_ticket(creator.id, "other", "Question", "A long enough message here.")
    account_deletion.delete_account(creator.id)
    with session_scope() as session:
        for table in (SupportTicket, TicketMessage, VideoFeedback):
            assert session.scalar(select(func.count()).select_from(table)) == 0
