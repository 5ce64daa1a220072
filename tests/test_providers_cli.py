"""``python cli.py generate --provider <vendor|auto>`` against the fake vendors, configured
the way an operator does it: TALKINGPHOTO__<SECTION>__<KEY> environment variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.local.encode import probe
from tests.fakes.d_id import DIdServer
from tests.fakes.heygen import HeyGenServer
from tests.fakes.luma import LumaServer
from tests.fakes.synthesia import SynthesiaServer
from tests.fakes.vendor_server import VendorServer

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # each case starts a Python process


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("TALKINGPHOTO")}
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("", "utf-8")
    clean.update(TALKINGPHOTO_SECRETS_FILE=str(secrets), TALKINGPHOTO_DATA_DIR=str(tmp_path / "d"))
    return clean


def vendor_env(section: str, server: VendorServer, **extra: str) -> dict[str, str]:
    values = {
        "api_key": server.api_key,
        "base_url": server.url,
        "poll_every_s": "0.05",
        "read_s": "5",
        **extra,
    }
    return {f"TALKINGPHOTO__{section.upper()}__{k.upper()}": v for k, v in values.items()}


@pytest.fixture
def heygen() -> Iterator[HeyGenServer]:
    with HeyGenServer() as server:
        yield server


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "generate", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def good(astronaut_path: Path, out: Path, provider: str) -> list[str]:
    return [
        "--photo",
        str(astronaut_path),
        "--script",
        "Hello from the command line.",
        "--language",
        "en",
        "--out",
        str(out),
        "--provider",
        provider,
        "--json",
    ]


@pytest.mark.parametrize(
    ("provider", "section", "server_cls", "extra"),
    [
        ("d_id", "d_id", DIdServer, {}),
        ("heygen", "heygen", HeyGenServer, {}),
        ("synthesia", "synthesia", SynthesiaServer, {"avatar_id": "anna_costume1_cameraA"}),
    ],
)
def test_generate_with_a_vendor(
    provider: str,
    section: str,
    server_cls: type[VendorServer],
    extra: dict[str, str],
    env: dict[str, str],
    tmp_path: Path,
    astronaut_path: Path,
) -> None:
    out = tmp_path / "out.mp4"
    with server_cls() as server:
        done = run(
            good(astronaut_path, out, provider),
            {**env, **vendor_env(section, server, **extra)},
            tmp_path,
        )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["provider"] == provider
    assert probe(out).audio_codec == "aac"
    assert server.creates == 1


def test_auto_uses_the_first_configured_vendor(
    heygen: HeyGenServer, env: dict[str, str], tmp_path: Path, astronaut_path: Path
) -> None:
    out = tmp_path / "auto.mp4"
    settings = {
        **env,
        **vendor_env("heygen", heygen),
        "TALKINGPHOTO__PROVIDERS__ORDER": "heygen,local",
    }
    done = run(good(astronaut_path, out, "auto"), settings, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["provider"] == "heygen"


def test_bad_choices_are_one_line_errors(
    heygen: HeyGenServer, env: dict[str, str], tmp_path: Path, astronaut_path: Path
) -> None:
    out = tmp_path / "x.mp4"
    not_set = run(good(astronaut_path, out, "heygen"), env, tmp_path)
    assert not_set.returncode == 2
    assert not_set.stderr.strip() == "error: HeyGen is not configured: set [heygen] api_key."
    with LumaServer() as luma:
        no_url = run(
            good(astronaut_path, out, "luma"), {**env, **vendor_env("luma_ai", luma)}, tmp_path
        )
        assert luma.creates == 0
    assert no_url.returncode == 2
    assert "needs the photo at a public web address" in no_url.stderr
    wrong_key = run(
        good(astronaut_path, out, "heygen"),
        {**env, **vendor_env("heygen", heygen), "TALKINGPHOTO__HEYGEN__API_KEY": "x"},
        tmp_path,
    )
    assert wrong_key.returncode == 1
    assert wrong_key.stderr.strip() == (
        "error: HeyGen did not accept our API key; the operator must check it."
    )
    assert "Traceback" not in no_url.stderr + wrong_key.stderr
    assert not out.exists()
