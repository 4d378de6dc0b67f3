"""Celery: the worker side of connector calls in broker mode (`panjereh worker`).

Tasks are thin: they take a call id and run one attempt through `engine.services.service_calls`,
which owns every decision (retry, incident, BPMN error). Delivery is at least once:

- `acks_late` with `reject_on_worker_lost`: a message is acknowledged only after its
  attempt ran, so a worker killed mid-call leaves it to be delivered again (RabbitMQ: as
  soon as the connection drops; Redis: after the visibility timeout,
  ``PANJEREH_BROKER_VISIBILITY_TIMEOUT``, see `engine.services.dispatch`).
- The beat tick (`panjereh.tick`, every 2 s) sends every call that is due: retries whose
  `next_attempt_at` came (retries are rows, not Celery retries, so they survive a restart of
  every worker), calls whose hand-over failed, and calls whose claim went stale because
  the worker running them died. Each minute the beat also runs the upkeep sweep
  (`panjereh.upkeep`, `engine.services.upkeep`): forgotten payments, pending messages.

and the effect is once: a delivery first claims the row, so a duplicate finds it claimed
or settled and does nothing, and a new attempt after a dead one calls the agency with the
same idempotency key, so the agency answers it from its memory instead of acting twice.

Run the tick in exactly one worker (``panjereh worker --no-beat`` for the others); two
ticks only send duplicates, which the claim absorbs.
"""

from __future__ import annotations

import logging
import os
import sys
from functools import cache
from typing import Any

from celery import Celery, signals

from engine.compose import build_runtime, upgrade_database
from engine.services import event_delivery, service_calls, upkeep
from engine.services.dispatch import RUN_CALL, BrokerSettings
from engine.services.dispatch import make_celery as make_sender
from engine.services.runtime import Runtime
from engine.settings import Settings, get_settings

log = logging.getLogger("panjereh.worker")
TICK = "panjereh.tick"
FIRE_TIMER = "panjereh.fire_timer"
FIRE_START = "panjereh.fire_start"
UPKEEP = "panjereh.upkeep"
TICK_SECONDS = 2.0
# A tick that waited behind busy workers longer than this is dropped unrun: a newer one is
# queued, and a pile of old ones run back to back would each send the same due calls.
TICK_EXPIRES_SECONDS = 10.0


def make_celery(broker_url: str, settings: Settings) -> Celery:
    """The worker's Celery app: the shared sender configuration plus delivery guarantees."""
    app: Celery = make_sender(broker_url)
    stale = service_calls.stale_after(settings)
    app.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        # An attempt must end before its claim can be presumed dead, or a sweep would start a
        # second attempt beside a live one. The soft limit interrupts the call (it settles as
        # a retryable failure); the hard limit kills a process that ignored it.
        task_soft_time_limit=stale * 0.6, task_time_limit=stale * 0.75,
        beat_schedule={"panjereh-tick": {"task": TICK, "schedule": TICK_SECONDS,
                                         "options": {"expires": TICK_EXPIRES_SECONDS}},
                       "panjereh-upkeep": {"task": UPKEEP, "schedule": upkeep.SWEEP_SECONDS,
                                           "options": {"expires": upkeep.SWEEP_SECONDS}}},
        # The schedule is fixed intervals: nothing to persist, so no schedule file is
        # written into whatever directory the worker was started in.
        beat_scheduler="celery.beat:Scheduler",
    )
    app.task(name=RUN_CALL, bind=True)(run_service_call)
    app.task(name=TICK)(tick)
    app.task(name=FIRE_TIMER)(fire_timer)
    app.task(name=FIRE_START)(fire_start)
    app.task(name=UPKEEP)(sweep)
    return app


@cache
def celery_app() -> Celery:
    settings = get_settings()
    return make_celery(settings.broker_url, settings)


@cache
def worker_runtime() -> Runtime:
    """This pool process's own runtime, built on first use, after the fork.

    Migrations ran once in the main process (`run_worker`). Calls that a result parks go
    back through the broker, like any other, sent with this worker's Celery app.
    """
    return build_runtime(get_settings(), migrate=False, sender=celery_app())


def _no_inherited_connections(**_: Any) -> None:
    """A forked pool process must not use the database connections of its parent: two
    processes talking over one socket (or one SQLite handle) corrupt each other's
    transactions. `run_worker` leaves none open before forking; this guards the rest."""
    if worker_runtime.cache_info().currsize:
        worker_runtime().drop_inherited()
        worker_runtime.cache_clear()


signals.worker_process_init.connect(_no_inherited_connections, weak=False)


def _quiet_libraries(**_: Any) -> None:
    # At INFO, SpiffWorkflow logs every task state change and httpx every request; the
    # worker's log should read as one line per decision, which engine.services.service_calls writes.
    for name in ("spiff", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)


signals.after_setup_logger.connect(_quiet_libraries, weak=False)


def run_service_call(task: Any, call_id: str) -> str:
    """One attempt at one call (the task body: the id in, the service does the work)."""
    if (task.request.delivery_info or {}).get("redelivered"):
        log.warning("service call %s: message redelivered (the worker that took it died, or did not acknowledge "
                    "it within the visibility timeout)", call_id)
    runtime = worker_runtime()
    return service_calls.run(runtime, runtime.connectors, call_id)


def tick() -> int:
    """Send every call that is due: retries whose time came, hand-overs that failed, and
    claims whose worker died; and every due timer and timer start event."""
    runtime = worker_runtime()
    due = service_calls.due_now(runtime)
    if due:
        log.info("tick: sending %d due service call(s): %s", len(due), ", ".join(due))
        runtime.dispatcher.hand_over(runtime, due)
    timers, starts = event_delivery.claim_due(runtime)
    try:
        for timer_id in timers:
            celery_app().send_task(FIRE_TIMER, args=[timer_id])
        for trigger_id in starts:
            celery_app().send_task(FIRE_START, args=[trigger_id])
    except Exception as error:  # claimed rows are sent again once their claim is a minute old
        log.warning("tick: could not hand timers to the broker (%s: %s)", type(error).__name__, error)
    if timers or starts:
        log.info("tick: sent %d due timer(s) and %d timer start(s)", len(timers), len(starts))
    return len(due) + len(timers) + len(starts)


def sweep() -> tuple[int, int]:
    """Reconcile forgotten payments and resend pending messages (`engine.services.upkeep`)."""
    return upkeep.sweep(worker_runtime())


def fire_timer(timer_id: int) -> str | None:
    """Fire one due timer (the task body: the id in, the service does the work)."""
    return event_delivery.fire_by_id(worker_runtime(), "timer", timer_id)


def fire_start(trigger_id: int) -> str | None:
    """Start an instance for one due timer start event."""
    return event_delivery.fire_by_id(worker_runtime(), "start", trigger_id)


def run_worker(concurrency: int, beat: bool) -> None:
    """`panjereh worker`: a Celery worker (with the due-call tick when `beat`)."""
    settings = get_settings()
    # Migrate once, here, rather than in every pool process at once; it leaves no connection
    # open for the forks to inherit.
    upgrade_database(settings)
    stale = service_calls.stale_after(settings)
    print(f"panjereh worker: queue {BrokerSettings().queue!r}, connector timeout "
          f"{settings.connector_timeout_seconds:g} s, attempts presumed dead after {stale:g} s, "
          f"tick {f'every {TICK_SECONDS:g} s' if beat else 'off (--no-beat)'}", file=sys.stderr, flush=True)
    arguments = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--without-gossip",
                 "--without-mingle", f"--hostname=panjereh-{os.getpid()}@%h"]
    celery_app().worker_main([*arguments, "--beat"] if beat else arguments)
