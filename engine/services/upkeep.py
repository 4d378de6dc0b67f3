"""Background upkeep besides connector calls: what a running install does on its own.

Every tick (each second in embedded mode) fires the timers that are due. Each minute it also
finishes what an interrupted request left half done, so nothing waits for a person to notice:

- payments a citizen made but never came back from the gateway for are verified, and their
  cases move on (`payment_returns.reconcile`), before the bank gives the money back;
- status messages the SMS gateway refused, or whose sender died, are sent again
  (`notifications.deliver_pending`), each at most `notifications.MAX_SEND_ATTEMPTS` times.

Broker mode runs `sweep` from its own beat entry (`engine.celery_worker`), so one worker does it
once a minute however many are running.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from engine.services import event_delivery, notifications, payment_returns
from engine.services.runtime import Runtime

SWEEP_SECONDS = 60.0
log = logging.getLogger("panjereh.upkeep")


def sweep(runtime: Runtime) -> tuple[int, int]:
    """Reconcile forgotten payments and resend pending messages; how many of each were settled."""
    settled = payment_returns.reconcile(runtime)
    sent = notifications.deliver_pending(runtime, max_attempts=notifications.MAX_SEND_ATTEMPTS)
    if settled or sent:
        log.info("upkeep: %d forgotten payment(s) checked, %d pending message(s) sent", len(settled), sent)
    return len(settled), sent


class Upkeep:
    """The embedded tick's extra work: timers each call, the sweep once per `every` seconds."""

    def __init__(self, every: float = SWEEP_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._every, self._clock = every, clock
        self._next = clock()  # the first tick sweeps: a restarted server catches up at once

    def __call__(self, runtime: Runtime) -> None:
        event_delivery.tick(runtime)
        if self._clock() >= self._next:
            self._next = self._clock() + self._every
            sweep(runtime)
