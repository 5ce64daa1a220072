"""Soak: N browser sessions use the app for M minutes; the server's RSS is sampled every 10 s.

Starts ``streamlit run app_streamlit_cloud.py`` on a free loopback port with a fresh data
folder (development settings, the local engine, 720p), then runs N creators at once in
Debian's headless Chromium. Each creator signs up, then loops until the time is up: upload a
portrait, type a script, generate, wait for the video, play it, open My videos and play the
newest there; every third round the tab reloads (a new Streamlit session for the same
browser) and every fifth the browser context closes and a new creator starts (a session that
ends). When time is up every browser closes and sampling goes on for ``--idle`` seconds, past
Streamlit's ``disconnectedSessionTTL`` (120 s), to see the memory fall back.

DESIGN.md's budget: the server (its own process; ffmpeg children reported separately) under
800 MB with 10 sessions. The run writes a CSV of samples and a PNG plot, and prints:
idle RSS before, the peak, the plateau (median of the last third of the busy phase), the
growth (the slope of a least-squares line over the busy phase after its first third, MB per
10 minutes), and the RSS at the end of the idle phase.

    python benchmarks/soak.py [--sessions 10] [--minutes 30] [--idle 180] [--plot docs/soak.png]

A benchmark, not a test: it exits 1 when the plateau or the peak is over the budget.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app_memory import free_port, start_app, wait_healthy
from load_sessions import sign_up

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BUDGET_MB = 800.0
# Start playback (the browser fetches the media by Range requests) without waiting on the
# promise: Debian's Chromium has no H.264 decoder, so play() may never resolve.
PLAY = "v => { v.muted = true; v.play().catch(() => {}); }"
SCRIPTS = (
    "Hello! This is round {n} of the soak test. The studio keeps making videos.",
    "Namaste. Round {n}: a short message for my friends and family.",
    "Round {n}. Our shop opens at nine tomorrow; see you there!",
)


@dataclass
class Sample:
    t: float
    phase: str
    app_mb: float
    children_mb: float
    sessions: int
    videos: int


@dataclass
class Counters:
    videos: int = 0
    rounds: int = 0
    reloads: int = 0
    new_creators: int = 0
    errors: list[str] = field(default_factory=list)
    open_sessions: int = 0


class Sampler:
    """RSS of the server (and of its children, summed) every ``every`` seconds."""

    def __init__(self, pid: int, every: float, counters: Counters) -> None:
        self.samples: list[Sample] = []
        self.phase = "idle-before"
        self._proc = psutil.Process(pid)
        self._every = every
        self._counters = counters
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                app = self._proc.memory_info().rss / 2**20
                kids = sum(c.memory_info().rss for c in self._proc.children(recursive=True))
            except psutil.Error:
                break
            self.samples.append(
                Sample(
                    t=time.monotonic() - self._t0,
                    phase=self.phase,
                    app_mb=app,
                    children_mb=kids / 2**20,
                    sessions=self._counters.open_sessions,
                    videos=self._counters.videos,
                )
            )
            self._stop.wait(self._every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


async def _to_create(page, expect) -> None:
    await page.get_by_test_id("stSidebarNavLink").filter(has_text="Create").click()
    await expect(page.get_by_role("textbox", name="Script", exact=True)).to_be_visible()


async def _one_round(page, expect, photo: Path, n: int) -> None:
    await _to_create(page, expect)
    await page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(photo))
    await expect(page.get_by_text("Face found — ready to animate.")).to_be_visible()
    await expect(page.get_by_role("textbox", name="Script", exact=True)).to_have_count(1)
    box = page.get_by_role("textbox", name="Script", exact=True)
    await box.fill(SCRIPTS[n % len(SCRIPTS)].format(n=n))
    button = page.get_by_role("button", name="Generate video")
    await expect(button).to_be_enabled()
    await button.click()
    video = page.get_by_test_id("stVideo").first
    await expect(video).to_be_visible()
    await video.evaluate(PLAY)  # stVideo is the <video> element itself
    await page.wait_for_timeout(2_000)
    await page.get_by_test_id("stSidebarNavLink").filter(has_text="My videos").click()
    await expect(page.get_by_role("heading", name="My videos")).to_be_visible()
    first = page.get_by_test_id("stVideo").first
    with contextlib.suppress(Exception):  # compact cards may show the player only when opened
        await first.evaluate(PLAY, timeout=10_000)
    await page.wait_for_timeout(1_500)


async def _creator(
    browser, base: str, photo: Path, deadline: float, timeout_ms: int, counters: Counters, i: int
) -> None:
    from playwright.async_api import expect

    expect.set_options(timeout=timeout_ms)
    n = 0
    while time.monotonic() < deadline:
        context = await browser.new_context(viewport={"width": 1280, "height": 1000})
        counters.open_sessions += 1
        counters.new_creators += 1
        page = await context.new_page()
        page.set_default_timeout(timeout_ms)
        try:
            await sign_up(page, expect, base, "Soak Tester")
            for _ in range(5):
                if time.monotonic() >= deadline:
                    break
                n += 1
                try:
                    await _one_round(page, expect, photo, n)
                    counters.videos += 1
                except Exception as exc:  # a benchmark reports every failure and carries on
                    shot = photo.parent / f"creator{i}-round{n}.png"
                    with contextlib.suppress(Exception):
                        await page.screenshot(path=str(shot), full_page=True)
                    counters.errors.append(
                        f"creator {i} round {n}: {type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:140]} ({shot.name})"
                    )
                counters.rounds += 1
                if n % 3 == 0:
                    counters.reloads += 1
                    await page.reload()
        except Exception as exc:
            counters.errors.append(f"creator {i} sign-up: {type(exc).__name__}: {exc}"[:200])
        finally:
            await context.close()
            counters.open_sessions -= 1


async def _run(
    base: str, photo: Path, sessions: int, minutes: float, timeout_ms: int, counters: Counters
) -> None:
    from playwright.async_api import async_playwright

    deadline = time.monotonic() + minutes * 60
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            await asyncio.gather(
                *(
                    _creator(browser, base, photo, deadline, timeout_ms, counters, i)
                    for i in range(sessions)
                )
            )
        finally:
            await browser.close()


def _after_close(samples: list[Sample], seconds: float) -> float | None:
    """Server RSS at the first sample ``seconds`` or more after every browser had closed."""
    after = [s for s in samples if s.phase == "idle-after"]
    if not after:
        return None
    closed = after[0].t
    later = [s.app_mb for s in after if s.t - closed >= seconds - 0.5]
    return later[0] if later else None


def _slope_per_10min(points: list[Sample]) -> float:
    if len(points) < 3:
        return 0.0
    ts = [p.t for p in points]
    ys = [p.app_mb for p in points]
    return statistics.linear_regression(ts, ys).slope * 600


def _plot(samples: list[Sample], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=110)
    minutes = [s.t / 60 for s in samples]
    ax.plot(minutes, [s.app_mb for s in samples], color="#4b3fbf", label="server RSS")
    ax.plot(
        minutes,
        [s.children_mb for s in samples],
        color="#999999",
        linewidth=0.8,
        label="ffmpeg children",
    )
    ax.axhline(BUDGET_MB, color="#c0392b", linestyle="--", linewidth=1, label="budget 800 MB")
    busy = [s.t / 60 for s in samples if s.phase == "busy"]
    if busy:
        ax.axvspan(min(busy), max(busy), color="#4b3fbf", alpha=0.06, label="sessions open")
    ax.set_xlabel("minutes")
    ax.set_ylabel("MB")
    ax.set_ylim(0, max(BUDGET_MB * 1.1, max(s.app_mb for s in samples) * 1.1))
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--idle", type=float, default=180, help="seconds sampled after closing")
    parser.add_argument("--every", type=float, default=10, help="seconds between samples")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "soak.png")
    parser.add_argument("--timeout", type=float, default=600, help="seconds one step may take")
    args = parser.parse_args()

    from PIL import Image
    from skimage import data

    tmp = Path(tempfile.mkdtemp(prefix="tp-soak-"))
    photo = tmp / "portrait.jpg"
    Image.fromarray(data.astronaut()).resize((1024, 1024)).save(photo, quality=90)
    port = free_port()
    env = {
        "TALKINGPHOTO_SECRETS_FILE": str(tmp / "secrets.toml"),
        # The sign-in cookie (which keeps a creator signed in across reloads) needs the app
        # to reach its own routes at base_url.
        "TALKINGPHOTO__APP__BASE_URL": f"http://127.0.0.1:{port}",
        "TALKINGPHOTO__LIMITS__WORKERS": str(args.workers),
        "TALKINGPHOTO__LIMITS__MAX_QUEUED_JOBS": str(max(20, args.sessions * 2)),
        # Every creator comes from 127.0.0.1 and makes a video a minute for half an hour.
        "TALKINGPHOTO__RATELIMIT__SIGNUP": "100000/hour",
        "TALKINGPHOTO__RATELIMIT__SIGNIN": "100000/hour",
        "TALKINGPHOTO__RATELIMIT__UPLOAD": "100000/hour",
        "TALKINGPHOTO__RATELIMIT__GENERATE": "100000/hour",
        "TALKINGPHOTO__RATELIMIT__GUEST": "100000/hour",
        "TALKINGPHOTO__CREDITS__SIGNUP_GRANT": "100000",
    }
    (tmp / "secrets.toml").write_text("", "utf-8")
    counters = Counters()
    server, base = start_app(tmp, env, port)
    try:
        wait_healthy(base)
        sampler = Sampler(server.pid, args.every, counters)
        time.sleep(min(30.0, args.idle))
        sampler.phase = "busy"
        busy_t0 = time.monotonic()
        asyncio.run(
            _run(base, photo, args.sessions, args.minutes, int(args.timeout * 1000), counters)
        )
        busy_s = time.monotonic() - busy_t0
        sampler.phase = "idle-after"
        time.sleep(args.idle)
        sampler.stop()
    finally:
        server.terminate()
        server.wait(timeout=30)

    samples = sampler.samples
    with (tmp / "soak.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["t_s", "phase", "app_mb", "children_mb", "sessions", "videos"])
        for s in samples:
            writer.writerow([f"{s.t:.1f}", s.phase, f"{s.app_mb:.1f}", f"{s.children_mb:.1f}",
                             s.sessions, s.videos])  # fmt: skip
    before = [s.app_mb for s in samples if s.phase == "idle-before"]
    busy = [s for s in samples if s.phase == "busy"]
    after = [s.app_mb for s in samples if s.phase == "idle-after"]
    third = max(1, len(busy) // 3)
    plateau = statistics.median(s.app_mb for s in busy[-third:]) if busy else 0.0
    peak = max((s.app_mb for s in busy), default=0.0)
    growth = _slope_per_10min(busy[third:])
    title = (
        f"TalkingPhoto soak: {args.sessions} browser sessions, {args.minutes:g} min, "
        f"{counters.videos} videos, {os.cpu_count()} cores"
    )
    _plot(samples, args.plot, title)
    print(f"samples: {tmp / 'soak.csv'}  plot: {args.plot}  server log: {tmp / 'server.log'}")
    print(title)
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| idle before | {statistics.median(before) if before else 0:.0f} MB |")
    print(f"| peak (busy) | {peak:.0f} MB (budget {BUDGET_MB:.0f} MB) |")
    print(f"| plateau (median, last third of busy) | {plateau:.0f} MB |")
    print(f"| growth after the first third | {growth:+.1f} MB per 10 min |")
    for seconds in (60, 120, 180):
        if seconds <= args.idle and (mb := _after_close(samples, seconds)) is not None:
            print(f"| {seconds} s after every browser closed | {mb:.0f} MB |")
    print(f"| end of idle ({args.idle:.0f} s after closing) | {after[-1] if after else 0:.0f} MB |")
    print(f"| busy wall time | {busy_s / 60:.1f} min |")
    print(
        f"| rounds / videos / reloads / new creators | {counters.rounds} / {counters.videos}"
        f" / {counters.reloads} / {counters.new_creators} |"
    )
    print(f"| failed rounds | {len(counters.errors)} |")
    # What the server released when it went quiet (health_monitor / views/_closed_sessions.py).
    log_text = (tmp / "server.log").read_text("utf-8", errors="replace")
    swept = [line for line in log_text.splitlines() if "closed Streamlit sessions" in line]
    print(f"| sweeps that shut down closed Streamlit sessions | {len(swept)} |")
    for line in swept[-1:] + [x for x in log_text.splitlines() if "engine idle for" in x]:
        print("  server:", line.strip()[-200:])
    for line in counters.errors[:20]:
        print("  ", line)
    return 0 if peak < BUDGET_MB and plateau < BUDGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
