"""Luma Dream Machine: photo -> silent motion clip, with *our* speech laid over it.

Luma does not speak: no TTS, no script, no lip-sync anywhere in its API (reference section
4.2). The adapter therefore animates the photo with Luma, speaks the script with the local
engine (providers.local.speech), and lays that speech over the clip, looping or trimming
the clip to the speech. Creators are told: motion only, no lip-sync (``speaks`` is False, so
the router never picks Luma on its own).

Contract: ``Authorization: Bearer <key>``; no upload endpoint: ``keyframes.frame0`` is the
photo's **public** URL, so without remote storage we refuse clearly; ``POST
/generations/video`` (``model`` required); ``GET /generations/{id}`` goes queued -> dreaming
-> completed | failed (``failure_reason``); ``assets.video`` to download; ``DELETE
/generations/{id}`` to cancel. Errors ``{"detail": "<text>"}``: by status only. Key check
``GET /credits``. A lost create answer is recovered from ``GET /generations`` by our frame URL.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import ClassVar

from errors import N_, InputError, ProviderError, ProviderProtocolError, ProviderRejected
from providers.base import NEEDS_PUBLIC_PHOTO, Capabilities, GenerationRequest, JobContext, Voice
from providers.cloud import CloudProvider, RemoteStatus, State, translate_by_table
from providers.http import Deadline, VendorReply
from providers.local.languages import LANGUAGES

MODEL = "ray-2"
PROMPT = (
    "The person in the photo looks into the camera and talks warmly, "
    "with small natural head movements."
)
RESOLUTION_NAMES = {480: "540p", 720: "720p", 1080: "1080p"}
CLIP_SECONDS = (5, 9)  # the durations Luma renders
FIND_RECENT = 50
NOTE_NO_LIPSYNC = N_("Motion only, no lip-sync: Luma animates the photo; our voice speaks.")

ERROR_CODES: dict[str, type[ProviderError]] = {}  # {"detail": text} only: status decides


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]


class LumaProvider(CloudProvider):
    name = "luma"
    label = "Luma"
    section = "luma_ai"
    STATES: ClassVar[dict[str, State]] = {
        "queued": "queued",
        "dreaming": "running",
        "completed": "done",
        "failed": "failed",
    }
    VOICES_NEED_NETWORK = False

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def capabilities(self) -> Capabilities:

        return Capabilities(
            languages=frozenset(LANGUAGES),  # the speech is ours
            uses_photo=True,
            speaks=False,
            max_script_chars=5000,
            resolutions=tuple(RESOLUTION_NAMES),
            needs_network=True,
            captions=False,
            needs_public_photo=True,
        )

    def translate(self, reply: VendorReply) -> ProviderError:
        return translate_by_table(self, reply, None, ERROR_CODES)

    def voices(self, language: str | None = None) -> list[Voice]:
        from providers.local import speech

        return speech.list_voices(language)

    def choose_voice(self, request: GenerationRequest, deadline: Deadline) -> str:
        from providers.local import speech

        return request.voice or speech.default_voice(request.language)

    def check(self) -> str:
        body = self.http.json(self.http.call("GET", "/credits"))
        return f"ok ({body.get('credit_balance')} cents)" if isinstance(body, dict) else "ok"

    # -------------------------------------------------------------------------- job

    def _speech(self, request: GenerationRequest, ctx: JobContext) -> tuple[Path, float, str]:
        from providers.local import speech

        wav = ctx.work_dir / "speech.wav"
        spoken = speech.synthesize(
            request.script,
            request.language,
            request.voice,
            speed=request.speed,
            pitch=request.pitch,
            cancel=ctx.cancel,
        )
        speech.write_wav(spoken, wav)
        return wav, spoken.duration_s, spoken.voice_id

    def create(
        self, request: GenerationRequest, voice: str, ctx: JobContext, deadline: Deadline
    ) -> str:
        if not ctx.photo_url:
            raise InputError(NEEDS_PUBLIC_PHOTO, params={"provider": self.label})
        # Luma renders 5 s or 9 s; the clip is looped or trimmed to the speech later, so a
        # rough length (about 2.5 words a second) is enough to choose.
        seconds = len(request.script.split()) / 2.5 / max(request.speed, 0.5)
        body = {
            "generation_type": "video",
            "model": MODEL,
            "prompt": PROMPT,
            "aspect_ratio": request.aspect,
            "resolution": RESOLUTION_NAMES[request.resolution],
            "duration": f"{CLIP_SECONDS[0] if seconds <= CLIP_SECONDS[0] else CLIP_SECONDS[1]}s",
            "keyframes": {"frame0": {"type": "image", "url": ctx.photo_url}},
        }
        reply = self.http.call(
            "POST",
            "/generations/video",
            json=body,
            deadline=deadline,
            cancel=ctx.cancel,
            idempotent=False,
        )
        return str(self.http.json(reply)["id"])

    def find(self, client_ref: str, deadline: Deadline, ctx: JobContext) -> str | None:
        if not ctx.photo_url:
            return None
        wanted = _without_query(ctx.photo_url)
        reply = self.http.call(
            "GET",
            "/generations",
            params={"limit": FIND_RECENT},
            deadline=deadline,
            cancel=ctx.cancel,
        )
        for item in (self.http.json(reply) or {}).get("generations") or []:
            frame = ((item.get("request") or {}).get("keyframes") or {}).get("frame0") or {}
            if isinstance(frame.get("url"), str) and _without_query(frame["url"]) == wanted:
                return str(item["id"])
        return None

    def cancel_remote(self, remote_id: str) -> None:
        self.http.call("DELETE", f"/generations/{remote_id}", accept=(404,))

    def status(self, remote_id: str, deadline: Deadline, ctx: JobContext) -> RemoteStatus:
        reply = self.http.call(
            "GET", f"/generations/{remote_id}", deadline=deadline, cancel=ctx.cancel
        )
        body = self.http.json(reply)
        raw = body.get("state")
        state = self.state_of(raw, remote_id)
        if state != "failed":
            assets = body.get("assets") or {}
            return RemoteStatus(state, raw, result_url=assets.get("video"))
        reason = body.get("failure_reason")
        return RemoteStatus("failed", raw, error=self.vendor_failure(ProviderRejected, reason, raw))

    def finish(
        self, request: GenerationRequest, video: Path, ctx: JobContext, deadline: Deadline
    ) -> tuple[Path, tuple[str, ...]]:
        """Loop or trim the motion clip to the speech and mux it in (H.264 + AAC)."""
        from providers.local.encode import AUDIO_BITRATE, CRF, PRESET, ffmpeg_exe

        ctx.progress("voice", 93.0)
        wav, seconds, _voice = self._speech(request, ctx)
        ctx.cancel.raise_if_cancelled()
        out = ctx.work_dir / "luma-speech.mp4"
        cmd = [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-stream_loop",
            "-1",
            "-i",
            str(video),
            "-i",
            str(wav),
            "-map",
            "0:v:0",
            "-map",
            "1:a:0",
            "-t",
            f"{seconds:.3f}",
            "-c:v",
            "libx264",
            "-preset",
            PRESET,
            "-crf",
            str(CRF),
            "-pix_fmt",
            "yuv420p",
            "-vf",
            "scale=trunc(iw/2)*2:trunc(ih/2)*2",
            "-c:a",
            "aac",
            "-b:a",
            AUDIO_BITRATE,
            "-movflags",
            "+faststart",
            str(out),
        ]
        done = subprocess.run(cmd, capture_output=True, check=False, timeout=600)
        if done.returncode != 0 or not out.is_file():
            raise ProviderProtocolError(
                provider=self.name,
                detail="mixing speech into the Luma clip failed: "
                + done.stderr.decode("utf-8", "replace")[-400:],
            )
        return out, (NOTE_NO_LIPSYNC,)
