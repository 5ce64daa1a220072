"""Memory of the Streamlit process with several sessions open and generations running.

DESIGN.md's budget: the app process under 800 MB with 10 sessions open and 2 generations
running. This starts ``streamlit run app_streamlit_cloud.py`` on a free loopback port with a
fresh data folder, opens N browser sessions in headless Chromium (Debian's /usr/bin/chromium),
starts a generation in G of them, and samples the server's RSS (its own process; ffmpeg
children reported separately) every 50 ms until the videos are done. It prints the figures.

    python benchmarks/bench_app_memory.py [--sessions 10] [--generations 2]

Needs the dev requirements (playwright, scikit-image) and Debian's chromium.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = (
    "Hello! This is a short test of the TalkingPhoto studio. "
    "We are measuring how much memory the app uses while it makes two videos at once."
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base: str, deadline_s: float = 60.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("server did not become healthy")


def start_app(
    tmp: Path, extra_env: dict[str, str] | None = None, port: int | None = None
) -> tuple[subprocess.Popen, str]:
    """``streamlit run`` on ``port`` (a free loopback port by default) with its data under
    ``tmp``; (process, URL).

    The server's output goes to ``tmp/server.log``, to read when a run goes wrong."""
    port = port or free_port()
    env = {**os.environ, "TALKINGPHOTO_DATA_DIR": str(tmp / "data"), **(extra_env or {})}
    cmd = [sys.executable, "-m", "streamlit", "run", "app_streamlit_cloud.py",
           "--server.port", str(port), "--server.headless", "true"]  # fmt: skip
    log = (tmp / "server.log").open("wb")
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return server, f"http://127.0.0.1:{port}"


class PeakRss:
    """Samples a process's RSS (and its children's, separately) every 50 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.app = 0.0
        self.children = 0.0
        self.most_children = 0  # the most child processes (ffmpeg encoders) alive at once
        self._proc = psutil.Process(pid)
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                app = self._proc.memory_info().rss / 2**20
                kids = self._proc.children(recursive=True)
                children = sum(c.memory_info().rss for c in kids) / 2**20
            except psutil.Error:
                break
            self.app = max(self.app, app)
            self.children = max(self.children, children)
            self.most_children = max(self.most_children, len(kids))
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--generations", type=int, default=2)
    args = parser.parse_args()

    from PIL import Image
    from playwright.sync_api import expect, sync_playwright
    from skimage import data

    tmp = Path(tempfile.mkdtemp(prefix="tp-bench-app-"))
    photo = tmp / "portrait.jpg"
    Image.fromarray(data.astronaut()).resize((1024, 1024)).save(photo, quality=90)
    server, base = start_app(tmp)
    try:
        wait_healthy(base)
        idle = psutil.Process(server.pid).memory_info().rss / 2**20
        peak = PeakRss(server.pid)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            pages = []
            for _ in range(args.sessions):
                page = browser.new_context(viewport={"width": 1280, "height": 1100}).new_page()
                page.set_default_timeout(60_000)
                page.goto(base)
                expect(page.get_by_test_id("stAppViewContainer")).to_be_visible()
                pages.append(page)
            opened = psutil.Process(server.pid).memory_info().rss / 2**20
            t0 = time.monotonic()
            for page in pages[: args.generations]:
                page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(photo))
                expect(page.get_by_text("Face found — ready to animate.")).to_be_visible()
                page.locator("textarea").first.fill(SCRIPT)
                page.locator("textarea").first.press("Control+Enter")
                button = page.get_by_role("button", name="Generate video")
                expect(button).to_be_enabled()
                button.click()
            for page in pages[: args.generations]:
                expect(page.get_by_test_id("stVideo")).to_be_visible(timeout=300_000)
            elapsed = time.monotonic() - t0
            browser.close()
    finally:
        if "peak" in locals():
            peak.stop()
        server.terminate()
        server.wait(timeout=30)

    print(f"sessions: {args.sessions}  generations: {args.generations}  cpus: {os.cpu_count()}")
    print(f"app RSS idle (no session)       : {idle:7.0f} MB")
    print(f"app RSS with sessions open      : {opened:7.0f} MB")
    print(f"app RSS peak during generation  : {peak.app:7.0f} MB  (budget 800 MB)")
    print(f"ffmpeg children peak (separate) : {peak.children:7.0f} MB")
    print(f"upload + both videos ready in   : {elapsed:7.1f} s")


if __name__ == "__main__":
    main()
