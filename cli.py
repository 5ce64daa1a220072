"""Command line: make a talking video without the browser, list voices.

    python cli.py generate --photo face.jpg --script "Hello!" --language en --out hello.mp4
    python cli.py voices --language hi
    python cli.py inspect --photo face.jpg --json
    python cli.py submit --photo face.jpg --script "Hello!" --language en --email a@b.c --json
    python cli.py job JOB_ID --json
    python cli.py worker            # a Celery worker ([jobs] executor = "celery")

On bad input: one line ``error: <message>`` on stderr, exit status 2, nothing written. Other
failures exit 1 the same way; Ctrl-C exits 130. The video is rendered in a hidden folder next
to ``--out`` and moved into place only when complete, so no partial file is ever left.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import NoReturn

import background_tasks
import health_monitor
import providers
from errors import ConfigError, InputError, TalkingPhotoError
from providers import router
from providers.base import (
    ASPECTS,
    CAPTION_MODES,
    RESOLUTIONS,
    JobContext,
    ProgressCallback,
)
from secrets_manager import get_settings
from services import accounts, backup, generation, job_status, jobs
from services.backup import BackupError
from services.job_spec import JobParams, build_request
from services.photos import prepare_photo

MB = 1024 * 1024
EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """argparse, but usage mistakes end like every other bad input: one line, status 2."""

    def error(self, message: str) -> NoReturn:
        _fail(message[:1].upper() + message[1:] + ".", EXIT_BAD_INPUT)


def _fail(message: str, status: int) -> NoReturn:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(status)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cli.py", description="TalkingPhoto from the command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = sub.add_parser("generate", help="photo + script -> talking MP4")
    gen.add_argument("--photo", required=True, type=Path, help="portrait (JPEG, PNG or WebP)")
    gen.add_argument("--script", required=True, help="what the photo says")
    gen.add_argument("--language", required=True, help="language code, e.g. en, hi")
    gen.add_argument("--out", required=True, type=Path, help="output .mp4 path")
    gen.add_argument("--voice", help="voice id (see the voices command); default per language")
    gen.add_argument(
        "--provider",
        default="local",
        help="local (default), d_id, heygen, synthesia, luma, or auto: the first "
        "available in [providers] order; vendors are set up in settings or "
        "TALKINGPHOTO__<SECTION>__<KEY> variables",
    )
    gen.add_argument("--resolution", type=int, default=720, choices=RESOLUTIONS)
    gen.add_argument("--aspect", default="9:16", choices=ASPECTS)
    gen.add_argument(
        "--captions",
        default="none",
        choices=CAPTION_MODES,
        help="srt: also write OUT.srt and OUT.vtt; burn: draw them in the video",
    )
    gen.add_argument("--head-motion", type=float, default=0.3, help="0 (still) .. 1 (lively)")
    gen.add_argument("--speed", type=float, default=1.0, help="speech rate, 0.5 .. 2.0")
    gen.add_argument("--pitch", type=float, default=1.0, help="voice pitch, 0.5 .. 1.5")
    gen.add_argument("--json", action="store_true", help="print a JSON summary on stdout")

    voices = sub.add_parser("voices", help="list the voices for a language")
    voices.add_argument("--language", help="language code; all languages if omitted")
    voices.add_argument("--provider", default="local")
    voices.add_argument("--json", action="store_true")

    insp = sub.add_parser("inspect", help="what the engine finds in a photo (face, eyes, mouth)")
    insp.add_argument("--photo", type=Path, required=True)
    insp.add_argument("--json", action="store_true", help="machine-readable output")

    health = sub.add_parser("health", help="status of the app (the same as GET /api/health)")
    health.add_argument("--json", action="store_true", help="print the JSON report")
    health.add_argument(
        "--no-probes",
        action="store_true",
        help="skip the provider key checks and the remote storage probe (network)",
    )
    # Probing is the default now; the old opt-in flag is still accepted.
    health.add_argument("--check-keys", action="store_true", help=argparse.SUPPRESS)

    backup = sub.add_parser("backup", help="copy the database and media, with checksums")
    backup.add_argument("--out", type=Path, required=True, help="a new or empty folder")
    backup.add_argument("--json", action="store_true")
    restore = sub.add_parser("restore", help="restore a backup into an empty data folder")
    restore.add_argument("folder", type=Path, help="a folder written by `backup`")
    restore.add_argument("--json", action="store_true")

    submit = sub.add_parser("submit", help="queue a video for a creator (the job runner makes it)")
    submit.add_argument("--photo", type=Path, help="portrait (JPEG, PNG or WebP)")
    submit.add_argument("--script", help="what the photo says")
    submit.add_argument("--language", help="language code, e.g. en, hi")
    submit.add_argument("--voice", help="voice id; default per language")
    submit.add_argument("--resolution", type=int, default=720, choices=RESOLUTIONS)
    submit.add_argument("--provider", default="local", help="as for generate")
    submit.add_argument(
        "--email", help="the creator (created with the signup grant if new); default: local"
    )
    submit.add_argument(
        "--csv",
        type=Path,
        help="a batch: one job per row, columns photo, script, language and optionally "
        "voice, resolution, provider, email (blank cells take the options' values)",
    )
    submit.add_argument("--json", action="store_true", help='print {"job_id": ...}')

    job = sub.add_parser("job", help="status of a queued or finished job")
    job.add_argument("job_id")
    job.add_argument("--json", action="store_true")

    worker = sub.add_parser("worker", help='run a Celery worker ([jobs] executor = "celery")')
    worker.add_argument("--loglevel", default="INFO")
    return parser


def _submit_one(row: dict[str, str], args: argparse.Namespace) -> str:
    """Queue one job from a row (CSV cells) with the options as defaults; returns its id."""

    def pick(key: str) -> str | None:
        value = (row.get(key) or "").strip()
        return value or getattr(args, key)

    photo_path, script, language = pick("photo"), pick("script"), pick("language")
    if not photo_path or not script or not language:
        raise InputError("submit needs --photo, --script and --language (or CSV columns).")
    photo_file = Path(photo_path)
    if not photo_file.is_file():
        raise InputError("The photo {photo} does not exist.", params={"photo": photo_file})
    try:
        resolution = int(pick("resolution") or 720)
    except ValueError:
        raise InputError("The resolution must be a number.") from None
    limits = get_settings().limits
    photo = prepare_photo(
        photo_file.read_bytes(),
        max_bytes=limits.max_upload_mb * MB,
        max_megapixels=limits.max_megapixels,
        min_side_px=limits.min_photo_side_px,
        max_side_px=limits.max_photo_side_px,
    )
    email = pick("email")
    user = accounts.get_or_create_user(email) if email else accounts.local_user()
    params = JobParams(
        language=language,
        voice=pick("voice"),
        provider=pick("provider") or "local",
        resolution=resolution,
    )
    return jobs.submit(user.id, photo=photo, script=script, params=params).id


def cmd_submit(args: argparse.Namespace) -> None:
    """Queue jobs and print their ids. With the Celery executor the workers make them; with
    the thread executor there is no runner outside the app, so each job runs here before
    its id is printed."""

    if get_settings().jobs.executor == "thread":
        background_tasks.set_executor(background_tasks.SyncExecutor())
    if args.csv is not None:
        if not args.csv.is_file():
            raise InputError("The CSV file {csv} does not exist.", params={"csv": args.csv})
        with args.csv.open(newline="", encoding="utf-8") as fh:
            ids = [_submit_one(row, args) for row in csv.DictReader(fh)]
        print(json.dumps({"job_ids": ids}) if args.json else "\n".join(ids))
        return
    job_id = _submit_one({}, args)
    print(json.dumps({"job_id": job_id}) if args.json else job_id)


def cmd_job(args: argparse.Namespace) -> None:
    report = job_status.describe(args.job_id)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    duration = f"{report['duration_s']:.1f} s" if report["duration_s"] is not None else "-"
    print(
        f"{report['job_id']}: {report['status']} ({report['stage']}, "
        f"{report['percent']:.0f}%), worker {report['worker'] or '-'}, "
        f"{report['credits_charged']} credits, video {duration}"
    )
    if report["error"]:
        print(f"error: {report['error']}")


def cmd_worker(args: argparse.Namespace) -> None:
    # Imported here: Celery is loaded only by the processes that use it.
    from services import workers

    try:
        workers.run_worker(loglevel=args.loglevel)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def cmd_backup(args: argparse.Namespace) -> None:
    """``backup --out DIR`` / ``restore DIR`` (services.backup); a refused restore exits 2."""

    making = args.command == "backup"
    report = backup.backup(args.out) if making else backup.restore(args.folder)
    if args.json:
        print(json.dumps(backup.describe(report), indent=2))
    else:
        verb = "Backed up to" if making else "Restored from"
        print(
            f"{verb} {report.folder}: {report.database} database, {report.media_files} media "
            f"objects ({report.media_backend}), {report.files} files checked."
        )


def cmd_health(args: argparse.Namespace) -> int:
    """Print the health report; exit 1 when the status is down (like HTTP 503).

    A fresh process has no background checks yet, so it runs the provider key checks and the
    remote storage probe itself (network; ``--no-probes`` skips them and such providers read
    ``pending``)."""

    if not args.no_probes:
        health_monitor.check_provider_keys()
        health_monitor.probe_remote_storage()
    report = health_monitor.snapshot().to_json()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(health_monitor.format_report(report))
    return EXIT_FAILED if report["status"] == "down" else 0


def cmd_inspect(args: argparse.Namespace) -> None:
    """Print the face, eyes and mouth found, in the uploaded photo's pixels."""
    # The face engine (OpenCV, the mesh models) loads only for this command.
    from providers.local.photo_report import inspect_photo

    report = inspect_photo(args.photo)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:<13} {value}")


def cmd_voices(args: argparse.Namespace) -> None:
    provider = providers.get_provider(args.provider)
    voices = provider.voices(args.language)
    if args.json:
        print(json.dumps([v.__dict__ for v in voices], ensure_ascii=False, indent=2))
        return
    for v in voices:
        print(f"{v.id}\t{v.name}\t{v.gender}\t{v.engine}")


def cmd_generate(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    limits = get_settings().limits
    out: Path = args.out.expanduser().absolute()
    if out.suffix.lower() != ".mp4":
        raise InputError(
            "The output file must end in .mp4 (got '{name}').", params={"name": out.name}
        )
    if not out.parent.is_dir():
        raise InputError(
            "The output folder {folder} does not exist.", params={"folder": out.parent}
        )
    if not args.photo.is_file():
        raise InputError("The photo {photo} does not exist.", params={"photo": args.photo})
    params = JobParams(
        language=args.language,
        voice=args.voice,
        provider=args.provider,
        resolution=args.resolution,
        aspect=args.aspect,
        captions=args.captions,
        head_motion=args.head_motion,
        speed=args.speed,
        pitch=args.pitch,
    )
    # The same checks as a job submitted from the page (services.generation.validate).
    script, _charged = generation.validate(args.script, params)
    photo = prepare_photo(
        args.photo.read_bytes(),
        max_bytes=limits.max_upload_mb * MB,
        max_megapixels=limits.max_megapixels,
        min_side_px=limits.min_photo_side_px,
        max_side_px=limits.max_photo_side_px,
    )
    work = Path(tempfile.mkdtemp(prefix=f".{out.stem}.", suffix=".tmp", dir=out.parent))
    try:
        photo_path = work / ("photo.png" if photo.data.startswith(b"\x89PNG") else "photo.jpg")
        photo_path.write_bytes(photo.data)
        request = build_request(photo_path, script, params.as_dict())
        ctx = JobContext(
            work_dir=work / "job",
            progress=_progress_printer(args.json),
            client_ref=f"cli-{uuid.uuid4().hex}",
        )
        result = router.generate(args.provider, request, ctx)
        extra: dict[str, str] = {}
        if args.captions == "srt" and result.srt_path and result.vtt_path:
            for src, suffix in ((result.srt_path, ".srt"), (result.vtt_path, ".vtt")):
                os.replace(src, out.with_suffix(suffix))
                extra[suffix[1:]] = str(out.with_suffix(suffix))
        os.replace(result.video_path, out)  # last: the .mp4 appears only when all is done
    finally:
        shutil.rmtree(work, ignore_errors=True)

    summary = {
        "output": str(out),
        "duration_s": round(result.duration_s, 3),
        "provider": result.provider,
        "voice": result.voice,
        "resolution": f"{result.width}x{result.height}",
        "width": result.width,
        "height": result.height,
        "aspect": args.aspect,
        "captions": args.captions,
        **extra,
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "wall_s": round(time.perf_counter() - started, 3),
        "notes": list(result.notes),
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(
            f"Wrote {out} ({result.duration_s:.1f} s, {summary['resolution']}, "
            f"voice {result.voice}) in {summary['wall_s']:.1f} s."
        )
        for note in result.notes:
            print(f"note: {note}")


def _progress_printer(quiet: bool) -> ProgressCallback:
    """Progress on stderr when it is a terminal; nothing otherwise (pipes, tests, --json)."""
    if quiet or not sys.stderr.isatty():
        return lambda stage, percent: None

    def show(stage: str, percent: float) -> None:
        print(f"\r{stage:<8} {percent:5.1f}%", end="", file=sys.stderr, flush=True)
        if stage == "done":
            print(file=sys.stderr)

    return show


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "voices":
            cmd_voices(args)
        elif args.command == "inspect":
            cmd_inspect(args)
        elif args.command == "health":
            return cmd_health(args)
        elif args.command == "submit":
            cmd_submit(args)
        elif args.command == "job":
            cmd_job(args)
        elif args.command == "worker":
            cmd_worker(args)
        elif args.command in ("backup", "restore"):
            try:
                cmd_backup(args)
            except BackupError as exc:  # tampered, not empty, wrong database: caller's to fix
                _fail(exc.user_message, EXIT_BAD_INPUT)
        else:
            cmd_generate(args)
    except KeyboardInterrupt:
        _fail("Interrupted; nothing was written.", EXIT_INTERRUPTED)
    except InputError as exc:
        _fail(exc.user_message, EXIT_BAD_INPUT)
    except TalkingPhotoError as exc:
        # ConfigError (e.g. an unknown --provider) is also the caller's to fix.
        _fail(exc.user_message, EXIT_BAD_INPUT if isinstance(exc, ConfigError) else EXIT_FAILED)
    except OSError as exc:  # unreadable photo, full disk, ...
        _fail(f"{exc.strerror or exc}: {exc.filename or ''}", EXIT_FAILED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
