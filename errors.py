"""One error tree for TalkingPhoto.

Every error we raise on purpose derives from :class:`TalkingPhotoError` and carries a
``user_message`` that is safe to show a creator (no secrets, no stack, no vendor text).
Anything else that escapes is a bug: the page's error boundary logs it with a reference id.

    TalkingPhotoError
    ├── ConfigError                 settings missing or invalid (names the key)
    ├── InputError                  the creator's input cannot be used; nothing was changed
    │   ├── PhotoError              not an image, too big, too small, unreadable
    │   ├── ScriptError             empty, too long
    │   ├── LanguageError           unknown language (lists the valid ones)
    │   ├── VoiceError              unknown voice (lists the valid ones)
    │   └── FaceError               no face / face too small
    ├── JobError
    │   ├── QueueFull               the per-user or global queue is full ("busy")
    │   ├── InsufficientCredits
    │   ├── JobCancelled            the creator cancelled the job
    │   ├── JobNotFound
    │   └── TitleError              a video title that is empty or too long
    ├── ProviderError(provider)
    │   ├── ProviderUnavailable     timeout, rate limited (retry_after_s), out of credits, 5xx
    │   │   ├── ProviderTimeout     no answer in time (a call, or the whole job's deadline)
    │   │   ├── ProviderRateLimited 429 past our retries (retry_after_s)
    │   │   └── ProviderOutOfCredit the vendor account has no credit left
    │   ├── ProviderRejected        bad input, no face, moderation
    │   ├── ProviderAuthError       wrong or missing key
    │   └── ProviderProtocolError   an answer we do not understand (unknown status, bad JSON)
    ├── AccountError
    │   ├── AuthError               wrong e-mail or password, not signed in
    │   ├── SignupError             e-mail taken, weak password, invalid e-mail
    │   ├── InvalidToken            a signed link or state that is forged or expired
    │   └── RateLimited             too many attempts (retry_after_s)
    ├── PaymentError(gateway)
    │   ├── PaymentVerificationError  forged or stale signature / state
    │   ├── PaymentNotConfirmed     not paid (yet), expired, amount or currency mismatch
    │   └── GatewayUnavailable      the gateway cannot be reached; nothing was charged by us
    ├── StorageError
    │   ├── StorageUnavailable      the store cannot be reached or written
    │   └── StorageKeyError         an invalid key (path traversal) or a missing object
    └── ShareError                  a share link that is unknown, revoked or expired

Messages are gettext templates, never finished English sentences. A raise site passes the
template (an English msgid with ``{name}`` placeholders, marked with :func:`N_` so
``pybabel extract`` puts it in the catalogs) and the values that fill it::

    raise PhotoError(
        N_("The photo is {size:.1f} MB; the limit is {limit:g} MB."),
        params={"size": len(data) / MB, "limit": max_bytes / MB},
    )

The error keeps ``template`` and ``params`` (plain str/int/float values, so a failed job can
store them as JSON), and ``user_message`` is the English text, ``render(template, params)``.
The UI translates by looking the template up in the catalog and filling it with the same
params; it never inspects the English text. A plain string without params still works: it
is its own template.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

Param = str | int | float | bool | None


def N_(message: str) -> str:
    """Mark ``message`` as a catalog msgid without translating it (translated where shown)."""
    return message


def render(template: str, params: Mapping[str, object] | None) -> str:
    """``template`` filled with ``params``; a template without params is used as it is (so
    a plain message may contain braces)."""
    return template.format(**params) if params else template


def _plain(value: object) -> Param:
    # Params travel through JSON (a failed job's row): anything richer is stored as text.
    return value if value is None or isinstance(value, str | int | float) else str(value)


class TalkingPhotoError(Exception):
    """Base of every deliberate error; ``user_message`` is safe to show.

    ``user_message`` is the template (see the module docstring) and ``params`` fill it; the
    class's ``default_message`` is used when no template is given.
    """

    default_message = N_("Something went wrong.")

    def __init__(
        self,
        user_message: str | None = None,
        *,
        params: Mapping[str, object] | None = None,
        detail: str | None = None,
    ) -> None:
        self.template: str = user_message or self.default_message
        self.params: dict[str, Param] = {k: _plain(v) for k, v in (params or {}).items()}
        self.user_message: str = render(self.template, self.params)
        # ``detail`` is for logs only (never shown to a creator); it must not hold secrets.
        self.detail = detail
        super().__init__(self.user_message)


class ConfigError(TalkingPhotoError):
    default_message = N_("The app is misconfigured.")


class InputError(TalkingPhotoError):
    default_message = N_("That input cannot be used.")


class PhotoError(InputError):
    default_message = N_("That photo cannot be used.")


class ScriptError(InputError):
    default_message = N_("That script cannot be used.")


class LanguageError(InputError):
    default_message = N_("That language is not available.")


class VoiceError(InputError):
    default_message = N_("That voice is not available.")


class FaceError(InputError):
    default_message = N_("No face was found in the photo.")


class JobError(TalkingPhotoError):
    default_message = N_("The video job could not be run.")


class QueueFull(JobError):
    default_message = N_("We are busy right now; please try again in a minute.")


class InsufficientCredits(JobError):
    default_message = N_("You do not have enough credits for this video.")


class JobCancelled(JobError):
    default_message = N_("The video was cancelled.")


class JobNotFound(JobError):
    default_message = N_("That video was not found.")


class TitleError(JobError):
    """A video title that is empty or too long (nothing is changed)."""

    default_message = N_("Please give the video a title.")


class ProviderError(TalkingPhotoError):
    default_message = N_("The video service failed.")

    def __init__(
        self,
        user_message: str | None = None,
        *,
        params: Mapping[str, object] | None = None,
        provider: str = "",
        detail: str | None = None,
    ) -> None:
        super().__init__(user_message, params=params, detail=detail)
        self.provider = provider


class ProviderUnavailable(ProviderError):
    default_message = N_("The video service is unavailable right now.")

    def __init__(
        self,
        user_message: str | None = None,
        *,
        params: Mapping[str, object] | None = None,
        provider: str = "",
        detail: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(user_message, params=params, provider=provider, detail=detail)
        self.retry_after_s = retry_after_s


class ProviderRejected(ProviderError):
    default_message = N_("The video service rejected this request.")


class ProviderAuthError(ProviderError):
    default_message = N_("The video service is not configured correctly.")


class ProviderTimeout(ProviderUnavailable):
    default_message = N_("The video service did not answer in time.")


class ProviderRateLimited(ProviderUnavailable):
    default_message = N_("The video service is busy right now; please try again in a minute.")


class ProviderOutOfCredit(ProviderUnavailable):
    default_message = N_("The video service has run out of credit.")


class ProviderProtocolError(ProviderError):
    """The vendor answered with something its documented contract does not allow (an
    unknown job status, a body that is not JSON): never read as "still running"."""

    default_message = N_("The video service sent an answer we could not understand.")


class AccountError(TalkingPhotoError):
    default_message = N_("That account action could not be completed.")


class AuthError(AccountError):
    default_message = N_("The e-mail or password is not right.")


class SignupError(AccountError):
    default_message = N_("That account could not be created.")


class InvalidToken(AccountError):
    """A signed link or state (services.tokens) that is forged, altered or expired."""

    default_message = N_("This link is not valid.")

    def __init__(
        self,
        user_message: str | None = None,
        *,
        params: Mapping[str, object] | None = None,
        detail: str | None = None,
        expired: bool = False,
    ) -> None:
        super().__init__(user_message, params=params, detail=detail)
        self.expired = expired


class RateLimited(AccountError):
    """A limit is used up. Waits of two minutes or more are told in minutes (rounded up), so a
    creator reads "in 60 minutes", never "in 3600 seconds"."""

    default_message = N_("Too many attempts. Please try again in {seconds} seconds.")
    minutes_message = N_("Too many attempts. Please try again in {minutes} minutes.")

    def __init__(
        self,
        user_message: str | None = None,
        *,
        params: Mapping[str, object] | None = None,
        detail: str | None = None,
        retry_after_s: float = 60.0,
    ) -> None:
        seconds = max(1, round(retry_after_s))
        wait: dict[str, object] = {"seconds": seconds}
        if user_message is None and seconds >= 120:
            user_message = self.minutes_message
            wait = {"minutes": math.ceil(seconds / 60)}
        super().__init__(user_message, params={**wait, **(params or {})}, detail=detail)
        self.retry_after_s = retry_after_s


class PaymentError(TalkingPhotoError):
    default_message = N_("The payment could not be completed.")

    def __init__(
        self,
        user_message: str | None = None,
        *,
        params: Mapping[str, object] | None = None,
        gateway: str = "",
        detail: str | None = None,
    ) -> None:
        super().__init__(user_message, params=params, detail=detail)
        self.gateway = gateway


class PaymentVerificationError(PaymentError):
    default_message = N_("We could not verify that payment.")


class PaymentNotConfirmed(PaymentError):
    default_message = N_("That payment is not confirmed, so no credits were added.")


class GatewayUnavailable(PaymentError):
    default_message = N_("The payment service is unavailable right now; please try again.")


class StorageError(TalkingPhotoError):
    default_message = N_("Your files could not be stored.")


class StorageUnavailable(StorageError):
    default_message = N_("File storage is unavailable right now; please try again.")


class StorageKeyError(StorageError):
    default_message = N_("That file was not found.")


class InvalidStorageKey(StorageKeyError, ValueError):
    """A key that could name something outside the store (``..``, absolute, backslash).

    Also a ValueError: it is a programming error, never the creator's input."""


class ShareError(TalkingPhotoError):
    default_message = N_("This video is no longer shared.")
