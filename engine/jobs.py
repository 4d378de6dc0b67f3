"""Celery: the worker side of connector calls in broker mode.

Tasks are thin: they take a call id and run one attempt through `engine.services.jobs`,
which owns every decision (retry, incident, BPMN error). `acks_late` with
`reject_on_worker_lost` means a worker killed mid-call leaves its message to be
redelivered; the claim on the row makes the second delivery pick it up only once the
first attempt is known to be dead, and the agency drops the repeat by idempotency key.
Retries are not Celery retries: the row's `next_attempt_at` holds them, and a beat tick
sends what is due, so a retry survives a restart of every worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from celery import Celery

from engine.services import jobs
from engine.services.dispatch import RUN_CALL
from engine.services.runtime import Runtime, build_runtime
from engine.settings import get_settings

TICK = "panjereh.tick"


def make_celery(broker_url: str) -> Celery:
    app = Celery("panjereh", broker=broker_url)
    app.conf.update(
        task_serializer="json", accept_content=["json"], result_backend=None, task_ignore_result=True,
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # Redis redelivers an unacknowledged message only after this; keep it short so a
        # killed worker's call is picked up again within a minute.
        broker_transport_options={"visibility_timeout": 60},
        beat_schedule={"panjereh-tick": {"task": TICK, "schedule": 2.0}},
    )
    app.task(name=RUN_CALL, bind=False)(run_service_call)
    app.task(name=TICK, bind=False)(tick)
    return app


@cache
def worker_runtime() -> Runtime:
    """The worker's own runtime; it runs calls itself, so it never dispatches to Celery."""
    runtime = build_runtime(get_settings())
    runtime.dispatch = _send
    return runtime


def _send(call_ids: Iterable[str]) -> None:
    for call_id in call_ids:
        celery_app().send_task(RUN_CALL, args=[call_id])


@cache
def celery_app() -> Celery:
    return make_celery(get_settings().broker_url)


def run_service_call(call_id: str) -> str:
    runtime = worker_runtime()
    return jobs.run(runtime, runtime.connectors, call_id)


def tick() -> int:
    """Send every call that is due (retries whose time came, claims whose worker died)."""
    runtime = worker_runtime()
    with runtime.reading() as session:
        due = jobs.due(session, stale_after=runtime.settings.connector_timeout_seconds * 4)
    _send(due)
    return len(due)


def run_worker(concurrency: int, beat: bool) -> None:
    """`panjereh worker`: a Celery worker (with the due-call tick when `beat`)."""
    arguments = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--without-gossip", "--without-mingle"]
    celery_app().worker_main([*arguments, "-B"] if beat else arguments)
