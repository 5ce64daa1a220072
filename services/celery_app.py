"""The Celery side of the job runner (``[jobs] executor = "celery"``): the app's Celery
configuration and the executor that queues a job's id.

The message carries only the job id; the row in the database stays the truth (status,
progress, cancel flag, heartbeat), so pages never talk to the broker. Delivery is
at-least-once: ``task_acks_late`` (a message is acknowledged after the job ran, so a dead
worker's job is delivered again), ``task_reject_on_worker_lost`` (a killed pool child puts its
message back at once) and a prefetch of 1 (a busy worker does not sit on queued jobs). A
duplicate delivery is harmless because ``background_tasks.run_job`` claims a job atomically.
Redis gives an unacknowledged message back only after ``VISIBILITY_TIMEOUT_S``, so a worker
killed outright is covered by the heartbeat reaper (``background_tasks.reap_stale_jobs``),
not by redelivery.

Loaded only when the Celery executor is chosen; the worker process is ``services.workers``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Celery

from secrets_manager import Settings

TASK_RUN_JOB = "talkingphoto.run_job"
QUEUE = "talkingphoto.jobs"
VISIBILITY_TIMEOUT_S = 6 * 3600  # longer than any render; the reaper handles dead workers


def make_app(settings: Settings) -> Celery:
    """A Celery app for ``[jobs] broker_url`` with the delivery guarantees above."""
    if not settings.jobs.broker_url:
        raise ValueError("[jobs] broker_url is not set")
    app = Celery("talkingphoto", broker=settings.jobs.broker_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=settings.limits.workers,
        task_default_queue=QUEUE,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # results live on the job row
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        enable_utc=True,
    )
    return app


class CeleryExecutor:
    """:class:`background_tasks.Executor` that sends ``run_job``'s job id to the broker."""

    def __init__(
        self,
        settings: Settings,
        app: Celery | None = None,
        on_sent: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app or make_app(settings)
        self.on_sent = on_sent  # background_tasks.mark_sent: the row notes the hand-off

    def submit(self, fn: Callable[..., object], *args: Any) -> None:
        if getattr(fn, "__name__", "") != "run_job" or len(args) != 1:
            raise TypeError("the Celery executor runs background_tasks.run_job(job_id) only")
        job_id = str(args[0])
        self.app.send_task(TASK_RUN_JOB, args=[job_id], queue=QUEUE)
        if self.on_sent is not None:
            self.on_sent(job_id)

    def shutdown(self, wait: bool = True) -> None:
        self.app.close()  # queued jobs stay in the broker (and 'queued' in the database)
