"""Real videos from the local engine, inspected the way a viewer (or a phone) would see them.

The slow tests decode an MP4 the engine actually wrote: streams and codecs, duration against
the speech, frame size per aspect, lip sync against the audio, blinks, a still background, a
still head when head motion is 0, cancellation, progress and captions. The fast ones at the
end check the pieces (mouth, eyes, head warp, visemes, blinks, framing, encoder) directly.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import psutil
import pytest
from PIL import Image

from errors import JobCancelled
from providers.base import CancelToken, GenerationRequest, GenerationResult, JobContext
from providers.local import LocalProvider
from providers.local.animate import FaceAnimator
from providers.local.encode import VideoEncoder, encoder_threads, probe
from providers.local.face import FaceLandmarks, detect_face
from providers.local.framing import output_size, plan_framing, render_base
from providers.local.motion import blink_track, head_track
from providers.local.speech import Phoneme
from providers.local.visemes import mouth_track, phoneme_shape
from tests.lipsync import (
    audio_envelope,
    decode_audio,
    decode_frames,
    mouth_box,
    mouth_signal,
    sync_report,
)

EN_SCRIPT = (
    "Hello there! Welcome to Talking Photo. This portrait can now speak any script you type, "
    "in many languages, with captions and natural blinks."
)
HI_SCRIPT = "नमस्ते! आप कैसे हैं? यह तस्वीर अब आपकी बात बोल सकती है, कई भाषाओं में।"
# eSpeak pauses ~0.5 s at a paragraph break: the mouth must rest there.
PAUSE_SCRIPT = (
    "Hello there, and welcome to this little demonstration.\n\n"
    "Now I will stop for a moment.\n\nThank you for watching, and goodbye."
)


Rendered = tuple[GenerationResult, list[tuple[str, float]]]


def render(tmp: Path, photo: Path, **kw: object) -> Rendered:
    events: list[tuple[str, float]] = []
    request = GenerationRequest(photo_path=photo, **kw)  # type: ignore[arg-type]
    ctx = JobContext(work_dir=tmp, progress=lambda s, p: events.append((s, p)))
    return LocalProvider().generate(request, ctx), events


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory, astronaut_rgb: np.ndarray) -> Path:
    path = tmp_path_factory.mktemp("photo") / "astronaut.jpg"
    Image.fromarray(astronaut_rgb).save(path, "JPEG", quality=92)
    return path


@pytest.fixture(scope="module")
def en_video(tmp_path_factory: pytest.TempPathFactory, photo: Path) -> Rendered:
    return render(
        tmp_path_factory.mktemp("en"),
        photo,
        script=EN_SCRIPT,
        language="en",
        resolution=480,
        aspect="9:16",
        head_motion=0.3,
    )


@pytest.fixture(scope="module")
def hi_video(tmp_path_factory: pytest.TempPathFactory, photo: Path) -> Rendered:
    return render(
        tmp_path_factory.mktemp("hi"),
        photo,
        script=HI_SCRIPT,
        language="hi",
        resolution=480,
        aspect="16:9",
        head_motion=0.3,
    )


@pytest.fixture(scope="module")
def still_video(tmp_path_factory: pytest.TempPathFactory, photo: Path) -> Rendered:
    """Head motion 0, a deterministic eSpeak voice, > 6 s with pauses."""
    return render(
        tmp_path_factory.mktemp("still"),
        photo,
        script=PAUSE_SCRIPT,
        language="en",
        voice="espeak:en:female",
        resolution=480,
        aspect="1:1",
        head_motion=0.0,
    )


def check_file(result: GenerationResult, size: tuple[int, int]) -> None:
    info = probe(result.video_path)
    assert (info.video_codec, info.pix_fmt) == ("h264", "yuv420p")
    assert info.audio_codec == "aac"
    assert (info.width, info.height) == size == (result.width, result.height)
    assert info.fps == 25
    assert info.faststart
    assert abs(info.duration_s - result.duration_s) <= 0.1, (info.duration_s, result.duration_s)
    # Count decoded frames too: the video track itself, not just the container's header.
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(result.video_path))
    assert abs(frames / 25 - result.duration_s) <= 0.1
    assert result.thumbnail_path is not None
    assert Image.open(result.thumbnail_path).size == size


@pytest.mark.slow
def test_english_video_file(en_video: Rendered) -> None:
    result, _ = en_video
    assert result.provider == "local" and result.voice == "piper:en:joe"
    check_file(result, (480, 854))
    assert 5 < result.duration_s < 15
    assert result.srt_path is not None and result.vtt_path is not None
    assert result.srt_path.read_text("utf-8").startswith("1\n00:00:0")
    assert result.vtt_path.read_text("utf-8").startswith("WEBVTT")
    assert set(result.timings) >= {"voice", "face", "animate", "encode", "total"}


@pytest.mark.slow
def test_hindi_video_file(hi_video: Rendered) -> None:
    result, _ = hi_video
    assert result.voice.startswith("espeak:hi:")
    check_file(result, (854, 480))
    assert "नमस्ते" in result.srt_path.read_text("utf-8")  # type: ignore[union-attr]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("aspect", "size"), [("1:1", (480, 480)), ("9:16", (480, 854)), ("16:9", (854, 480))]
)
def test_aspects_keep_the_whole_face(
    tmp_path: Path, photo: Path, aspect: str, size: tuple[int, int]
) -> None:
    result, _ = render(
        tmp_path,
        photo,
        script="Hi.",
        language="en",
        resolution=480,
        aspect=aspect,
        head_motion=0.0,
        voice="espeak:en:male",
    )
    check_file(result, size)
    first = np.asarray(Image.open(result.thumbnail_path))  # type: ignore[arg-type]
    lm = detect_face(np.ascontiguousarray(first), min_face_px=60)
    x, y, w, h = lm.box
    assert x > 0 and x + w < size[0] and y > 0 and y + 1.3 * h < size[1]  # chin in frame too


@pytest.mark.slow
@pytest.mark.parametrize("name", ["en_video", "hi_video"])
@pytest.mark.slow
def test_lip_sync(name: str, request: pytest.FixtureRequest) -> None:
    result, _ = request.getfixturevalue(name)
    report = sync_report(result.video_path)
    assert report.r_best >= 0.6 and abs(report.best_lag) <= 2, report
    # Negative control: the same video against audio 1 s late correlates far less.
    assert report.r_shifted < 0.4 and report.r_shifted < report.r_best - 0.4, report


@pytest.mark.slow
def test_mouth_rests_in_pauses(still_video: Rendered) -> None:
    result, _ = still_video
    frames, fps = decode_frames(result.video_path)
    lm = detect_face(np.ascontiguousarray(frames[0]), min_face_px=60)
    mouth = mouth_signal(frames, mouth_box(lm, frames.shape[1:]))
    env = audio_envelope(decode_audio(result.video_path), 16000, fps, len(frames))
    silent = env < env.max() - 40
    # Inner frames of silent runs of >= 5 frames (>= 0.2 s): not the instants around onsets.
    inner = np.zeros_like(silent)
    run_start = None
    for i, s in enumerate([*silent.tolist(), False]):
        if s and run_start is None:
            run_start = i
        elif not s and run_start is not None:
            if i - run_start >= 5:
                inner[run_start + 2 : i - 2] = True
            run_start = None
    mid = inner.copy()
    mid[:3] = mid[-3:] = False  # the pauses between sentences, not the lead-in and tail
    assert mid.sum() >= 5, "the script should contain a pause"
    speaking = mouth[~silent]
    rest_level = np.percentile(mouth, 2)
    open_level = np.percentile(speaking, 90)
    assert open_level > rest_level + 0.02  # the mouth does open when speaking
    quiet = mouth[inner] <= rest_level + 0.15 * (open_level - rest_level)
    assert quiet.mean() >= 0.9, (mouth[inner], rest_level, open_level)


def eye_change(frames: np.ndarray) -> np.ndarray:
    lm = detect_face(np.ascontiguousarray(frames[0]), min_face_px=60)
    r = int(lm.eye_radius * 1.3)
    diffs = []
    for ex, ey in (lm.left_eye, lm.right_eye):
        x, y = int(ex), int(ey)
        roi = frames[:, y - r : y + r, x - r : x + r].astype(np.float32)
        diffs.append(np.abs(roi - roi[0]).mean(axis=(1, 2, 3)))
    return np.minimum(*diffs)  # both eyes blink together


@pytest.mark.slow
def test_blinks(still_video: Rendered) -> None:
    result, _ = still_video
    frames, _ = decode_frames(result.video_path)
    assert len(frames) >= 6 * 25
    change = eye_change(frames)
    blink_frames = change > 6.0  # grey levels: a lid over the iris, not codec noise
    assert blink_frames.any(), change.max()
    # Blinks are brief: 150-250 ms, i.e. a handful of frames each, not a long squint.
    starts = np.flatnonzero(np.diff(blink_frames.astype(int)) == 1)
    assert 1 <= len(starts) <= 4
    assert blink_frames.sum() <= 8 * len(starts)


@pytest.mark.slow
def test_background_stays_put(en_video: Rendered) -> None:
    result, _ = en_video
    frames, _ = decode_frames(result.video_path)
    lm = detect_face(np.ascontiguousarray(frames[0]), min_face_px=60)
    # The strip beside the head, from the top down to the shoulders: background only.
    x, y, w, _ = lm.box
    strip = smooth(frames[:, max(0, y - w // 2) : y + w, : max(8, x - int(0.9 * w))])
    assert strip.shape[2] >= 8
    drift = np.abs(strip - strip[0]).mean(axis=(1, 2))
    assert drift.max() < 1.0, drift.max()  # within codec noise


def upper_head_change(frames: np.ndarray) -> float:
    """Largest mean change vs frame 0 over hair, forehead, nose and upper cheeks: the head
    without the eyes (blinks) and without the jaw and lips (speech)."""
    lm = detect_face(np.ascontiguousarray(frames[0]), min_face_px=60)
    x, y, w, _ = lm.box
    top, bottom = max(0, y - w // 3), int(lm.mouth_center[1] - 0.35 * w)
    left, right = max(0, x - w // 4), x + w + w // 4
    keep = np.ones((bottom - top, right - left), bool)
    for ex, ey in (lm.left_eye, lm.right_eye):
        r = int(lm.eye_radius * 1.8)
        keep[int(ey) - r - top : int(ey) + r - top, int(ex) - r - left : int(ex) + r - left] = 0
    region = smooth(frames[:, top:bottom, left:right])
    return float(max(np.abs(f - region[0])[keep].mean() for f in region))


def smooth(frames: np.ndarray) -> np.ndarray:
    """Grey, blurred frames: motion survives, the codec's fine-grained noise (which jumps at
    every keyframe) averages out."""
    return np.stack(
        [
            cv2.GaussianBlur(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 2.0)
            for f in frames
        ]
    )


@pytest.mark.slow
def test_head_still_when_motion_is_zero(still_video: Rendered, en_video: Rendered) -> None:
    still, _ = decode_frames(still_video[0].video_path)
    assert upper_head_change(still) < 1.0
    moving, _ = decode_frames(en_video[0].video_path)  # head motion 0.3: the check can fail
    assert upper_head_change(moving) > 3.0


@pytest.mark.slow
def test_progress_stages(en_video: Rendered) -> None:
    _, events = en_video
    stages = [s for s, _ in events]
    order = ["voice", "face", "animate", "encode", "done"]
    assert [s for s in order if s in stages] == order
    assert sorted(stages, key=order.index) == stages  # never goes back a stage
    percents = [p for _, p in events]
    assert percents == sorted(percents) and percents[-1] == 100


@pytest.mark.slow
def test_burned_captions_are_drawn(tmp_path: Path, photo: Path) -> None:
    """Same deterministic render with and without burned captions: only the caption band
    differs, and it differs while the words are spoken."""
    kw = dict(
        script="नमस्ते, आप कैसे हैं?", language="hi", resolution=480, aspect="9:16", head_motion=0.0
    )
    plain, _ = render(tmp_path / "plain", photo, **kw)
    burned, _ = render(tmp_path / "burned", photo, captions="burn", **kw)
    a, _ = decode_frames(plain.video_path)
    b, _ = decode_frames(burned.video_path)
    n = min(len(a), len(b))  # eSpeak's first call can differ by a few samples
    a, b = a[:n], b[:n]
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).mean(axis=3)  # (frames, h, w)
    rows = diff.mean(axis=(0, 2))
    h = a.shape[1]
    assert rows[: h // 2].max() < 1.0  # face and top half untouched
    assert rows[h // 2 :].max() > 10  # text drawn in the lower part
    per_frame = diff[:, h // 2 :].mean(axis=(1, 2))
    assert per_frame[len(per_frame) // 2] > 2  # mid-speech: a caption is on screen


@pytest.mark.slow
def test_cancel_kills_the_encoder_and_leaves_no_file(tmp_path: Path, photo: Path) -> None:
    calls = {"n": 0}
    token = CancelToken()

    def progress(stage: str, percent: float) -> None:
        if stage == "animate":
            calls["n"] += 1
            if calls["n"] == 5:
                token.cancel()

    request = GenerationRequest(
        photo_path=photo, script=EN_SCRIPT, language="en", voice="espeak:en:male", resolution=480
    )
    with pytest.raises(JobCancelled):
        LocalProvider().generate(
            request, JobContext(work_dir=tmp_path, progress=progress, cancel=token)
        )
    assert not (tmp_path / "video.mp4").exists()
    assert not [p for p in psutil.Process().children(recursive=True) if "ffmpeg" in p.name()]


# ------------------------------------------------------------------ the pieces, fast


@pytest.fixture(scope="module")
def framed(astronaut_rgb: np.ndarray) -> tuple[np.ndarray, FaceLandmarks]:
    lm = detect_face(astronaut_rgb)
    fr = plan_framing(1024, 1024, lm.box, 480, "9:16")
    return render_base(astronaut_rgb, fr), lm.transformed(
        fr.scale, -fr.x0 * fr.scale, -fr.y0 * fr.scale
    )


def changed_box(a: np.ndarray, b: np.ndarray, tol: int = 2) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(np.abs(a.astype(int) - b.astype(int)).max(axis=2) > tol)
    return None if ys.size == 0 else (xs.min(), ys.min(), xs.max(), ys.max())


def test_mouth_opens_inside_its_region_only(framed: tuple[np.ndarray, FaceLandmarks]) -> None:
    base, lm = framed
    anim = FaceAnimator(base, lm)
    closed = anim.frame(0.0, 1.0, 0.0).copy()
    assert np.array_equal(closed, base)  # rest = the photo, exactly
    wide = anim.frame(1.0, 1.0, 0.0).copy()
    x0, y0, x1, y1 = anim.mouth.roi
    box = changed_box(base, wide)
    assert box is not None
    # Changes stay inside the region, away from its border: the warp fades out, no seam.
    assert x0 + 2 < box[0] and box[2] < x1 - 2 and y0 + 2 < box[1] and box[3] < y1 - 2
    # A dark opening appears just below the lip line, and the chin moves down.
    cx, cy = (int(v) for v in lm.mouth_center)
    gap = 0.62 * lm.mouth_width / 2 * 0.78
    below = (slice(cy + 1, int(cy + gap)), slice(cx - 5, cx + 5))
    assert wide[below].mean() < 0.6 * base[below].mean()
    assert box[3] > lm.box[1] + lm.box[3]  # the jaw below the detector's box moved too


def test_teeth_hint_when_the_photo_shows_none(framed: tuple[np.ndarray, FaceLandmarks]) -> None:
    base, lm = framed
    plain = dataclasses.replace(lm, teeth_visible=False, mouth_curve=0.0)
    wide = FaceAnimator(base, plain).frame(1.0, 1.0, 0.0)
    cx, cy = (int(v) for v in lm.mouth_center)
    band = wide[cy - 2 : cy + 3, cx - 6 : cx + 6].astype(float)  # just under the upper lip
    deep = wide[cy + 5 : cy + 9, cx - 6 : cx + 6].astype(float)
    assert band.mean() > deep.mean() + 20


def test_rounded_vowels_narrow_the_lips(framed: tuple[np.ndarray, FaceLandmarks]) -> None:
    base, lm = framed
    anim = FaceAnimator(base, lm)
    cx, cy, half = *(int(v) for v in lm.mouth_center), int(lm.mouth_width / 2)
    lips = (slice(cy - half // 2, cy + half), slice(cx - 2 * half, cx + 2 * half))
    wide, round_ = anim.frame(0.6, 1.1, 0.0).copy(), anim.frame(0.6, 0.78, 0.0).copy()
    dark = [int((f[lips].mean(axis=2) < 80).sum()) for f in (wide, round_)]
    assert dark[1] < 0.85 * dark[0]


def test_blink_closes_both_eyes_without_seams(framed: tuple[np.ndarray, FaceLandmarks]) -> None:
    base, lm = framed
    anim = FaceAnimator(base, lm)
    shut = anim.frame(0.0, 1.0, 1.0).copy()
    for eye, (ex, ey) in zip(anim.eyes, (lm.left_eye, lm.right_eye), strict=True):
        x0, y0, x1, y1 = eye.geo.roi
        box = changed_box(base[y0:y1, x0:x1], shut[y0:y1, x0:x1])
        assert box is not None and box[0] > 1 and box[1] > 1
        assert box[2] < x1 - x0 - 2 and box[3] < y1 - y0 - 2
        # The iris (dark) is covered by the lid (skin): the eye centre gets lighter.
        c = (slice(int(ey) - 2, int(ey) + 2), slice(int(ex) - 2, int(ex) + 2))
        assert shut[c].mean() > base[c].mean() + 15
    outside = shut.copy()
    for eye in anim.eyes:
        x0, y0, x1, y1 = eye.geo.roi
        outside[y0:y1, x0:x1] = base[y0:y1, x0:x1]
    assert np.array_equal(outside, base)


def test_head_motion_moves_the_head_not_the_background(
    framed: tuple[np.ndarray, FaceLandmarks],
) -> None:
    base, lm = framed
    anim = FaceAnimator(base, lm)
    moved = anim.frame(0.0, 1.0, 0.0, (np.deg2rad(2.0), 0.02, 0.01, 0.01)).copy()
    x0, y0, x1, y1 = anim._head.roi
    outside = moved.copy()
    outside[y0:y1, x0:x1] = base[y0:y1, x0:x1]
    assert np.array_equal(outside, base)  # nothing outside the head region
    fx, fy, fw, _ = lm.box
    face = (slice(fy, fy + fw), slice(fx, fx + fw))
    assert np.abs(moved[face].astype(int) - base[face]).mean() > 5  # the face did move
    # The feathered edge of the region is untouched: the motion fades to zero there (where
    # the region is not cut off by the frame's own edge).
    edge = np.abs(moved[y0:y1, x0:x1].astype(int) - base[y0:y1, x0:x1]).max(axis=2)
    h, w = base.shape[:2]
    sides = {
        "top": (edge[:3], y0 > 0),
        "bottom": (edge[-3:], y1 < h),
        "left": (edge[:, :3], x0 > 0),
        "right": (edge[:, -3:], x1 < w),
    }
    inner = [name for name, (_, inside) in sides.items() if inside]
    assert len(inner) >= 2
    assert all(sides[name][0].max() <= 2 for name in inner)


def test_phoneme_shapes() -> None:
    assert phoneme_shape("ˈa")[0] == 1.0 and phoneme_shape("aɪ")[0] == 1.0
    assert phoneme_shape("p") == (0.0, 1.0) and phoneme_shape("m")[0] == 0.0
    assert 0 < phoneme_shape("f")[0] < 0.2 and 0 < phoneme_shape("v")[0] < 0.2
    o, u = phoneme_shape("oʊ"), phoneme_shape("uː")
    assert o[1] < 1 and u[1] < o[1] and u[0] < o[0] < 1.0  # rounded, narrower, less open
    assert phoneme_shape("_") == (0.0, 1.0) and phoneme_shape("iː")[1] > 1


def test_mouth_track_rests_in_silence_and_closes_on_m() -> None:
    rate, fps = 16000, 25
    t = np.arange(int(rate * 2.0)) / rate
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    tone[int(0.8 * rate) : int(1.4 * rate)] = 0  # silence from 0.8 to 1.4 s
    phonemes = [
        Phoneme("a", 0.0, 0.5),
        Phoneme("m", 0.5, 0.7),
        Phoneme("a", 0.7, 0.8),
        Phoneme("_", 0.8, 1.4),
        Phoneme("a", 1.4, 2.0),
    ]
    track = mouth_track(tone, rate, phonemes, 50, fps)
    assert track.openness[5:10].min() > 0.5  # loud "a"
    assert track.openness[14] < 0.2 * track.openness[8]  # "m" closes the lips
    assert track.openness[24:31].max() < 0.03  # silence: at rest (it opens ~0.1 s early)
    env_only = mouth_track(tone, rate, (), 50, fps)
    assert env_only.openness[24:31].max() < 0.03 and env_only.openness[40] > 0.5


def test_blinks_every_two_to_six_seconds() -> None:
    fps = 25
    track = blink_track(fps * 60, fps, seed=3)
    shut = np.flatnonzero(np.diff((track > 0.5).astype(int)) == 1) / fps
    gaps = np.diff(shut)
    assert 10 <= len(shut) <= 30 and gaps.min() >= 2.0 and gaps.max() <= 6.5
    assert 0.8 <= shut[0] <= 2.6
    edges = np.flatnonzero(np.diff(np.r_[0, (track > 0).astype(int), 0]))
    lengths = edges[1::2] - edges[::2]
    assert len(lengths) == len(shut) and (lengths <= 8).all()  # <= 250 ms, partial frames
    assert np.array_equal(track, blink_track(fps * 60, fps, seed=3))  # deterministic


def test_head_track_zero_is_still() -> None:
    assert head_track(100, 25, 0.0, seed=1).is_still()
    lively = head_track(250, 25, 1.0, seed=1)
    assert not lively.is_still()
    assert np.abs(lively.angle).max() <= np.deg2rad(2.5) + 1e-6
    assert np.abs(np.diff(lively.dx)).max() < 0.002  # smooth: no jumps between frames


@pytest.mark.parametrize("aspect", ["1:1", "9:16", "16:9"])
@pytest.mark.parametrize("resolution", [480, 720, 1080])
def test_output_sizes(aspect: str, resolution: int) -> None:
    w, h = output_size(resolution, aspect)
    assert min(w, h) == resolution and w % 2 == 0 and h % 2 == 0
    ratio = {"1:1": 1.0, "9:16": 9 / 16, "16:9": 16 / 9}[aspect]
    assert abs(w / h - ratio) < 0.01


@pytest.mark.parametrize("aspect", ["1:1", "9:16", "16:9"])
def test_framing_never_cuts_the_face(astronaut_rgb: np.ndarray, aspect: str) -> None:
    # A face filling a small photo: the frame must pad rather than crop into the head.
    crop = cv2.resize(astronaut_rgb[150:450, 330:570], (480, 600))
    box = (103, 5, 290, 290)
    fr = plan_framing(480, 600, box, 480, aspect)
    out = render_base(crop, fr)
    x, y, w, _ = box
    ox0, oy0 = (x - fr.x0) * fr.scale, (y - fr.y0) * fr.scale
    assert ox0 >= 0 and oy0 >= 0
    assert ox0 + w * fr.scale <= out.shape[1] and oy0 + 1.3 * w * fr.scale <= out.shape[0]


def test_encoder_abort_removes_the_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "v.mp4"
    with pytest.raises(RuntimeError), VideoEncoder(path, 64, 64, 25) as enc:
        for _ in range(30):
            enc.write(np.zeros((64, 64, 3), np.uint8))
        raise RuntimeError("boom")
    assert not path.exists()
    with VideoEncoder(path, 64, 64, 25) as enc:
        for _ in range(25):
            enc.write(np.full((64, 64, 3), 128, np.uint8))
    info = probe(path)
    assert (info.video_codec, info.width, info.audio_codec) == ("h264", 64, None)
    assert abs(info.duration_s - 1.0) < 0.05


def test_encoding_only_the_changed_box_gives_the_same_video(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    base = cv2.resize(rng.integers(0, 255, (12, 10, 3), dtype=np.uint8), (80, 96))
    frames = []
    for i in range(12):
        f = base.copy()
        f[20:60, 10:50] = np.roll(base[20:60, 10:50], i, axis=1)  # only this box changes
        frames.append(f)
    decoded = []
    for name, box in (("full", None), ("box", (10, 20, 50, 60))):
        with VideoEncoder(tmp_path / f"{name}.mp4", 80, 96, 25) as enc:
            for f in frames:
                enc.write(f, changed=box)
        decoded.append(decode_frames(tmp_path / f"{name}.mp4")[0])
    assert np.array_equal(decoded[0], decoded[1])
    with VideoEncoder(tmp_path / "odd.mp4", 80, 96, 25) as enc, pytest.raises(ValueError):
        enc.write(frames[0])
        enc.write(frames[1], changed=(11, 20, 50, 60))


def test_x264_runs_on_one_thread_on_small_machines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On 1-2 CPUs the renderer and the voice hold the other core: x264's frame threads
    would cost CPU they need (see encoder_threads). Bigger machines leave it to x264."""
    assert [encoder_threads(n) for n in (1, 2, 3, 8)] == [1, 1, 0, 0]
    commands: list[list[str]] = []
    real = subprocess.Popen

    def recording(cmd: list[str], *args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        commands.append(cmd)
        return real(cmd, *args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(subprocess, "Popen", recording)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    with VideoEncoder(tmp_path / "v.mp4", 64, 64, 25) as enc:
        enc.write(np.zeros((64, 64, 3), np.uint8))
    (cmd,) = commands
    assert cmd[cmd.index("-threads") + 1] == "1"
    assert cmd.index("-threads") > cmd.index("libx264")  # an output (encoder) option
