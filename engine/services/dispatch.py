"""Where connector calls run once a transaction has written them.

Embedded mode runs them in the process: right after the commit for the calls it just
wrote (so a citizen's next page already shows what the registry said), and from a
background tick for retries that are due later. Broker mode hands ids to Celery workers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

log = logging.getLogger("panjereh.dispatch")
RUN_CALL = "panjereh.run_service_call"
MAX_CHAIN = 50


class InlineDispatcher:
    """Runs calls in this process; a re-entrant call (a call whose result parks another) queues."""

    def __init__(self, run: Callable[[str], str], due: Callable[[], list[str]], tick_seconds: float = 1.0) -> None:
        self._run, self._due, self._tick = run, due, tick_seconds
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
                    self._run(call_id)
        finally:
            self._local.queue = None

    def start(self) -> None:
        """Begin the background tick that runs retries when they fall due."""
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


def celery_dispatcher(broker_url: str) -> Callable[[Iterable[str]], None]:
    """What the API process uses in broker mode: hand new call ids to the workers."""
    from celery import Celery

    app = Celery("panjereh", broker=broker_url)
    app.conf.update(task_serializer="json", broker_connection_retry_on_startup=True)

    def dispatch(call_ids: Iterable[str]) -> None:
        for call_id in call_ids:
            app.send_task(RUN_CALL, args=[call_id])

    return dispatch
