"""Scale run: N creators submit videos through ``python cli.py submit`` to 1, 2 and 4 Celery
worker processes (Redis broker, Postgres), and the same load through the thread executor
(one app process with 1, 2 and 4 render threads, SQLite). Prints jobs per minute, p50/p95
queue wait (submit -> a worker claims it) and peak memory (RSS) per process.

    eval "$(deploy/test-servers.sh)"      # Redis + Postgres on loopback (Debian packages)
    python benchmarks/bench_scale.py                       # 8 creators, 1 job each, 720p
    python benchmarks/bench_scale.py --creators 8 --resolution 480 --json
    python benchmarks/bench_scale.py --executors thread    # no servers needed

Each configuration gets a fresh Postgres database (or SQLite folder) and an emptied Redis
database; every creator is its own ``cli.py submit`` process, all started at once. The
engine is the offline ``local`` provider. Numbers depend on the machine: on a shared 2-core
box, more worker processes than cores only add queueing inside the CPU.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = (
    "Hello and welcome! Here is a short tip for today: drink a glass of water before your "
    "first coffee, and take a ten minute walk after lunch."
)
TERMINAL = ("succeeded", "failed", "cancelled")


class PeakRss:
    """Samples the RSS of some processes (each with its children) every ``every_s``."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.every_s = every_s
        self.peaks: dict[str, int] = {}
        self.procs: dict[str, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, name: str, pid: int) -> None:
        self.procs[name] = psutil.Process(pid)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join()
        return self.peaks

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            for name, proc in list(self.procs.items()):
                try:
                    rss = proc.memory_info().rss + sum(
                        c.memory_info().rss for c in proc.children(recursive=True)
                    )
                except psutil.Error:
                    continue
                self.peaks[name] = max(self.peaks.get(name, 0), rss)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _summary(rows: list[tuple[Any, ...]], label: str, peaks: dict[str, int]) -> dict[str, Any]:
    """rows: (status, created_at, started_at, finished_at, duration_s)."""
    done = [r for r in rows if r[0] == "succeeded"]
    waits = [(r[2] - r[1]).total_seconds() for r in rows if r[2] is not None]
    renders = [(r[3] - r[2]).total_seconds() for r in done]
    span = (max(r[3] for r in done) - min(r[1] for r in rows)).total_seconds() if done else 0
    return {
        "config": label,
        "jobs": len(rows),
        "succeeded": len(done),
        "wall_s": round(span, 1),
        "jobs_per_min": round(len(done) / span * 60, 2) if span else 0.0,
        "queue_wait_p50_s": round(_pct(waits, 50), 1),
        "queue_wait_p95_s": round(_pct(waits, 95), 1),
        # One claim -> finished, per job (several run at once with more workers).
        "render_p50_s": round(_pct(renders, 50), 1),
        "video_s_mean": round(statistics.fmean(r[4] for r in done), 1) if done else None,
        "peak_rss_mb": {k: round(v / 2**20) for k, v in sorted(peaks.items())},
    }


def _photo(folder: Path) -> Path:
    import cv2
    from PIL import Image
    from skimage import data

    path = folder / "face.jpg"
    big = cv2.resize(data.astronaut(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    Image.fromarray(big).save(path, "JPEG", quality=92)
    return path


def _base_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TALKINGPHOTO")}
    secrets = folder / "secrets.toml"
    secrets.write_text("", "utf-8")
    env.update(
        {
            "TALKINGPHOTO_SECRETS_FILE": str(secrets),
            "TALKINGPHOTO_DATA_DIR": str(folder / "data"),
            "TALKINGPHOTO__LIMITS__MAX_QUEUED_JOBS": "1000",
            "TALKINGPHOTO__LIMITS__MAX_ACTIVE_JOBS_PER_USER": "100",
            "TALKINGPHOTO__RATELIMIT__GENERATE": "1000/hour",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _wait_terminal(query: Any, expected: int, timeout_s: float) -> list[tuple[Any, ...]]:
    deadline = time.monotonic() + timeout_s
    while True:
        rows = query()
        if len(rows) >= expected and all(r[0] in TERMINAL for r in rows):
            return rows
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {rows}")
        time.sleep(0.5)


def run_celery(workers: int, args: argparse.Namespace, folder: Path, photo: Path) -> dict[str, Any]:
    import redis

    admin_url = os.environ["TALKINGPHOTO_TEST_POSTGRES_URL"]
    name = f"tp_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    db_url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    redis_url = os.environ["TALKINGPHOTO_TEST_REDIS_URL"].rsplit("/", 1)[0] + "/14"
    redis.Redis.from_url(redis_url).flushdb()
    env = _base_env(folder)
    env.update(
        {
            "TALKINGPHOTO__DATABASE__URL": db_url,
            "TALKINGPHOTO__JOBS__EXECUTOR": "celery",
            "TALKINGPHOTO__JOBS__BROKER_URL": redis_url,
            "TALKINGPHOTO__LIMITS__WORKERS": "1",
        }
    )
    engine = create_engine(db_url)
    # Migrate once before the clock starts (the workers would otherwise race to it).
    subprocess.run(
        [sys.executable, "-c", "from db.session import get_engine; get_engine()"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    peaks = PeakRss()
    procs = []
    for i in range(workers):
        log = (folder / f"worker{i}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "cli.py", "worker", "--loglevel", "WARNING"],
            cwd=ROOT,
            env={**env, "TALKINGPHOTO_WORKER_NAME": f"bench-w{i}"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        peaks.watch(f"worker{i}", proc.pid)
    try:
        time.sleep(args.warmup_s)  # workers connect to the broker and import the engine
        peaks.start()
        submitters = [
            subprocess.Popen(
                [
                    *(sys.executable, "cli.py", "submit", "--photo", str(photo)),
                    *("--script", SCRIPT, "--language", "en"),
                    *("--resolution", str(args.resolution)),
                    *("--email", f"creator{c}@example.com", "--json"),
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for c in range(args.creators)
        ]
        for sub in submitters:
            _out, err = sub.communicate()
            if sub.returncode != 0:
                raise SystemExit(f"submit failed: {err.decode()}")

        def query() -> list[tuple[Any, ...]]:
            with engine.connect() as conn:
                return [
                    tuple(r)
                    for r in conn.execute(
                        text(
                            "SELECT status, created_at, started_at, finished_at, duration_s "
                            "FROM jobs"
                        )
                    )
                ]

        rows = _wait_terminal(query, args.creators, args.timeout_s)
        result = _summary(rows, f"celery, {workers} worker process(es)", peaks.stop())
        with engine.connect() as conn:
            per_worker = dict(
                tuple(r)  # type: ignore[misc]
                for r in conn.execute(text("SELECT worker, count(*) FROM jobs GROUP BY worker"))
            )
        result["jobs_by_worker"] = per_worker
        return result
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


THREAD_INNER = """
import json, sys, time
from pathlib import Path
from services import accounts, jobs
from services.job_spec import JobParams
from services.photos import prepare_photo
photo_path, creators, resolution = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
script = sys.argv[4]
photo = prepare_photo(Path(photo_path).read_bytes(), max_bytes=25 << 20, max_megapixels=40,
                      min_side_px=256, max_side_px=2048)
users = [accounts.get_or_create_user(f"creator{c}@example.com") for c in range(creators)]
print("ready", flush=True)
sys.stdin.readline()
ids = [jobs.submit(u.id, photo=photo, script=script,
                   params=JobParams(language="en", provider="local", resolution=resolution)).id
       for u in users]
views = [jobs.get(i, u.id) for i, u in zip(ids, users)]
while any(v.active for v in views):
    time.sleep(0.2)
    views = [jobs.get(i, u.id) for i, u in zip(ids, users)]
iso = lambda t: t.isoformat() if t else None
print(json.dumps([[v.status, iso(v.created_at), iso(v.started_at), iso(v.finished_at),
                   v.duration_s] for v in views]), flush=True)
"""


def run_thread(workers: int, args: argparse.Namespace, folder: Path, photo: Path) -> dict[str, Any]:
    env = _base_env(folder)
    env["TALKINGPHOTO__LIMITS__WORKERS"] = str(workers)
    proc = subprocess.Popen(
        [
            *(sys.executable, "-c", THREAD_INNER, str(photo)),
            *(str(args.creators), str(args.resolution), SCRIPT),
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    peaks = PeakRss()
    peaks.watch("app", proc.pid)
    peaks.start()
    proc.stdin.write("go\n")
    proc.stdin.flush()
    proc.stdin.close()
    out = proc.stdout.read()
    proc.wait(timeout=args.timeout_s)
    rows = [
        (r[0], *(dt.datetime.fromisoformat(v) if v else None for v in r[1:4]), r[4])
        for r in json.loads(out.strip().splitlines()[-1])
    ]
    return _summary(rows, f"thread, 1 process x {workers} thread(s)", peaks.stop())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=8)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--executors", default="celery,thread")
    parser.add_argument("--resolution", type=int, default=720)
    parser.add_argument("--warmup-s", type=float, default=8.0)
    parser.add_argument("--timeout-s", type=float, default=1800.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    executors = args.executors.split(",")
    if "celery" in executors and not (
        os.environ.get("TALKINGPHOTO_TEST_REDIS_URL")
        and os.environ.get("TALKINGPHOTO_TEST_POSTGRES_URL")
    ):
        raise SystemExit(
            'celery runs need Redis and Postgres: eval "$(deploy/test-servers.sh)" first'
        )
    sys.path.insert(0, str(ROOT))
    results = []
    with tempfile.TemporaryDirectory(prefix="tp-bench-scale-") as tmp:
        photo = _photo(Path(tmp))
        for executor in executors:
            for workers in (int(w) for w in args.workers.split(",")):
                folder = Path(tmp) / f"{executor}-{workers}"
                folder.mkdir()
                run = run_celery if executor == "celery" else run_thread
                result = run(workers, args, folder, photo)
                results.append(result)
                if not args.json:
                    print(json.dumps(result), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        video = results[0]["video_s_mean"] if results else None
        print(f"\n{args.creators} creators x 1 job ({video} s videos), {args.resolution}p, local")
        print(
            "| configuration | jobs/min | queue wait p50 / p95 | render p50 | "
            "peak RSS per process |"
        )
        print("| --- | --- | --- | --- | --- |")
        for r in results:
            rss = ", ".join(f"{k} {v} MB" for k, v in r["peak_rss_mb"].items())
            print(
                f"| {r['config']} | {r['jobs_per_min']} ({r['succeeded']}/{r['jobs']}) | "
                f"{r['queue_wait_p50_s']} s / {r['queue_wait_p95_s']} s | "
                f"{r['render_p50_s']} s | {rss} |"
            )


if __name__ == "__main__":
    main()
