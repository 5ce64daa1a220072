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
    │   └── JobNotFound
    └── ProviderError(provider)
        ├── ProviderUnavailable     timeout, rate limited (retry_after_s), out of credits, 5xx
        ├── ProviderRejected        bad input, no face, moderation
        └── ProviderAuthError       wrong or missing key

Later issues add PaymentError and StorageError branches here.
"""

from __future__ import annotations


class TalkingPhotoError(Exception):
    """Base of every deliberate error; ``user_message`` is safe to show."""

    default_message = "Something went wrong."

    def __init__(self, user_message: str | None = None, *, detail: str | None = None) -> None:
        self.user_message = user_message or self.default_message
        # ``detail`` is for logs only (never shown to a creator); it must not hold secrets.
        self.detail = detail
        super().__init__(self.user_message)


class ConfigError(TalkingPhotoError):
    default_message = "The app is misconfigured."


class InputError(TalkingPhotoError):
    default_message = "That input cannot be used."


class PhotoError(InputError):
    default_message = "That photo cannot be used."


class ScriptError(InputError):
    default_message = "That script cannot be used."


class LanguageError(InputError):
    default_message = "That language is not available."


class VoiceError(InputError):
    default_message = "That voice is not available."


class FaceError(InputError):
    default_message = "No face was found in the photo."


class JobError(TalkingPhotoError):
    default_message = "The video job could not be run."


class QueueFull(JobError):
    default_message = "We are busy right now; please try again in a minute."


class InsufficientCredits(JobError):
    default_message = "You do not have enough credits for this video."


class JobCancelled(JobError):
    default_message = "The video was cancelled."


class JobNotFound(JobError):
    default_message = "That video was not found."


class ProviderError(TalkingPhotoError):
    default_message = "The video service failed."

    def __init__(
        self, user_message: str | None = None, *, provider: str = "", detail: str | None = None
    ) -> None:
        super().__init__(user_message, detail=detail)
        self.provider = provider


class ProviderUnavailable(ProviderError):
    default_message = "The video service is unavailable right now."

    def __init__(
        self,
        user_message: str | None = None,
        *,
        provider: str = "",
        detail: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(user_message, provider=provider, detail=detail)
        self.retry_after_s = retry_after_s


class ProviderRejected(ProviderError):
    default_message = "The video service rejected this request."


class ProviderAuthError(ProviderError):
    default_message = "The video service is not configured correctly."
