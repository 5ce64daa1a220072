"""The command line, run as a user runs it: a subprocess, its exit status, stderr and files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from providers.local.encode import probe

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No developer settings leak in: an empty secrets file and a fresh data folder."""
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("TALKINGPHOTO")}
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("", "utf-8")
    clean.update(TALKINGPHOTO_SECRETS_FILE=str(secrets), TALKINGPHOTO_DATA_DIR=str(tmp_path / "d"))
    return clean


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


@pytest.fixture
def inputs(tmp_path: Path, astronaut_path: Path) -> dict[str, Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    face = astronaut_path.rename(folder / astronaut_path.name)
    not_image = folder / "notes.jpg"
    not_image.write_text("this is not a photo", "utf-8")
    tiny = folder / "tiny.png"
    Image.new("RGB", (200, 150), "white").save(tiny)
    blank = folder / "blank.jpg"
    Image.new("RGB", (600, 600), (120, 130, 140)).save(blank)
    noise = folder / "noise.png"  # ~2 MB of noise: over a 1 MB upload limit
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (800, 900, 3), np.uint8)).save(noise)
    return {"face": face, "not_image": not_image, "tiny": tiny, "blank": blank, "noise": noise}


BAD_INPUTS: dict[str, tuple[list[str], str]] = {
    # name: (arguments changed from a good command, expected text in the message)
    "missing photo": (["--photo", "{dir}/nope.jpg"], "does not exist"),
    "not an image": (["--photo", "{not_image}"], "not a JPEG, PNG or WebP image"),
    "photo too small": (["--photo", "{tiny}"], "at least 256 px"),
    "no face": (["--photo", "{blank}"], "No face was found"),
    "unknown language": (["--language", "xx"], "language 'xx' is not available"),
    "unknown voice": (["--voice", "nope"], "voice 'nope' is not available"),
    "voice of another language": (["--voice", "espeak:hi:male"], "espeak:en:female"),
    "empty script": (["--script", "  \t "], "The script is empty"),
    "script too long": (["--script", "x" * 5001], "5,001 characters; the limit is 5,000"),
    "missing out folder": (["--out", "{dir}/missing/out.mp4"], "does not exist"),
    "out not mp4": (["--out", "{dir}/out.avi"], "must end in .mp4"),
    "bad resolution": (["--resolution", "500"], "Argument --resolution: invalid choice: 500"),
    "bad aspect": (["--aspect", "4:3"], "invalid choice"),
    "bad captions": (["--captions", "yes"], "invalid choice"),
    "head motion too high": (["--head-motion", "2"], "Head motion must be between 0 and 1"),
    "speed too high": (["--speed", "5"], "Speed must be between 0.5 and 2"),
    "speed not a number": (["--speed", "fast"], "invalid float value"),
    "unknown provider": (["--provider", "nope"], "Unknown provider 'nope'"),
}


def command(tmp_path: Path, inputs: dict[str, Path], changes: list[str]) -> list[str]:
    args = {
        "--photo": str(inputs["face"]),
        "--script": "Hello there.",
        "--language": "en",
        "--out": str(tmp_path / "out.mp4"),
        "--resolution": "480",
    }
    fmt = {k: str(v) for k, v in inputs.items()} | {"dir": str(tmp_path)}
    extra: list[str] = []
    for flag, value in zip(changes[::2], changes[1::2], strict=True):
        value = value.format(**fmt)
        if flag in args:
            args[flag] = value
        else:
            extra += [flag, value]
    return ["generate", *[x for kv in args.items() for x in kv], *extra]


def assert_one_line_error(proc: subprocess.CompletedProcess[str], expected: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert expected in lines[0], lines[0]
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input(case: str, tmp_path: Path, inputs: dict[str, Path], env: dict[str, str]) -> None:
    changes, expected = BAD_INPUTS[case]
    before = set(tmp_path.rglob("*"))
    proc = run_cli(command(tmp_path, inputs, changes), env, tmp_path)
    assert_one_line_error(proc, expected)
    assert set(tmp_path.rglob("*")) == before  # no output, no temp folder left behind


def test_missing_argument(tmp_path: Path, env: dict[str, str]) -> None:
    proc = run_cli(["generate", "--script", "hi", "--language", "en"], env, tmp_path)
    assert_one_line_error(proc, "The following arguments are required: --photo, --out.")


def test_upload_limit_comes_from_settings(
    tmp_path: Path, inputs: dict[str, Path], env: dict[str, str]
) -> None:
    size_mb = inputs["noise"].stat().st_size / 1024 / 1024
    assert size_mb > 1
    env["TALKINGPHOTO__LIMITS__MAX_UPLOAD_MB"] = "1"
    proc = run_cli(command(tmp_path, inputs, ["--photo", "{noise}"]), env, tmp_path)
    assert_one_line_error(proc, f"The photo is {size_mb:.1f} MB; the limit is 1 MB.")


def test_voices(tmp_path: Path, env: dict[str, str]) -> None:
    proc = run_cli(["voices", "--language", "hi"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    assert len(rows) >= 2 and all(len(r) == 4 for r in rows)
    assert {r[0] for r in rows} >= {"espeak:hi:female", "espeak:hi:male"}
    assert {r[2] for r in rows} >= {"female", "male"}
    proc = run_cli(["voices", "--language", "xx"], env, tmp_path)
    assert_one_line_error(proc, "Language 'xx' is not available")


@pytest.mark.slow
def test_generate_json_and_srt(
    tmp_path: Path, inputs: dict[str, Path], env: dict[str, str]
) -> None:
    out = tmp_path / "video.mp4"
    proc = run_cli(
        [
            "generate",
            "--photo",
            str(inputs["face"]),
            "--script",
            "Hello there. This is the command line.",
            "--language",
            "en",
            "--voice",
            "espeak:en:female",
            "--out",
            str(out),
            "--resolution",
            "480",
            "--aspect",
            "1:1",
            "--captions",
            "srt",
            "--head-motion",
            "0",
            "--json",
        ],
        env,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["output"] == str(out) and summary["provider"] == "local"
    assert summary["voice"] == "espeak:en:female" and summary["resolution"] == "480x480"
    assert set(summary["timings"]) >= {"voice", "face", "animate", "encode", "total"}
    info = probe(out)
    assert (info.width, info.height) == (480, 480)
    assert abs(info.duration_s - summary["duration_s"]) <= 0.1
    assert out.with_suffix(".srt").read_text("utf-8").startswith("1\n")
    assert out.with_suffix(".vtt").read_text("utf-8").startswith("WEBVTT")
    # Nothing else: no temp folder, no stray WAV or thumbnail.
    assert {p.name for p in tmp_path.iterdir()} == {
        "in",
        "secrets.toml",
        "video.mp4",
        "video.srt",
        "video.vtt",
    }


@pytest.mark.slow
def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_interrupt_leaves_nothing(
    tmp_path: Path, inputs: dict[str, Path], env: dict[str, str]
) -> None:
    out = tmp_path / "long.mp4"
    script = "This sentence is spoken again and again so that rendering takes a while. " * 12
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "generate",
            "--photo",
            str(inputs["face"]),
            "--script",
            script,
            "--language",
            "en",
            "--voice",
            "espeak:en:male",
            "--out",
            str(out),
            "--resolution",
            "720",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
        # Ctrl-C as a terminal delivers it: pytest may run with SIGINT ignored (a background
        # job in a script), and an ignored signal stays ignored across exec.
        preexec_fn=_default_sigint,
    )
    # Wait until the encoder is writing inside the hidden work folder, then press Ctrl-C.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(tmp_path.glob(".long.*/job/video.mp4")):
        time.sleep(0.05)
    assert list(tmp_path.glob(".long.*/job/video.mp4")), "rendering never started"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "error: Interrupted; nothing was written."
    assert "Traceback" not in err
    assert {p.name for p in tmp_path.iterdir()} == {"in", "secrets.toml"}
