"""Every documented vendor error maps to our error tree (reference/providers.md).

The tables below are copied from the reference, not from the adapters: when a vendor
documents a new code, add it here and the test fails until the adapter maps it. A code an
adapter maps must come from its explicit table, never from the status fallback alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from errors import (
    ProviderAuthError,
    ProviderError,
    ProviderOutOfCredit,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from providers import d_id, heygen, luma, synthesia
from providers.cloud import CloudProvider
from providers.http import VendorReply, retry_after_s
from secrets_manager import DIdSettings, HeyGenSettings, LumaAISettings, SynthesiaSettings

# D-ID "kind" values: spec responses of /images, /talks, /talks/{id}, /credits, and the
# asynchronous-errors page (section 1.2); TooManyRequests is the reference's suggested body.
D_ID: list[tuple[int, str, type[ProviderError]]] = [
    (400, "BadRequestError", ProviderRejected),
    (400, "ValidationError", ProviderRejected),
    (400, "InvalidFileSizeError", ProviderRejected),
    (400, "InvalidImageResolutionError", ProviderRejected),
    (401, "AuthorizationError", ProviderAuthError),
    (402, "InsufficientCreditsError", ProviderOutOfCredit),
    (403, "PermissionError", ProviderAuthError),
    (404, "NotFoundError", ProviderUnavailable),
    (415, "UnsupportedMimeTypeError", ProviderRejected),
    (451, "ImageModerationError", ProviderRejected),
    (451, "CelebrityRecognizedError", ProviderRejected),
    (451, "TextModerationError", ProviderRejected),
    (451, "AudioModerationError", ProviderRejected),
    (429, "TooManyRequests", ProviderRateLimited),
    (200, "FaceError", ProviderRejected),
    (200, "SourceError", ProviderRejected),
    (200, "LogoError", ProviderRejected),
    (200, "DriverError", ProviderUnavailable),
    (200, "UnknownError", ProviderUnavailable),
]

# HeyGen v3 error codes (developers.heygen.com/docs/error-codes, the official CLI's codes).
HEYGEN: list[tuple[int, str, type[ProviderError]]] = [
    (401, "unauthorized", ProviderAuthError),
    (403, "forbidden", ProviderAuthError),
    (403, "resource_access_denied", ProviderAuthError),
    (403, "ai_vendor_access_restricted", ProviderAuthError),
    (400, "invalid_parameter", ProviderRejected),
    (400, "validation_error", ProviderRejected),
    (402, "insufficient_credit", ProviderOutOfCredit),
    (404, "not_found", ProviderUnavailable),
    (404, "resource_not_found", ProviderUnavailable),
    (404, "video_not_found", ProviderUnavailable),
    (404, "avatar_not_found", ProviderRejected),
    (404, "voice_not_found", ProviderRejected),
    (400, "voice_not_usable", ProviderRejected),
    (400, "asset_not_available", ProviderRejected),
    (409, "conflict", ProviderRejected),
    (409, "request_in_progress", ProviderUnavailable),
    (413, "payload_too_large", ProviderRejected),
    (429, "rate_limit_exceeded", ProviderRateLimited),
    (429, "quota_exceeded", ProviderRateLimited),
    (500, "internal_error", ProviderUnavailable),
    (502, "download_failed", ProviderUnavailable),
]

# Synthesia and Luma send text, not codes: their documented *statuses* are the codes.
SYNTHESIA: list[tuple[int, type[ProviderError]]] = [
    (400, ProviderRejected),
    (403, ProviderAuthError),  # "Forbidden - Wrong API key." (never 401)
    (404, ProviderUnavailable),
    (429, ProviderRateLimited),
    (500, ProviderUnavailable),
    (402, ProviderOutOfCredit),  # undocumented; assumed
]
LUMA: list[tuple[int, type[ProviderError]]] = [
    (400, ProviderRejected),
    (401, ProviderAuthError),
    (403, ProviderAuthError),
    (404, ProviderUnavailable),
    (422, ProviderRejected),
    (429, ProviderRateLimited),
    (500, ProviderUnavailable),
    (503, ProviderUnavailable),
    (402, ProviderOutOfCredit),  # undocumented; assumed
]


def _adapter(cls: type[CloudProvider], settings: type[Any]) -> CloudProvider:
    extra = {"avatar_id": "anna"} if settings is SynthesiaSettings else {}
    return cls(config=settings(api_key="k", base_url="http://127.0.0.1:9", **extra))


def _reply(status: int, body: Any, headers: dict[str, str] | None = None) -> VendorReply:
    return VendorReply(status, body, headers or {}, "POST", "/x")


@pytest.mark.parametrize(("status", "kind", "expected"), D_ID, ids=[c[1] for c in D_ID])
def test_every_documented_d_id_kind_is_mapped(
    status: int, kind: str, expected: type[ProviderError]
) -> None:
    assert d_id.ERROR_KINDS.get(kind) is expected, f"D-ID {kind} is not mapped"
    if status >= 400:
        adapter = _adapter(d_id.DIdProvider, DIdSettings)
        error = adapter.translate(_reply(status, {"kind": kind, "description": "x"}))
        assert type(error) is expected
        assert error.provider == "d_id"


@pytest.mark.parametrize(("status", "code", "expected"), HEYGEN, ids=[c[1] for c in HEYGEN])
def test_every_documented_heygen_code_is_mapped(
    status: int, code: str, expected: type[ProviderError]
) -> None:
    assert heygen.ERROR_CODES.get(code) is expected, f"HeyGen {code} is not mapped"
    adapter = _adapter(heygen.HeyGenProvider, HeyGenSettings)
    body = {"error": {"code": code, "message": "Ignored text", "doc_url": "https://x"}}
    assert type(adapter.translate(_reply(status, body))) is expected


@pytest.mark.parametrize(("status", "expected"), SYNTHESIA)
def test_every_documented_synthesia_status_is_mapped(
    status: int, expected: type[ProviderError]
) -> None:
    adapter = _adapter(synthesia.SynthesiaProvider, SynthesiaSettings)
    assert type(adapter.translate(_reply(status, {"error": "Forbidden"}))) is expected


@pytest.mark.parametrize(("status", "expected"), LUMA)
def test_every_documented_luma_status_is_mapped(status: int, expected: type[ProviderError]) -> None:
    adapter = _adapter(luma.LumaProvider, LumaAISettings)
    assert type(adapter.translate(_reply(status, {"detail": "x"}))) is expected


def test_the_adapters_map_nothing_undocumented() -> None:
    """The other half of the tables: an adapter's code table holds only documented codes."""
    assert set(d_id.ERROR_KINDS) == {kind for _, kind, _ in D_ID}
    assert set(heygen.ERROR_CODES) == {code for _, code, _ in HEYGEN}


def test_message_text_never_decides_the_class() -> None:
    adapter = _adapter(heygen.HeyGenProvider, HeyGenSettings)
    scary = {"error": {"code": "invalid_parameter", "message": "insufficient credit, unauthorized"}}
    assert type(adapter.translate(_reply(400, scary))) is ProviderRejected
    did = _adapter(d_id.DIdProvider, DIdSettings)
    # A 403 from AWS API Gateway (malformed header) has no kind: its status decides.
    gateway = {"message": "Authorization header requires 'Credential' parameter."}
    assert type(did.translate(_reply(403, gateway))) is ProviderAuthError
    assert type(did.translate(_reply(200, None))) is ProviderProtocolError
    assert type(did.translate(_reply(408, None))) is ProviderTimeout


def test_user_messages_name_the_vendor_and_hide_its_text() -> None:
    adapter = _adapter(heygen.HeyGenProvider, HeyGenSettings)
    body = {"error": {"code": "insufficient_credit", "message": "Account acct_42 has 5 credits"}}
    error = adapter.translate(_reply(402, body))
    assert error.user_message == "HeyGen has run out of credit for now."
    assert "acct_42" not in error.user_message


def test_retry_after_reads_seconds_dates_and_synthesia_reset() -> None:
    assert retry_after_s({"Retry-After": "12"}) == 12.0
    assert retry_after_s({"RateLimit-Reset": "30"}) == 30.0
    assert retry_after_s({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # past
    assert retry_after_s({"Retry-After": "soon"}) is None
    assert retry_after_s({}) is None
    limited = _adapter(heygen.HeyGenProvider, HeyGenSettings).translate(
        _reply(429, {"error": {"code": "rate_limit_exceeded"}}, {"Retry-After": "9"})
    )
    assert isinstance(limited, ProviderRateLimited) and limited.retry_after_s == 9.0
