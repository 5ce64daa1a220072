"""The go-live pages through the real entry script (AppTest): the footer on every page,
who may open the admin pages, the help form's bad input, the legal page in Hindi, accepting
changed terms, and the stars under a playing video."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable

import pytest
from PIL import Image
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from db.golive_models import SupportTicket, TermsAcceptance
from db.models import User, utcnow
from db.session import session_scope
from services import accounts, feedback, jobs, legal
from services.photos import PreparedPhoto
from tests.test_accounts_pages import (
    PASSWORD,
    app,
    clean,
    sign_in,
    site,  # noqa: F401  (fixture)
    texts,
)


def _footer(at: AppTest) -> str:
    found = [str(m.value) for m in at.markdown if 'aria-label="Footer"' in str(m.value)]
    assert len(found) == 1, "one footer per page"
    return found[0]


def _account(email: str, *, admin: bool = False) -> accounts.UserView:
    user = accounts.sign_up(email, PASSWORD, "Asha")
    with session_scope() as session:
        row = session.get(User, user.id)
        assert row is not None
        row.is_admin = admin
        row.email_verified_at = utcnow()
    return user


def _signed_in(email: str) -> AppTest:
    at = app()
    at.switch_page("views/account.py").run()
    return sign_in(at, email, prefix="account_signin")


def test_every_page_of_a_creator_and_an_admin_ends_with_the_footer(
    site: Callable[..., None],  # noqa: F811
) -> None:
    _account("admin@example.com", admin=True)
    at = _signed_in("admin@example.com")
    for page in (
        "views/create.py",
        "views/videos.py",
        "views/receipts.py",
        "views/account.py",
        "views/health.py",
        "views/launch.py",
        "views/support_admin.py",
        "views/help.py",
        "views/legal.py",
    ):
        clean(at.switch_page(page).run())
        footer = _footer(at)
        assert 'href="/legal?doc=terms&amp;lang=en"' in footer, page
        assert 'href="/legal?doc=privacy&amp;lang=en"' in footer, page
        assert 'href="/help?lang=en"' in footer, page


def test_admin_pages_are_not_registered_for_creators(site: Callable[..., None]) -> None:  # noqa: F811
    _account("creator@example.com")
    at = _signed_in("creator@example.com")
    for page in ("views/launch.py", "views/support_admin.py"):
        with pytest.raises(ValueError, match="Could not find"):
            at.switch_page(page)
    clean(at.switch_page("views/help.py").run())
    assert "Send to support" in texts(at)


def test_a_too_short_help_message_is_refused_and_stores_nothing(
    site: Callable[..., None],  # noqa: F811
) -> None:
    _account("creator@example.com")
    at = _signed_in("creator@example.com")
    clean(at.switch_page("views/help.py").run())
    at.text_input(key="ticket_subject").input("Help")
    at.text_area(key="ticket_body").input("short")
    submit = next(b for b in at.button if "Send to support" in str(b.label))
    clean(submit.click().run())
    assert "Please describe the problem in at least 10 characters." in texts(at)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(SupportTicket)) == 0
    at.text_area(key="ticket_body").input("My video failed twice with the same photo.")
    submit = next(b for b in at.button if "Send to support" in str(b.label))
    clean(submit.click().run())
    assert "Ticket #1 sent. We will answer here and by e-mail." in texts(at)
    assert "#1 · Help · Waiting for support" in [e.label for e in at.expander]


def test_the_privacy_policy_in_hindi_for_a_visitor(site: Callable[..., None]) -> None:  # noqa: F811
    site(legal__grievance_officer_name="R. Sharma")
    at = app(lang="hi", doc="privacy")
    clean(at.switch_page("views/legal.py").run())
    body = texts(at)
    assert "# गोपनीयता नीति" in body and "शिकायत अधिकारी" in body and "R\\. Sharma" in body


def test_an_account_from_before_the_terms_accepts_them_on_the_legal_page(
    site: Callable[..., None],  # noqa: F811
) -> None:
    user = _account("old@example.com")  # made by the service: no acceptance yet
    at = _signed_in("old@example.com")
    clean(at.switch_page("views/legal.py").run())
    accept = next(b for b in at.button if b.key == "legal_accept")
    clean(accept.click().run())
    assert not legal.needs_acceptance(user.id)
    assert "You accepted these versions on" in texts(at)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(TermsAcceptance)) == 1


def test_stars_under_a_playing_video_are_saved(site: Callable[..., None]) -> None:  # noqa: F811
    user = _account("creator@example.com")
    buffer = io.BytesIO()
    Image.new("RGB", (320, 400), (200, 150, 120)).save(buffer, "JPEG")
    photo = PreparedPhoto(data=buffer.getvalue(), width=320, height=400, format="JPEG")
    params = jobs.JobParams(language="en", voice="fake-en-2", provider="fake", captions="srt")
    video = jobs.submit(
        user.id, photo=photo, script="Hello there.", params=dataclasses.replace(params)
    )
    at = _signed_in("creator@example.com")
    clean(at.switch_page("views/videos.py").run())
    clean(at.button(key=f"play_{video.id}").click().run())
    assert "How did this video turn out?" in texts(at)
    at.session_state[f"rate_{video.id}"] = 4  # what clicking the fifth star sets
    clean(at.run())  # the comment box appears once there are stars
    at.text_area(key=f"rate_comment_{video.id}").input("Great")
    clean(at.button(key=f"rate_send_{video.id}").click().run())
    assert "Thank you for your rating!" in texts(at)
    mine = feedback.my_rating(user.id, video.id)
    assert mine is not None and (mine.rating, mine.comment) == (5, "Great")


def test_a_creator_at_the_health_address_is_told_it_is_for_admins(
    site: Callable[..., None],  # noqa: F811
) -> None:
    """Issue 15, item 11: /health for a signed-in non-admin says so and links back, instead
    of Streamlit's "Page not found"; the health page itself stays unregistered."""
    _account("creator@example.com")
    at = _signed_in("creator@example.com")
    with pytest.raises(ValueError, match="Could not find"):
        at.switch_page("views/health.py")
    clean(at.switch_page("views/admins_only.py").run())
    assert [e.value for e in at.error] == ["This page is for administrators only."]
    links = [str(el.proto.label) for el in at.get("page_link")]
    assert links.count("Back to Create") == 1
    assert not at.metric
