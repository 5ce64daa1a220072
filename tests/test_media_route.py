"""``GET /api/media/<token>`` through the real Starlette app on a real socket (uvicorn).

A phone's player seeks with Range requests; these tests make the same requests and check the
bytes, the status codes and the headers a browser relies on.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

VIDEO = bytes(range(256)) * 4000  # 1 MB, every offset identifiable
KEY = "jobs/route-job/video.mp4"


@contextlib.contextmanager
def serve() -> Iterator[str]:
    """The media routes in a real Starlette app on a loopback port (uvicorn); yields its URL."""
    import uvicorn
    from starlette.applications import Starlette

    from web.media import ROUTES

    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=ROUTES), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def base_url(foundation_env: Path) -> Iterator[str]:
    with serve() as base:
        yield base


@pytest.fixture
def stored(foundation_env: Path) -> str:
    from services import media

    media.clear_url_cache()
    return media.put(KEY, VIDEO)


def url_for(base: str, key: str = KEY, **kwargs: object) -> str:
    from services import media

    if "download" in kwargs:
        return base + media.download_url(key, str(kwargs["download"]))
    return base + media.playback_url(key)


def test_the_whole_video_with_cache_headers(base_url: str, stored: str) -> None:
    answer = requests.get(url_for(base_url), timeout=10)
    assert answer.status_code == 200
    assert answer.content == VIDEO
    assert answer.headers["Content-Type"] == "video/mp4"
    assert answer.headers["Accept-Ranges"] == "bytes"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" not in answer.headers.get("Content-Disposition", "")  # plays inline
    cache = answer.headers["Cache-Control"]
    assert cache.startswith("private, max-age=")
    assert 0 < int(cache.split("=")[1]) <= 3600
    assert answer.headers["ETag"] and answer.headers["Last-Modified"]


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-1", 0, 1),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=1000000-", 1000000, len(VIDEO) - 1),
        ("bytes=-100", len(VIDEO) - 100, len(VIDEO) - 1),
        ("bytes=0-", 0, len(VIDEO) - 1),  # what Chrome asks first
        ("bytes=1023990-99999999", 1023990, len(VIDEO) - 1),
    ],
)
def test_ranges_return_206_with_the_right_bytes(
    base_url: str, stored: str, header: str, start: int, end: int
) -> None:
    answer = requests.get(url_for(base_url), headers={"Range": header}, timeout=10)
    assert answer.status_code == 206
    assert answer.headers["Content-Range"] == f"bytes {start}-{end}/{len(VIDEO)}"
    assert answer.content == VIDEO[start : end + 1]
    assert int(answer.headers["Content-Length"]) == end - start + 1


def test_a_range_past_the_end_is_416(base_url: str, stored: str) -> None:
    answer = requests.get(url_for(base_url), headers={"Range": "bytes=2000000-"}, timeout=10)
    assert answer.status_code == 416
    assert answer.headers["Content-Range"] == f"bytes */{len(VIDEO)}"


def test_head_sends_no_body(base_url: str, stored: str) -> None:
    answer = requests.head(url_for(base_url), timeout=10)
    assert answer.status_code == 200
    assert int(answer.headers["Content-Length"]) == len(VIDEO) and answer.content == b""


def test_a_download_is_an_attachment(base_url: str, stored: str) -> None:
    answer = requests.get(url_for(base_url, download="talkingphoto-1.mp4"), timeout=10)
    assert answer.status_code == 200 and answer.content == VIDEO
    assert answer.headers["Content-Disposition"] == 'attachment; filename="talkingphoto-1.mp4"'


def test_forged_expired_and_foreign_tokens_are_refused(base_url: str, stored: str) -> None:
    from services import tokens

    good = url_for(base_url)
    token = good.rsplit("/", 1)[1]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    expired = tokens.sign("media", {"k": KEY}, 60, now=time.time() - 3600)
    other_purpose = tokens.sign("payment", {"k": KEY}, 600)
    for bad in (forged, expired, other_purpose, "x", "a.b.c"):
        answer = requests.get(f"{base_url}/api/media/{bad}", timeout=10)
        assert answer.status_code == 403, bad
        assert answer.content != VIDEO and answer.headers["Cache-Control"] == "no-store"
    assert requests.get(good, timeout=10).status_code == 200


def test_a_token_for_a_bad_key_is_refused(base_url: str, foundation_env: Path) -> None:
    from services import tokens

    foundation_env.mkdir(parents=True, exist_ok=True)
    (foundation_env / "secret.txt").write_text("do not serve")
    token = tokens.sign("media", {"k": "../secret.txt"}, 600)
    answer = requests.get(f"{base_url}/api/media/{token}", timeout=10)
    assert answer.status_code == 403 and b"do not serve" not in answer.content


def test_a_deleted_file_is_404(base_url: str, stored: str) -> None:
    from services import media

    url = url_for(base_url)
    media.delete(KEY)
    assert requests.get(url, timeout=10).status_code == 404


def test_urls_are_reused_within_a_window_so_players_do_not_restart(stored: str) -> None:
    from services import media

    first = media.playback_url(KEY)
    assert media.playback_url(KEY) == first
    assert media.download_url(KEY, "a.mp4") != first


def test_remote_back_ends_redirect_to_their_signed_url(base_url: str, foundation_env: Path) -> None:
    import storage
    from storage.local import LocalStorage

    class Remote(LocalStorage):
        def local_path(self, key: str) -> None:  # type: ignore[override]
            return None

        def url(self, key: str, *, expires_s: int, download_name: str | None = None) -> str:
            return f"https://bucket.example/{key}?X-Amz-Expires={expires_s}"

    from services import media, tokens

    previous = storage.use_storage(Remote(foundation_env / "remote"))
    try:
        assert media.playback_url(KEY).startswith("https://bucket.example/")  # no route needed
        token = tokens.sign("media", {"k": KEY}, 600)
        answer = requests.get(f"{base_url}/api/media/{token}", allow_redirects=False, timeout=10)
    finally:
        storage.use_storage(previous)
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"https://bucket.example/{KEY}?X-Amz-Expires=3600"
    assert answer.headers["Cache-Control"] == "no-store"


# ------------------------------------------------------------------ Hardening v2 (items 5, 8)


def test_a_matching_if_none_match_is_304_without_the_body(base_url: str, stored: str) -> None:
    first = requests.get(url_for(base_url), timeout=10)
    etag = first.headers["ETag"]
    again = requests.get(url_for(base_url), headers={"If-None-Match": etag}, timeout=10)
    assert again.status_code == 304  # today: 200 and the whole megabyte again
    assert again.content == b""
    assert again.headers["ETag"] == etag
    # the same caching rule (max-age counts down to the token's expiry, so it may be a second less)
    policy, _, age = again.headers["Cache-Control"].partition("max-age=")
    first_policy, _, first_age = first.headers["Cache-Control"].partition("max-age=")
    assert policy == first_policy and 0 <= int(first_age or 0) - int(age or 0) <= 5
    listed = requests.get(
        url_for(base_url), headers={"If-None-Match": f'"other", W/{etag}'}, timeout=10
    )
    assert listed.status_code == 304
    other = requests.get(url_for(base_url), headers={"If-None-Match": '"other"'}, timeout=10)
    assert other.status_code == 200 and other.content == VIDEO


def test_the_share_preview_ignores_a_forged_host_header(
    jobs_env: object, settings_env: Any
) -> None:
    """og:url, og:video, og:image, the refresh and the link: all from ``[app] base_url``."""
    import re

    from services import accounts, sharing
    from tests.test_sharing import make_video

    settings_env(
        app__base_url="https://talkingphoto.example", features__enable_social_sharing="true"
    )
    user = accounts.current_user()
    made = sharing.create(make_video(user.id).id, user.id, title="Mine")
    with serve() as base:
        answer = requests.get(
            f"{base}{made.path}",
            headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
            timeout=10,
        )
    assert answer.status_code == 200
    assert 'property="og:video"' in answer.text
    assert "evil.example" not in answer.text  # today: og:url, og:video, the refresh, the link
    urls = re.findall(r"https?://[^\"'\s<>]+", answer.text)
    assert len(urls) >= 4
    assert all(u.startswith("https://talkingphoto.example/") for u in urls), urls
