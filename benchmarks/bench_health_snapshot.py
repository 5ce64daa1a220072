"""Benchmark ``health_monitor.snapshot()``: time per snapshot, mean and p95 over N runs.

    python benchmarks/bench_health_snapshot.py                 # 200 runs, 2,000 jobs
    python benchmarks/bench_health_snapshot.py --runs 500 --jobs 20000 --json

A scratch data folder (SQLite) is filled with jobs (queued, running, and finished in the last
day with mixed providers and outcomes), purchases, webhook events and error events, as a busy
day would leave it. The first snapshot (database creation, eSpeak NG load, ffmpeg lookup) is
reported separately as "cold"; the timed runs are what the sampler, ``/api/health`` and the
admin page pay every few seconds. Also timed: the same through ``web.health.health_snapshot``
(JSON body) — none of this calls a vendor (key checks are cached).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _fill(jobs: int) -> None:
    from db.models import Event, Job, Purchase, User, WebhookEvent, utcnow
    from db.session import session_scope

    rng = random.Random(7)
    now = utcnow()
    with session_scope() as session:
        user = User(email="bench@example.com", display_name="bench")
        session.add(user)
        session.flush()
        rows = []
        for i in range(jobs):
            status = rng.choices(
                ["succeeded", "failed", "cancelled", "queued", "running"], [85, 6, 3, 4, 2]
            )[0]
            created = now - dt.timedelta(seconds=rng.uniform(0, 2 * 86400))
            started = created + dt.timedelta(seconds=rng.uniform(0, 30))
            finished = started + dt.timedelta(seconds=rng.uniform(5, 120))
            active = status in ("queued", "running")
            rows.append(
                Job(
                    id=str(uuid.uuid4()),
                    user_id=user.id,
                    status=status,
                    stage="queued",
                    script="x",
                    language="en",
                    provider=rng.choice(["local", "auto", "d_id"]),
                    provider_used=rng.choice(["local", "d_id", None]),
                    params={},
                    cost_credits=1,
                    notes=[],
                    created_at=created,
                    started_at=None if status == "queued" else started,
                    finished_at=None if active else finished,
                    media_bytes=rng.randint(100_000, 5_000_000),
                )
            )
            if i % 50 == 0:
                session.add(Event(level="error", kind="job.failed", message="failed", ts=finished))
        session.add_all(rows)
        for gateway in ("stripe", "razorpay"):
            for n in range(200):
                session.add(
                    WebhookEvent(
                        gateway=gateway,
                        event_id=f"{gateway}-{n}",
                        event_type="paid",
                        received_at=now,
                    )
                )
        for n in range(300):
            session.add(
                Purchase(
                    user_id=user.id,
                    gateway="stripe",
                    gateway_ref=f"cs_{n}",
                    pack_id="starter",
                    credits=20,
                    currency="USD",
                    amount_minor=299,
                    status="pending" if n % 10 else "paid",
                )
            )


def _timed(fn: object, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return times


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return {
        "mean_ms": round(statistics.fmean(times), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(ordered[-1], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        secrets = Path(tmp) / "secrets.toml"
        secrets.write_text("", "utf-8")
        os.environ["TALKINGPHOTO_SECRETS_FILE"] = str(secrets)
        os.environ["TALKINGPHOTO_DATA_DIR"] = str(Path(tmp) / "data")
        sys.path.insert(0, str(ROOT))
        import health_monitor
        from web import health as api_routes

        started = time.perf_counter()
        health_monitor.snapshot()
        cold_ms = (time.perf_counter() - started) * 1000
        _fill(args.jobs)
        health_monitor.snapshot()  # warm the new rows' pages
        snap = _summary(_timed(health_monitor.snapshot, args.runs))
        api = _summary(_timed(api_routes.health_snapshot, args.runs))
        last = health_monitor.snapshot()
        result = {
            "runs": args.runs,
            "jobs": args.jobs,
            "cold_ms": round(cold_ms, 1),
            "snapshot": snap,
            "api_body": api,
            "status": last.status,
            "queued": last.checks["jobs"]["queued"],
            "cpus": os.cpu_count(),
        }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"health snapshot over {args.runs} runs with {args.jobs} jobs "
            f"({result['cpus']} CPUs; cold first call {result['cold_ms']} ms)"
        )
        for name in ("snapshot", "api_body"):
            s = result[name]
            print(
                f"  {name:<9} mean {s['mean_ms']:7.2f} ms   p95 {s['p95_ms']:7.2f} ms   "
                f"max {s['max_ms']:7.2f} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
