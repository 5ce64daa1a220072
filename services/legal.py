"""Terms of service and privacy policy from settings-driven templates, and who accepted which.

    document(kind, language)   the filled-in text (Markdown) of "terms" or "privacy"
    processors(settings)       the service providers that process personal data, each named
                               only when it is configured
    accept(user_id)            record that a creator accepted the current versions
    acceptance(user_id)        their latest acceptance, or None
    needs_acceptance(user_id)  whether the current versions are not yet accepted

The templates are ``services/legal_templates/<kind>.<lang>.md`` (English and Hindi), with
``{placeholders}`` for the operator's details from ``[legal]`` and ``[support]``, the
retention settings of ``[storage]``, and the processors. They are marked as templates to
review with counsel; values the operator has not set show as a visible marker.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import select

from db.golive_models import TermsAcceptance
from db.models import User, utcnow
from db.session import read_scope, session_scope
from errors import N_, InputError
from i18n import normalize_language
from secrets_manager import Settings, get_settings

TEMPLATES = Path(__file__).resolve().parent / "legal_templates"
Kind = Literal["terms", "privacy"]
KINDS: tuple[str, ...] = ("terms", "privacy")
_MISSING = {"en": "[to be filled in]", "hi": "[भरा जाना है]"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


@dataclass(frozen=True)
class Processor:
    name: str
    purpose: str  # English; the templates say what each kind of processor does
    purpose_hi: str


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
    video = "Makes the talking video from your photo and script"
    video_hi = "आपकी फ़ोटो और स्क्रिप्ट से बोलता वीडियो बनाता है"
    vendors = (
        ("d_id", "D-ID"),
        ("heygen", "HeyGen"),
        ("synthesia", "Synthesia"),
        ("luma_ai", "Luma AI"),
    )
    for section, label in vendors:
        if getattr(settings, section).api_key is not None:
            found.append(Processor(label, video, video_hi))
    if settings.features.enable_payments:
        pay = "Takes payments (we never see full card or UPI details)"
        pay_hi = "भुगतान लेता है (हम पूरा कार्ड या UPI विवरण कभी नहीं देखते)"
        if settings.stripe.secret_key is not None:
            found.append(Processor("Stripe", pay, pay_hi))
        if settings.razorpay.key_secret is not None:
            found.append(Processor("Razorpay", pay, pay_hi))
    store = "Stores photos and videos"
    store_hi = "फ़ोटो और वीडियो संग्रहीत करता है"
    if settings.storage.backend == "s3":
        found.append(Processor("Amazon Web Services (S3)", store, store_hi))
    elif settings.storage.backend == "cloudinary":
        found.append(Processor("Cloudinary", store, store_hi))
    if settings.smtp.host:
        found.append(
            Processor(
                f"E-mail delivery ({settings.smtp.host})",
                "Sends account and support e-mails",
                "खाते और सहायता के ई-मेल भेजता है",
            )
        )
    if settings.sentry.dsn is not None:
        found.append(
            Processor(
                "Sentry",
                "Error reports (personal data removed first)",
                "त्रुटि रिपोर्ट (निजी जानकारी पहले हटाई जाती है)",
            )
        )
    if settings.features.enable_analytics and settings.analytics.ga_measurement_id:
        found.append(
            Processor(
                "Google Analytics",
                "Counts visits to the app",
                "ऐप पर आने वालों की गिनती करता है",
            )
        )
    return found


def _values(settings: Settings, language: str) -> dict[str, str]:
    missing = _MISSING[language]
    legal, support = settings.legal, settings.support

    def value(text: str | None) -> str:
        return _inert(text) if text else f"**{missing}**"

    photo_days = settings.storage.photo_retention_days
    video_days = settings.storage.video_retention_days
    procs = processors(settings)
    if procs:
        lines = [
            f"- **{_inert(p.name)}**: {p.purpose_hi if language == 'hi' else p.purpose}"
            for p in procs
        ]
    else:
        lines = [
            "- कोई नहीं: सब कुछ हमारे अपने सर्वर पर होता है।"
            if language == "hi"
            else "- None: everything runs on our own servers."
        ]
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
        "photo_retention_days": str(photo_days),
        "video_retention": (
            (
                "जब तक आप उन्हें न हटाएँ"
                if language == "hi"
                else "until you delete them (or your account)"
            )
            if video_days == 0
            else (f"{video_days} दिन तक" if language == "hi" else f"for {video_days} days")
        ),
        "processors": "\n".join(lines),
    }


def document(kind: str, language: str = "en", settings: Settings | None = None) -> str:
    """The filled-in Markdown of ``kind`` ("terms" or "privacy") in ``language``."""
    if kind not in KINDS:
        raise ValueError(f"unknown legal document {kind!r}")
    language = normalize_language(language)
    path = TEMPLATES / f"{kind}.{language}.md"
    if not path.is_file():
        path = TEMPLATES / f"{kind}.en.md"
        language = "en"
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
