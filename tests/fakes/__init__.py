"""Test doubles for the job runner: a scriptable provider and a manual executor.

Register the provider with ``monkeypatch.setitem(providers.REGISTRY, "fake", FAKE_PROVIDER)``
and steer it through :data:`PLAN` (reset per test by the ``jobs_env`` fixture):

* ``mode = "ok"``: reports progress, writes a tiny video, thumbnail and captions;
* ``"reject"``: raises ``ProviderRejected`` (a user-safe message);
* ``"crash"``: raises ``RuntimeError`` whose text contains ``PLAN.crash_text``;
* ``"block"``: reports progress, sets ``PLAN.started``, then waits for ``PLAN.release`` while
  checking the cancel token like a real renderer does every frame.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from errors import ProviderRejected
from providers.base import (
    Capabilities,
    GenerationRequest,
    GenerationResult,
    JobContext,
    Provider,
    Voice,
)

FAKE_PROVIDER = "tests.fakes:FakeProvider"


def stored_file(key: str | None) -> Path | None:
    """A job's stored file on local disk (``None`` when the row names no key)."""
    from services import media

    return media.local_file(key) if key else None


VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32
THUMB_BYTES = b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"


@dataclass
class Plan:
    mode: str = "ok"
    crash_text: str = "boom"
    duration_s: float = 4.2
    notes: tuple[str, ...] = ("several faces: used the largest",)
    # Rapid progress calls in one stage: the runner must throttle them.
    progress: tuple[tuple[str, float], ...] = (
        ("voice", 5.0),
        ("voice", 10.0),
        ("voice", 15.0),
        ("face", 18.0),
        ("animate", 40.0),
        ("animate", 60.0),
    )
    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    requests: list[GenerationRequest] = field(default_factory=list)
    remote_ids: list[str | None] = field(default_factory=list)
    threads: list[str] = field(default_factory=list)
    saw_cancel: bool = False
    new_remote_id: str | None = None  # when set, reported through ctx.save_remote_id


PLAN = Plan()


def reset() -> Plan:
    global PLAN
    PLAN = Plan()
    return PLAN


class FakeProvider(Provider):
    name = "fake"
    VOICES = (
        Voice(id="fake-en-1", name="Ann", language="en", gender="female", engine="fake"),
        Voice(id="fake-en-2", name="Bob", language="en", gender="male", engine="fake"),
        Voice(id="fake-hi-1", name="Asha", language="hi", gender="female", engine="fake"),
    )

    def capabilities(self) -> Capabilities:
        return Capabilities(
            languages=frozenset({"en", "hi"}), uses_photo=True, speaks=True, max_script_chars=5000
        )

    def voices(self, language: str | None = None) -> list[Voice]:
        return [v for v in self.VOICES if language is None or v.language == language]

    def generate(self, request: GenerationRequest, ctx: JobContext) -> GenerationResult:
        plan = PLAN
        plan.requests.append(request)
        plan.remote_ids.append(ctx.remote_id)
        plan.threads.append(threading.current_thread().name)
        assert request.photo_path.is_file(), "the runner must hand over the stored photo"
        if plan.new_remote_id:
            ctx.save_remote_id(plan.new_remote_id)
        for stage, percent in plan.progress:
            ctx.cancel.raise_if_cancelled()
            ctx.progress(stage, percent)
        if plan.mode == "reject":
            raise ProviderRejected("The video service could not use this photo.", provider="fake")
        if plan.mode == "crash":
            raise RuntimeError(f"unexpected vendor reply: {plan.crash_text}")
        if plan.mode == "block":
            plan.started.set()
            while not plan.release.wait(0.01):
                if ctx.cancel.cancelled:
                    plan.saw_cancel = True
                    ctx.cancel.raise_if_cancelled()
        ctx.progress("encode", 95.0)
        video = ctx.work_dir / "video.mp4"
        video.write_bytes(VIDEO_BYTES)
        thumb = ctx.work_dir / "thumb.jpg"
        thumb.write_bytes(THUMB_BYTES)
        srt = vtt = None
        if request.captions != "none":
            srt = ctx.work_dir / "captions.srt"
            srt.write_text(f"1\n00:00:00,000 --> 00:00:02,000\n{request.script}\n", "utf-8")
            vtt = ctx.work_dir / "captions.vtt"
            vtt.write_text(f"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n{request.script}\n", "utf-8")
        return GenerationResult(
            video_path=video,
            duration_s=plan.duration_s,
            provider=self.name,
            voice=request.voice or "fake-en-1",
            width=request.resolution,
            height=request.resolution,
            thumbnail_path=thumb,
            srt_path=srt,
            vtt_path=vtt,
            notes=plan.notes,
        )


class ManualExecutor:
    """Holds submitted jobs until ``run_all()``: a job stays queued, as if workers were busy."""

    def __init__(self) -> None:
        self.submitted: list[tuple[Callable[..., object], tuple[Any, ...]]] = []

    def submit(self, fn: Callable[..., object], *args: Any) -> None:
        self.submitted.append((fn, args))

    def run_all(self) -> None:
        pending, self.submitted = self.submitted, []
        for fn, args in pending:
            fn(*args)

    def shutdown(self, wait: bool = True) -> None:
        self.submitted.clear()
