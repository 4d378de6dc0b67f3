"""Where connector calls run once a transaction has written them.

Embedded mode runs them in the process: right after the commit for the calls it just
wrote (so a citizen's next page already shows what the registry said), and from a
background tick for retries that are due later. Broker mode hands ids to Celery workers
(`engine.celery_worker`).

Handing an id over is only a hint: the `service_call` row, committed before, is the truth.
A hand-over that fails (the broker is down) loses nothing, because the row is due and the
worker's tick sends every due row; a hand-over that happens twice changes nothing, because
running a call starts by claiming its row.

Broker mode reads two more environment variables, which the API process and the workers
must agree on (they are read here so that both sides use one definition):

- ``PANJEREH_BROKER_QUEUE`` (default ``panjereh``): the queue connector jobs go through;
  set it to give two installations, or two test runs, one broker.
- ``PANJEREH_BROKER_VISIBILITY_TIMEOUT`` (seconds, default 60; Redis only): how long a
  message taken by a worker that then died stays invisible before Redis hands it out again.
  RabbitMQ needs no such setting: it requeues the moment the worker's connection drops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.services.runtime import Runtime

log = logging.getLogger("panjereh.dispatch")
RUN_CALL = "panjereh.run_service_call"
MAX_CHAIN = 50


class BrokerSettings(BaseSettings):
    """The broker knobs both the sending and the receiving side need (see the module docstring)."""

    model_config = SettingsConfigDict(env_prefix="PANJEREH_BROKER_", extra="ignore")

    queue: str = Field("panjereh", min_length=1, max_length=200)
    visibility_timeout: int = Field(60, ge=5, le=24 * 3600)


def make_celery(broker_url: str) -> Any:
    """A Celery app with the configuration senders and workers share (workers add theirs)."""
    from celery import Celery

    broker = BrokerSettings()
    app = Celery("panjereh", broker=broker_url)
    app.conf.update(
        task_serializer="json", accept_content=["json"], result_backend=None, task_ignore_result=True,
        task_default_queue=broker.queue, broker_connection_retry_on_startup=True,
        # An API request that hands over a call must not hang on a dead broker: a few quick
        # tries, then the tick sends the call once the broker is back.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5,
                                   "interval_max": 1},
        broker_connection_timeout=4,
        broker_transport_options={
            "visibility_timeout": broker.visibility_timeout,
            # kombu looks for unacknowledged messages to hand out again only every
            # interval x throttle seconds (100 s by default), which would dwarf the
            # visibility timeout; look every 5 s instead (Redis only; RabbitMQ ignores these).
            "unacked_restore_interval": 5, "unacked_restore_throttle": 1,
        },
    )
    return app


class BrokerDispatcher:
    """Hands call ids to Celery workers through the broker: the API process, and workers for
    the calls a result parks. Retries and timers are the workers' beat's (`engine.celery_worker`)."""

    def __init__(self, broker_url: str, app: Any = None) -> None:
        # `app`: a Celery app the caller already has (a worker sends with its own).
        self._sender = app if app is not None else make_celery(broker_url)

    def hand_over(self, runtime: Runtime, call_ids: Sequence[str]) -> None:
        """Send `call_ids` to the workers; a broker that is down loses nothing (see the module docstring)."""
        pending = list(call_ids)
        for index, call_id in enumerate(pending):
            try:
                self._sender.send_task(RUN_CALL, args=[call_id])
            except Exception as error:  # the state is committed: a failed hand-over must not fail the request
                log.warning("could not hand service call(s) %s to the broker (%s: %s); the worker tick sends "
                            "them once the broker is back", ", ".join(pending[index:]), type(error).__name__, error)
                return
            log.debug("service call %s handed to the broker", call_id)

    def start(self, runtime: Runtime) -> None:
        """Nothing to start here: the workers' beat sends what falls due."""

    def stop(self) -> None:
        """Nothing was started."""


class InlineDispatcher:
    """Runs calls in this process; a re-entrant call (a call whose result parks another) queues.

    `run` makes one attempt at one call, `due` lists the calls due now and `also` is more
    work for the background tick (due timers and timer start events); each is given the
    runtime the dispatcher serves.
    """

    def __init__(self, run: Callable[[Runtime, str], object], due: Callable[[Runtime], list[str]],
                 tick_seconds: float = 1.0, also: Callable[[Runtime], object] | None = None) -> None:
        self._run, self._due, self._tick, self._also = run, due, tick_seconds, also
        self._local = threading.local()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def hand_over(self, runtime: Runtime, call_ids: Sequence[str]) -> None:
        """Run `call_ids` now, in this thread, and the calls their results park after them."""
        queue: list[str] | None = getattr(self._local, "queue", None)
        if queue is not None:
            queue.extend(call_ids)
            return
        self._local.queue = queue = list(call_ids)
        try:
            for _ in range(MAX_CHAIN):
                if not queue:
                    break
                batch, queue[:] = list(queue), []
                for call_id in batch:
                    try:
                        self._run(runtime, call_id)
                    except Exception:
                        # The state that parked the call is committed; the row is still due
                        # (or claimed, then stale), so the tick tries again. Failing the
                        # citizen's request here would report a change as lost that was made.
                        log.exception("service call %s failed to run; the tick tries it again", call_id)
        finally:
            self._local.queue = None

    def start(self, runtime: Runtime) -> None:
        """Begin the background tick that runs retries, and fires timers, when they fall due."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, args=(runtime,), name="panjereh-jobs", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self, runtime: Runtime) -> None:
        while not self._stop.wait(self._tick):
            try:
                due = self._due(runtime)
                if due:
                    self.hand_over(runtime, due)
            except Exception:  # the tick must outlive a bad row; the error is logged with its trace
                log.exception("connector job tick failed")
            if self._also is not None:
                try:
                    self._also(runtime)
                except Exception:  # as above: the next tick tries again
                    log.exception("timer tick failed")
