"""Typed settings for TalkingPhoto: one place that reads configuration, validates it, hides secrets.

Where values come from (later wins):

1. defaults in the models below (the app runs with no configuration at all);
2. the TOML file ``TALKINGPHOTO_SECRETS_FILE`` names, else ``.streamlit/secrets.toml`` under the
   current directory, else ``~/.streamlit/secrets.toml`` (Streamlit's user-wide file); a missing
   default file means "all defaults"; a missing named file is an error;
3. ``TALKINGPHOTO_DATA_DIR`` for ``[app] data_dir``;
4. ``TALKINGPHOTO__<SECTION>__<KEY>`` environment variables (case-insensitive), e.g.
   ``TALKINGPHOTO__D_ID__BASE_URL=http://127.0.0.1:8080``. Values are read the TOML way
   (``true``, ``3``, ``0.5``, ``["a", "b"]``); string keys take the text as it is; list keys also
   take ``a,b``; an empty value means "unset" for optional keys.

Every section forbids unknown keys, so a typo is an error rather than a silently ignored value.
Validation errors become one :class:`errors.ConfigError` whose lines read
``[limits] workers: expected an integer between 1 and 16, got 'many'``; a secret's value is
never echoed. Secrets are :class:`pydantic.SecretStr`, so ``repr``/``str``/``model_dump_json``
and logs show ``**********``; call ``.get_secret_value()`` only where the secret is sent.

``[auth]`` and ``[connections]`` are Streamlit's own sections of the same file and are skipped.
"""

from __future__ import annotations

import difflib
import functools
import os
import threading
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from errors import ConfigError

ENV_PREFIX = "TALKINGPHOTO__"
SECRETS_FILE_ENV = "TALKINGPHOTO_SECRETS_FILE"
DATA_DIR_ENV = "TALKINGPHOTO_DATA_DIR"
DEFAULT_SECRETS_FILE = Path(".streamlit") / "secrets.toml"
# Sections of secrets.toml that Streamlit itself reads (st.login, st.connection).
STREAMLIT_SECTIONS = frozenset({"auth", "connections"})
MASK = "**********"


class _Section(BaseModel):
    """Base of every section: strict keys, immutable once loaded (shared across threads)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_means_unset(cls, data: Any) -> Any:
        # `api_key = ""` in the template (or an empty env var) means "not configured".
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for key, value in data.items():
            field = cls.model_fields.get(key)
            if field is not None and value == "" and _allows_none(field.annotation):
                out[key] = None
        return out


def _check_http_url(cls: type, value: str | None) -> str | None:
    # Shared by several sections; pydantic binds it as a classmethod (first parameter "cls").
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return value.rstrip("/") if value else value


# --------------------------------------------------------------------------------- sections


class AppSettings(_Section):
    environment: Literal["development", "production"] = "development"
    name: str = "TalkingPhoto"
    # The interface languages (i18n.UI_LANGUAGES; a test keeps the two lists equal).
    default_locale: Literal["en", "hi", "ta", "te", "bn", "mr"] = "en"
    base_url: str = "http://localhost:8501"
    data_dir: Path = Path("data")

    _url = field_validator("base_url")(_check_http_url)

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Resolve once at load time so a later chdir cannot move the database.
        return value.expanduser().resolve()


class FeaturesSettings(_Section):
    enable_payments: bool = False
    # Let visitors try the app without an account (limited credits). None = on in development
    # only; see Settings.guest_allowed.
    allow_guest: bool | None = None
    enable_analytics: bool = False
    enable_social_sharing: bool = False
    enable_advanced_options: bool = True
    enable_mobile_upload: bool = True

    @model_validator(mode="before")
    @classmethod
    def _drop_retired_keys(cls, data: Any) -> Any:
        """``enable_caching`` was documented but never read; files that still set it (copied
        from an old example) keep loading."""
        if isinstance(data, dict) and "enable_caching" in data:
            data = {k: v for k, v in data.items() if k != "enable_caching"}
        return data


class LimitsSettings(_Section):
    max_script_chars: int = Field(5000, ge=1, le=100_000)
    max_upload_mb: int = Field(25, ge=1, le=200)
    max_megapixels: int = Field(40, ge=1, le=200)
    min_photo_side_px: int = Field(256, ge=32, le=4096)
    max_photo_side_px: int = Field(2048, ge=256, le=8192)
    min_face_px: int = Field(120, ge=16, le=2048)
    max_active_jobs_per_user: int = Field(2, ge=1, le=100)
    max_queued_jobs: int = Field(20, ge=1, le=10_000)
    workers: int = Field(2, ge=1, le=16)

    @model_validator(mode="after")
    def _sides_ordered(self) -> LimitsSettings:
        if self.min_photo_side_px > self.max_photo_side_px:
            raise ValueError("min_photo_side_px must not exceed max_photo_side_px")
        return self


class ProvidersSettings(_Section):
    # "auto" lets the router pick along `order`; a provider name pins that provider.
    default: str = "local"
    order: list[str] = Field(default_factory=lambda: ["local"])
    piper_voices: list[str] = Field(default_factory=list)
    # Circuit breaker per provider: open after this many consecutive failures ...
    breaker_failures: int = Field(3, ge=1, le=100)
    # ... and let one trial request through after this many seconds.
    breaker_cooldown_s: float = Field(60.0, gt=0, le=3600)
    # How long the create page caches a cloud provider's voice list, in seconds.
    voices_ttl_s: float = Field(3600.0, gt=0, le=86400)


class CreditPack(_Section):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")
    credits: int = Field(ge=1, le=1_000_000)
    inr: float = Field(gt=0, le=10_000_000)  # rupees, GST included
    usd: float = Field(gt=0, le=1_000_000)  # dollars


def _default_packs() -> list[CreditPack]:
    return [
        CreditPack(id="starter", credits=20, inr=199, usd=2.99),
        CreditPack(id="creator", credits=60, inr=499, usd=6.99),
        CreditPack(id="studio", credits=200, inr=1499, usd=19.99),
    ]


class CreditsSettings(_Section):
    signup_grant: int = Field(20, ge=0, le=1_000_000)
    guest_grant: int = Field(3, ge=0, le=1000)
    per_started_30s: int = Field(1, ge=1, le=1000)
    gst_percent: float = Field(18.0, ge=0, le=100)
    packs: list[CreditPack] = Field(default_factory=_default_packs)

    @field_validator("packs")
    @classmethod
    def _unique_ids(cls, packs: list[CreditPack]) -> list[CreditPack]:
        ids = [p.id for p in packs]
        if len(ids) != len(set(ids)):
            raise ValueError("pack ids must be unique")
        return packs


class AccountsSettings(_Section):
    # E-mails that get the admin role once verified (compared case-insensitively).
    admins: list[str] = Field(default_factory=list)
    password_min_length: int = Field(10, ge=8, le=128)
    # Every browser is the one local developer user (no sign-in). Development only, on purpose.
    single_user: bool = False
    # Browser sessions: idle expiry (sliding) and the absolute limit, in days.
    session_idle_days: int = Field(30, ge=1, le=365)
    session_max_days: int = Field(90, ge=1, le=3650)
    # Resends of the verification e-mail per account and hour.
    verification_resends_per_hour: int = Field(3, ge=1, le=100)


class RateLimitSettings(_Section):
    # `limits` storage: "memory://" (one process) or "redis://host:6379/0" (several replicas).
    storage_uri: str = "memory://"
    # Client addresses are read from X-Forwarded-For only when the direct peer is one of these.
    trusted_proxies: list[str] = Field(default_factory=list)
    signup: str = "5/hour"
    signin: str = "10/15 minutes"
    signin_per_account: str = "5/15 minutes"
    # Failed sign-ins from one client, whatever the account (password spraying).
    signin_failures_per_client: str = "30/hour"
    # Guests started per client (a browser without a session cookie becomes one).
    guest: str = "30/hour"
    # Password-reset e-mails per address and per client.
    password_reset: str = "5/hour"
    upload: str = "60/hour"
    generate: str = "20/hour"
    purchase: str = "10/hour"


class JobsSettings(_Section):
    # "thread": a pool of [limits] workers threads inside the app process (no servers).
    # "celery": jobs go to Celery workers (`python cli.py worker`) through [jobs] broker_url.
    executor: Literal["thread", "celery"] = "thread"
    broker_url: str | None = Field(None, repr=False, json_schema_extra={"sensitive": True})
    # A running job's row is touched this often (seconds) by the worker that holds it.
    heartbeat_s: float = Field(10.0, ge=0.5, le=600)
    # A running job whose heartbeat is older than this is re-queued by the reaper (seconds).
    stale_after_s: float = Field(60.0, ge=2, le=86_400)
    # How often each worker runs the reaper (seconds); a database lock lets one at a time.
    reap_every_s: float = Field(15.0, ge=0.5, le=3600)

    @field_validator("broker_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://")):
            raise ValueError("expected a Redis URL such as redis://localhost:6379/0")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> JobsSettings:
        if self.executor == "celery" and not self.broker_url:
            raise ValueError('executor = "celery" needs broker_url (redis://...)')
        if self.stale_after_s < 2 * self.heartbeat_s:
            raise ValueError("stale_after_s must be at least twice heartbeat_s")
        return self


class DatabaseSettings(_Section):
    # Kept a plain str (the contract); the password is masked in dumps and by redact().
    url: str | None = Field(None, repr=False, json_schema_extra={"sensitive": True})
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError(
                "expected an SQLAlchemy URL such as postgresql+psycopg://user:pass@host/db"
            ) from None
        return value

    @field_serializer("url")
    def _mask_password(self, value: str | None) -> str | None:
        return None if value is None else make_url(value).render_as_string(hide_password=True)

    @property
    def password(self) -> str | None:
        return None if self.url is None else make_url(self.url).password


class StorageSettings(_Section):
    # [aws] and [cloudinary] hold the remote back ends' keys.
    backend: Literal["local", "s3", "cloudinary"] = "local"
    # Lifetime of presigned / signed playback URLs, in seconds.
    url_expiry_s: int = Field(3600, ge=60, le=604_800)
    # Uploaded photos are deleted this many days after their job finishes.
    photo_retention_days: int = Field(7, ge=0, le=3650)
    # Videos are deleted this many days after they were made; 0 keeps them until deleted.
    video_retention_days: int = Field(0, ge=0, le=36500)
    # How often the cleanup runs in the app process, in seconds.
    cleanup_every_s: int = Field(3600, ge=60, le=86_400)


class _ProviderSection(_Section):
    """Shared shape of a cloud video vendor: key, base URL, explicit timeouts (seconds)."""

    api_key: SecretStr | None = None
    base_url: str = ""
    connect_s: float = Field(10.0, gt=0, le=120)
    read_s: float = Field(60.0, gt=0, le=600)
    poll_every_s: float = Field(5.0, gt=0, le=300)
    deadline_s: float = Field(1200.0, gt=0, le=7200)

    _url = field_validator("base_url")(_check_http_url)


class HeyGenSettings(_ProviderSection):
    base_url: str = "https://api.heygen.com"
    deadline_s: float = Field(1800.0, gt=0, le=7200)  # renders can exceed 20 minutes
    credits_per_started_30s: int = Field(4, ge=1, le=1000)


class DIdSettings(_ProviderSection):
    base_url: str = "https://api.d-id.com"
    deadline_s: float = Field(600.0, gt=0, le=7200)
    credits_per_started_30s: int = Field(3, ge=1, le=1000)


class SynthesiaSettings(_ProviderSection):
    base_url: str = "https://api.synthesia.io"
    deadline_s: float = Field(1800.0, gt=0, le=7200)
    credits_per_started_30s: int = Field(4, ge=1, le=1000)
    # The Synthesia avatar that speaks (stock, or one the creator made in Synthesia).
    avatar_id: str | None = None


class LumaAISettings(_ProviderSection):
    base_url: str = "https://api.lumalabs.ai/dream-machine/v1"
    deadline_s: float = Field(900.0, gt=0, le=7200)
    credits_per_started_30s: int = Field(2, ge=1, le=1000)


class StripeSettings(_Section):
    secret_key: SecretStr | None = None
    publishable_key: str | None = None  # public by design (shown to browsers)
    webhook_secret: SecretStr | None = None
    api_base: str = "https://api.stripe.com"  # tests point this at a local fake

    _url = field_validator("api_base")(_check_http_url)


class RazorpaySettings(_Section):
    key_id: str | None = None  # public by design (used by the checkout page)
    key_secret: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    api_base: str = "https://api.razorpay.com"  # tests point this at a local fake

    _url = field_validator("api_base")(_check_http_url)


class CloudinarySettings(_Section):
    cloud_name: str | None = None
    api_key: str | None = None  # an account identifier; api_secret is the secret
    api_secret: SecretStr | None = None
    api_base: str = "https://api.cloudinary.com"  # upload API; tests point this at a fake
    folder: str = "talkingphoto"

    _url = field_validator("api_base")(_check_http_url)


class AWSSettings(_Section):
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    region: str = "us-east-1"
    bucket: str | None = None
    endpoint_url: str | None = None  # S3-compatible stores (MinIO, R2); None = AWS

    _url = field_validator("endpoint_url")(_check_http_url)


class JWTSettings(_Section):
    # Signs payment return state and share links; at least 32 characters. Unset in
    # development: a random key is kept under data_dir. Required in production.
    secret_key: SecretStr | None = None

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("expected at least 32 characters")
        return value


class MailSettings(_Section):
    # "smtp" (needs [smtp] host), "outbox" (files under data_dir/outbox, shown to admins), or
    # unset: smtp when [smtp] host is set, otherwise the outbox.
    backend: Literal["smtp", "outbox"] | None = None


class SMTPSettings(_Section):
    host: str | None = None
    port: int = Field(587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    from_address: str = "TalkingPhoto <no-reply@localhost>"
    # STARTTLS after connecting (port 587); false for a local relay or port 465 with ssl.
    starttls: bool = True
    ssl: bool = False
    timeout_s: float = Field(10.0, gt=0, le=300)


class SentrySettings(_Section):
    dsn: SecretStr | None = None  # a DSN lets anyone send events to the project: keep it hidden
    traces_sample_rate: float = Field(0.0, ge=0, le=1)


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # JSON lines (production) or readable text; None = JSON in production only.
    json_lines: bool | None = None
    # Also write logs to this file (rotated); unset = console only.
    file: str | None = None
    rotation: str = "50 MB"
    retention: str = "14 days"


class EngineSettings(_Section):
    # Seconds without a render, voice sample or face check after which the local engine drops
    # its loaded voices, nets and fonts (observability.releasable); 0 = keep them loaded.
    idle_unload_s: int = Field(default=120, ge=0, le=86_400)


class HealthSettings(_Section):
    memory_mb_max: int = Field(800, ge=64, le=1_000_000)
    response_s_max: float = Field(3.0, gt=0, le=600)
    success_rate_min: float = Field(0.95, ge=0, le=1)
    error_rate_max: float = Field(0.02, ge=0, le=1)
    disk_free_mb_min: int = Field(500, ge=0, le=10_000_000)
    oldest_queued_s_max: int = Field(600, ge=1, le=86_400)
    # Snapshots sampled into the database for charts: how often and for how long.
    sample_every_s: int = Field(60, ge=5, le=3600)
    retention_days: int = Field(14, ge=1, le=365)
    # How often each configured provider's key is checked against its cheap endpoint.
    key_check_every_s: int = Field(300, ge=10, le=86_400)
    # Bearer token for the detailed GET /api/health (admins' sessions see it too); unset =
    # only the public status, e.g. for an uptime monitor.
    token: SecretStr | None = None


class AnalyticsSettings(_Section):
    # A Google Analytics 4 measurement id (G-XXXXXXX); unset = no third-party tag at all.
    ga_measurement_id: str | None = None


class LegalSettings(_Section):
    """Who the operator is, for the terms and the privacy policy (templates to review with
    counsel). Unset values show as a visible "[to be filled in]" marker."""

    company_name: str | None = None
    company_address: str | None = None
    contact_email: str | None = None
    # The grievance officer required by India's DPDP Act 2023 (name, e-mail, phone).
    grievance_officer_name: str | None = None
    grievance_officer_email: str | None = None
    grievance_officer_phone: str | None = None
    # Courts and law that govern the terms.
    jurisdiction: str = "India"
    # Change when the text changes: sign-up records the version a creator accepted.
    terms_version: str = Field("2026-12-01", min_length=1, max_length=32)
    privacy_version: str = Field("2026-12-01", min_length=1, max_length=32)


class SupportSettings(_Section):
    # Where new tickets are e-mailed (the support team's inbox). Default: unset (no e-mail).
    email: str | None = None
    # Regional channels shown on the Help page (India first).
    phone_india: str | None = None
    whatsapp_india: str | None = None
    hours: str = "Mon-Sat 10:00-18:00 IST"
    # The answer time promised on the Help page, in hours.
    response_hours: int = Field(24, ge=1, le=720)


class AlertsSettings(_Section):
    # E-mail addresses that receive alerts (through the mailer, [mail]/[smtp]).
    emails: list[str] = Field(default_factory=list)
    # Incoming-webhook URLs (Slack, Teams, any JSON receiver). They embed a token: secret.
    webhooks: list[SecretStr] = Field(default_factory=list, json_schema_extra={"sensitive": True})
    # Seconds before the same alert may be sent again while it is still firing.
    cooldown_s: int = Field(3600, ge=0, le=604_800)
    # Seconds to wait for a webhook receiver.
    timeout_s: float = Field(5.0, gt=0, le=120)
    # Also alert when a launch number crosses its goal (not only on health status).
    launch_numbers: bool = True

    @field_validator("webhooks")
    @classmethod
    def _webhook_urls(cls, value: list[SecretStr]) -> list[SecretStr]:
        for url in value:
            if not url.get_secret_value().startswith(("http://", "https://")):
                raise ValueError("expected http:// or https:// URLs")
        return value


class BackupSettings(_Section):
    # Folder that scheduled backups are written to (one dated subfolder each). Unset = off.
    dir: Path | None = None
    # Hours between scheduled backups; 0 = no schedule (python cli.py backup by hand).
    every_hours: int = Field(0, ge=0, le=8760)
    # How many scheduled backups are kept; older ones are deleted.
    keep: int = Field(7, ge=1, le=1000)


class Settings(_Section):
    """All settings; one attribute per TOML section."""

    app: AppSettings = Field(default_factory=AppSettings)
    features: FeaturesSettings = Field(default_factory=FeaturesSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    providers: ProvidersSettings = Field(default_factory=ProvidersSettings)
    credits: CreditsSettings = Field(default_factory=CreditsSettings)
    accounts: AccountsSettings = Field(default_factory=AccountsSettings)
    ratelimit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    heygen: HeyGenSettings = Field(default_factory=HeyGenSettings)
    d_id: DIdSettings = Field(default_factory=DIdSettings)
    synthesia: SynthesiaSettings = Field(default_factory=SynthesiaSettings)
    luma_ai: LumaAISettings = Field(default_factory=LumaAISettings)
    stripe: StripeSettings = Field(default_factory=StripeSettings)
    razorpay: RazorpaySettings = Field(default_factory=RazorpaySettings)
    cloudinary: CloudinarySettings = Field(default_factory=CloudinarySettings)
    aws: AWSSettings = Field(default_factory=AWSSettings)
    jwt: JWTSettings = Field(default_factory=JWTSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    smtp: SMTPSettings = Field(default_factory=SMTPSettings)
    sentry: SentrySettings = Field(default_factory=SentrySettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    legal: LegalSettings = Field(default_factory=LegalSettings)
    support: SupportSettings = Field(default_factory=SupportSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)
    backup: BackupSettings = Field(default_factory=BackupSettings)

    @property
    def is_production(self) -> bool:
        return self.app.environment == "production"

    @property
    def guest_allowed(self) -> bool:
        flag = self.features.allow_guest
        return (not self.is_production) if flag is None else flag

    def secret_values(self) -> list[str]:
        """Every configured secret as plain text (longest first), for :func:`redact`."""
        found: set[str] = set()
        for section_name in type(self).model_fields:
            section = getattr(self, section_name)
            for key in type(section).model_fields:
                value = getattr(section, key)
                values = value if isinstance(value, list) else [value]
                for item in values:
                    if isinstance(item, SecretStr) and item.get_secret_value():
                        found.add(item.get_secret_value())
        if self.database.password:
            found.add(self.database.password)
        if self.jobs.broker_url and (broker_password := urlsplit(self.jobs.broker_url).password):
            found.add(broker_password)
        return sorted(found, key=len, reverse=True)


SECTIONS: dict[str, type[_Section]] = {
    name: typing.cast(type[_Section], field.annotation)
    for name, field in Settings.model_fields.items()
}


# --------------------------------------------------------------------------------- loading


def secrets_file_path(environ: Mapping[str, str] | None = None) -> tuple[Path, bool]:
    """The settings file and whether it was named explicitly (then it must exist)."""
    env = os.environ if environ is None else environ
    named = env.get(SECRETS_FILE_ENV)
    if named:
        return Path(named).expanduser(), True
    project = Path.cwd() / DEFAULT_SECRETS_FILE
    # Streamlit itself also reads the user-wide file; hosted platforms may put secrets there.
    user_wide = Path.home() / DEFAULT_SECRETS_FILE
    if not project.is_file() and user_wide.is_file():
        return user_wide, False
    return project, False


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, merge and validate settings (uncached). Raises :class:`ConfigError`."""
    env = os.environ if environ is None else environ
    explicit = path is not None
    if path is None:
        path, explicit = secrets_file_path(env)
    raw = _read_toml(path, required=explicit)
    origins: dict[tuple[str, ...], str] = {}
    for section in STREAMLIT_SECTIONS:
        raw.pop(section, None)

    if env.get(DATA_DIR_ENV):
        raw.setdefault("app", {})
        if isinstance(raw["app"], dict):
            raw["app"]["data_dir"] = env[DATA_DIR_ENV]
            origins[("app", "data_dir")] = DATA_DIR_ENV

    for name, value in env.items():
        if not name.upper().startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        if len(parts) != 2 or not all(parts):
            raise ConfigError(
                f"{name}: expected TALKINGPHOTO__<SECTION>__<KEY>, "
                "e.g. TALKINGPHOTO__LIMITS__WORKERS"
            )
        section, key = parts
        if section not in raw:
            origins[(section,)] = name
        table = raw.setdefault(section, {})
        if not isinstance(table, dict):
            raw[section] = table = {}
        table[key] = _parse_env_value(section, key, value)
        origins[(section, key)] = name

    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe_error(err, origins) for err in exc.errors()]
        raise ConfigError(
            f"Invalid settings (file: {path}):\n  " + "\n  ".join(lines),
            detail=f"{len(lines)} invalid setting(s)",
        ) from None  # the pydantic error would echo input values, secrets included


def _read_toml(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise ConfigError(f"{SECRETS_FILE_ENV} names {path}, which does not exist.")
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message gives line and column, never the value.
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def _parse_env_value(section: str, key: str, value: str) -> Any:
    """Turn an environment string into the value the key's type expects."""
    model = SECTIONS.get(section)
    field = model.model_fields.get(key) if model else None
    if field is None:
        return value  # unknown key: validation reports it
    if value == "" and _allows_none(field.annotation):
        return None
    base = _strip_optional(field.annotation)
    if _is_text(base):
        return value
    stripped = value.strip()
    try:
        parsed = tomllib.loads(f"v = {stripped}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = stripped
    if typing.get_origin(base) is list and isinstance(parsed, str):
        return [part.strip() for part in parsed.split(",") if part.strip()]
    return parsed


# ------------------------------------------------------------------------- error messages


def _describe_error(err: Mapping[str, Any], origins: Mapping[tuple[str, ...], str]) -> str:
    loc = tuple(str(part) for part in err["loc"])
    origin = next((origins[loc[:n]] for n in (2, 1) if loc[:n] in origins), None)
    suffix = f" (from {origin})" if origin else ""
    if not loc:
        return f"settings: {err['msg']}"
    section = loc[0]
    model = SECTIONS.get(section)
    if model is None:
        hint = _did_you_mean(section, SECTIONS)
        return f"[{section}]: unknown section{hint}; valid sections: {', '.join(SECTIONS)}{suffix}"
    if len(loc) == 1:
        if err["type"] in ("model_type", "model_attributes_type", "dict_type"):
            return f"[{section}]: expected a table of keys{suffix}"
        return f"[{section}]: {_reason(err)}{suffix}"
    key = loc[1]
    field = model.model_fields.get(key)
    if field is None:
        hint = _did_you_mean(key, model.model_fields)
        return (
            f"[{section}] {key}: unknown key{hint}; valid keys: {', '.join(model.model_fields)}"
            f"{suffix}"
        )
    expected = _reason(err) if err["type"] == "value_error" else f"expected {_expected(field)}"
    return f"[{section}] {key}: {expected}, got {_got(err.get('input'), field)}{suffix}"


def _reason(err: Mapping[str, Any]) -> str:
    ctx_error = (err.get("ctx") or {}).get("error")
    return str(ctx_error) if ctx_error is not None else str(err["msg"])


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _got(value: Any, field: FieldInfo) -> str:
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if _is_secret(field.annotation) or extra.get("sensitive"):
        return f"a value of type {type(value).__name__} (hidden)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _expected(field: FieldInfo) -> str:
    base = _strip_optional(field.annotation)
    if base is bool:
        return "true or false"
    if base in (int, float):
        bounds = {
            op: getattr(m, op)
            for m in field.metadata
            for op in ("ge", "gt", "le", "lt")
            if hasattr(m, op)
        }
        noun = "an integer" if base is int else "a number"
        if "ge" in bounds and "le" in bounds:
            return f"{noun} between {bounds['ge']} and {bounds['le']}"
        symbols = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
        parts = [f"{symbols[op]} {bound}" for op, bound in bounds.items()]
        return f"{noun} {' and '.join(parts)}" if parts else noun
    if typing.get_origin(base) is Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(base))
    if typing.get_origin(base) is list:
        return 'a list of strings, e.g. ["a", "b"]'
    if base is Path:
        return "a folder path"
    return "a string"


# ----------------------------------------------------------------------------- type helpers


def _union_args(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _allows_none(annotation: Any) -> bool:
    return type(None) in _union_args(annotation)


def _strip_optional(annotation: Any) -> Any:
    args = [a for a in _union_args(annotation) if a is not type(None)]
    return args[0] if len(args) == 1 else annotation


def _is_secret(annotation: Any) -> bool:
    return _strip_optional(annotation) is SecretStr


def _is_text(annotation: Any) -> bool:
    if annotation in (str, SecretStr, Path):
        return True
    return typing.get_origin(annotation) is Literal and all(
        isinstance(v, str) for v in typing.get_args(annotation)
    )


# ------------------------------------------------------------------------- cache, redaction

_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _cached_settings() -> Settings:
    return load_settings()


def get_settings() -> Settings:
    """The process-wide settings, loaded once. Raises :class:`ConfigError` when invalid."""
    with _lock:  # lru_cache alone may run the loader twice under a race
        return _cached_settings()


def reset_settings_cache() -> None:
    """Forget the loaded settings (tests; after changing the environment)."""
    with _lock:
        _cached_settings.cache_clear()


def redact(text: str, settings: Settings | None = None) -> str:
    """``text`` with every configured secret value replaced by ``**********``.

    Never raises: with broken settings there are no known secrets, and the text is returned.
    """
    if not text:
        return text
    if settings is None:
        try:
            settings = get_settings()
        except ConfigError:
            return text
    for secret in settings.secret_values():
        text = text.replace(secret, MASK)
    return text
