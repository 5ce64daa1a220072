"""The create page's choice of video service: the chooser, what the chosen service can truly
do, its price, and who made a finished video. The rules are ``services.generation``'s; this
module only draws them."""

from __future__ import annotations

import streamlit as st

from i18n import _, format_number, ngettext
from secrets_manager import get_settings
from services import generation, jobs
from services.generation import AUTO, Choice
from services.jobs import JobView

NEEDS_PUBLIC_PHOTO = generation.NEEDS_PUBLIC_PHOTO

__all__ = ["AUTO", "Choice", "label", "made_by", "price_text", "section"]


def label(name: str) -> str:
    if name == AUTO:
        return _("Auto: the first available service")
    if name == generation.LOCAL:
        return _("TalkingPhoto engine (on our server)")
    return generation.label(name)


def price_text(name: str, language: str) -> str:
    n = generation.price_per_started_30s(name, language)
    return ngettext("{n} credit per 30 s", "{n} credits per 30 s", n).format(n=format_number(n))


def section() -> Choice:
    """The chooser (shown when there is a choice) and what the chosen service can do."""
    options = generation.choices()
    default = get_settings().providers.default
    if st.session_state.get("provider") not in options:
        st.session_state["provider"] = default if default in options else options[0]
    if len(options) > 1:
        language = str(st.session_state.get("language") or "en")
        labels = {n: f"{label(n)} · {price_text(n, language)}" for n in options}
        st.selectbox(
            _("Video service"), options=options, format_func=labels.__getitem__, key="provider"
        )
    choice = generation.choice(str(st.session_state["provider"]))
    _explain(choice)
    return choice


def _explain(choice: Choice) -> None:
    name = label(choice.name)
    if choice.caps is None:
        order = [generation.label(n) for n in generation.auto_order()]
        st.caption(
            _(
                "Auto tries {services} in turn and uses the first that is available; "
                "you pay the price of the one that makes your video."
            ).format(services=", ".join(order))
        )
    elif not choice.caps.uses_photo:
        st.info(
            _(
                "{provider} cannot animate your photo: it makes the video with the presenter "
                "set up for this app, speaking your script."
            ).format(provider=name),
            icon=":material/info:",
        )
    elif not choice.caps.speaks:
        if choice.caps.needs_public_photo and not generation.storage_has_public_urls():
            st.warning(_(NEEDS_PUBLIC_PHOTO).format(provider=name), icon=":material/warning:")
        st.info(
            _(
                "Motion only, no lip-sync: {provider} animates your photo and our voice "
                "reads your script over it."
            ).format(provider=name),
            icon=":material/info:",
        )
    elif choice.name != generation.LOCAL:
        st.caption(_("{provider} animates your photo with lip-sync.").format(provider=name))


def made_by(job: JobView) -> None:
    """Which service made the video, and why, when Auto had to skip one."""
    used = job.provider_used or job.provider
    if not used or (used == generation.LOCAL and job.provider == generation.LOCAL):
        return
    tried = jobs.attempts(job.id, job.user_id)
    skipped = [a.provider for a in tried if a.outcome in ("failed", "skipped")]
    if job.provider == AUTO and skipped:
        st.caption(
            _("{failed} was not available, so {provider} made your video.").format(
                failed=", ".join(dict.fromkeys(label(n) for n in skipped)), provider=label(used)
            )
        )
    else:
        st.caption(_("Made with {provider}.").format(provider=label(used)))
