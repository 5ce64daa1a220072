"""Terms of service and privacy policy from settings-driven templates, and who accepted which.

    document(kind, language)   the filled-in text (Markdown) of "terms" or "privacy"
    processors(settings)       the service providers that process personal data, each named
                               only when it is configured
    accept(user_id)            record that a creator accepted the current versions
    acceptance(user_id)        their latest acceptance, or None
    needs_acceptance(user_id)  whether the current versions are not yet accepted

The templates are ``services/legal_templates/<kind>.<lang>.md``, with ``{placeholders}`` for
the operator's details from ``[legal]`` and ``[support]``, the retention settings of
``[storage]``, and the processors. They are marked as templates to review with counsel; values
the operator has not set show as a visible marker. A language is shown as soon as both of its
templates exist (otherwise English); the phrases the code fills in (processors, the marker,
retention) are msgids in ``locales/<lang>/LC_MESSAGES/legal.po``, translated with the
document's language, not the session's.

The accepted versions are the explicit ``[legal] terms_version`` / ``privacy_version``
settings, never derived from the template files: adding or correcting a translation does not
ask every creator to accept again; the operator bumps the version when the terms change.
"""

from __future__ import annotations

import datetime as dt
import gettext
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from sqlalchemy import select

from db.golive_models import TermsAcceptance
from db.models import User, utcnow
from db.session import read_scope, session_scope
from errors import N_, InputError
from i18n import DEFAULT_LANGUAGE, DOMAIN, LOCALES_DIR
from secrets_manager import Settings, get_settings

TEMPLATES = Path(__file__).resolve().parent / "legal_templates"
Kind = Literal["terms", "privacy"]
KINDS: tuple[str, ...] = ("terms", "privacy")
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
# Shown, in the document's language, where the operator has not set a value yet.
_MISSING = N_("[to be filled in]")
_NO_PROCESSORS = N_("None: everything runs on our own servers.")
_KEPT_UNTIL_DELETED = N_("until you delete them (or your account)")
_DELETED_AT_ONCE = N_("as soon as your video is made")
_MAKES_VIDEOS = N_("Makes the talking video from your photo and script")
_TAKES_PAYMENTS = N_("Takes payments (we never see full card or UPI details)")
_STORES_MEDIA = N_("Stores photos and videos")


@dataclass(frozen=True)
class Processor:
    """A third party that receives personal data.

    ``name`` is a brand name (never translated) or, when ``name_template`` is set, the
    English name of a kind of service filled with ``host``; ``purpose`` and ``name_template``
    are msgids, translated into the document's language when the document is rendered."""

    name: str
    purpose: str
    name_template: str | None = None
    host: str = ""

    def label(self, catalog: gettext.NullTranslations) -> str:
        """The name in ``catalog``'s language (brand names as they are)."""
        if self.name_template is None:
            return self.name
        return catalog.gettext(self.name_template).format(host=self.host)


@dataclass(frozen=True)
class Acceptance:
    terms_version: str
    privacy_version: str
    accepted_at: dt.datetime


def _inert(value: str) -> str:
    """An operator's value shown as typed (no links, no formatting)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(value.split()))


def processors(settings: Settings) -> list[Processor]:
    """Third parties that receive personal data, each only when configured."""
    found: list[Processor] = []
    vendors = (
        ("d_id", "D-ID"),
        ("heygen", "HeyGen"),
        ("synthesia", "Synthesia"),
        ("luma_ai", "Luma AI"),
    )
    for section, label in vendors:
        if getattr(settings, section).api_key is not None:
            found.append(Processor(label, _MAKES_VIDEOS))
    if settings.features.enable_payments:
        if settings.stripe.secret_key is not None:
            found.append(Processor("Stripe", _TAKES_PAYMENTS))
        if settings.razorpay.key_secret is not None:
            found.append(Processor("Razorpay", _TAKES_PAYMENTS))
    if settings.storage.backend == "s3":
        found.append(Processor("Amazon Web Services (S3)", _STORES_MEDIA))
    elif settings.storage.backend == "cloudinary":
        found.append(Processor("Cloudinary", _STORES_MEDIA))
    if settings.smtp.host:
        mailer = N_("E-mail delivery ({host})")
        found.append(
            Processor(
                mailer.format(host=settings.smtp.host),
                N_("Sends account and support e-mails"),
                name_template=mailer,
                host=settings.smtp.host,
            )
        )
    if settings.sentry.dsn is not None:
        found.append(Processor("Sentry", N_("Error reports (personal data removed first)")))
    if settings.features.enable_analytics and settings.analytics.ga_measurement_id:
        found.append(Processor("Google Analytics", N_("Counts visits to the app")))
    return found


def languages() -> list[str]:
    """The language codes that have both documents (``<kind>.<lang>.md`` for every kind).

    This is independent of the UI languages in :mod:`i18n`: a translation is used as soon
    as its templates exist."""
    found = {p.name.split(".")[1] for p in TEMPLATES.glob("*.*.md")}
    return sorted(
        lang for lang in found if all((TEMPLATES / f"{k}.{lang}.md").is_file() for k in KINDS)
    )


def document_language(code: str | None) -> str:
    """The language the documents are shown in for ``code`` (``"ta-IN"`` -> ``"ta"``):
    that language when both of its templates exist, otherwise English."""
    base = str(code or "").strip().replace("-", "_").split("_")[0].lower()
    if _LANGUAGE_CODE.fullmatch(base) and base in languages():
        return base
    return DEFAULT_LANGUAGE


@cache
def catalog(language: str) -> gettext.NullTranslations:
    """The compiled catalog of the document's ``language`` (not the session's).

    Loaded directly rather than through :func:`i18n.translations`, which maps a code that
    is not (yet) a UI language to English: a document with a template is rendered wholly in
    its language. Without a compiled catalog the msgids (English) are used."""
    return gettext.translation(DOMAIN, LOCALES_DIR, languages=[language], fallback=True)


def video_retention(days: int, language: str = DEFAULT_LANGUAGE) -> str:
    """How long videos are kept, as the privacy policy says it in ``language``
    (``days == 0`` keeps them until the creator deletes them)."""
    found = catalog(language)
    if days == 0:
        return found.gettext(_KEPT_UNTIL_DELETED)
    return found.ngettext("for {n} day", "for {n} days", days).format(n=days)


def photo_retention(days: int, language: str = DEFAULT_LANGUAGE) -> str:
    """When photos are deleted, as the privacy policy says it in ``language``
    (``days == 0``: as soon as the video is made)."""
    found = catalog(language)
    if days == 0:
        return found.gettext(_DELETED_AT_ONCE)
    return found.ngettext(
        "{n} day after your video is made", "{n} days after your video is made", days
    ).format(n=days)


def _values(settings: Settings, language: str) -> dict[str, str]:
    found = catalog(language)
    missing = found.gettext(_MISSING)
    legal, support = settings.legal, settings.support

    def value(text: str | None) -> str:
        return _inert(text) if text else f"**{missing}**"

    procs = processors(settings)
    if procs:
        lines = [f"- **{_inert(p.label(found))}**: {found.gettext(p.purpose)}" for p in procs]
    else:
        lines = [f"- {found.gettext(_NO_PROCESSORS)}"]
    return {
        "app_name": _inert(settings.app.name),
        "base_url": _inert(settings.app.base_url),
        "company_name": value(legal.company_name),
        "company_address": value(legal.company_address),
        "contact_email": value(legal.contact_email),
        "grievance_name": value(legal.grievance_officer_name),
        "grievance_email": value(legal.grievance_officer_email),
        "grievance_phone": value(legal.grievance_officer_phone),
        "jurisdiction": value(legal.jurisdiction),
        "support_email": value(support.email),
        "terms_version": _inert(legal.terms_version),
        "privacy_version": _inert(legal.privacy_version),
        "photo_retention": photo_retention(settings.storage.photo_retention_days, language),
        "video_retention": video_retention(settings.storage.video_retention_days, language),
        "processors": "\n".join(lines),
    }


def document(kind: str, language: str = "en", settings: Settings | None = None) -> str:
    """The filled-in Markdown of ``kind`` ("terms" or "privacy") in ``language``: the
    language's template when it has one (see :func:`document_language`), else English."""
    if kind not in KINDS:
        raise ValueError(f"unknown legal document {kind!r}")
    language = document_language(language)
    path = TEMPLATES / f"{kind}.{language}.md"
    return path.read_text("utf-8").format_map(_values(settings or get_settings(), language))


def versions(settings: Settings | None = None) -> tuple[str, str]:
    legal = (settings or get_settings()).legal
    return legal.terms_version, legal.privacy_version


def accept(user_id: int) -> Acceptance:
    """Record that ``user_id`` accepted the current terms and privacy policy."""
    terms, privacy = versions()
    now = utcnow()
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise InputError(N_("Please sign in first."))
        session.add(
            TermsAcceptance(
                user_id=user_id, terms_version=terms, privacy_version=privacy, accepted_at=now
            )
        )
    return Acceptance(terms, privacy, now)


def acceptance(user_id: int) -> Acceptance | None:
    with read_scope() as db:
        row = db.execute(
            select(TermsAcceptance)
            .where(TermsAcceptance.user_id == user_id)
            .order_by(TermsAcceptance.accepted_at.desc(), TermsAcceptance.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if row is None:
            return None
        return Acceptance(row.terms_version, row.privacy_version, row.accepted_at)


def needs_acceptance(user_id: int) -> bool:
    found = acceptance(user_id)
    return found is None or (found.terms_version, found.privacy_version) != versions()
