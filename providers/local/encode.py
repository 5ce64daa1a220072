"""H.264 + AAC encoding through the ffmpeg binary that ships in ``imageio-ffmpeg``.

Frames are converted to yuv420p in-process (``cv2.cvtColor``, fast and half the bytes of RGB)
and streamed to ffmpeg's stdin, so memory stays flat however long the script is. The file is
written with ``+faststart`` so phones can play it while it downloads. If anything goes wrong
or the job is cancelled, ffmpeg is killed and the partial file removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import cv2
import imageio_ffmpeg
import numpy as np

from errors import N_, ProviderError

PRESET = "veryfast"
CRF = 23
AUDIO_BITRATE = "96k"  # mono speech: transparent at this rate


def encoder_threads(cpus: int | None = None) -> int:
    """x264's thread count for a machine with ``cpus`` usable CPUs (default: this one's).

    On two CPUs, one: the renderer draws on one core and the voice runs beside it, and
    x264's frame threads cost more CPU in all (measured with ``benchmarks/bench_engine.py``
    at 720p: ~15% less encoder CPU, a 30 s video ~0.45 s sooner and ~20 MB lighter at its
    peak; at 1080p ~2 s sooner). On bigger machines x264 chooses (0), as it always did.
    """
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 1 if (cpus or 1) <= 2 else 0


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


class VideoEncoder:
    """Context manager that streams RGB frames (H x W x 3 uint8) into an MP4 file.

    ``with VideoEncoder(path, w, h, fps, audio_path) as enc: enc.write(frame)``. Leaving the
    block normally finishes the file; leaving it with an exception kills ffmpeg and deletes
    the partial output. The video track is exactly the number of frames written.
    """

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        fps: float,
        audio_path: Path | None = None,
        *,
        preset: str = PRESET,
        crf: int = CRF,
    ) -> None:
        if width % 2 or height % 2:
            raise ValueError("yuv420p needs even frame sizes")
        self.path = Path(path)
        self.width, self.height, self.fps = width, height, fps
        self.frames = 0
        self._yuv = np.empty((height * 3 // 2, width), np.uint8)
        # ffmpeg's messages go to a file, not a pipe: an unread full pipe would stall it.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()/abort()
        cmd = [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-s",
            f"{width}x{height}",
            "-framerate",
            f"{fps}",
            "-i",
            "pipe:0",
        ]
        if audio_path is not None:
            cmd += ["-i", str(audio_path)]
        cmd += [
            "-map",
            "0:v:0",
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-crf",
            str(crf),
            "-pix_fmt",
            "yuv420p",
            "-profile:v",
            "high",
            "-g",
            str(int(fps * 4)),
            # cv2 converts with BT.601 limited-range coefficients: say so, or HD players
            # would decode with BT.709 and shift the skin tones.
            "-colorspace",
            "smpte170m",
            "-color_primaries",
            "bt709",
            "-color_trc",
            "bt709",
            "-color_range",
            "tv",
        ]
        cmd += ["-threads", str(encoder_threads())]
        if audio_path is not None:
            cmd += ["-map", "1:a:0", "-c:a", "aac", "-b:a", AUDIO_BITRATE]
        cmd += ["-movflags", "+faststart", "-f", "mp4", str(self.path)]
        # A session of its own: a terminal's Ctrl-C reaches only us, and we stop ffmpeg
        # ourselves (kill + delete the partial file) instead of racing its own shutdown.
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            start_new_session=True,
        )

    def write(self, frame: np.ndarray, changed: tuple[int, int, int, int] | None = None) -> None:
        """Encode one frame. ``changed`` = (x0, y0, x1, y1), even, promises that the frame
        differs from the previous one only inside that box: only it is converted to YUV."""
        if frame.shape != (self.height, self.width, 3):
            raise ValueError(f"frame is {frame.shape}, expected {(self.height, self.width, 3)}")
        if changed is None or self.frames == 0:
            cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420, dst=self._yuv)
        else:
            self._convert_box(frame, changed)
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(memoryview(self._yuv).cast("B"))
        except BrokenPipeError as exc:
            raise self._failure("ffmpeg stopped reading frames") from exc
        self.frames += 1

    def _convert_box(self, frame: np.ndarray, box: tuple[int, int, int, int]) -> None:
        x0, y0, x1, y1 = box
        if (x0 | y0 | x1 | y1) & 1:
            raise ValueError("the changed box must have even coordinates")
        sub = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_RGB2YUV_I420)
        h, w = y1 - y0, x1 - x0
        big, small = self._yuv.reshape(-1), sub.reshape(-1)
        big_h, big_w = self.height, self.width
        # I420: the Y plane, then U and V at half resolution, each stored contiguously.
        big[: big_h * big_w].reshape(big_h, big_w)[y0:y1, x0:x1] = small[: h * w].reshape(h, w)
        for plane in (0, 1):
            b0 = big_h * big_w + plane * (big_h // 2) * (big_w // 2)
            s0 = h * w + plane * (h // 2) * (w // 2)
            dst = big[b0 : b0 + (big_h // 2) * (big_w // 2)].reshape(big_h // 2, big_w // 2)
            src = small[s0 : s0 + (h // 2) * (w // 2)].reshape(h // 2, w // 2)
            dst[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = src

    def close(self) -> None:
        """Finish the file; raises :class:`ProviderError` if ffmpeg failed."""
        assert self._proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.close()
        rc = self._proc.wait()
        if rc != 0:
            raise self._failure(f"ffmpeg exited with status {rc}")
        self._log.close()

    def abort(self) -> None:
        """Kill ffmpeg and remove whatever it wrote."""
        with contextlib.suppress(OSError):
            self._proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=10)
        with contextlib.suppress(OSError):
            if self._proc.stdin is not None:
                self._proc.stdin.close()
        self.path.unlink(missing_ok=True)
        self._log.close()

    def _failure(self, what: str) -> ProviderError:
        self._log.seek(0)
        tail = self._log.read()[-2000:].decode("utf-8", "replace")
        self.abort()
        return ProviderError(
            N_("The video could not be encoded."), provider="local", detail=f"{what}: {tail}"
        )

    def __enter__(self) -> VideoEncoder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


@dataclass(frozen=True)
class MediaInfo:
    """What ``ffmpeg -i`` says about a file (enough to check our own output)."""

    duration_s: float
    video_codec: str | None
    pix_fmt: str | None
    width: int
    height: int
    fps: float
    audio_codec: str | None
    audio_rate: int
    faststart: bool


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?Video: (\w+)[^,]*, (\w+)(?:\([^)]*\))?, (\d+)x(\d+)")
_FPS = re.compile(r"(\d+(?:\.\d+)?) fps")
_AUDIO = re.compile(r"Stream #\S+.*?Audio: (\w+)[^,]*, (\d+) Hz")


def probe(path: Path) -> MediaInfo:
    """Parse ``ffmpeg -i`` (imageio-ffmpeg ships no ffprobe); ValueError if not media."""
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        check=False,
    ).stderr
    dur = _DURATION.search(out)
    if dur is None:
        raise ValueError(f"not a media file: {path}")
    video, audio, fps = _VIDEO.search(out), _AUDIO.search(out), _FPS.search(out)
    with open(path, "rb") as fh:
        head = fh.read(4096)
    # +faststart moves the index ("moov") in front of the media data ("mdat").
    moov, mdat = head.find(b"moov"), head.find(b"mdat")
    return MediaInfo(
        duration_s=int(dur[1]) * 3600 + int(dur[2]) * 60 + float(dur[3]),
        video_codec=video[1] if video else None,
        pix_fmt=video[2] if video else None,
        width=int(video[3]) if video else 0,
        height=int(video[4]) if video else 0,
        fps=float(fps[1]) if fps else 0.0,
        audio_codec=audio[1] if audio else None,
        audio_rate=int(audio[2]) if audio else 0,
        faststart=moov != -1 and (mdat == -1 or moov < mdat),
    )
