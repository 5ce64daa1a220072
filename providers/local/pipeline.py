"""One local generation: speech -> face -> frames streamed to the encoder -> files.

:func:`render` is what :meth:`providers.local.LocalProvider.generate` runs once the request
is validated. The face is found first (a photo without one is refused at once), then the
voice is synthesised on a thread while the animator gets ready beside it
(:mod:`providers.local.speech_thread`). Progress: "voice" 0-15, "face" 15-20, "animate"
20-99 (frames are encoded as they are drawn), "encode" while ffmpeg finishes, "done" 100.
``ctx.cancel`` is checked between sentences and before every frame; on cancel or error the
speech thread is stopped, the encoder killed and the partial files removed.
"""

from __future__ import annotations

import io
import math
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from errors import N_, PhotoError
from observability import memory
from providers.base import GenerationRequest, JobContext
from providers.local import captions, speech
from providers.local.animate import FaceAnimator
from providers.local.encode import VideoEncoder
from providers.local.face import FaceLandmarks, detect_face
from providers.local.framing import Framing, plan_framing, render_base
from providers.local.motion import blink_track, head_track
from providers.local.speech_thread import SpeechThread, warm_mouth
from providers.local.visemes import MouthTrack, mouth_track

FPS = 25
MAX_PHOTO_SIDE = 2048  # the upload path already downscales; this guards direct callers


@dataclass(frozen=True)
class RenderOutput:
    video: Path
    thumbnail: Path
    srt: Path
    vtt: Path
    duration_s: float
    voice: str
    width: int
    height: int
    timings: dict[str, float]
    notes: tuple[str, ...]


def load_photo(source: Path | bytes) -> np.ndarray:
    """The photo as RGB uint8: EXIF orientation applied, transparency flattened onto light
    grey, at most MAX_PHOTO_SIDE px. Raises :class:`PhotoError` if it cannot be read."""
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode in ("RGBA", "LA", "PA", "P"):
                rgba = im.convert("RGBA")
                im = Image.alpha_composite(Image.new("RGBA", rgba.size, (235, 235, 235, 255)), rgba)
            im = im.convert("RGB")
            if max(im.size) > MAX_PHOTO_SIDE:
                im.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE), Image.Resampling.LANCZOS)
            return np.asarray(im, dtype=np.uint8).copy()
    except (OSError, Image.DecompressionBombError) as exc:
        raise PhotoError(N_("The photo could not be read."), detail=str(exc)) from exc


def _prepare_face(
    request: GenerationRequest, min_face_px: int
) -> tuple[np.ndarray, FaceLandmarks, Framing, float]:
    """The framed still, the landmarks in its coordinates, the framing, and the seconds taken."""
    t = time.perf_counter()
    photo = load_photo(request.photo_path)
    lm = detect_face(photo, min_face_px=min_face_px)
    framing = plan_framing(
        photo.shape[1], photo.shape[0], lm.box, request.resolution, request.aspect
    )
    base = render_base(photo, framing)
    lm_out = lm.transformed(framing.scale, -framing.x0 * framing.scale, -framing.y0 * framing.scale)
    return base, lm_out, framing, time.perf_counter() - t


@dataclass(frozen=True)
class _Frames:
    """What draws the frames: the animator, the framing, the notes from face finding."""

    animator: FaceAnimator
    framing: Framing
    notes: tuple[str, ...]


def job_seed(script: str, photo: np.ndarray) -> int:
    """Same inputs, same blinks and sway: re-rendering a job reproduces it."""
    return zlib.crc32(script.encode("utf-8"), zlib.crc32(photo[::16, ::16].tobytes()))


def render(request: GenerationRequest, ctx: JobContext, *, min_face_px: int) -> RenderOutput:
    timings: dict[str, float] = {}
    work = Path(ctx.work_dir)
    work.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    ctx.progress("voice", 0.0)
    # The face first (~0.2 s): a photo without one is refused before any speech is made.
    base, lm_out, framing, timings["face"] = _prepare_face(request, min_face_px)
    # Then the voice on a thread of its own. Piper keeps about one core busy, so the
    # speech-independent work (animator, eye shapes, person mask and background plate) and
    # the mouth shapes the speech so far needs are done on the other core meanwhile.
    t_voice = time.perf_counter()
    voice = SpeechThread(request, ctx.cancel)
    try:
        animator = FaceAnimator(base, lm_out)
        animator.prepare(head_moves=request.head_motion > 0)
        # Face finding's and the plate's temporaries: freed, but glibc still holds them.
        memory.release_free_memory()
        warm_mouth(animator, voice, FPS)
        sp = voice.result()
    finally:
        voice.stop()
    timings["voice"] = time.perf_counter() - t_voice  # the animator got ready meanwhile
    ctx.progress("voice", 15.0)
    ctx.progress("face", 15.0)
    ctx.cancel.raise_if_cancelled()
    wav = work / "speech.wav"
    try:
        speech.write_wav(sp, wav)
        ctx.progress("face", 20.0)
        frames = _Frames(animator, framing, lm_out.notes)
        return _render_frames(request, ctx, work, wav, sp, frames, timings, t0)
    finally:
        wav.unlink(missing_ok=True)  # in the video now, or not needed: a cancel leaves nothing


def _render_frames(
    request: GenerationRequest,
    ctx: JobContext,
    work: Path,
    wav: Path,
    sp: speech.Speech,
    frames: _Frames,
    timings: dict[str, float],
    t0: float,
) -> RenderOutput:
    """Tracks from the whole speech, then every frame drawn and streamed to the encoder."""
    animator, framing = frames.animator, frames.framing
    n_frames = max(1, math.ceil(sp.duration_s * FPS - 1e-6))
    mouth = mouth_track(sp.samples, sp.sample_rate, sp.phonemes, n_frames, FPS)
    seed = job_seed(request.script, animator.base)
    blinks = blink_track(n_frames, FPS, seed)
    head = head_track(n_frames, FPS, request.head_motion, seed, loudness=mouth.openness)
    cues = captions.build_cues(sp.words)
    burner = (
        captions.CaptionRenderer(cues, framing.width, framing.height, request.language)
        if request.captions == "burn"
        else None
    )

    video = work / "video.mp4"
    t2 = time.perf_counter()
    step = max(1, n_frames // 100)
    with VideoEncoder(video, framing.width, framing.height, FPS, wav) as enc:
        for i in range(n_frames):
            ctx.cancel.raise_if_cancelled()
            pose = (
                float(head.angle[i]),
                float(head.dx[i]),
                float(head.dy[i]),
                float(head.scale[i]),
            )
            frame = animator.frame(
                float(mouth.openness[i]),
                float(mouth.width[i]),
                float(blinks[i]),
                pose,
                tuck=float(mouth.tuck[i]),
            )
            if burner is None:
                enc.write(frame, changed=animator.dirty)  # converts only the head region
            else:
                enc.write(burner.draw(frame.copy(), (i + 0.5) / FPS))
            if i % step == 0:
                ctx.progress("animate", 20.0 + 79.0 * i / n_frames)
        timings["animate"] = time.perf_counter() - t2
        ctx.progress("encode", 99.0)
        t3 = time.perf_counter()
    timings["encode"] = time.perf_counter() - t3

    thumb = work / "thumb.jpg"
    _save_thumbnail(animator, mouth, thumb)
    srt, vtt = work / "captions.srt", work / "captions.vtt"
    srt.write_text(captions.to_srt(cues), encoding="utf-8")
    vtt.write_text(captions.to_vtt(cues), encoding="utf-8")
    timings["total"] = time.perf_counter() - t0
    ctx.progress("done", 100.0)
    return RenderOutput(
        video=video,
        thumbnail=thumb,
        srt=srt,
        vtt=vtt,
        duration_s=sp.duration_s,
        voice=sp.voice_id,
        width=framing.width,
        height=framing.height,
        timings=timings,
        notes=frames.notes,
    )


def _save_thumbnail(animator: FaceAnimator, mouth: MouthTrack, path: Path) -> None:
    """A frame with the mouth a little open: it reads as 'talking' in a list of videos."""
    target = 0.4 * float(mouth.openness.max()) if mouth.openness.size else 0.0
    i = int(np.argmin(np.abs(mouth.openness - target))) if mouth.openness.size else 0
    frame = animator.frame(
        float(mouth.openness[i]) if mouth.openness.size else 0.0,
        float(mouth.width[i]) if mouth.width.size else 1.0,
        0.0,
    )
    Image.fromarray(frame).save(path, "JPEG", quality=85, optimize=True)
