"""The share page and My videos (share, revoke, download, delete) driven by AppTest."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services import accounts, jobs, lifecycle, sharing
from tests.test_sharing import make_video

ROOT = Path(__file__).resolve().parents[1]
ENTRY = str(ROOT / "app_streamlit_cloud.py")


@pytest.fixture
def app_env(jobs_env, settings_env) -> Iterator[accounts.UserView]:
    import streamlit as st

    from services import media, startup

    settings_env(features__enable_social_sharing="true", providers__default="fake")
    startup.reset_for_tests()
    st.cache_resource.clear()
    st.cache_data.clear()
    media.clear_url_cache()
    yield accounts.current_user()
    startup.reset_for_tests()


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _share_page(token: str | None) -> AppTest:
    at = _run(AppTest.from_file(ENTRY, default_timeout=60))
    at.switch_page("views/share.py")
    if token is not None:
        at.query_params["t"] = token
    return _run(at)


def _html(at: AppTest) -> str:
    return "\n".join(str(el.proto.body) for el in at.get("html"))


def _videos(at: AppTest) -> list[str]:
    return [str(el.proto.url) for el in at.get("video")]


def _links(at: AppTest) -> dict[str, str]:
    return {str(b.proto.label): str(b.proto.url) for b in at.link_button}


def _share_links(at: AppTest) -> dict[str, str]:
    """The brand-icon share links (plain ``<a>`` elements in an HTML block)."""
    found = re.findall(r'<a href="([^"]+)"[^>]*>.*?<span>([^<]+)</span></a>', _html(at), re.S)
    return {label: html.unescape(href) for href, label in found}


def _copy_boxes(at: AppTest) -> list[str]:
    """What the Copy-button boxes hold (a link, or an embed code)."""
    found = re.findall(
        r'readonly value="([^"]*)"|<textarea readonly[^>]*>([^<]*)</textarea>', _html(at)
    )
    return [html.unescape(a or b) for a, b in found]


# -------------------------------------------------------------------------------- share page


def test_a_shared_video_plays_for_a_visitor_who_is_not_signed_in(
    app_env: accounts.UserView, settings_env
) -> None:
    job = make_video(app_env.id)
    made = sharing.create(job.id, app_env.id, title="Namaste from <b>Delhi</b> [link](x)")
    settings_env(features__allow_guest="false")  # nobody is signed in by default now

    at = _share_page(made.token)
    assert "Namaste from &lt;b&gt;Delhi&lt;/b&gt; [link](x)" in _html(at)  # plain text
    (video,) = _videos(at)
    # By URL, never bytes; the link's own media URL, which lives as long as the link.
    assert video == f"http://localhost:8501/api/share/{made.token}/video.mp4"
    links = _share_links(at)
    assert links["WhatsApp"].startswith("https://wa.me/?text=Namaste")
    assert made.token in links["WhatsApp"] and made.token in links["Facebook"]
    assert {"X", "Facebook", "LinkedIn", "Telegram", "Email"} <= set(links)
    assert links["Email"].startswith("mailto:?subject=")
    assert _html(at).count("data:image/svg+xml;base64,") >= 6  # brand icons
    link, embed = _copy_boxes(at)
    assert link == f"http://localhost:8501/api/share/{made.token}"  # the copy-link box
    assert embed == sharing.embed_code(made.token, "http://localhost:8501", made.link.title)

    _run(at)  # a rerun is not a second view
    assert sharing.links_for_job(job.id, app_env.id)[0].views == 1


@pytest.mark.parametrize("case", ["revoked", "expired", "guessed", "missing", "deleted"])
def test_dead_links_get_a_friendly_page(app_env: accounts.UserView, case: str) -> None:
    from datetime import timedelta

    from db.models import ShareLink, utcnow
    from db.session import session_scope

    job = make_video(app_env.id)
    made = sharing.create(job.id, app_env.id, title="Private now", expires_in_days=1)
    token: str | None = made.token
    if case == "revoked":
        sharing.revoke(made.link.id, app_env.id)
    elif case == "expired":
        with session_scope() as session:
            session.get_one(ShareLink, made.link.id).expires_at = utcnow() - timedelta(seconds=1)
    elif case == "guessed":
        token = "A" * len(made.token)
    elif case == "missing":
        token = None
    else:
        jobs.delete(job.id, app_env.id)

    at = _share_page(token)
    assert [t.value for t in at.title] == ["This video is no longer shared"]
    assert any(
        "turned off by the person who shared it, or it has expired" in m.value for m in at.markdown
    )
    assert not _videos(at) and "Private now" not in _html(at)


def test_the_share_page_in_hindi(app_env: accounts.UserView) -> None:
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.query_params["lang"] = "hi"
    _run(at)
    at.switch_page("views/share.py")
    at.query_params["t"] = "nothing-here"
    _run(at)
    assert [t.value for t in at.title] == ["यह वीडियो अब शेयर नहीं किया जा रहा है"]


# -------------------------------------------------------------------------------- My videos


def _my_videos() -> AppTest:
    at = _run(AppTest.from_file(ENTRY, default_timeout=60))
    at.switch_page("views/videos.py")
    return _run(at)


def test_share_from_my_videos_then_revoke(app_env: accounts.UserView) -> None:
    job = make_video(app_env.id)
    at = _my_videos()
    at.button(key=f"share_{job.id}").click()
    _run(at)
    assert at.text_input(key=f"share_title_{job.id}").value == job.title  # the video's title
    at.text_input(key=f"share_title_{job.id}").input("Holiday greeting")
    at.selectbox(key="share_expiry").select(7)
    at.button(key="share_create").click()
    _run(at)

    link = _copy_boxes(at)[0]
    assert link.startswith("http://localhost:8501/api/share/")
    token = link.rsplit("/", 1)[1]
    assert sharing.open_link(token).title == "Holiday greeting"
    (made,) = sharing.links_for_job(job.id, app_env.id)
    assert made.expires_at is not None

    # Closed and opened again (another day): the same working link is there to copy.
    at.button(key="share_done").click()
    _run(at)
    assert not _copy_boxes(at)
    at.button(key=f"share_{job.id}").click()
    _run(at)
    assert link in _copy_boxes(at)
    assert any(
        "<video " in box and f"/api/share/{token}/video.mp4" in box for box in _copy_boxes(at)
    )

    at.button(key=f"revoke_{made.id}").click()
    _run(at)
    with pytest.raises(Exception, match="no longer shared"):
        sharing.open_link(token)
    assert link not in _copy_boxes(at)  # the link is not shown any more


def test_my_videos_plays_and_downloads_by_url_and_shows_storage(
    app_env: accounts.UserView,
) -> None:
    job = make_video(app_env.id)
    at = _my_videos()
    used = lifecycle.storage_used(app_env.id)
    assert used > 0
    assert any("of storage" in c.value and "1 video" in c.value for c in at.caption)
    download = next(b for b in at.link_button if b.key == f"download_{job.id}")
    assert download.proto.label == "Download"
    assert download.proto.url.startswith("http://localhost:8501/api/media/")
    assert not _videos(at)
    at.button(key=f"play_{job.id}").click()
    _run(at)
    (video,) = _videos(at)
    assert video.startswith("http://localhost:8501/api/media/") and video != download.proto.url


def test_delete_from_my_videos_removes_files_and_share_links(
    app_env: accounts.UserView, foundation_env: Path
) -> None:
    job = make_video(app_env.id)
    made = sharing.create(job.id, app_env.id)
    assert list((foundation_env / "media" / "jobs" / job.id).iterdir())

    jobs.rename(job.id, app_env.id, "Birthday wish for Dadi")
    at = _my_videos()
    at.button(key=f"delete_{job.id}").click()
    _run(at)
    # The confirmation names the video.
    assert any("Birthday wish for Dadi" in str(m.value) for m in at.get("dialog")[0].markdown)
    at.button(key="confirm_delete_no").click()
    _run(at)
    assert [j.id for j in jobs.list_for_user(app_env.id)] == [job.id]

    at.button(key=f"delete_{job.id}").click()
    _run(at)
    at.button(key="confirm_delete_yes").click()
    _run(at)
    assert jobs.list_for_user(app_env.id) == []
    assert not (foundation_env / "media" / "jobs" / job.id).exists()
    with pytest.raises(Exception, match="no longer shared"):
        sharing.open_link(made.token)
    assert any("No videos yet" in str(m.value) for m in at.markdown)
    assert [t.value for t in at.toast] == ["Deleted Birthday wish for Dadi"]


def test_a_video_whose_file_is_gone_says_so(
    app_env: accounts.UserView, foundation_env: Path
) -> None:
    from datetime import timedelta

    from db.models import utcnow

    job = make_video(app_env.id)
    (foundation_env / "media" / str(job.video_key)).unlink()
    lifecycle.run_cleanup(now=utcnow() + timedelta(hours=2))
    at = _my_videos()
    assert any(c.value == "The video file is no longer stored." for c in at.caption)
    assert f"play_{job.id}" not in [b.key for b in at.button]
    assert f"share_{job.id}" not in [b.key for b in at.button]
