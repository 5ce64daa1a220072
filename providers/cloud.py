"""What every cloud video adapter shares: submit once, poll, download, resume.

A vendor adapter subclasses :class:`CloudProvider` and fills in a few hooks (``create``,
``status``, ``translate`` ...). The job it runs goes::

    resume?  ctx.remote_id ──────────────────────────────┐
    create ──(5xx / timeout: maybe made)──> find(client_ref) or create again (same key)
       │                                                 │
       └─> ctx.save_remote_id(id) at once ──> poll every poll_every_s ──> download result_url
                                                 │  (403/404 on the link: poll once more)
                                                 └─ failed: the vendor's message to the creator

Every vendor status is mapped explicitly (``STATES``); an unknown one is a
:class:`ProviderProtocolError`, never "still running". The whole job has a deadline
(``deadline_s``); the cancel token is checked between every call and during every wait.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import subprocess
import uuid
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import requests

from errors import (
    N_,
    ConfigError,
    InputError,
    JobCancelled,
    ProviderAuthError,
    ProviderError,
    ProviderOutOfCredit,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from providers.base import GenerationRequest, GenerationResult, JobContext, Provider
from providers.http import (
    Clock,
    Deadline,
    LinkExpired,
    RetryPolicy,
    VendorHttp,
    VendorReply,
    default_clock,
    wait,
)
from secrets_manager import get_settings

log = logging.getLogger("talkingphoto.providers")

State = Literal["queued", "running", "done", "failed"]
REASON_MAX_CHARS = 300
EXPECTED_RENDER_S = 120.0  # progress creeps towards 90 % on this time scale

# Default Microsoft (Azure neural) voice per language, as D-ID takes them; names from the
# reference notes (D-ID section 1.4). Listing voices needs the network; the default does not.
MICROSOFT_VOICES: dict[str, str] = {
    "en": "en-US-JennyNeural",
    "hi": "hi-IN-SwaraNeural",
    "bn": "bn-IN-TanishaaNeural",
    "ta": "ta-IN-PallaviNeural",
    "te": "te-IN-ShrutiNeural",
    "mr": "mr-IN-AarohiNeural",
    "gu": "gu-IN-DhwaniNeural",
    "kn": "kn-IN-SapnaNeural",
    "ml": "ml-IN-SobhanaNeural",
}
# What avatar vendors with their own voice catalogues (HeyGen, Synthesia) speak: our Indian
# languages plus the large ones their catalogues cover.
AVATAR_VENDOR_LANGUAGES = frozenset(MICROSOFT_VOICES) | {"es", "fr", "de", "pt", "ar", "zh", "ja"}


@dataclass(frozen=True)
class RemoteStatus:
    """A vendor job as we read it. ``state`` is ours; ``raw`` the vendor's word for it."""

    state: State
    raw: str
    result_url: str | None = None
    error: ProviderError | None = None  # for state "failed": what the creator is told


class CloudProvider(Provider):
    """Base of the vendor adapters. Subclasses set the class attributes and the hooks."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""  # how creators see the vendor, e.g. "D-ID"
    section: ClassVar[str] = ""  # settings section, e.g. "d_id"
    STATES: ClassVar[Mapping[str, State]] = {}
    VOICES_NEED_NETWORK: ClassVar[bool] = True  # False: voices() is local (Luma speaks ours)

    @classmethod
    def from_settings(cls, settings: Any) -> Provider:
        return cls(config=getattr(settings, cls.section))

    def __init__(
        self,
        *,
        config: Any = None,
        session: requests.Session | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.config = config if config is not None else getattr(get_settings(), self.section)
        if self.config.api_key is None:
            raise ConfigError(
                N_("{provider} is not configured: set [{section}] api_key."),
                params={"provider": self.label, "section": self.section},
            )
        self.clock = clock or default_clock()
        self.http = VendorHttp(
            self.name,
            self.label,
            self.config.base_url,
            auth=self.auth_headers(self.config.api_key.get_secret_value()),
            connect_s=self.config.connect_s,
            read_s=self.config.read_s,
            translate=self.translate,
            session=session,
            clock=self.clock,
            retry=retry,
        )

    # ------------------------------------------------------------------ vendor hooks

    @abstractmethod
    def auth_headers(self, key: str) -> dict[str, str]: ...

    @abstractmethod
    def translate(self, reply: VendorReply) -> ProviderError:
        """The vendor's non-2xx answer as an error of our tree (status + vendor code)."""

    @abstractmethod
    def create(
        self, request: GenerationRequest, voice: str, ctx: JobContext, deadline: Deadline
    ) -> str:
        """Submit the job; return the vendor's id. Must send ``ctx.client_ref`` where the
        vendor echoes it (or as an idempotency key), so :meth:`find` can recover it."""

    @abstractmethod
    def status(self, remote_id: str, deadline: Deadline, ctx: JobContext) -> RemoteStatus: ...

    def find(self, client_ref: str, deadline: Deadline, ctx: JobContext) -> str | None:
        """The vendor job created for ``client_ref``, if the vendor lets us look it up."""
        return None

    def cancel_remote(self, remote_id: str) -> None:
        """Ask the vendor to stop (only where it has an endpoint for that)."""

    def choose_voice(self, request: GenerationRequest, deadline: Deadline) -> str:
        return request.voice or ""

    def finish(
        self, request: GenerationRequest, video: Path, ctx: JobContext, deadline: Deadline
    ) -> tuple[Path, tuple[str, ...]]:
        """Post-process the downloaded file (Luma adds speech); returns it and notes."""
        return video, ()

    @abstractmethod
    def check(self) -> str: ...

    # -------------------------------------------------------------------- the job

    def price_per_started_30s(self) -> int:
        return int(self.config.credits_per_started_30s)

    def validate(self, request: GenerationRequest) -> None:
        # Voices are the vendor's to check (listing them needs the network; a wrong one
        # comes back as a rejection). Everything else as for every provider.
        checked = dataclasses.replace(request, voice=None) if self.VOICES_NEED_NETWORK else request
        super().validate(checked)
        if request.captions != "none" and not self.capabilities().captions:
            raise InputError(
                N_(
                    "Captions are made by the local engine only; choose no captions for {provider}."
                ),
                params={"provider": self.label},
            )

    def generate(self, request: GenerationRequest, ctx: JobContext) -> GenerationResult:
        self.validate(request)
        ctx.work_dir.mkdir(parents=True, exist_ok=True)
        deadline = Deadline.after(float(self.config.deadline_s), self.clock)
        ctx.progress("queued", 2.0)
        if ctx.remote_id:
            remote_id, voice = ctx.remote_id, request.voice or ""
            log.info("%s: resuming remote job %s", self.name, remote_id)
        else:
            voice = self.choose_voice(request, deadline)
            remote_id = self._start(request, voice, ctx, deadline)
        done = self._wait(remote_id, ctx, deadline)
        video = self._fetch(remote_id, done, ctx, deadline)
        video, notes = self.finish(request, video, ctx, deadline)
        ctx.progress("encode", 96.0)
        return self._result(video, voice, notes, ctx)

    def _start(
        self, request: GenerationRequest, voice: str, ctx: JobContext, deadline: Deadline
    ) -> str:
        if not ctx.client_ref:
            ctx.client_ref = uuid.uuid4().hex
        for attempt in (1, 2):
            ctx.cancel.raise_if_cancelled()
            try:
                remote_id = self.create(request, voice, ctx, deadline)
                break
            except (ProviderRateLimited, ProviderOutOfCredit):
                raise  # the vendor answered: nothing was made
            except ProviderUnavailable as exc:
                # A 5xx or a timeout on a create: the job may exist. Look before paying again.
                log.warning("%s: create failed (%s); looking for it", self.name, exc.detail)
                found = self.find(ctx.client_ref, deadline, ctx)
                if found:
                    remote_id = found
                    break
                if attempt == 2:
                    raise
                wait(self.clock, self.http.retry.backoff(1), ctx.cancel)
        ctx.save_remote_id(remote_id)
        return remote_id

    def _wait(self, remote_id: str, ctx: JobContext, deadline: Deadline) -> RemoteStatus:
        started = self.clock.monotonic()
        every = float(self.config.poll_every_s)
        while True:
            self._stop_if_cancelled(remote_id, ctx)
            current = self.status(remote_id, deadline, ctx)
            if current.state == "done":
                return current
            if current.state == "failed":
                raise current.error or ProviderRejected(provider=self.name)
            if current.state == "queued":
                ctx.progress("queued", 5.0)
            else:
                elapsed = self.clock.monotonic() - started
                ctx.progress("animate", 10.0 + 80.0 * (1 - math.exp(-elapsed / EXPECTED_RENDER_S)))
            if deadline.remaining() <= every:
                raise ProviderTimeout(
                    N_("{provider} did not finish the video within {minutes} minutes."),
                    params={
                        "provider": self.label,
                        "minutes": max(1, math.ceil(deadline.seconds / 60)),
                    },
                    provider=self.name,
                    detail=f"remote job {remote_id} still {current.raw}",
                )
            try:
                wait(self.clock, every, ctx.cancel)
            except JobCancelled:
                self._stop_if_cancelled(remote_id, ctx)
                raise

    def _stop_if_cancelled(self, remote_id: str, ctx: JobContext) -> None:
        if ctx.cancel.cancelled:
            try:
                self.cancel_remote(remote_id)
            except ProviderError as exc:  # best effort: we stop polling either way
                log.info("%s: cancel of %s failed: %s", self.name, remote_id, exc.detail)
            raise JobCancelled()

    def _fetch(
        self, remote_id: str, done: RemoteStatus, ctx: JobContext, deadline: Deadline
    ) -> Path:
        ctx.progress("encode", 92.0)
        dest = ctx.work_dir / f"{self.name}.mp4"
        for attempt in (1, 2):
            if not done.result_url:
                raise ProviderProtocolError(
                    provider=self.name, detail=f"remote job {remote_id} is done without a URL"
                )
            try:
                self.http.download(done.result_url, dest, deadline=deadline, cancel=ctx.cancel)
                return dest
            except LinkExpired as exc:
                if attempt == 2:
                    raise ProviderUnavailable(
                        N_("The finished video could not be downloaded from {provider}."),
                        params={"provider": self.label},
                        provider=self.name,
                        detail=f"result link of {remote_id} expired twice",
                    ) from exc
                log.info("%s: result link of %s expired; polling again", self.name, remote_id)
                done = self.status(remote_id, deadline, ctx)
                if done.state != "done":
                    raise ProviderProtocolError(
                        provider=self.name, detail=f"{remote_id} went from done to {done.raw}"
                    ) from exc
        raise AssertionError("unreachable")

    def _result(
        self, video: Path, voice: str, notes: tuple[str, ...], ctx: JobContext
    ) -> GenerationResult:
        from providers.local.encode import ffmpeg_exe, probe

        try:
            info = probe(video)
        except ValueError as exc:
            raise ProviderProtocolError(
                provider=self.name, detail="the downloaded result is not a video"
            ) from exc
        if info.video_codec is None:
            raise ProviderProtocolError(provider=self.name, detail="the result has no video track")
        thumb = ctx.work_dir / "thumb.jpg"
        subprocess.run(
            [
                ffmpeg_exe(),
                "-hide_banner",
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-ss",
                f"{min(0.5, info.duration_s / 2):.2f}",
                "-i",
                str(video),
                "-frames:v",
                "1",
                "-q:v",
                "4",
                str(thumb),
            ],
            capture_output=True,
            check=False,
            timeout=60,
        )
        return GenerationResult(
            video_path=video,
            duration_s=info.duration_s,
            provider=self.name,
            voice=voice,
            width=info.width,
            height=info.height,
            thumbnail_path=thumb if thumb.is_file() else None,
            notes=notes,
        )

    # ----------------------------------------------------------------- helpers

    def state_of(self, raw: Any, remote_id: str) -> State:
        """The vendor's status word mapped through ``STATES``; unknown is an error."""
        state = self.STATES.get(raw) if isinstance(raw, str) else None
        if state is None:
            raise ProviderProtocolError(
                N_("{provider} reported a status we do not know: {status}."),
                params={"provider": self.label, "status": str(raw)[:40]},
                provider=self.name,
                detail=f"remote job {remote_id}: status {raw!r}",
            )
        return state

    def vendor_failure(
        self, cls: type[ProviderError], reason: Any, code: Any = None
    ) -> ProviderError:
        """A failed render, with the vendor's own words for the creator (clipped)."""
        text = " ".join(str(reason or code or "").split())[:REASON_MAX_CHARS] or "-"
        return cls(
            N_("{provider} could not make this video: {reason}"),
            params={"provider": self.label, "reason": text},
            provider=self.name,
            detail=f"vendor failure code {code!r}",
        )


def translate_by_table(
    provider: CloudProvider,
    reply: VendorReply,
    code: str | None,
    codes: Mapping[str, type[ProviderError]],
) -> ProviderError:
    """The shared translation: the vendor's documented ``code`` first, then the status."""
    cls = codes.get(code) if code else None
    status = reply.status
    if cls is None:
        if status in (401, 403):
            cls = ProviderAuthError
        elif status == 402:
            cls = ProviderOutOfCredit
        elif status == 429:
            cls = ProviderRateLimited
        elif status == 408:
            cls = ProviderTimeout
        elif status == 404 or status >= 500:
            cls = ProviderUnavailable
        elif 400 <= status < 500:
            cls = ProviderRejected
        else:
            cls = ProviderProtocolError
    return make_error(provider, cls, reply, code)


def make_error(
    provider: CloudProvider,
    cls: type[ProviderError],
    reply: VendorReply,
    code: str | None,
) -> ProviderError:
    detail = f"{reply.method} {reply.path} -> HTTP {reply.status} code={code!r}"
    params = {"provider": provider.label}
    if issubclass(cls, ProviderAuthError):
        return ProviderAuthError(
            N_("{provider} did not accept our API key; the operator must check it."),
            params=params,
            provider=provider.name,
            detail=detail,
        )
    if cls is ProviderOutOfCredit:
        return ProviderOutOfCredit(
            N_("{provider} has run out of credit for now."),
            params=params,
            provider=provider.name,
            detail=detail,
        )
    if cls is ProviderRateLimited:
        return ProviderRateLimited(
            N_("{provider} is busy right now; please try again in a minute."),
            params=params,
            provider=provider.name,
            detail=detail,
            retry_after_s=reply.retry_after_s,
        )
    if cls is ProviderTimeout:
        return ProviderTimeout(
            N_("{provider} did not answer in time."),
            params=params,
            provider=provider.name,
            detail=detail,
        )
    if cls is ProviderRejected:
        return ProviderRejected(
            N_("{provider} could not use this photo or script."),
            params=params,
            provider=provider.name,
            detail=detail,
        )
    if cls is ProviderProtocolError:
        return ProviderProtocolError(provider=provider.name, detail=detail)
    if reply.status == 404:
        return ProviderUnavailable(
            N_("{provider} no longer has this video."),
            params=params,
            provider=provider.name,
            detail=detail,
        )
    return ProviderUnavailable(
        N_("{provider} is unavailable right now."),
        params=params,
        provider=provider.name,
        detail=detail,
        retry_after_s=reply.retry_after_s,
    )
