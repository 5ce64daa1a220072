"""Players, links and share buttons that pages share; media always goes by URL.

``st.video`` with a path or bytes copies the whole file into Streamlit's in-memory media
store; with a URL the browser streams it (and seeks with Range requests) straight from
storage or from the app's ``/api/media`` route. ``st.video`` only accepts *absolute* http(s)
URLs (or ``/app/static/``), so route paths are prefixed with the origin the visitor used
(``st.context.url``), falling back to ``[app] base_url``.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, urlsplit

import streamlit as st

from errors import StorageError
from i18n import _, format_number
from secrets_manager import get_settings
from services import media

log = logging.getLogger("talkingphoto.ui")


def origin() -> str:
    """``scheme://host[:port]`` as this visitor reaches the app."""
    url = st.context.url if isinstance(st.context.url, str) else ""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return get_settings().app.base_url


def absolute(path_or_url: str) -> str:
    return media.absolute(path_or_url, origin())


def playback_url(key: str, *, share_id: int | None = None) -> str | None:
    try:
        return absolute(media.playback_url(key, share_id=share_id))
    except StorageError:
        log.warning("no playback URL for %s", key, exc_info=True)
        return None


def download_url(key: str, file_name: str) -> str | None:
    try:
        return absolute(media.download_url(key, file_name))
    except StorageError:
        log.warning("no download URL for %s", key, exc_info=True)
        return None


def _subtitles(key: str | None) -> str | bytes | None:
    """WebVTT for the player: a local file's path, or the (small) text from a remote store."""
    if not key:
        return None
    try:
        if (path := media.local_file(key)) is not None:
            return str(path) if path.is_file() else None
        with media.open(key) as fh:
            return fh.read()
    except StorageError:
        log.warning("subtitles %s unavailable", key, exc_info=True)
        return None


def player(video_key: str, *, vtt_key: str | None = None, share_id: int | None = None) -> bool:
    """``st.video`` fed by URL; False (and a note) when the video cannot be reached."""
    url = playback_url(video_key, share_id=share_id)
    if url is None:
        st.warning(_("The video cannot be played right now; please try again."))
        return False
    st.video(url, subtitles=_subtitles(vtt_key))
    return True


def format_bytes(n: int) -> str:
    """``1536000`` -> ``"1.5 MB"`` (decimal units, the way phones show storage)."""
    if n < 1000:
        return _("{n} bytes").format(n=format_number(n))
    if n < 1_000_000:
        return _("{n} KB").format(n=format_number(n / 1000, decimals=1))
    if n < 1_000_000_000:
        return _("{n} MB").format(n=format_number(n / 1_000_000, decimals=1))
    return _("{n} GB").format(n=format_number(n / 1_000_000_000, decimals=2))


def share_targets(url: str, title: str) -> list[tuple[str, str, str]]:
    """(label, icon, href) for each place a share link can go."""
    text = f"{title} {url}".strip()
    u, t = quote(url, safe=""), quote(title, safe="")
    return [
        ("WhatsApp", ":material/chat:", f"https://wa.me/?text={quote(text, safe='')}"),
        ("X", ":material/tag:", f"https://x.com/intent/tweet?text={t}&url={u}"),
        ("Facebook", ":material/thumb_up:", f"https://www.facebook.com/sharer/sharer.php?u={u}"),
        ("LinkedIn", ":material/work:", f"https://www.linkedin.com/sharing/share-offsite/?url={u}"),
        (_("Email"), ":material/mail:", f"mailto:?subject={t}&body={quote(text, safe='')}"),
    ]


def share_buttons(url: str, title: str, *, key: str) -> None:
    """One button per network (each opens in a new tab) and the link with a copy button."""
    targets = share_targets(url, title)
    columns = st.columns(len(targets))
    for column, (label, icon, href) in zip(columns, targets, strict=True):
        with column:
            st.link_button(label, href, icon=icon, key=f"{key}_{label}", width="stretch")
    st.caption(_("Copy link"))
    # st.code has a copy-to-clipboard button; the text stays selectable on every phone.
    st.code(url, language=None, wrap_lines=True)
