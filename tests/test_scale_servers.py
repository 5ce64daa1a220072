"""Scale-out against real servers: Redis (the Celery broker) and Postgres, with Celery worker
processes started by ``python cli.py worker`` and jobs queued by ``python cli.py submit``.

Marked ``servers``: they run when ``TALKINGPHOTO_TEST_REDIS_URL`` and
``TALKINGPHOTO_TEST_POSTGRES_URL`` are set (``.ci/run`` starts both from Debian's packages;
``eval "$(deploy/test-servers.sh)"`` does the same on a developer's machine) and skip with
that reason otherwise, so a plain ``python -m pytest`` needs no server. Each test gets its own
Postgres database and an emptied Redis database.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
REDIS_ENV = "TALKINGPHOTO_TEST_REDIS_URL"
POSTGRES_ENV = "TALKINGPHOTO_TEST_POSTGRES_URL"
TERMINAL = ("succeeded", "failed", "cancelled")
# About 20 seconds of speech: a 480p render takes several seconds, long enough to be killed.
LONG_SCRIPT = (
    "Good morning and welcome to the channel. Today we look at three small habits that make "
    "a big difference: drinking water before coffee, a ten minute walk after lunch, and "
    "writing down tomorrow's first task before going to bed. Try them for a week and tell "
    "me in the comments what changed for you."
)

pytestmark = [
    pytest.mark.servers,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (os.environ.get(REDIS_ENV) and os.environ.get(POSTGRES_ENV)),
        reason=f"needs Redis and Postgres: set {REDIS_ENV} and {POSTGRES_ENV} "
        '(eval "$(deploy/test-servers.sh)" starts both; .ci/run does)',
    ),
]


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@dataclass
class Cluster:
    """One scratch database + broker, and the environment every process of the test shares."""

    env: dict[str, str]
    database_url: str
    tmp: Path
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def cli(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "cli.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"cli.py {args[0]} failed: {done.stderr}"
        return done.stdout

    def submit(self, email: str, photo: Path, script: str = LONG_SCRIPT) -> str:
        out = self.cli(
            "submit",
            "--photo",
            str(photo),
            "--script",
            script,
            "--language",
            "en",
            "--resolution",
            "480",
            "--email",
            email,
            "--json",
        )
        return str(json.loads(out)["job_id"])

    def job(self, job_id: str) -> dict[str, object]:
        return dict(json.loads(self.cli("job", job_id, "--json")))

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "cli.py", "worker", "--loglevel", "INFO"],
            cwd=ROOT,
            env={**self.env, "TALKINGPHOTO_WORKER_NAME": name},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers[name] = proc
        wait_for(
            lambda: (
                b" ready." in (self.tmp / f"{name}.log").read_bytes() or proc.poll() is not None
            ),
            120,
            f"worker {name} to start",
        )
        assert proc.poll() is None, (self.tmp / f"{name}.log").read_text(errors="replace")
        return proc

    def query(self, sql: str, **params: object) -> list[tuple[object, ...]]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(sql), params)]
        finally:
            engine.dispose()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    import redis

    admin_url = os.environ[POSTGRES_ENV]
    name = f"tp_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    database_url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    # A Redis database of its own (15), emptied: no message of another run is delivered here.
    redis_url = os.environ[REDIS_ENV].rsplit("/", 1)[0] + "/15"
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("", "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TALKINGPHOTO")}
    env.update(
        {
            "TALKINGPHOTO_SECRETS_FILE": str(secrets),
            "TALKINGPHOTO_DATA_DIR": str(tmp_path / "data"),
            "TALKINGPHOTO__DATABASE__URL": database_url,
            "TALKINGPHOTO__JOBS__EXECUTOR": "celery",
            "TALKINGPHOTO__JOBS__BROKER_URL": redis_url,
            "TALKINGPHOTO__JOBS__HEARTBEAT_S": "1",
            "TALKINGPHOTO__JOBS__STALE_AFTER_S": "5",
            "TALKINGPHOTO__JOBS__REAP_EVERY_S": "1",
            "TALKINGPHOTO__LIMITS__WORKERS": "1",
            "TALKINGPHOTO__RATELIMIT__STORAGE_URI": redis_url,
            "PYTHONUNBUFFERED": "1",
        }
    )
    found = Cluster(env=env, database_url=database_url, tmp=tmp_path)
    try:
        yield found
    finally:
        for proc in found.workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in found.workers.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        client.flushdb()
        client.close()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_sigkill_a_worker_mid_render_every_job_ends_once_charged_once(
    cluster: Cluster, astronaut_path: Path
) -> None:
    """Two worker processes; one is killed with SIGKILL while it renders. Its job goes back
    to the queue when its heartbeat is stale, finishes on the other worker, and every
    creator is charged exactly once."""
    cluster.start_worker("w1")
    cluster.start_worker("w2")
    creators = [f"creator{i}@example.com" for i in range(3)]
    job_ids = [cluster.submit(email, astronaut_path) for email in creators]

    def rendering_on_w1() -> str | None:
        rows = cluster.query(
            "SELECT id FROM jobs WHERE status = 'running' AND worker = 'w1' AND percent > 0"
        )
        return str(rows[0][0]) if rows else None

    wait_for(lambda: rendering_on_w1() is not None, 300, "a job rendering on w1")
    victim = rendering_on_w1()
    assert victim is not None
    cluster.workers["w1"].send_signal(signal.SIGKILL)
    cluster.workers["w1"].wait(timeout=60)
    (stage, percent) = cluster.query("SELECT stage, percent FROM jobs WHERE id = :i", i=victim)[0]
    assert cluster.job(victim)["status"] == "running", "killed mid-render, not after"

    wait_for(
        lambda: all(cluster.job(j)["status"] in TERMINAL for j in job_ids),
        600,
        "every job to finish",
    )
    reports = {j: cluster.job(j) for j in job_ids}
    assert {r["status"] for r in reports.values()} == {"succeeded"}, reports
    assert reports[victim]["worker"] == "w2"
    assert reports[victim]["attempts"] == 2
    for job_id, report in reports.items():
        assert isinstance(report["duration_s"], float) and report["duration_s"] > 10
        refs = cluster.query(
            "SELECT reference, amount FROM credit_ledger WHERE reference LIKE :p",
            p=f"job:{job_id}:%",
        )
        assert refs == [(f"job:{job_id}:debit", -int(report["credits_charged"]))], refs  # type: ignore[call-overload]
        assert int(report["credits_charged"]) > 0  # type: ignore[call-overload]
        video = Path(cluster.env["TALKINGPHOTO_DATA_DIR"]) / "media" / str(report["video_key"])
        assert video.is_file() and video.stat().st_size > 10_000
    for email in creators:
        (balance,) = cluster.query(
            "SELECT COALESCE(SUM(l.amount), 0) FROM credit_ledger l JOIN users u "
            "ON u.id = l.user_id WHERE u.email = :e",
            e=email,
        )[0]
        charged = sum(
            int(r["credits_charged"])  # type: ignore[call-overload]
            for r in reports.values()
            if r["user_id"] == _user_id(cluster, email)
        )
        assert balance == 20 - charged
    assert stage and percent  # the row showed where the dead render was


def _user_id(cluster: Cluster, email: str) -> int:
    return int(cluster.query("SELECT id FROM users WHERE email = :e", e=email)[0][0])  # type: ignore[call-overload]


@dataclass(frozen=True)
class Reaped:
    locked_out: bool
    requeued: list[str]


def reap_in_another_process(cluster: Cluster) -> Reaped:
    code = (
        "import background_tasks, json; r = background_tasks.reap_stale_jobs(); "
        "print(json.dumps([r.locked_out, list(r.requeued)]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=cluster.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    locked_out, requeued = json.loads(out)
    return Reaped(locked_out, requeued)


def test_the_reaper_lock_lets_one_worker_reap_at_a_time(cluster: Cluster) -> None:
    """The advisory lock the reaper takes on Postgres: held in one transaction, a second
    reaper (another worker) is locked out instead of re-queuing the same jobs twice."""
    import background_tasks

    engine = create_engine(cluster.database_url)
    try:
        with engine.begin() as conn:
            got = conn.scalar(
                text("SELECT pg_try_advisory_xact_lock(:k)"),
                {"k": background_tasks.REAPER_LOCK_KEY},
            )
            assert got is True
            assert reap_in_another_process(cluster).locked_out is True
        assert reap_in_another_process(cluster).locked_out is False
    finally:
        engine.dispose()


REPLICA = """
import json, sys
import health_monitor
from providers import router
from services import jobs
job_id, user_id, fail_local = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
if fail_local:  # this replica's renders keep failing on the local engine
    cut = router.breaker("local")
    for _ in range(cut.failures):
        cut.failure()
view = jobs.get(job_id, user_id)
snap = health_monitor.snapshot().to_json()
checks = snap["checks"]
print(json.dumps({
    "job": [view.status, view.stage, view.percent],
    "status": snap["status"],
    "local_breaker": checks["providers"]["local"]["breaker"],
    "queue": [checks["jobs"].get("queued"), checks["jobs"].get("running")],
}))
"""


def replica(cluster: Cluster, job_id: str, user_id: int, *, fail_local: bool = False) -> dict:  # type: ignore[type-arg]
    done = subprocess.run(
        [sys.executable, "-c", REPLICA, job_id, str(user_id), "1" if fail_local else "0"],
        cwd=ROOT,
        env=cluster.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_two_replicas_see_the_same_progress_queue_breakers_and_health(
    cluster: Cluster, astronaut_path: Path
) -> None:
    """Two app processes on one Postgres (and the broker's Redis): a job's progress written
    by a worker, the queue, and a circuit breaker opened by one replica read the same in
    both, and so does their health status."""
    job_id = cluster.submit("replicas@example.com", astronaut_path)
    queued_too = cluster.submit("replicas2@example.com", astronaut_path)
    user_id = _user_id(cluster, "replicas@example.com")
    # A worker (this process stands in for it) claims the job and reports progress.
    progress = (
        "import sys, background_tasks as b; c = b._claim(sys.argv[1], 'w-test'); "
        "b.ProgressWriter(c.id)('animate', 42.0)"
    )
    subprocess.run([sys.executable, "-c", progress, job_id], cwd=ROOT, env=cluster.env, check=True)

    first, second = replica(cluster, job_id, user_id), replica(cluster, job_id, user_id)
    assert first["job"] == second["job"] == ["running", "animate", 42.0]
    assert first["queue"] == second["queue"] == [1, 1]
    assert first["local_breaker"] == second["local_breaker"] == "closed"
    assert first["status"] == second["status"]

    opened = replica(cluster, job_id, user_id, fail_local=True)
    other = replica(cluster, job_id, user_id)
    assert opened["local_breaker"] == other["local_breaker"] == "open"
    assert opened["status"] == other["status"] != "ok"
    assert queued_too


def test_the_shared_breaker_opens_lets_one_trial_through_and_closes(cluster: Cluster) -> None:
    import redis

    from providers.router import RedisCircuitBreaker

    client = redis.Redis.from_url(cluster.env["TALKINGPHOTO__JOBS__BROKER_URL"])
    now = [1000.0]
    # Two processes' views of one provider's breaker: the same Redis hash.
    a = RedisCircuitBreaker("d_id", client, failures=2, cooldown_s=30, clock=lambda: now[0])
    b = RedisCircuitBreaker("d_id", client, failures=2, cooldown_s=30, clock=lambda: now[0])
    try:
        assert a.allow() and b.state == "closed"
        a.failure()
        assert b.state == "closed" and b.allow()
        b.failure()
        assert a.state == b.state == "open"
        assert not a.allow() and not b.allow()
        now[0] += 30
        assert a.state == "half_open"
        assert a.allow() is True and b.allow() is False  # one trial between them
        b.release()  # the trial proved nothing: another may try
        assert b.allow() is True
        b.failure()  # the trial failed: open again, for a new cool-down
        assert a.state == "open"
        now[0] += 30
        assert a.allow()
        a.success()
        assert b.state == "closed" and b.allow()
    finally:
        client.close()


def test_rate_limits_count_across_processes_on_the_broker_redis(cluster: Cluster) -> None:
    """[ratelimit] storage_uri left at memory:// moves to the broker's Redis: three
    processes (replicas) share one 'generate' budget of 2 per hour."""
    env = {k: v for k, v in cluster.env.items() if k != "TALKINGPHOTO__RATELIMIT__STORAGE_URI"}
    env["TALKINGPHOTO__RATELIMIT__GENERATE"] = "2/hour"
    code = (
        "from errors import RateLimited; from services import ratelimit\n"
        "assert ratelimit.storage_uri().startswith('redis://')\n"
        "try:\n    ratelimit.hit('generate', 'user-7'); print('ok')\n"
        "except RateLimited: print('limited')\n"
    )
    outcomes = [
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for _ in range(3)
    ]
    assert outcomes == ["ok", "ok", "limited"]


def test_replicas_starting_together_migrate_one_at_a_time(cluster: Cluster) -> None:
    """Three processes open a fresh Postgres database at once: the advisory lock around the
    start-up upgrade lets one migrate while the others wait, and all of them start."""
    code = "from db.session import get_engine; get_engine(); print('up')"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=cluster.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], [err for _out, err in results]
    from tests.test_migrations import head

    assert cluster.query("SELECT version_num FROM alembic_version") == [(head(),)]


def test_a_key_check_made_by_one_replica_shows_on_every_replica(cluster: Cluster) -> None:
    """D-ID configured with a key but unreachable (a closed loopback port): replica A's
    sampler checks the key; replica B, which never checked, shows the same failed check
    (not "pending") and the same degraded status."""
    env = {
        **cluster.env,
        "TALKINGPHOTO__D_ID__API_KEY": "test-key-for-health",
        "TALKINGPHOTO__D_ID__BASE_URL": "http://127.0.0.1:9",
    }
    show = (
        "import json, sys, health_monitor\n"
        "from observability import probes\n"
        "if sys.argv[1] == 'check':\n    probes.check_key('d_id')\n"
        "snap = health_monitor.snapshot().to_json()\n"
        "print(json.dumps([snap['status'], snap['checks']['providers']['d_id']]))\n"
    )

    def replica_view(mode: str) -> list:  # type: ignore[type-arg]
        out = subprocess.run(
            [sys.executable, "-c", show, mode],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return list(json.loads(out.strip().splitlines()[-1]))

    before = replica_view("look")
    assert before[1]["state"] == "pending" and before[1]["key_check"] is None
    checker = replica_view("check")
    other = replica_view("look")
    assert checker[1]["key_check"]["ok"] is False
    assert other[1]["state"] == "checked"
    assert other[1]["key_check"] == checker[1]["key_check"]
    assert other[0] == checker[0] != "ok"
