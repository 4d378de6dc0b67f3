"""The database probe behind `/health`, shared by every request that asks at the same time.

A load balancer, a monitor and an attacker may all ask at once. Each asking would be one more
thread and one more connection waiting on the database exactly when it is slow; instead one
probe runs at a time, in a thread of its own (never one of the request threads, which may all
be waiting on the database), and every request that arrives while it runs gets its outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from anyio import CapacityLimiter, Event, to_thread


@dataclass
class _Round:
    done: Event
    passed: bool = False
    failure: Exception | None = None


class SharedProbe:
    """Runs `check` in its own thread, once for all the callers waiting at that moment."""

    def __init__(self, check: Callable[[], None]) -> None:
        self._check = check
        self._round: _Round | None = None
        self._thread: CapacityLimiter | None = None

    async def __call__(self) -> None:
        """Return when the check passes; raise what it raised otherwise."""
        current = self._round
        if current is None:
            current = self._round = _Round(Event())
            if self._thread is None:
                self._thread = CapacityLimiter(1)
            try:
                await to_thread.run_sync(self._check, limiter=self._thread)
                current.passed = True
            except Exception as failure:
                current.failure = failure
            finally:
                self._round = None
                current.done.set()
        else:
            await current.done.wait()
        if current.failure is not None:
            raise current.failure
        if not current.passed:
            # The request that ran this round was cancelled before it learnt the outcome.
            await self()
