"""Share links as a creator and a visitor would notice them (services.sharing)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from db.models import ShareLink, utcnow
from db.session import session_scope
from errors import JobNotFound, ShareError
from services import accounts, jobs, sharing
from services.photos import PreparedPhoto

NO_LONGER_SHARED = "This video is no longer shared."


def make_video(user_id: int, **changes: object) -> jobs.JobView:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 400), (200, 150, 120)).save(buffer, "JPEG")
    photo = PreparedPhoto(data=buffer.getvalue(), width=320, height=400, format="JPEG")
    params = jobs.JobParams(language="en", voice="fake-en-2", provider="fake", captions="srt")
    return jobs.submit(
        user_id,
        photo=photo,
        script="Hello! This is a shared video.",
        params=dataclasses.replace(params, **changes),  # type: ignore[arg-type]
    )


@pytest.fixture
def sharing_on(jobs_env, settings_env) -> accounts.UserView:
    settings_env(features__enable_social_sharing="true")
    return accounts.current_user()


def test_a_link_opens_the_video_and_only_its_hash_is_stored(
    sharing_on: accounts.UserView,
) -> None:
    job = make_video(sharing_on.id)
    made = sharing.create(job.id, sharing_on.id, title="  My   first\nvideo ")
    assert len(made.token) >= 43 and made.path == f"/api/share/{made.token}"
    assert made.link.title == "My first video" and made.link.expires_at is None
    with session_scope() as session:
        row = session.scalars(select(ShareLink)).one()
        stored = [str(getattr(row, c.name)) for c in ShareLink.__table__.columns]
    assert row.token_hash == hashlib.sha256(made.token.encode()).hexdigest()
    assert not any(made.token in value for value in stored)

    shared = sharing.open_link(made.token)
    assert (shared.title, shared.video_key) == ("My first video", job.video_key)
    assert shared.vtt_key == job.vtt_key  # captions as a track (not burned in)
    sharing.open_link(made.token)
    sharing.open_link(made.token, count_view=False)
    assert sharing.links_for_job(job.id, sharing_on.id)[0].views == 2


def test_every_dead_link_gets_the_same_answer(sharing_on: accounts.UserView) -> None:
    job = make_video(sharing_on.id)
    revoked = sharing.create(job.id, sharing_on.id)
    expiring = sharing.create(job.id, sharing_on.id, expires_in_days=1)
    alive = sharing.create(job.id, sharing_on.id)
    sharing.revoke(revoked.link.id, sharing_on.id)
    sharing.revoke(revoked.link.id, sharing_on.id)  # twice is fine

    tomorrow = utcnow() + timedelta(days=1, seconds=1)
    guessed = alive.token[:-3] + ("abc" if not alive.token.endswith("abc") else "xyz")
    for token, now in [
        (revoked.token, None),
        (expiring.token, tomorrow),
        (guessed, None),
        ("", None),
        ("x" * 500, None),
    ]:
        with pytest.raises(ShareError) as caught:
            sharing.open_link(token, now=now)
        assert caught.value.user_message == NO_LONGER_SHARED
    # Still alive today; untitled links show the video's own title.
    assert sharing.open_link(expiring.token).title == job.title
    assert sharing.open_link(alive.token, now=tomorrow).video_key == job.video_key  # no expiry
    listed = {link.id: link for link in sharing.links_for_job(job.id, sharing_on.id)}
    assert set(listed) == {expiring.link.id, alive.link.id}
    assert not listed[expiring.link.id].active(tomorrow)


def test_turning_sharing_off_stops_every_link(sharing_on: accounts.UserView, settings_env) -> None:
    job = make_video(sharing_on.id)
    made = sharing.create(job.id, sharing_on.id)
    assert sharing.link_is_active(made.link.id)
    settings_env(features__enable_social_sharing="false")
    with pytest.raises(ShareError, match="no longer shared"):
        sharing.open_link(made.token)
    assert not sharing.link_is_active(made.link.id)
    with pytest.raises(ShareError, match="Sharing is turned off"):
        sharing.create(job.id, sharing_on.id)


def test_only_the_owner_can_share_or_revoke_a_finished_video(
    sharing_on: accounts.UserView, jobs_env
) -> None:
    other = accounts.get_or_create_user("someone@example.com")
    job = make_video(sharing_on.id)
    with pytest.raises(JobNotFound):
        sharing.create(job.id, other.id)
    made = sharing.create(job.id, sharing_on.id)
    with pytest.raises(JobNotFound):
        sharing.revoke(made.link.id, other.id)
    assert sharing.links_for_job(job.id, other.id) == []
    sharing.open_link(made.token)  # untouched

    jobs_env.mode = "reject"
    failed = make_video(sharing_on.id)
    assert failed.status == "failed"
    with pytest.raises(ShareError, match="Only a finished video"):
        sharing.create(failed.id, sharing_on.id)
    for days in (0, 366):
        with pytest.raises(ShareError, match="1 to 365 days"):
            sharing.create(job.id, sharing_on.id, expires_in_days=days)


def test_links_per_video_are_capped(sharing_on: accounts.UserView) -> None:
    job = make_video(sharing_on.id)
    links = [
        sharing.create(job.id, sharing_on.id) for _ in range(sharing.MAX_ACTIVE_LINKS_PER_VIDEO)
    ]
    with pytest.raises(ShareError, match="revoke one first"):
        sharing.create(job.id, sharing_on.id)
    sharing.revoke(links[0].link.id, sharing_on.id)
    sharing.create(job.id, sharing_on.id)


def test_deleting_the_video_kills_its_links_and_files(
    sharing_on: accounts.UserView, foundation_env: Path
) -> None:
    job = make_video(sharing_on.id)
    made = sharing.create(job.id, sharing_on.id)
    link_id = made.link.id
    assert list((foundation_env / "media" / "jobs" / job.id).iterdir())
    jobs.delete(job.id, sharing_on.id)
    with pytest.raises(ShareError):
        sharing.open_link(made.token)
    assert not sharing.link_is_active(link_id)
    assert not (foundation_env / "media" / "jobs" / job.id).exists()


def test_a_shared_media_url_stops_when_the_link_is_revoked(
    sharing_on: accounts.UserView, foundation_env: Path
) -> None:
    import requests

    from services import media
    from tests.test_media_route import serve

    job = make_video(sharing_on.id)
    made = sharing.create(job.id, sharing_on.id)
    shared = sharing.open_link(made.token)
    with serve() as base:
        url = base + media.playback_url(shared.video_key, share_id=shared.link_id)
        assert requests.get(url, timeout=10).status_code == 200
        sharing.revoke(made.link.id, sharing_on.id)
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 403 and b"no longer shared" in answer.content


def test_link_previews_get_open_graph_tags_and_people_go_on_to_the_page(
    sharing_on: accounts.UserView, settings_env
) -> None:
    import html
    import re

    import requests

    from tests.test_media_route import serve

    job = make_video(sharing_on.id)
    made = sharing.create(job.id, sharing_on.id, title='Hi "there" <script>')
    with serve() as base:
        # Absolute URLs come from [app] base_url (never the request's Host header).
        settings_env(features__enable_social_sharing="true", app__base_url=base)
        answer = requests.get(base + made.path, timeout=10)
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
        page = answer.text
        tags = dict(re.findall(r'<meta property="([^"]+)" content="([^"]*)">', page))
        assert tags["og:title"] == html.escape('Hi "there" <script>') and "<script>" not in page
        assert tags["og:type"] == "video.other"
        assert tags["og:url"] == f"{base}/share?t={made.token}"
        assert f'http-equiv="refresh" content="0; url={base}/share?t={made.token}"' in page
        video = requests.get(html.unescape(tags["og:video"]), timeout=10)
        assert video.status_code == 200 and video.content[4:8] == b"ftyp"
        assert requests.get(html.unescape(tags["og:image"]), timeout=10).status_code == 200
        assert sharing.links_for_job(job.id, sharing_on.id)[0].views == 0  # crawlers do not count

        sharing.revoke(made.link.id, sharing_on.id)
        dead = requests.get(base + made.path, timeout=10).text
        assert "<title>TalkingPhoto</title>" in dead and "og:video" not in dead
        assert "Hi &quot;there&quot;" not in dead
        assert f"url={base}/share?t={made.token}" in dead  # the page explains, kindly
