"""Share links: a public page for one video, revocable, optionally expiring.

A link's token is derived from a random salt (``share_links.token_salt``, 16 random bytes)
and the server's signing key (:func:`services.tokens.derive`, HMAC-SHA256); only the
token's SHA-256 is stored for lookups (``share_links.token_hash``). So the owner can copy
the link again at any time (:attr:`ShareLinkView.token`), while a copy of the database alone
reveals no working link. Links made before migration 0007 have no salt: they keep working
but cannot be shown again; after a change of the signing key, salted links cannot be shown
again either (the derived token no longer matches the stored hash) but still open.

Opening a link (:func:`open_link`) gives the same :class:`errors.ShareError`
for a guessed, revoked or expired token, a deleted video, or sharing turned off: a visitor
learns nothing about which links exist.

``[features] enable_social_sharing`` turns the feature on. Deleting a video revokes its
links (:func:`revoke_for_job`, called by ``services.jobs.delete``).

**Media for visitors and link previews.** A link's video, thumbnail and captions are served
at share-scoped URLs, ``/api/share/<token>/video.mp4`` (:func:`media_path`, route in
``web/media.py``): they work exactly as long as the link does (no hour-long expiry, so a
WhatsApp or Facebook preview cached for days still loads) and stop the moment it is revoked,
expires or the video is deleted. :func:`embed_code` is a ``<video>`` snippet built on them.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.models import Job, ShareLink, utcnow
from db.session import read_scope, session_scope
from errors import N_, JobNotFound, ShareError
from secrets_manager import get_settings
from services import analytics, tokens

SALT_BYTES = 16
TOKEN_PURPOSE = "share-link"
TITLE_MAX_CHARS = 120
MAX_ACTIVE_LINKS_PER_VIDEO = 10
EXPIRY_DAYS_MAX = 365
SHARE_PAGE = "share"  # url_path of views/share.py; the token goes in ?t=
PREVIEW_ROUTE = "/api/share/"  # web/media.py: Open Graph tags, then on to the page
# What a link serves under /api/share/<token>/<name>: name -> the job's column.
MEDIA_NAMES: dict[str, str] = {
    "video.mp4": "video_key",
    "thumbnail.jpg": "thumbnail_key",
    "captions.vtt": "vtt_key",
}


@dataclass(frozen=True)
class ShareLinkView:
    id: int
    job_id: str
    title: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    views: int
    # The link's token, for its owner to copy again; None for links that cannot be shown
    # again (made before migration 0007, or the signing key changed since).
    token: str | None = None

    @property
    def path(self) -> str | None:
        """The link to hand out (relative; pages make it absolute), when it can be shown."""
        return link_path(self.token) if self.token else None

    def active(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True)
class NewShareLink:
    """A link just made: the only time its token is known."""

    link: ShareLinkView
    token: str

    @property
    def path(self) -> str:
        """The link to hand out, relative to the app (pages make it absolute)."""
        return link_path(self.token)


def link_path(token: str) -> str:
    """``/api/share/<token>``: link previews get Open Graph tags there, people are sent on to
    the share page ``/share?t=<token>`` (see web/media.py)."""
    return PREVIEW_ROUTE + token


def page_path(token: str) -> str:
    return f"/{SHARE_PAGE}?t={token}"


def media_path(token: str, name: str) -> str:
    """``/api/share/<token>/<name>`` (``video.mp4``, ``thumbnail.jpg``, ``captions.vtt``):
    served while the link is active, whatever the age of the URL."""
    if name not in MEDIA_NAMES:
        raise ValueError(f"unknown share media {name!r}")
    return f"{PREVIEW_ROUTE}{token}/{name}"


def embed_code(token: str, base_url: str, title: str, *, poster: bool = True) -> str:
    """A ``<video>`` snippet for a web page or blog, playing the shared video from this app
    (it stops working when the link is revoked). ``base_url``: ``[app] base_url``."""
    base = base_url.rstrip("/")
    attrs = [
        f'src="{html.escape(base + media_path(token, "video.mp4"))}"',
        "controls",
        "playsinline",
        'preload="metadata"',
        'width="360"',
        f'title="{html.escape(title or "TalkingPhoto video")}"',
    ]
    if poster:
        attrs.append(f'poster="{html.escape(base + media_path(token, "thumbnail.jpg"))}"')
    return f"<video {' '.join(attrs)}></video>"


@dataclass(frozen=True)
class SharedVideo:
    """What the public page may show: nothing about the creator."""

    link_id: int
    title: str
    video_key: str
    vtt_key: str | None
    thumbnail_key: str | None
    duration_s: float | None
    language: str

    def media_key(self, name: str) -> str | None:
        """The storage key behind a share media name (:data:`MEDIA_NAMES`), if it exists."""
        column = MEDIA_NAMES.get(name)
        return getattr(self, column) if column else None


def enabled() -> bool:
    return get_settings().features.enable_social_sharing


def _token(link: ShareLink) -> str | None:
    """The link's token, re-derived from its salt, when it still matches the stored hash."""
    if not link.token_salt:
        return None
    token = tokens.derive(TOKEN_PURPOSE, link.token_salt)
    return token if secrets.compare_digest(tokens.stored_hash(token), link.token_hash) else None


def _view(link: ShareLink, *, with_token: bool = False) -> ShareLinkView:
    return ShareLinkView(
        id=link.id,
        job_id=link.job_id,
        title=link.title,
        created_at=link.created_at,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        views=link.views,
        token=_token(link) if with_token else None,
    )


def clean_title(title: str) -> str:
    return " ".join(str(title).split())[:TITLE_MAX_CHARS]


def create(
    job_id: str,
    user_id: int,
    *,
    title: str = "",
    expires_in_days: int | None = None,
    now: datetime | None = None,
) -> NewShareLink:
    """A new link to the creator's finished video. ShareError when sharing is off, the video
    is not finished, or it already has too many active links; JobNotFound unless it is theirs."""
    if not enabled():
        raise ShareError(N_("Sharing is turned off."))
    if expires_in_days is not None and not 1 <= expires_in_days <= EXPIRY_DAYS_MAX:
        raise ShareError(
            N_("A link can last from 1 to {days} days."), params={"days": EXPIRY_DAYS_MAX}
        )
    now = now or utcnow()
    salt = secrets.token_hex(SALT_BYTES)
    token = tokens.derive(TOKEN_PURPOSE, salt)
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None or job.user_id != user_id:
            raise JobNotFound()
        if job.status != "succeeded" or not job.video_key:
            raise ShareError(N_("Only a finished video can be shared."))
        active = session.scalar(
            select(func.count())
            .select_from(ShareLink)
            .where(ShareLink.job_id == job_id, *_active_clause(now))
        )
        if (active or 0) >= MAX_ACTIVE_LINKS_PER_VIDEO:
            raise ShareError(
                N_("This video already has {n} share links; revoke one first."),
                params={"n": MAX_ACTIVE_LINKS_PER_VIDEO},
            )
        link = ShareLink(
            token_hash=tokens.stored_hash(token),
            token_salt=salt,
            job_id=job_id,
            user_id=user_id,
            title=clean_title(title),
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
            views=0,
        )
        session.add(link)
        session.flush()
        view = _view(link, with_token=True)

    analytics.record("share", user_id=user_id, job_id=job_id)
    return NewShareLink(link=view, token=token)


def _active_clause(now: datetime) -> tuple[object, ...]:
    return (
        ShareLink.revoked_at.is_(None),
        (ShareLink.expires_at.is_(None)) | (ShareLink.expires_at > now),
    )


def links_for_job(job_id: str, user_id: int) -> list[ShareLinkView]:
    """The video's links that were not revoked, newest first (expired ones included), each
    with its token when it can be shown again (only the owner gets here)."""
    with read_scope() as session:
        rows = session.scalars(
            select(ShareLink)
            .where(
                ShareLink.job_id == job_id,
                ShareLink.user_id == user_id,
                ShareLink.revoked_at.is_(None),
            )
            .order_by(ShareLink.created_at.desc(), ShareLink.id.desc())
        )
        return [_view(link, with_token=True) for link in rows]


def revoke(link_id: int, user_id: int, *, now: datetime | None = None) -> None:
    """Stop a link at once (idempotent); JobNotFound unless it is the user's."""
    with session_scope() as session:
        link = session.get(ShareLink, link_id)
        if link is None or link.user_id != user_id:
            raise JobNotFound()
        if link.revoked_at is None:
            link.revoked_at = now or utcnow()


def revoke_for_job(session: Session, job_id: str, *, now: datetime | None = None) -> int:
    """Revoke every link of a video inside the caller's transaction; returns how many."""
    result = session.execute(
        update(ShareLink)
        .where(ShareLink.job_id == job_id, ShareLink.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def open_link(token: str, *, count_view: bool = True, now: datetime | None = None) -> SharedVideo:
    """The shared video behind ``token``; ShareError ("no longer shared") for anything else."""
    if not token or not enabled() or len(token) > 200:
        raise ShareError()
    now = now or utcnow()
    with session_scope() as session:
        row = session.execute(
            select(ShareLink, Job)
            .join(Job, Job.id == ShareLink.job_id)
            .where(ShareLink.token_hash == tokens.stored_hash(token), *_active_clause(now))
        ).first()
        if row is None:
            raise ShareError()
        link, job = row
        if job.status != "succeeded" or not job.video_key:
            raise ShareError()
        if count_view:  # in SQL: two visitors at once both count
            session.execute(
                update(ShareLink).where(ShareLink.id == link.id).values(views=ShareLink.views + 1)
            )
        return SharedVideo(
            link_id=link.id,
            title=link.title or job.title,
            video_key=job.video_key,
            vtt_key=job.vtt_key if job.params.get("captions") == "srt" else None,
            thumbnail_key=job.thumbnail_key,
            duration_s=job.duration_s,
            language=job.language,
        )


def link_is_active(link_id: int, *, now: datetime | None = None) -> bool:
    """Whether media URLs handed out for this link may still be served."""
    if not enabled():
        return False
    now = now or utcnow()
    with read_scope() as session:
        found = session.scalar(
            select(ShareLink.id).where(ShareLink.id == link_id, *_active_clause(now))
        )
        return found is not None


def shared_media_key(token: str, name: str, *, now: datetime | None = None) -> str:
    """The storage key a share media URL serves (``media_path``); ShareError when the link
    is not active (revoked, expired, deleted video, sharing off) or has no such file."""
    key = open_link(token, count_view=False, now=now).media_key(name)
    if not key:
        raise ShareError()
    return key
