"""`streamlit run app_streamlit_cloud.py` really serves the UI and /api/health, with no secrets."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, timeout_s: float = 5.0) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read().decode()


def _copy_without_secrets(dest: Path) -> Path:
    """The project as a fresh clone has it: no secrets.toml anywhere, no data dir."""
    ignore = shutil.ignore_patterns(
        ".git",
        "data",
        "secrets.toml",
        "__pycache__",
        ".pytest_cache",
        ".ruff_cache",
        "docs",
        "out",
        "node_modules",
    )
    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def start_server(
    workdir: Path,
    port: int,
    data_dir: Path,
    home: Path,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TALKINGPHOTO", "STREAMLIT"))}
    env.update(
        TALKINGPHOTO_DATA_DIR=str(data_dir),
        HOME=str(home),  # no ~/.streamlit/secrets.toml either
        PYTHONUNBUFFERED="1",
        # Return and share links point at this very server.
        TALKINGPHOTO__APP__BASE_URL=f"http://127.0.0.1:{port}",
        **(extra_env or {}),
    )
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app_streamlit_cloud.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    log = (home / "server.log").open("wb")
    return subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(base: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited early:\n{log_path.read_text(errors='replace')[-4000:]}")
        try:
            status, _ctype, body = _get(f"{base}/_stcore/health", timeout_s=2)
            if status == 200 and body.strip() == "ok":
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(
        f"not healthy in {START_TIMEOUT_S}s:\n{log_path.read_text(errors='replace')[-4000:]}"
    )


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@contextlib.contextmanager
def running_app(tmp: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """``streamlit run`` on a copy of the repo with no secrets anywhere (settings only from
    ``extra_env``, ``TALKINGPHOTO__...`` variables); yields its base URL."""
    workdir = _copy_without_secrets(tmp / "app")
    home = tmp / "home"
    home.mkdir()
    port = free_port()
    proc = start_server(workdir, port, tmp / "data", home, extra_env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, home / "server.log")
        yield base
    finally:
        stop_server(proc)


HEALTH_TOKEN = "t" * 40  # [health] token: the detailed report is for operators only


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {"TALKINGPHOTO__HEALTH__TOKEN": HEALTH_TOKEN}
    with running_app(tmp_path_factory.mktemp("server"), env) as base:
        yield base


def test_entry_script_is_discovered_as_an_st_app() -> None:
    """`streamlit run` finds our module-level `app` (AST only) and hands it to uvicorn."""
    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(ROOT / "app_streamlit_cloud.py")
    assert found.is_asgi_app
    assert found.import_string == "app_streamlit_cloud:app"


def test_importing_the_entry_builds_the_app_and_renders_nothing() -> None:
    code = (
        "import app_streamlit_cloud as m, streamlit as st;"
        "print(type(m.app).__name__, [r.path for r in m.app._user_routes])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TALKINGPHOTO_DATA_DIR": "/nonexistent-not-touched"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        "App ['/api/health', '/api/webhooks/stripe', '/api/webhooks/razorpay', "
        "'/api/media/{token}', '/api/share/{token}', '/api/share/{token}/{name}', "
        "'/api/auth/ping', '/api/auth/session', '/api/auth/signout']"
    )


@pytest.mark.slow
def test_health_endpoints_with_no_secrets(server: str) -> None:
    status, _ctype, body = _get(f"{server}/_stcore/health")
    assert (status, body.strip()) == (200, "ok")

    status, ctype, body = _get(f"{server}/api/health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})  # public: the status only
    assert ctype.startswith("application/json")

    request = urllib.request.Request(
        f"{server}/api/health", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=5.0) as resp:
        status, data = resp.status, json.loads(resp.read())
    assert status == 200
    assert data["status"] == "ok", data["reasons"]
    assert data["checks"]["database"]["ok"] is True
    assert data["checks"]["jobs"]["queued"] == 0
    assert data["version"] == "0.1.0"
    assert set(data) == {"status", "reasons", "version", "time", "took_ms", "checks"}


@pytest.mark.slow
def test_ui_page_is_served(server: str) -> None:
    status, ctype, body = _get(f"{server}/")
    assert status == 200
    assert "text/html" in ctype
    assert '<div id="root"' in body or 'id="root"' in body
