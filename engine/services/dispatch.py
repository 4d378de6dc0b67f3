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
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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


def celery_dispatcher(broker_url: str, app: Any = None) -> Callable[[Iterable[str]], None]:
    """What broker mode hands new call ids over with (the API process, and workers for the
    calls a result parks); `app` reuses a Celery app the caller already has."""
    sender = app if app is not None else make_celery(broker_url)

    def dispatch(call_ids: Iterable[str]) -> None:
        pending = list(call_ids)
        for index, call_id in enumerate(pending):
            try:
                sender.send_task(RUN_CALL, args=[call_id])
            except Exception as error:  # the state is committed: a failed hand-over must not fail the request
                log.warning("could not hand service call(s) %s to the broker (%s: %s); the worker tick sends "
                            "them once the broker is back", ", ".join(pending[index:]), type(error).__name__, error)
                return
            log.debug("service call %s handed to the broker", call_id)

    return dispatch


class InlineDispatcher:
    """Runs calls in this process; a re-entrant call (a call whose result parks another) queues."""

    def __init__(self, run: Callable[[str], str], due: Callable[[], list[str]], tick_seconds: float = 1.0,
                 also: Callable[[], object] | None = None) -> None:
        self._run, self._due, self._tick = run, due, tick_seconds
        self._also = also  # more work for the same tick: due timers and timer start events
        self._local = threading.local()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, call_ids: Iterable[str]) -> None:
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
                        self._run(call_id)
                    except Exception:
                        # The state that parked the call is committed; the row is still due
                        # (or claimed, then stale), so the tick tries again. Failing the
                        # citizen's request here would report a change as lost that was made.
                        log.exception("service call %s failed to run; the tick tries it again", call_id)
        finally:
            self._local.queue = None

    def start(self) -> None:
        """Begin the background tick that runs retries, and fires timers, when they fall due."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="panjereh-jobs", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self._tick):
            try:
                due = self._due()
                if due:
                    self(due)
            except Exception:  # the tick must outlive a bad row; the error is logged with its trace
                log.exception("connector job tick failed")
            if self._also is not None:
                try:
                    self._also()
                except Exception:  # as above: the next tick tries again
                    log.exception("timer tick failed")
