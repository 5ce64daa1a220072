"""Routes next to the UI: ``GET /api/media/<token>`` (stored media for browsers, with HTTP
Range so phones can seek) and ``GET /api/share/<token>`` (a shared video's link preview).

The token (``services.media.playback_url``/``download_url``) is signed and expires, and names
one key; the route never takes a key or a path from the URL. Answers:

* 200 with the whole file, or 206 with the requested bytes (``Range: bytes=a-b``, suffix and
  multi-range too; ``Content-Range``), 416 for a range past the end (Starlette's FileResponse
  reads the file in chunks: a video is never loaded into memory);
* ``Cache-Control: private`` for the token's remaining life (the content under a token never
  changes), ``Accept-Ranges``, ``ETag``/``Last-Modified``; 304 for a matching
  ``If-None-Match``,
  ``X-Content-Type-Options: nosniff``; ``Content-Disposition: attachment`` for downloads;
* 403 for a forged or expired token or a revoked share link, 404 for a missing file;
* remote back ends (S3, Cloudinary): 302 to their own signed URL (``no-store``).

``GET /api/share/<token>/<name>`` (``video.mp4``, ``thumbnail.jpg``, ``captions.vtt``) serves a
shared video's files for as long as its link is active (``services.sharing.media_path``):
what the Open Graph tags, the share page's player and embed codes point at, so previews do
not break after the signed URLs' hour. 403 once the link is revoked or expired.

``/api/share/<token>`` exists because Streamlit pages cannot carry Open Graph tags: Streamlit
serves one static ``index.html`` and adds everything else with JavaScript, which link-preview
crawlers (WhatsApp, Facebook, X, LinkedIn) do not run. This route answers a small HTML page
with ``og:title``/``og:video``/``og:image`` and sends browsers on to ``/share?t=<token>``
(meta refresh, so crawlers stay and read the tags). It never counts a view. Its absolute URLs
come from ``[app] base_url``, never from the request's ``Host`` header.

Sync endpoints: Starlette runs them in its thread pool, so the DB and disk never block the loop.
"""

from __future__ import annotations

import html
import logging
import time
from datetime import UTC, datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Route

import storage
from errors import StorageError, TalkingPhotoError
from secrets_manager import get_settings
from services import media as media_service
from services import sharing

log = logging.getLogger("talkingphoto.media")

MAX_CACHE_S = 3600


def _text(status: int, body: str) -> PlainTextResponse:
    return PlainTextResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _now() -> float:
    """The routes' clock (unix seconds); tests move it instead of sleeping."""
    return time.time()


def media(request: Request) -> Response:
    token = request.path_params["token"]
    now = _now()
    try:
        claims = media_service.read_token(token, now=now)
        key = storage.check_key(str(claims["k"]))
    except (TalkingPhotoError, KeyError):
        return _text(403, "This link is not valid or has expired.")
    share_id = claims.get("s")
    if share_id is not None and not sharing.link_is_active(
        int(str(share_id)), now=datetime.fromtimestamp(now, UTC)
    ):
        return _text(403, "This video is no longer shared.")
    name = claims.get("n")
    expires = claims.get("e")
    remaining = int(float(str(expires)) - now) if expires is not None else MAX_CACHE_S
    max_age = max(0, min(MAX_CACHE_S, remaining))
    return _serve(request, key, str(name) if name else None, f"private, max-age={max_age}")


def share_media(request: Request) -> Response:
    """``/api/share/<token>/<name>``: a shared video's file for as long as the link is active
    (link previews, the share page's player, embed codes). Revalidated on every use
    (``no-cache`` + ETag), so a revoked link stops serving at once, even through a cache."""
    token, name = request.path_params["token"], request.path_params["name"]
    try:
        key = sharing.shared_media_key(token, name, now=datetime.fromtimestamp(_now(), UTC))
    except TalkingPhotoError:
        return _text(
            404 if name not in sharing.MEDIA_NAMES else 403, "This video is no longer shared."
        )
    return _serve(request, storage.check_key(key), None, "public, no-cache")


def _serve(request: Request, key: str, download_name: str | None, cache: str) -> Response:
    """The stored file for ``key``: local files with Range/ETag/304, remote ones by a 302 to
    the store's own short-lived signed URL (made now, so it is always fresh)."""
    try:
        store = storage.get_storage()
        path = store.local_path(key)
        if path is None:  # remote: the store's own signed URL serves it
            url = store.url(key, expires_s=_remote_expiry(), download_name=download_name)
            if url is None:
                return _text(404, "Not found.")
            return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
    except StorageError:
        log.warning("media route: storage error for %s", key, exc_info=True)
        return _text(503, "Storage is unavailable; please try again.")
    if not path.is_file():
        return _text(404, "Not found.")
    response = FileResponse(
        path,
        media_type=storage.content_type(key),
        filename=download_name,
        content_disposition_type="attachment" if download_name else "inline",
        headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
        stat_result=path.stat(),  # sets ETag and Last-Modified now, for the check below
    )
    if _not_modified(request.headers.get("if-none-match"), response.headers.get("etag")):
        keep = ("etag", "cache-control", "last-modified", "x-content-type-options")
        return Response(
            status_code=304, headers={k: v for k, v in response.headers.items() if k in keep}
        )
    return response


def _not_modified(if_none_match: str | None, etag: str | None) -> bool:
    """RFC 9110 13.1.2: weak comparison against each listed tag, or ``*``."""
    if not if_none_match or not etag:
        return False
    wanted = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in wanted or etag.removeprefix("W/") in wanted


def _remote_expiry() -> int:
    return get_settings().storage.url_expiry_s


PREVIEW = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
<meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:site_name" content="TalkingPhoto">
<meta property="og:type" content="{og_type}">
<meta property="og:title" content="{title}">
<meta property="og:description" content="{description}">
<meta property="og:url" content="{page}">
{media}<meta name="twitter:card" content="{card}">
<meta http-equiv="refresh" content="0; url={page}">
</head><body><p><a href="{page}">{title}</a></p></body></html>
"""


def share_preview(request: Request) -> HTMLResponse:
    token = request.path_params["token"]
    # Every absolute URL from the configured public address, never from the request's Host
    # header (which anyone can set: a poisoned preview cached by a crawler or a proxy).
    base = get_settings().app.base_url.rstrip("/")
    page = f"{base}/{sharing.SHARE_PAGE}?t={quote(token, safe='')}"
    title, tags, og_type, card = "TalkingPhoto", "", "website", "summary"
    try:
        shared = sharing.open_link(token, count_view=False, now=datetime.fromtimestamp(_now(), UTC))
        title = shared.title or "A video made with TalkingPhoto"
        # Share-scoped URLs: they live as long as the link, so a preview a crawler cached
        # days ago still loads (a signed media URL would be dead after an hour).
        video = base + sharing.media_path(token, "video.mp4")
        tags = _tag("og:video", video)
        if video.startswith("https://"):
            tags += _tag("og:video:secure_url", video)
        tags += _tag("og:video:type", "video/mp4")
        og_type = "video.other"
        if shared.thumbnail_key:
            tags += _tag("og:image", base + sharing.media_path(token, "thumbnail.jpg"))
            tags += _tag("og:image:type", storage.content_type(shared.thumbnail_key))
            card = "summary_large_image"
    except TalkingPhotoError:
        pass  # dead or guessed: a generic card; the share page says "no longer shared"
    body = PREVIEW.format(
        title=html.escape(title),
        description=html.escape("A talking photo video"),
        page=html.escape(page),
        media=tags,
        og_type=og_type,
        card=card,
    )
    return HTMLResponse(
        body, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


def _tag(name: str, value: str) -> str:
    return f'<meta property="{name}" content="{html.escape(value)}">\n'


ROUTES: list[BaseRoute] = [
    Route("/api/media/{token}", media, methods=["GET", "HEAD"]),
    Route("/api/share/{token}", share_preview, methods=["GET", "HEAD"]),
    Route("/api/share/{token}/{name}", share_media, methods=["GET", "HEAD"]),
]
