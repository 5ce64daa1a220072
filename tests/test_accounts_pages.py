"""Sign-up, sign-in, sign-out, guests, the balance gate and a whole first visit, driven by
Streamlit's AppTest through the real entry script."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from db.models import Job, Purchase, User
from db.session import session_scope

ROOT = Path(__file__).resolve().parents[1]
ENTRY = str(ROOT / "app_streamlit_cloud.py")
TIMEOUT_S = 60
PASSWORD = "correct horse battery"


@pytest.fixture
def site(
    accounts_env: Callable[..., None], jobs_env, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., None]]:
    """The app on the fake provider with a synchronous executor; yields settings_env."""
    import streamlit as st

    from services import startup

    accounts_env(providers__default="fake")
    startup.reset_for_tests()
    st.cache_resource.clear()
    st.cache_data.clear()
    yield accounts_env
    startup.reset_for_tests()


@pytest.fixture(scope="module")
def portrait() -> bytes:
    from skimage import data

    image = Image.fromarray(data.astronaut()).resize((1024, 1024), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    Image.fromarray(np.asarray(image)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def app(**query: str) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT_S)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def texts(at: AppTest) -> str:
    parts: list[str] = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "text"):
        parts += [str(el.value) for el in getattr(at, kind)]
    for kind in ("button", "text_input", "selectbox", "radio", "checkbox", "tabs"):
        parts += [str(getattr(el, "label", "")) for el in getattr(at, kind)]
    parts += [str(t.value) for t in at.toast]
    for frame in at.dataframe:
        parts.append(frame.value.to_csv(index=False))
    return "\n".join(parts)


def clean(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def sign_up(at: AppTest, email: str, password: str = PASSWORD, prefix: str = "signup") -> AppTest:
    at.text_input(key=f"{prefix}_name").input("Asha")
    at.text_input(key=f"{prefix}_email").input(email)
    at.text_input(key=f"{prefix}_password").input(password)
    at.checkbox(key=f"{prefix}_terms").check()  # go-live: accept the terms to continue
    return clean(at.button(key=f"{prefix}_submit").click().run())


def sign_in(at: AppTest, email: str, password: str = PASSWORD, prefix: str = "signin") -> AppTest:
    at.text_input(key=f"{prefix}_email").input(email)
    at.text_input(key=f"{prefix}_password").input(password)
    return clean(at.button(key=f"{prefix}_submit").click().run())


def on_create_page(at: AppTest) -> bool:
    return any(b.key == "generate" for b in at.button)


# ----------------------------------------------------------------------- sign up, in, out


def test_sign_up_sign_out_and_sign_in(site: Callable[..., None]) -> None:
    site(features__allow_guest="false")
    at = clean(app())
    assert not on_create_page(at)
    assert "Create account" in texts(at) and "New accounts get 20 free credits" in texts(at)

    at = sign_up(at, "New.Creator@Example.com")
    assert on_create_page(at)
    assert "20 credits" in "\n".join(m.value for m in at.sidebar.markdown)
    assert at.session_state["signup_password"] == ""  # not kept in the session
    assert "Welcome to TalkingPhoto" in texts(at)

    at = clean(at.sidebar.button(key="sign_out").click().run())
    assert not on_create_page(at)

    at = sign_in(at, "new.creator@example.com", "wrong password!!")
    assert "The e-mail or password is not right." in [e.value for e in at.error]
    assert not on_create_page(at)
    at = sign_in(at, "new.creator@example.com")
    assert on_create_page(at)


def test_sign_up_problems_are_shown_in_the_form(site: Callable[..., None]) -> None:
    site(features__allow_guest="false")
    at = sign_up(clean(app()), "someone@example.com", "short")
    assert "Use a password of at least 10 characters." in [e.value for e in at.error]
    at = sign_up(at, "nope", PASSWORD)
    assert "Please enter a valid e-mail address." in [e.value for e in at.error]
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_sign_in_is_throttled_on_the_page(site: Callable[..., None]) -> None:
    site(features__allow_guest="false", ratelimit__signin_per_account="2/15 minutes")
    from services import accounts

    accounts.sign_up("target@example.com", PASSWORD)
    at = clean(app())
    for _ in range(2):
        at = sign_in(at, "target@example.com", "not the password")
    at = sign_in(at, "target@example.com")
    (error,) = at.error
    assert error.value.startswith("Too many wrong passwords for this account from this device.")
    assert "Reset your password by e-mail" in error.value
    assert not on_create_page(at)


def test_the_sign_in_page_in_hindi(site: Callable[..., None]) -> None:
    site(features__allow_guest="false")
    at = clean(app(lang="hi"))
    assert at.button(key="signin_submit").label == "साइन इन करें"


def test_guests_start_from_the_sign_in_page_in_production(site: Callable[..., None]) -> None:
    site(
        app__environment="production",
        features__allow_guest="true",
        jwt__secret_key="j" * 40,
        credits__guest_grant=3,
    )
    at = clean(app())
    assert not on_create_page(at)
    at = clean(at.button(key="guest_start").click().run())
    assert on_create_page(at)
    assert "3 credits" in "\n".join(m.value for m in at.sidebar.markdown)


# -------------------------------------------------------------------- per-browser guests


def test_each_development_browser_is_its_own_guest_and_keeps_its_videos(
    site: Callable[..., None], portrait: bytes
) -> None:
    """No shared "Local creator": a browser without a session cookie starts its own guest
    (AppTest sessions carry no cookies, so each is a new browser)."""
    at = clean(app())
    assert on_create_page(at)  # a guest at once, no sign-in
    at.file_uploader(key="photo_upload").set_value(("me.jpg", portrait, "image/jpeg")).run()
    at.text_area(key="script").input("Keep this one.").run()
    at = clean(at.button(key="generate").click().run())

    at.switch_page("views/account.py").run()
    clean(at)
    assert "You are using TalkingPhoto without an account." in texts(at)
    other_browser = clean(app())
    at = sign_up(at, "dev@example.com", prefix="upgrade")
    with session_scope() as session:
        user = session.scalars(select(User).where(User.email == "dev@example.com")).one()
        (job,) = session.scalars(select(Job)).all()
        assert job.user_id == user.id and user.auth_method == "password"
        guests = session.scalars(select(User).where(User.auth_method == "guest")).all()
        assert len(guests) == 1 and guests[0].id != user.id  # the other browser's guest
        assert session.scalar(select(User).where(User.auth_method == "local")) is None
    at.switch_page("views/account.py").run()
    assert "You are using TalkingPhoto without an account." not in texts(clean(at))
    # The other browser is not dev@example.com and sees no video.
    other_browser.switch_page("views/account.py").run()
    assert "You are using TalkingPhoto without an account." in texts(clean(other_browser))
    assert "dev@example.com" not in texts(other_browser)
    other_browser.switch_page("views/videos.py").run()
    assert "Keep this one." not in texts(clean(other_browser))


def test_single_user_mode_is_deliberate_and_said_on_screen(site: Callable[..., None]) -> None:
    site(accounts__single_user="true")
    first, second = clean(app()), clean(app())
    notice = "Single-user mode is on"
    assert notice in "\n".join(w.value for w in first.sidebar.info)
    with session_scope() as session:
        assert [u.auth_method for u in session.scalars(select(User))] == ["local"]
    assert notice in "\n".join(w.value for w in second.sidebar.info)
    # Never in production, whatever the setting says.
    site(app__environment="production", jwt__secret_key="k" * 40)
    from services import accounts

    assert not accounts.single_user_mode()


# -------------------------------------------------------------------------- balance gate


def test_generate_is_refused_without_enough_credits(
    site: Callable[..., None], portrait: bytes
) -> None:
    site(credits__signup_grant=0, credits__guest_grant=0)
    at = clean(app())
    at.file_uploader(key="photo_upload").set_value(("me.jpg", portrait, "image/jpeg")).run()
    at.text_area(key="script").input("I have no credits left.").run()
    assert "You do not have enough credits for this video." in texts(at)
    # Payments are off: no page to send them to.
    assert "Buy credits" not in [str(el.proto.label) for el in at.get("page_link")]
    at = clean(at.button(key="generate").click().run())
    assert "This video needs 1 credit; you have 0." in [e.value for e in at.error]
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_short_balance_links_to_buying_credits_when_payments_are_on(
    site: Callable[..., None], portrait: bytes
) -> None:
    site(credits__signup_grant=0, credits__guest_grant=0, features__enable_payments="true")
    at = clean(app())
    at.file_uploader(key="photo_upload").set_value(("me.jpg", portrait, "image/jpeg")).run()
    at.text_area(key="script").input("I have no credits left.").run()
    links = [(str(el.proto.label), str(el.proto.page)) for el in at.get("page_link")]
    assert ("Buy credits", "credits") in links


# ---------------------------------------------------------------------- a whole first visit


def test_a_new_user_signs_up_creates_buys_reads_receipts_and_leaves(
    site: Callable[..., None], portrait: bytes
) -> None:
    from services import media

    site(features__allow_guest="false", features__enable_payments="true")
    at = sign_up(clean(app()), "journey@example.com")
    assert "20 credits" in "\n".join(m.value for m in at.sidebar.markdown)

    at.file_uploader(key="photo_upload").set_value(("me.jpg", portrait, "image/jpeg")).run()
    at.text_area(key="script").input("My first talking photo.").run()
    at = clean(at.button(key="generate").click().run())
    with session_scope() as session:
        (job,) = session.scalars(select(Job)).all()
        keys = [k for k in (job.photo_key, job.video_key, job.thumbnail_key) if k]
    assert job.status == "succeeded" and all(media.exists(k) for k in keys)

    at.switch_page("views/credits.py").run()
    clean(at)
    assert "no real payment is made" not in texts(at)
    at = clean(at.button(key="buy_starter").click().run())
    assert "Test purchase (demo gateway): no real payment is made." in texts(at)
    at = clean(at.button(key="demo_pay").click().run())
    assert "Payment received: 20 credits were added to your account." in texts(at)
    balance = 20 - job.cost_credits + 20
    assert f"{balance} credits" in "\n".join(m.value for m in at.sidebar.markdown)

    at.switch_page("views/receipts.py").run()
    receipts = texts(clean(at))
    assert "Test (demo)" in receipts and "Paid" in receipts and "Welcome credits" in receipts
    assert "Video" in receipts and "+20" in receipts

    at.switch_page("views/account.py").run()
    at = clean(at.button(key="account_delete").click().run())
    assert at.button(key="account_delete_yes").disabled
    at.checkbox(key="account_delete_sure").check().run()
    at = clean(at.button(key="account_delete_yes").click().run())
    assert "Your account and your data were deleted." in texts(at)
    assert not on_create_page(at) and at.button(key="signin_submit")
    assert not any(media.exists(k) for k in keys)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        assert session.scalars(select(User.email)).all() == [
            f"deleted-{job.user_id}@deleted.invalid"
        ]
        assert session.scalars(select(Purchase.user_id)).all() == [None]
