"""Players, links and share buttons that pages share; media always goes by URL.

``st.video`` with a path or bytes copies the whole file into Streamlit's in-memory media
store; with a URL the browser streams it (and seeks with Range requests) straight from
storage or from the app's ``/api/media`` route. ``st.video`` only accepts *absolute* http(s)
URLs (or ``/app/static/``), so route paths are prefixed with the origin the visitor used
(``st.context.url``), falling back to ``[app] base_url``.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from functools import cache
from pathlib import Path
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


def subtitles(key: str | None) -> str | bytes | None:
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
    st.video(url, subtitles=subtitles(vtt_key))
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


ICONS_DIR = Path(__file__).resolve().parent / "brand_icons"  # Bootstrap Icons 1.13.2, MIT
# network -> (icon file, brand colour). Brand colours from each network's brand guidelines.
BRANDS: dict[str, tuple[str, str]] = {
    "WhatsApp": ("whatsapp.svg", "#1A7F44"),  # darkened from #25D366 for 4.5:1 with white
    "X": ("twitter-x.svg", "#000000"),
    "Facebook": ("facebook.svg", "#0866FF"),
    "LinkedIn": ("linkedin.svg", "#0A66C2"),
    "Telegram": ("telegram.svg", "#1F7AB8"),  # darkened from #26A5E4 for 4.5:1 with white
    "Email": ("envelope-fill.svg", "#5B4CF0"),
}


@cache
def brand_icon(name: str) -> str:
    """The vendored SVG for a network as a white ``<img>`` (a data URI: ``st.html`` keeps
    its sanitiser on, which drops inline ``<svg>``); decorative, the link text names it."""
    svg = (ICONS_DIR / BRANDS[name][0]).read_text("utf-8").replace("currentColor", "#fff")
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{data}" alt="" width="18" height="18">'


def share_targets(url: str, title: str) -> list[tuple[str, str, str]]:
    """(network, label, href) for each place a share link can go."""
    text = f"{title} {url}".strip()
    u, t, both = quote(url, safe=""), quote(title, safe=""), quote(text, safe="")
    return [
        ("WhatsApp", "WhatsApp", f"https://wa.me/?text={both}"),
        ("X", "X", f"https://x.com/intent/post?text={t}&url={u}"),
        ("Facebook", "Facebook", f"https://www.facebook.com/sharer/sharer.php?u={u}"),
        ("LinkedIn", "LinkedIn", f"https://www.linkedin.com/sharing/share-offsite/?url={u}"),
        ("Telegram", "Telegram", f"https://t.me/share/url?url={u}&text={t}"),
        ("Email", _("Email"), f"mailto:?subject={t}&body={both}"),
    ]


_SHARE_CSS = """
<style>
.tp-share { display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 0.25rem 0 0.75rem 0; }
.tp-share a { display: inline-flex; align-items: center; gap: 0.45rem; min-height: 44px;
  padding: 0 0.9rem; border-radius: 999px; color: #fff; text-decoration: none;
  font-weight: 600; font-size: 0.95rem; line-height: 1; }
.tp-share a:hover, .tp-share a:focus-visible { filter: brightness(1.12); color: #fff;
  text-decoration: none; }
.tp-share a:focus-visible { outline: 3px solid #1D2233; outline-offset: 2px; }
.tp-share img { width: 1.15rem; height: 1.15rem; flex: none; }
.tp-copy { display: flex; gap: 0.5rem; align-items: stretch; margin: 0.2rem 0 0.2rem 0; }
.tp-copy input, .tp-copy textarea { flex: 1; min-width: 0; min-height: 44px; padding: 0 0.7rem;
  border: 1px solid #CFCBE3; border-radius: 10px; background: #F1EEF8; color: #1D2233;
  font: 0.92rem ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.tp-copy textarea { padding: 0.5rem 0.7rem; resize: vertical; }
.tp-copy button { min-height: 44px; min-width: 5.5rem; padding: 0 1rem; border: 0;
  border-radius: 10px; background: #5B4CF0; color: #fff; font-weight: 650; cursor: pointer;
  font-size: 0.95rem; }
.tp-copy button:focus-visible { outline: 3px solid #1D2233; outline-offset: 2px; }
.tp-copy-note { color: #5F6577; font-size: 0.85rem; min-height: 1.2rem; margin: 0; }
</style>
"""

_COPY_SCRIPT = """
<script>
(() => {
  const box = document.getElementById("%(id)s");
  if (!box || box.dataset.ready) return;
  box.dataset.ready = "1";
  const field = box.querySelector("input, textarea");
  const note = box.parentElement.querySelector(".tp-copy-note");
  const fallback = () => { field.focus(); field.select();
    field.setSelectionRange(0, field.value.length); note.textContent = %(fallback)s; };
  field.addEventListener("focus", () => field.select());
  box.querySelector("button").addEventListener("click", async () => {
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
      await navigator.clipboard.writeText(field.value);
      note.textContent = %(done)s;
    } catch (err) {
      fallback();
      try { if (document.execCommand("copy")) note.textContent = %(done)s; } catch (e) {}
    }
  });
})();
</script>
"""


def copy_box(text: str, *, key: str, label: str, multiline: bool = False) -> None:
    """A read-only field holding ``text`` and a Copy button (``navigator.clipboard``). Where
    the clipboard is not allowed (plain http, old browsers) the text is selected and a note
    says to copy it by hand; the field always shows the whole text, so it can be selected."""
    box_id = "tp-copy-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)
    value = html.escape(text, quote=True)
    if multiline:
        field = f'<textarea readonly rows="3" aria-label="{html.escape(label)}">{value}</textarea>'
    else:
        field = f'<input type="text" readonly value="{value}" aria-label="{html.escape(label)}">'
    script = _COPY_SCRIPT % {
        "id": box_id,
        "done": json.dumps(_("Copied")),
        "fallback": json.dumps(_("Selected: press and hold (or Ctrl+C) to copy.")),
    }
    # (a call inside an f-string is invisible to Babel's extractor on Python < 3.12)
    copy = html.escape(_("Copy"))
    st.html(
        _SHARE_CSS
        + f'<div class="tp-copy" id="{box_id}" data-testid="tp-copy-{html.escape(key)}">'
        + f'{field}<button type="button">{copy}</button></div>'
        + '<p class="tp-copy-note" role="status" aria-live="polite"></p>'
        + script,
        unsafe_allow_javascript=True,
    )


def share_buttons(url: str, title: str, *, key: str) -> None:
    """One brand-coloured link per network (each opens in a new tab), then the link itself
    with a Copy button."""
    links = "".join(
        f'<a href="{html.escape(href, quote=True)}" target="_blank" rel="noopener noreferrer" '
        f'style="background:{BRANDS[network][1]}">{brand_icon(network)}'
        f"<span>{html.escape(label)}</span></a>"
        for network, label, href in share_targets(url, title)
    )
    share = html.escape(_("Share"))
    st.html(_SHARE_CSS + f'<nav class="tp-share" aria-label="{share}">{links}</nav>')
    copy_box(url, key=key, label=_("Copy link"))
