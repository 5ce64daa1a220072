"""A Celery worker process for the job runner (``python cli.py worker``).

The worker registers one task, ``talkingphoto.run_job(job_id)``, which is
``background_tasks.run_job`` unchanged, and runs the heartbeat reaper on a timer
(``[jobs] reap_every_s``; a database lock lets one worker at a time reap). Its pool is
threads, ``[limits] workers`` of them, like the in-process executor: a render spends its time
in ffmpeg, eSpeak and NumPy, and one process per worker keeps a killed worker's jobs
together. Its name on the job rows is ``TALKINGPHOTO_WORKER_NAME`` or the host name.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

import background_tasks
from secrets_manager import Settings, get_settings
from services.celery_app import QUEUE, TASK_RUN_JOB, CeleryExecutor, make_app

log = logging.getLogger("talkingphoto.workers")


class Reaper:
    """Calls :func:`background_tasks.reap_stale_jobs` every ``every_s`` seconds."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tp-reaper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                report = background_tasks.reap_stale_jobs()
            except Exception:  # a database hiccup must not end the timer
                log.warning("reaper: pass failed", exc_info=True)
                continue
            if report.requeued or report.failed or report.cancelled:
                log.warning("reaper: %s", report)


def worker_app(settings: Settings | None = None) -> Celery:
    """The Celery app with the job task registered, and this process's executor set to it
    (so the reaper's re-queued jobs go back through the same broker)."""
    settings = settings or get_settings()
    app = make_app(settings)

    @app.task(name=TASK_RUN_JOB, acks_late=True, reject_on_worker_lost=True)
    def run_job(job_id: str) -> None:
        background_tasks.run_job(job_id)

    background_tasks.set_executor(CeleryExecutor(settings, app, on_sent=background_tasks.mark_sent))
    return app


def run_worker(*, loglevel: str = "INFO", extra_argv: list[str] | None = None) -> None:
    """Start a worker in this process (blocks until it is stopped)."""
    settings = get_settings()
    if settings.jobs.executor != "celery" or not settings.jobs.broker_url:
        raise ValueError(
            'a worker needs [jobs] executor = "celery" and [jobs] broker_url '
            "(or TALKINGPHOTO__JOBS__EXECUTOR / TALKINGPHOTO__JOBS__BROKER_URL)"
        )
    app = worker_app(settings)
    reaper = Reaper(settings.jobs.reap_every_s)

    def _start_reaper(**_kwargs: Any) -> None:
        reaper.start()

    def _stop_reaper(**_kwargs: Any) -> None:
        reaper.stop()

    worker_ready.connect(_start_reaper, weak=False)
    worker_shutdown.connect(_stop_reaper, weak=False)
    name = background_tasks.worker_name()
    argv = [
        "worker",
        f"--hostname={name}@%h" if "@" not in name else f"--hostname={name}",
        "--pool=threads",
        f"--concurrency={settings.limits.workers}",
        f"--queues={QUEUE}",
        f"--loglevel={loglevel}",
        "--without-gossip",
        "--without-mingle",
        *(extra_argv or []),
    ]
    app.worker_main(argv)
