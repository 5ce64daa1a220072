"""Load: N concurrent browser sessions each run the whole create flow against `streamlit run`.

Starts ``streamlit run app_streamlit_cloud.py`` on a free loopback port with a fresh data
folder (development settings, local engine), then opens N
Playwright browser contexts in Debian's headless Chromium *at the same time*. Each session: open
the app (time to first render), create an account, upload a portrait,
type a script, generate, and wait for the
finished video (time to video). The server makes ``--workers`` videos at once (DESIGN.md's
budget: 10 sessions with 2 generating at once, all complete, server under 800 MB). The
server's RSS is sampled every 50 ms (its own process; ffmpeg children reported separately).

    python benchmarks/load_sessions.py [--sessions 10] [--workers 2] [--resolution 480]

A benchmark, not a test: it prints a table and exits 1 when a session failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app_memory import PeakRss, start_app, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = (
    "Hello! This is a load test of the TalkingPhoto studio. "
    "Ten people are making videos at the same time."
)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass
class SessionResult:
    first_render_s: float | None = None
    video_s: float | None = None
    step: str = "open"  # the step a failed session was on
    error: str = ""


async def sign_up(page, expect, base: str, name: str = "Load Tester") -> None:
    """Create an account on the account page (terms accepted) and wait until signed in."""
    await page.goto(f"{base}/account")
    form = page.get_by_test_id("stForm").first
    await form.get_by_role("textbox", name="Your name").fill(name)
    await form.get_by_role("textbox", name="E-mail").fill(
        f"load-{uuid.uuid4().hex[:10]}@example.com"
    )
    await (
        form.get_by_label("Password", exact=True)
        .and_(form.locator("input"))
        .fill("load test password 123")
    )
    accept = form.get_by_role("checkbox").first  # the terms; its input is visually hidden
    await accept.press("Space")
    await expect(accept).to_be_checked()
    await form.get_by_test_id("stBaseButton-primaryFormSubmit").click()
    await expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()


async def _enter(page, expect, base: str) -> None:
    """Create an account, as a new creator does: each session is its own creator (the
    per-creator limits apply as in production), then back to the create page."""
    await sign_up(page, expect, base)
    await page.get_by_test_id("stSidebarNavLink").filter(has_text="Create").click()
    await expect(
        page.get_by_text("Turn a portrait into a video that speaks your words.")
    ).to_be_visible()


async def _session(
    browser, base: str, photo: Path, resolution: int, timeout_ms: int, shot: Path
) -> SessionResult:
    """One creator's visit; on failure a screenshot goes to ``shot``."""
    from playwright.async_api import expect

    expect.set_options(timeout=timeout_ms)  # a shared 2-core machine: waits are long
    result = SessionResult()
    context = await browser.new_context(viewport={"width": 1280, "height": 1100})
    page = await context.new_page()
    page.set_default_timeout(timeout_ms)
    t0 = time.monotonic()
    try:
        await page.goto(base)
        await expect(page.get_by_test_id("stAppViewContainer")).to_be_visible()
        await expect(page.get_by_test_id("stSkeleton")).to_have_count(0)
        result.first_render_s = time.monotonic() - t0
        result.step = "sign up"
        await _enter(page, expect, base)
        result.step = "upload"
        await page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(photo))
        await expect(page.get_by_text("Face found — ready to animate.")).to_be_visible()
        if resolution != 720:
            result.step = "resolution"
            await page.get_by_text("Advanced options").click()
            combo = page.get_by_role("combobox", name="Resolution", exact=True)
            option = page.get_by_role("option", name=f"{resolution}p").first
            for attempt in range(3):  # a rerun landing as the list opens closes it again
                await combo.click()
                try:
                    await expect(option).to_be_visible(timeout=5_000)
                    break
                except AssertionError:
                    if attempt == 2:
                        raise
            await option.click()
            await expect(combo).to_have_value(f"{resolution}p")
        result.step = "script"
        box = page.get_by_role("textbox", name="Script", exact=True)
        await box.fill(SCRIPT)
        await box.press("Control+Enter")
        button = page.get_by_role("button", name="Generate video")
        await expect(button).to_be_enabled()
        await button.click()
        result.step = "wait for the video"
        await expect(page.get_by_test_id("stVideo")).to_be_visible()
        result.video_s = time.monotonic() - t0
    except Exception as exc:  # a benchmark reports every failure and carries on
        result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
        with contextlib.suppress(Exception):
            await page.screenshot(path=str(shot), full_page=True)
            result.error += f" (screenshot {shot})"
    finally:
        await context.close()
    return result


async def _run(
    base: str, photo: Path, sessions: int, resolution: int, timeout_ms: int
) -> list[SessionResult]:
    shots = photo.parent
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            return list(
                await asyncio.gather(
                    *(
                        _session(browser, base, photo, resolution, timeout_ms, shots / f"s{i}.png")
                        for i in range(sessions)
                    )
                )
            )
        finally:
            await browser.close()


def _pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--resolution", type=int, default=480, choices=(480, 720, 1080))
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds one step may take before it fails"
    )
    args = parser.parse_args()

    from PIL import Image
    from skimage import data

    tmp = Path(tempfile.mkdtemp(prefix="tp-load-"))
    photo = tmp / "portrait.jpg"
    Image.fromarray(data.astronaut()).resize((1024, 1024)).save(photo, quality=90)
    env = {
        "TALKINGPHOTO_SECRETS_FILE": str(tmp / "secrets.toml"),
        "TALKINGPHOTO__LIMITS__WORKERS": str(args.workers),
        "TALKINGPHOTO__LIMITS__MAX_QUEUED_JOBS": str(max(20, args.sessions)),
        # Every session comes from 127.0.0.1: per-client limits would refuse a load test.
        "TALKINGPHOTO__RATELIMIT__SIGNUP": "10000/hour",
        "TALKINGPHOTO__RATELIMIT__SIGNIN": "10000/hour",
    }
    (tmp / "secrets.toml").write_text("", "utf-8")
    server, base = start_app(tmp, env)
    try:
        wait_healthy(base)
        peak = PeakRss(server.pid)
        t0 = time.monotonic()
        results = asyncio.run(
            _run(base, photo, args.sessions, args.resolution, int(args.timeout * 1000))
        )
        wall = time.monotonic() - t0
    finally:
        if "peak" in locals():
            peak.stop()
        server.terminate()
        server.wait(timeout=30)

    done = [r for r in results if r.video_s is not None]
    renders = [r.first_render_s for r in results if r.first_render_s is not None]
    videos = [r.video_s for r in done if r.video_s is not None]
    print(f"server log: {tmp / 'server.log'}")
    print(f"sessions {args.sessions}, workers {args.workers}, {args.resolution}p, "
          f"cpus {os.cpu_count()}")  # fmt: skip
    print("| measure | value |")
    print("| --- | --- |")
    rate = 100 * len(done) / len(results)
    print(f"| sessions completed | {len(done)}/{len(results)} ({rate:.0f}%) |")
    if renders:
        p50, p95 = _pct(renders, 50), _pct(renders, 95)
        print(f"| first render p50 / p95 | {p50:.2f} s / {p95:.2f} s |")
    if videos:
        p50, p95 = _pct(videos, 50), _pct(videos, 95)
        print(f"| finished video p50 / p95 | {p50:.1f} s / {p95:.1f} s |")
    print(f"| server peak RSS | {peak.app:.0f} MB (budget 800 MB) |")
    print(f"| ffmpeg children peak | {peak.children:.0f} MB, {peak.most_children} at once |")
    print(f"| wall time | {wall:.1f} s |")
    for i, r in enumerate(results):
        if r.error:
            print(f"session {i}, at {r.step}: {r.error}")
    return 0 if len(done) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
