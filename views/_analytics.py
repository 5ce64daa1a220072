"""Third-party analytics, only when configured, and the privacy text that names it.

* :func:`inject_ga` adds the Google Analytics 4 tag when ``[analytics] ga_measurement_id`` is
  set (and looks like ``G-XXXXXXX``); otherwise it adds nothing at all. Call it once per run
  from the app shell, before the page.
* :func:`privacy_text` says what is measured: the GA tag (named, with what it sends) when it
  is on, the app's own first-party events when ``[features] enable_analytics`` is on, and
  that there is no tracking otherwise. Show it where the privacy notice lives.
"""

from __future__ import annotations

import logging
import re

import streamlit as st

from i18n import _
from secrets_manager import get_settings

log = logging.getLogger("talkingphoto.ui")

_MEASUREMENT_ID = re.compile(r"^G-[A-Z0-9]{4,20}$")

_GA_TAG = """<script async src="https://www.googletagmanager.com/gtag/js?id={mid}"></script>
<script>
if (!window.__tpGa) {{
  window.__tpGa = true;
  window.dataLayer = window.dataLayer || [];
  function gtag(){{dataLayer.push(arguments);}}
  gtag('js', new Date());
  gtag('config', '{mid}', {{anonymize_ip: true}});
}}
</script>"""


def ga_measurement_id() -> str | None:
    """The configured id when it is valid; an invalid one is logged and ignored (it is put
    into a script, so nothing but the documented format is accepted)."""
    mid = get_settings().analytics.ga_measurement_id
    if not mid:
        return None
    if not _MEASUREMENT_ID.fullmatch(mid):
        log.warning("[analytics] ga_measurement_id is not a G-XXXXXXX id; no tag is added")
        return None
    return mid


def ga_tag() -> str | None:
    """The HTML of the tag, or None when Google Analytics is not configured."""
    mid = ga_measurement_id()
    return None if mid is None else _GA_TAG.format(mid=mid)


def inject_ga() -> bool:
    """Add the Google Analytics tag to the page when configured; returns whether it did."""
    tag = ga_tag()
    if tag is None:
        return False
    st.html(tag, unsafe_allow_javascript=True)
    return True


def privacy_text() -> str:
    """What the app measures, in the UI language (Markdown)."""
    settings = get_settings()
    parts: list[str] = []
    if ga_measurement_id() is not None:
        parts.append(
            _(
                "This app uses Google Analytics (by Google) to count visits and page use. "
                "It sets cookies and sends your browser details and a shortened IP address "
                "to Google. Your name, e-mail, photos and scripts are never sent."
            )
        )
    if settings.features.enable_analytics:
        parts.append(
            _(
                "We also record in our own database which steps are used (visit, upload, "
                "generate, download, share, purchase) to improve the app; this is not "
                "shared with anyone."
            )
        )
    if not parts:
        parts.append(_("This app uses no analytics or tracking cookies."))
    return "\n\n".join(parts)
