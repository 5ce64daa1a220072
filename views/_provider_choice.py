"""The create page's choice of video service: Auto or a configured provider, what it can
truly do, its voices for a language, and its price.

* One client per provider, shared by every session (``st.cache_resource``; adapters hold no
  per-job state, and their HTTP layer keeps one session per thread).
* Voices are cached for ``[providers] voices_ttl_s``: the cache key carries the current TTL
  window, so a list is fetched at most once per window and language, whatever the number of
  sessions. A vendor that cannot list its voices leaves the choice to its default voice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

import providers
from errors import TalkingPhotoError
from i18n import _, format_number, ngettext
from providers import router
from providers.base import Capabilities, GenerationRequest, Provider, Voice
from secrets_manager import Settings, get_settings
from services import jobs
from services.jobs import JobView

AUTO = router.AUTO


@dataclass(frozen=True)
class Choice:
    name: str  # "auto" or a provider name
    label: str
    languages: frozenset[str]
    caps: Capabilities | None  # None for auto (the router checks each candidate)


@st.cache_resource(show_spinner=False)
def _client(name: str, settings_id: int) -> Provider:
    """The page's client for ``name`` under the settings loaded as ``settings_id``."""
    settings = get_settings()
    options = {"min_face_px": settings.limits.min_face_px} if name == "local" else {}
    return providers.get_provider(name, **options)


def client(name: str) -> Provider:
    return _client(name, id(get_settings()))


@st.cache_data(show_spinner=False, max_entries=128)
def _voices(name: str, language: str, settings_id: int, window: int) -> list[Voice]:
    return _client(name, settings_id).voices(language)


def voices(name: str, language: str) -> list[Voice]:
    """``name``'s voices for ``language`` (cached per TTL window); raises the provider's
    errors, which are not cached, so the next rerun tries again."""
    settings = get_settings()
    window = int(time.time() // settings.providers.voices_ttl_s)
    return _voices(name, language, id(settings), window)


def names(settings: Settings | None = None) -> list[str]:
    """What the creator may choose: configured providers (the settings default first, if it
    is one), with Auto first when a cloud service is configured."""
    settings = settings or get_settings()
    found = router.configured_providers(settings)
    default = settings.providers.default
    if default != AUTO and default in providers.REGISTRY and default not in found:
        found.insert(0, default)
    if any(n in providers.SETTINGS_SECTIONS for n in found):
        found.insert(0, AUTO)
    return found


def label(name: str) -> str:
    if name == AUTO:
        return _("Auto: the first available service")
    if name == "local":
        return _("TalkingPhoto engine (on our server)")
    return router.label(name)


def price(name: str, language: str) -> int:
    """Credits per started 30 s; for Auto the first candidate's (charged at submit)."""
    if name == AUTO:
        try:
            name = router.plan(AUTO, _probe(language))[0]
        except TalkingPhotoError:
            name = "local"
    return router.price_per_started_30s(name)


def _probe(language: str) -> GenerationRequest:
    from pathlib import Path

    return GenerationRequest(photo_path=Path(), script="-", language=language)


def _choice(name: str) -> Choice:
    if name != AUTO:
        caps = client(name).capabilities()
        return Choice(name, label(name), caps.languages, caps)
    settings = get_settings()
    languages: set[str] = set()
    for candidate in settings.providers.order:
        if router.is_configured(candidate, settings):
            caps = client(candidate).capabilities()
            if caps.uses_photo and caps.speaks:
                languages |= caps.languages
    return Choice(AUTO, label(AUTO), frozenset(languages), None)


def section() -> Choice:
    """The chooser (shown when there is a choice) and what the chosen service can do."""
    options = names()
    default = get_settings().providers.default
    if st.session_state.get("provider") not in options:
        st.session_state["provider"] = default if default in options else options[0]
    if len(options) > 1:
        language = str(st.session_state.get("language") or "en")
        labels = {n: f"{label(n)} · {price_text(n, language)}" for n in options}
        st.selectbox(
            _("Video service"), options=options, format_func=labels.__getitem__, key="provider"
        )
    choice = _choice(str(st.session_state["provider"]))
    _explain(choice)
    return choice


def _explain(choice: Choice) -> None:
    if choice.caps is None:
        order = [router.label(n) for n in get_settings().providers.order if router.is_configured(n)]
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
            ).format(provider=choice.label),
            icon=":material/info:",
        )
    elif not choice.caps.speaks:
        if choice.caps.needs_public_photo and not jobs.storage_has_public_urls():
            from providers.luma import NEEDS_PUBLIC_PHOTO

            warning = _(NEEDS_PUBLIC_PHOTO).format(provider=choice.label)
            st.warning(warning, icon=":material/warning:")
        st.info(
            _(
                "Motion only, no lip-sync: {provider} animates your photo and our voice "
                "reads your script over it."
            ).format(provider=choice.label),
            icon=":material/info:",
        )
    elif choice.name != "local":
        st.caption(_("{provider} animates your photo with lip-sync.").format(provider=choice.label))


def price_text(name: str, language: str) -> str:
    n = price(name, language)
    return ngettext("{n} credit per 30 s", "{n} credits per 30 s", n).format(n=format_number(n))


def made_by(job: JobView) -> None:
    """Which service made the video, and why, when Auto had to skip one."""
    used = job.provider_used or job.provider
    if not used or (used == "local" and job.provider == "local"):
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
