"""My videos and sharing, as a creator notices them (issue 15, items 6 and 7, "notify when
done"): titles, share links that can be copied again, media URLs that outlive the signed
URLs' hour, embed codes, and the "video done" e-mail through a real SMTP server.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator

import pytest
import requests
from sqlalchemy import update

import mail
from db.models import Job, ShareLink, User
from db.session import session_scope
from errors import JobNotFound, ShareError, TitleError
from services import accounts, jobs, notify, sharing
from tests.test_mail_smtp import PASSWORD, Inbox
from tests.test_mail_smtp import inbox as inbox
from tests.test_media_route import serve
from tests.test_sharing import make_video

HOUR = 3600


@pytest.fixture
def sharing_on(jobs_env: object, settings_env: Callable[..., None]) -> accounts.UserView:
    settings_env(features__enable_social_sharing="true")
    return accounts.current_user()


# ----------------------------------------------------------------------------------- titles


def test_a_new_video_is_titled_with_the_first_words_of_its_script(
    sharing_on: accounts.UserView,
) -> None:
    job = make_video(sharing_on.id)  # "Hello! This is a shared video."
    assert job.title == "Hello! This is a shared video."
    assert jobs.get(job.id, sharing_on.id).title == job.title
    assert jobs.default_title("  one two\nthree four five six seven eight ") == (
        "one two three four five six…"
    )
    assert jobs.default_title("x" * 200) == "x" * 59 + "…"
    assert jobs.default_title("नमस्ते दोस्तों") == "नमस्ते दोस्तों"


def test_renaming_cleans_the_title_and_refuses_bad_ones_unchanged(
    sharing_on: accounts.UserView,
) -> None:
    job = make_video(sharing_on.id)
    renamed = jobs.rename(job.id, sharing_on.id, "  Diwali\n  greetings \x07 ")
    assert renamed.title == "Diwali greetings"
    assert jobs.list_for_user(sharing_on.id)[0].title == "Diwali greetings"
    for bad in ("", "   \n ", "x" * (jobs.TITLE_MAX_CHARS + 1)):
        with pytest.raises(TitleError) as refused:
            jobs.rename(job.id, sharing_on.id, bad)
        assert refused.value.user_message
    too_long = pytest.raises(TitleError, match=f"at most {jobs.TITLE_MAX_CHARS} characters")
    with too_long:
        jobs.rename(job.id, sharing_on.id, "y" * 81)
    assert jobs.get(job.id, sharing_on.id).title == "Diwali greetings"  # nothing changed
    assert jobs.rename(job.id, sharing_on.id, "z" * jobs.TITLE_MAX_CHARS).title == "z" * 80


def test_nobody_renames_another_creators_video(sharing_on: accounts.UserView) -> None:
    job = make_video(sharing_on.id)
    other = accounts.sign_up("other@example.com", PASSWORD)
    with pytest.raises(JobNotFound):
        jobs.rename(job.id, other.id, "Mine now")
    with pytest.raises(JobNotFound):
        jobs.rename("no-such-job", sharing_on.id, "Anything")
    assert jobs.get(job.id, sharing_on.id).title == job.title


# ---------------------------------------------------------------------------------- sharing


def test_the_link_can_be_shown_again_and_is_the_working_link(
    sharing_on: accounts.UserView,
) -> None:
    job = make_video(sharing_on.id)
    made = sharing.create(job.id, sharing_on.id, title="Shop opening")
    (again,) = sharing.links_for_job(job.id, sharing_on.id)
    assert again.token == made.token and again.path == made.path
    assert sharing.open_link(again.token).title == "Shop opening"
    with session_scope() as session:  # the database keeps no copy of the token
        row = session.get_one(ShareLink, made.link.id)
        assert made.token not in {row.token_hash, row.token_salt}
    sharing.revoke(made.link.id, sharing_on.id)
    assert sharing.links_for_job(job.id, sharing_on.id) == []
    with pytest.raises(ShareError):
        sharing.open_link(made.token)


def test_a_link_from_before_0007_still_opens_but_cannot_be_shown_again(
    sharing_on: accounts.UserView,
) -> None:
    job = make_video(sharing_on.id)
    made = sharing.create(job.id, sharing_on.id)
    with session_scope() as session:
        session.execute(update(ShareLink).values(token_salt=None))
    (old,) = sharing.links_for_job(job.id, sharing_on.id)
    assert old.token is None and old.path is None
    assert sharing.open_link(made.token).video_key == job.video_key


def test_og_media_still_loads_after_the_signed_urls_expire_and_dies_on_revoke(
    sharing_on: accounts.UserView,
    settings_env: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import web.media
    from services import media

    job = make_video(sharing_on.id)
    made = sharing.create(job.id, sharing_on.id, title="Preview me")
    with serve() as base:
        settings_env(features__enable_social_sharing="true", app__base_url=base)
        page = requests.get(base + made.path, timeout=10).text
        tags = dict(re.findall(r'<meta property="([^"]+)" content="([^"]*)">', page))
        video, image = html.unescape(tags["og:video"]), html.unescape(tags["og:image"])
        assert video == f"{base}/api/share/{made.token}/video.mp4"
        assert image == f"{base}/api/share/{made.token}/thumbnail.jpg"
        signed = base + media.playback_url(job.video_key or "")

        # A day later (the route's clock moves; nothing sleeps): the signed media URL of an
        # hour has expired, the share-scoped ones a crawler cached still work.
        later = time.time() + 24 * HOUR
        monkeypatch.setattr(web.media, "_now", lambda: later)
        assert requests.get(signed, timeout=10).status_code == 403
        answer = requests.get(video, timeout=10)
        assert answer.status_code == 200 and answer.content[4:8] == b"ftyp"
        assert answer.headers["Cache-Control"] == "public, no-cache"
        thumb = requests.get(image, timeout=10)
        assert thumb.status_code == 200 and thumb.headers["Content-Type"].startswith("image/")
        ranged = requests.get(video, headers={"Range": "bytes=0-9"}, timeout=10)
        assert ranged.status_code == 206 and len(ranged.content) == 10
        assert requests.get(base + made.path, timeout=10).text.count("og:video") >= 1

        sharing.revoke(made.link.id, sharing_on.id)
        assert requests.get(video, timeout=10).status_code == 403
        assert requests.get(image, timeout=10).status_code == 403
        assert (
            requests.get(f"{base}/api/share/{made.token}/photo.jpg", timeout=10).status_code == 404
        )


def test_an_expiring_links_media_stops_when_the_link_expires(
    sharing_on: accounts.UserView, monkeypatch: pytest.MonkeyPatch
) -> None:
    import web.media

    job = make_video(sharing_on.id)
    made = sharing.create(job.id, sharing_on.id, expires_in_days=1)
    with serve() as base:
        url = base + sharing.media_path(made.token, "video.mp4")
        assert requests.get(url, timeout=10).status_code == 200
        later = time.time() + 25 * HOUR
        monkeypatch.setattr(web.media, "_now", lambda: later)
        assert requests.get(url, timeout=10).status_code == 403


def test_the_embed_code_plays_the_shared_video_from_base_url(
    sharing_on: accounts.UserView, settings_env: Callable[..., None]
) -> None:
    job = make_video(sharing_on.id)
    made = sharing.create(job.id, sharing_on.id)
    with serve() as base:
        code = sharing.embed_code(made.token, base + "/", 'My "best" <video>')
        assert code.startswith("<video ") and code.endswith("></video>")
        src = re.search(r'src="([^"]+)"', code)
        poster = re.search(r'poster="([^"]+)"', code)
        assert src and poster and "controls" in code and "playsinline" in code
        assert 'title="My &quot;best&quot; &lt;video&gt;"' in code
        assert src.group(1) == f"{base}/api/share/{made.token}/video.mp4"
        assert requests.get(src.group(1), timeout=10).content[4:8] == b"ftyp"
        assert requests.get(html.unescape(poster.group(1)), timeout=10).status_code == 200
        sharing.revoke(made.link.id, sharing_on.id)
        assert requests.get(src.group(1), timeout=10).status_code == 403


# ---------------------------------------------------------------------------- notify by mail


@pytest.fixture
def creator(inbox: Inbox, jobs_env: object) -> Iterator[accounts.UserView]:
    user = accounts.sign_up("maker@example.com", PASSWORD, "Maker")
    with session_scope() as session:  # credits to make videos with
        from services import credits

        credits.post(session, user.id, 50, f"test:grant:{user.id}", "test")
    inbox.messages.clear()  # the sign-up's verification mail
    yield user


def _video_mails(inbox: Inbox) -> list[object]:
    return [m for m in inbox.messages if "video" in str(m["Subject"]).lower()]


def test_one_mail_when_a_video_is_ready_even_when_the_job_is_delivered_again(
    inbox: Inbox,
    creator: accounts.UserView,
) -> None:
    import background_tasks

    job = make_video(creator.id)
    assert job.status == "succeeded"
    (message,) = _video_mails(inbox)
    assert message["To"] == "maker@example.com"  # type: ignore[index]
    assert message["Subject"] == f"Your video is ready: {job.title}"  # type: ignore[index]
    body = inbox.body(message)  # type: ignore[arg-type]
    assert "Hello Maker," in body and "https://talkingphoto.example/videos" in body
    assert "https://talkingphoto.example/account" in body  # where to turn it off
    # Delivered twice (a broker retry), the notifier called again: still one mail.
    background_tasks.run_job(job.id)
    assert notify.job_finished(job.id) is False
    assert len(_video_mails(inbox)) == 1


def test_one_mail_when_a_video_fails_with_the_reason(
    inbox: Inbox,
    creator: accounts.UserView,
    jobs_env: object,
) -> None:
    jobs_env.mode = "reject"  # type: ignore[attr-defined]
    job = make_video(creator.id)
    assert jobs.get(job.id, creator.id).status == "failed"
    (message,) = _video_mails(inbox)
    assert message["Subject"] == f"Your video could not be made: {job.title}"  # type: ignore[index]
    body = inbox.body(message)  # type: ignore[arg-type]
    assert "refunded" in body and jobs.get(job.id, creator.id).error_text in body
    assert notify.job_finished(job.id) is False
    assert len(_video_mails(inbox)) == 1


def test_no_mail_when_opted_out_or_for_guests(
    inbox: Inbox,
    creator: accounts.UserView,
) -> None:
    assert notify.preference(creator.id) is True
    assert notify.set_preference(creator.id, False) is False
    make_video(creator.id)
    guest = accounts.start_guest()
    guest_job = make_video(guest.id)
    assert guest_job.status == "succeeded"
    assert _video_mails(inbox) == []
    notify.set_preference(creator.id, True)
    make_video(creator.id)
    assert len(_video_mails(inbox)) == 1


def test_a_refused_mail_is_not_lost_and_never_fails_the_video(
    inbox: Inbox,
    creator: accounts.UserView,
    accounts_env: Callable[..., None],
) -> None:
    from tests.test_app_server import free_port

    accounts_env(smtp__port=free_port())  # nobody listens there
    mail.reset_for_tests()
    job = make_video(creator.id)
    assert job.status == "succeeded"
    with session_scope() as session:
        assert session.get_one(Job, job.id).notified_at is None  # the claim was given back
    accounts_env(smtp__port=inbox.port)
    mail.reset_for_tests()
    assert notify.job_finished(job.id) is True
    assert len(_video_mails(inbox)) == 1


def test_hindi_creators_get_the_mail_in_hindi(
    inbox: Inbox,
    creator: accounts.UserView,
) -> None:
    with session_scope() as session:
        session.execute(update(User).where(User.id == creator.id).values(locale="hi"))
    make_video(creator.id)
    (message,) = [m for m in inbox.messages if m["To"] == "maker@example.com"]
    assert re.search("[\u0900-\u097f]", str(message["Subject"]))
