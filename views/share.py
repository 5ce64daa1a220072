"""The public page of a shared video: ``/share?t=<token>``. No sign-in needed.

It shows the title the creator chose, the player (by the link's own media URL,
``/api/share/<token>/video.mp4``: it works as long as the link does, so a page left open for
hours still seeks, and revoking the link stops playback too), buttons to pass the link on
(brand icons), the link with a Copy button, and an embed code. A guessed, revoked
or expired token, a deleted video and sharing turned off all get the same friendly page.

Open Graph: Streamlit serves one static ``index.html`` and renders everything else with
JavaScript, so link previews (WhatsApp, Facebook, X, LinkedIn crawlers run no JavaScript)
cannot see tags a page adds; only the browser tab title (``st.set_page_config``) is set here.
The link people pass on is therefore ``/api/share/<token>`` (web/media.py): a tiny HTML
page with the Open Graph tags that sends browsers straight on to this page.
"""

from __future__ import annotations

import hashlib
import html

import streamlit as st

from errors import ShareError
from i18n import _, format_seconds
from secrets_manager import get_settings
from services import sharing
from views._components import short_language
from views._media import absolute, copy_box, share_buttons, subtitles
from views._session import CREATE_PAGE, SIGNIN_PAGE, current_user

SEEN = "share_views_counted"


def _first_visit(token: str) -> bool:
    """A view is counted once per browser session, not on every rerun."""
    seen: set[str] = st.session_state.setdefault(SEEN, set())
    digest = hashlib.sha256(token.encode()).hexdigest()[:16]
    if digest in seen:
        return False
    seen.add(digest)
    return True


def _gone() -> None:
    st.title(_("This video is no longer shared"))
    st.write(
        _(
            "The link may have been turned off by the person who shared it, or it has "
            "expired. Ask them for a new link."
        )
    )
    st.page_link(_home(), label=_("Make your own talking photo"), icon=":material/movie:")


def _home() -> str:

    return CREATE_PAGE if current_user() is not None else SIGNIN_PAGE


def main() -> None:
    token = st.query_params.get("t", "")
    try:
        video = sharing.open_link(token, count_view=_first_visit(token) if token else False)
    except ShareError:
        _gone()
        return
    title = video.title or _("A video made with TalkingPhoto")
    st.set_page_config(page_title=f"{title} · TalkingPhoto")
    # The creator typed the title: shown as plain text, never as Markdown (no links, icons).
    st.html(f'<h1 class="tp-share-title" dir="auto">{html.escape(title)}</h1>')
    facts = [
        format_seconds(video.duration_s) if video.duration_s else "",
        short_language(video.language),
    ]
    st.caption(" · ".join(part for part in facts if part))
    with st.container(key="shared_player"):
        st.video(
            absolute(sharing.media_path(token, "video.mp4")), subtitles=subtitles(video.vtt_key)
        )
    st.markdown("**" + _("Share this video") + "**")
    base = get_settings().app.base_url.rstrip("/")  # links people keep: the public address
    share_buttons(base + sharing.link_path(token), title, key="share_page")
    with st.expander(_("Embed on a website")):
        st.caption(_("Paste this code into a web page to show the video there."))
        code = sharing.embed_code(token, base, title, poster=video.thumbnail_key is not None)
        copy_box(code, key="share_embed", label=_("Embed code"), multiline=True)
    st.divider()
    st.page_link(_home(), label=_("Make your own talking photo"), icon=":material/movie:")


main()
