"""Where a package's model code runs: `run_change` and `plan_timer_start`, in this process
or behind a process boundary.

The worker builds each deployment's package once from its documents (sent on its first
job there), runs the change, and answers the snapshot as JSON (engine/core/wire.py);
only the snapshot's own classes are built from that answer. A change whose worker is
killed (past the wall-clock limit) or dies (past its memory) raises `JobKilled`: nothing
was saved, the stored instance is as it was. A timer start event's expression is planned
the same way, against the same cached package, and answers a `Schedule`.

Form conditions do not come here: they are condition objects, not code, evaluated under a
step budget in the serving process (forms/conditions.py says why).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from datetime import datetime
from typing import Any, Protocol

from engine.core.bindings import RetryPolicy
from engine.core.catch_events import MessageWait, Schedule, SignalWait, ThrownEvent, TimerWait
from engine.core.changes import Change, ChangeLimits
from engine.core.errors import ChangeTooLarge, StateTooLarge, TaskStateError, UnknownProcessError
from engine.core.execution import HumanTask, ServiceCall, Step
from engine.core.migration import ElementChange, MigrationPlan, TaskMove
from engine.core.package import CompiledPackage
from engine.core.package_source import PackageSource, compile_source, package_source
from engine.core.sandbox import SandboxLimits
from engine.core.snapshot import Snapshot, StoredState, run_change
from engine.core.timer_starts import plan_timer_start
from engine.core.wire import decode, encode
from engine.core.worker_pool import JobFailed, WorkerPool
from engine.core.working_calendar import WorkingCalendar

# Every class a snapshot is made of; nothing else is built from a worker's answer.
SNAPSHOT_CLASSES: tuple[type, ...] = (Snapshot, HumanTask, ServiceCall, RetryPolicy, Step, TimerWait, MessageWait,
                                      SignalWait, ThrownEvent, MigrationPlan, ElementChange, TaskMove)
# Errors of `run_change` its callers act on, raised again here by name.
_RAISED: dict[str, type[Exception]] = {"TaskStateError": TaskStateError, "UnknownProcessError": UnknownProcessError,
                                        "ChangeTooLarge": ChangeTooLarge, "StateTooLarge": StateTooLarge}


def _run_in_worker(package: CompiledPackage, payload: tuple[str, StoredState | None, Change, ChangeLimits]) -> Any:
    process_key, stored, change, limits = payload
    return encode(run_change(package, process_key, stored, change, limits))


def _plan_in_worker(package: CompiledPackage,
                    payload: tuple[str, str, datetime, SandboxLimits, WorkingCalendar | None]) -> Any:
    process_key, element_id, now, limits, calendar = payload
    return encode(plan_timer_start(package, process_key, element_id, now, limits, calendar))


class ChangeRunner(Protocol):
    """Where a package's model code runs (changes, timer start expressions): in this process
    or in a worker, with the signatures of `run_change` and `plan_timer_start`."""

    def run(self, package: CompiledPackage, process_key: str, stored: StoredState | None, change: Change,
            limits: ChangeLimits) -> Snapshot | None: ...

    def plan_timer_start(self, package: CompiledPackage, process_key: str, element_id: str, now: datetime,
                         limits: SandboxLimits, calendar: WorkingCalendar | None = None) -> Schedule: ...


class InProcessChanges:
    """Model code runs in the calling thread (PANJEREH_MODEL_WORKERS=0: no isolation)."""

    def run(self, package: CompiledPackage, process_key: str, stored: StoredState | None, change: Change,
            limits: ChangeLimits) -> Snapshot | None:
        return run_change(package, process_key, stored, change, limits)

    def plan_timer_start(self, package: CompiledPackage, process_key: str, element_id: str, now: datetime,
                         limits: SandboxLimits, calendar: WorkingCalendar | None = None) -> Schedule:
        return plan_timer_start(package, process_key, element_id, now, limits, calendar)


class IsolatedChanges:
    """Runs changes in `pool`; each worker compiles a package once, known by its content."""

    def __init__(self, pool: WorkerPool[Any]) -> None:
        self.pool = pool
        self._keys: dict[int, tuple[weakref.ref[CompiledPackage], str, PackageSource]] = {}
        self._lock = threading.Lock()

    def run(self, package: CompiledPackage, process_key: str, stored: StoredState | None, change: Change,
            limits: ChangeLimits) -> Snapshot | None:
        """As `run_change`, in a worker.

        Raises:
            TaskStateError, UnknownProcessError, ChangeTooLarge: as `run_change`.
            JobKilled: the worker passed its time or memory; nothing changed.
            JobFailed: anything else went wrong inside the worker.
        """
        key, source = self._known(package)
        try:
            answer = self.pool.run(_run_in_worker, compile_source, key, lambda: source,
                                   (process_key, stored, change, limits))
        except JobFailed as failed:
            raised = _RAISED.get(failed.kind)
            if raised is not None:
                raise raised(failed.detail) from None
            raise
        snapshot = decode(answer, SNAPSHOT_CLASSES)
        if snapshot is not None and not isinstance(snapshot, Snapshot):
            raise JobFailed("WireError", "the worker's answer is not a snapshot", "")
        return snapshot

    def plan_timer_start(self, package: CompiledPackage, process_key: str, element_id: str, now: datetime,
                         limits: SandboxLimits, calendar: WorkingCalendar | None = None) -> Schedule:
        """As `plan_timer_start`, in a worker (the one that may already hold the package).

        Raises:
            ValueError: as `plan_timer_start`: the expression failed or gave no time.
            JobKilled: the expression passed the worker's time or memory.
            JobFailed: anything else went wrong inside the worker.
        """
        key, source = self._known(package)
        try:
            answer = self.pool.run(_plan_in_worker, compile_source, key, lambda: source,
                                   (process_key, element_id, now, limits, calendar))
        except JobFailed as failed:
            if failed.kind == "ValueError":
                raise ValueError(failed.detail) from None
            raise
        planned = decode(answer, (Schedule,))
        if not isinstance(planned, Schedule):
            raise JobFailed("WireError", "the worker's answer is not a schedule", "")
        return planned

    def _known(self, package: CompiledPackage) -> tuple[str, PackageSource]:
        """`package`'s key (a digest of its documents: workers of one process may serve
        several databases, as tests do, where the same deployment id means other files) and
        its source, computed once per package object."""
        with self._lock:
            known = self._keys.get(id(package))
            if known is not None and known[0]() is package:
                return known[1], known[2]
        source = package_source(package)
        digest = hashlib.sha256()
        for name, kind, text in (*source.documents, ("--callees--", "bpmn", b""), *source.callees):
            digest.update(f"{len(name)}:{name}:{kind}:{len(text)}:".encode())
            digest.update(text)
        key = digest.hexdigest()
        ident = id(package)
        with self._lock:
            self._keys[ident] = (weakref.ref(package, lambda _: self._forget(ident)), key, source)
        return key, source

    def _forget(self, ident: int) -> None:
        with self._lock:
            self._keys.pop(ident, None)
