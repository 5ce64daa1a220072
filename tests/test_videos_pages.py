"""My videos and the account page, driven by AppTest: rename inline, a card of a video being
made that re-reads its row, and the "video done" e-mail switch (issue 15, items 6-7)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from db.models import Job
from db.session import session_scope
from services import accounts, jobs, notify
from tests.test_accounts_pages import app, clean, sign_up, site, texts  # noqa: F401
from tests.test_sharing import make_video


def _creator(site: Callable[..., None]) -> tuple[AppTest, accounts.UserView]:  # noqa: F811
    """A browser session signed up as a new creator (20 free credits), and that creator."""
    site(features__allow_guest="false")
    at = sign_up(clean(app()), "maker@example.com")
    (maker,) = [u for u in _users() if u.email == "maker@example.com"]
    return at, maker


def _my_videos(at: AppTest) -> AppTest:
    at.switch_page("views/videos.py")
    return _run(at)


def _run(at: AppTest) -> AppTest:
    return clean(at.run())


def _titles(at: AppTest) -> list[str]:
    return [str(m.value) for m in at.markdown if 'class="tp-title"' in str(m.value)]


def test_rename_inline_then_refuse_an_empty_title(site: Callable[..., None]) -> None:  # noqa: F811
    at, maker = _creator(site)
    job = make_video(maker.id)
    at = _my_videos(at)
    assert any(job.title in t for t in _titles(at))  # "Hello! This is a shared video."
    at.button(key=f"rename_{job.id}").click()
    _run(at)
    box = at.text_input(key=f"title_{job.id}")
    assert box.value == job.title
    box.input("Shop opening <b>sale</b>")
    at.button(key=f"FormSubmitter:rename_{job.id}-Save").click()
    _run(at)
    assert jobs.get(job.id, maker.id).title == "Shop opening <b>sale</b>"
    assert any("Shop opening &lt;b&gt;sale&lt;/b&gt;" in t for t in _titles(at))  # as typed
    assert [t.value for t in at.toast] == ["Renamed."]
    assert f"title_{job.id}" not in [w.key for w in at.text_input]  # the form closed

    at.button(key=f"rename_{job.id}").click()
    _run(at)
    at.text_input(key=f"title_{job.id}").input("   ")
    at.button(key=f"FormSubmitter:rename_{job.id}-Save").click()
    _run(at)
    assert [e.value for e in at.error] == ["Please give the video a title."]
    assert jobs.get(job.id, maker.id).title == "Shop opening <b>sale</b>"  # unchanged


def test_a_card_of_a_video_being_made_follows_its_row(site: Callable[..., None]) -> None:  # noqa: F811
    """AppTest does not run the fragment's timer; each run() stands for one tick."""
    at, maker = _creator(site)
    job = make_video(maker.id)
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job.id).values(status="running", percent=40.0))
    at = _my_videos(at)
    assert any("Making 40%" in str(m.value) for m in at.markdown)
    (bar,) = at.get("progress")
    assert bar.proto.value == 40  # type: ignore[attr-defined]
    assert f"delete_{job.id}" not in [b.key for b in at.button]  # not while being made
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job.id).values(percent=68.0))
    _run(at)
    assert any("Making 68%" in str(m.value) for m in at.markdown)
    with session_scope() as session:
        session.execute(
            update(Job).where(Job.id == job.id).values(status="succeeded", percent=100.0)
        )
    _run(at)
    assert any("Ready" in str(m.value) for m in at.markdown)
    assert f"play_{job.id}" in [b.key for b in at.button] and not at.get("progress")


def test_the_account_page_turns_video_mails_off_and_on(site: Callable[..., None]) -> None:  # noqa: F811
    guest = clean(app())
    guest.switch_page("views/account.py")
    guest = clean(guest.run())
    assert "account_notify" not in [t.key for t in guest.toggle]  # a guest has no address
    at, maker = _creator(site)
    at.switch_page("views/account.py")
    at = clean(at.run())
    switch = at.toggle(key="account_notify")
    assert switch.value is True and "E-mail me when a video is ready" in switch.label
    at = clean(switch.set_value(False).run())
    assert notify.preference(maker.id) is False
    assert "No more e-mails about finished videos." in texts(at)
    at = clean(at.toggle(key="account_notify").set_value(True).run())
    assert notify.preference(maker.id) is True


def _users() -> list[accounts.UserView]:
    from sqlalchemy import select

    from db.models import User
    from db.session import read_scope

    with read_scope() as session:
        ids = list(session.scalars(select(User.id)))
    return [u for u in (accounts.get_user(i) for i in ids) if u is not None]
