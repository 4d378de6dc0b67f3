"""Running one change on an instance, without a database: restore, apply, advance, snapshot.

`run_change` is the whole of what a change does to an instance's workflow. It needs only
the compiled package, the stored state and the change (plus the limits it runs under), and
it returns plain, picklable values: so it can run in this process or in a worker process
alike, and the service layer (`engine.services.instance_store`) builds every table it
keeps about the instance from the `Snapshot` alone.

A failing script, decision or condition (or a runaway past the change's limits) fails the
instance but loses nothing: the snapshot then holds the failed state, with the error and
with what the change brought (the answers a person gave stay in the task data).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from engine.core import catch_events, migration
from engine.core.changes import (
    CatchMessage,
    CatchSignal,
    Change,
    ChangeLimits,
    CompleteTask,
    FireTimer,
    Migrate,
    ServiceError,
    ServiceResult,
    Start,
    StartEvent,
    Terminate,
)
from engine.core.errors import ScriptError, StateTooLarge
from engine.core.execution import Execution, HumanTask, ServiceCall, Step, make_script_engine
from engine.core.migration import MigrationPlan
from engine.core.package import CompiledPackage
from engine.core.sandbox import SandboxLimits
from engine.core.serialization import SERIALIZER_VERSION
from engine.core.statuses import InstanceStatus
from engine.core.working_calendar import WorkingCalendar


@dataclass(frozen=True)
class StoredState:
    """An instance's workflow as stored: the serialized state and its serializer version."""

    state: str
    serializer_version: str


@dataclass(frozen=True)
class Snapshot:
    """An instance after a change: its state to store, and everything read out of it."""

    state: str
    serializer_version: str
    status: InstanceStatus
    error: str | None
    data: dict[str, Any]
    human_tasks: tuple[HumanTask, ...]
    service_calls: tuple[ServiceCall, ...]
    timer_waits: tuple[catch_events.TimerWait, ...]
    message_waits: tuple[catch_events.MessageWait, ...]
    signal_waits: tuple[catch_events.SignalWait, ...]
    thrown: tuple[catch_events.ThrownEvent, ...]
    steps: tuple[Step, ...]
    # What a `Migrate` change did, or why it did not (then the state is the one it ran on).
    migration: MigrationPlan | None = None

    @property
    def stored(self) -> StoredState:
        """The state to run a next change on."""
        return StoredState(self.state, self.serializer_version)

    def then(self, later: Snapshot) -> Snapshot:
        """`later` (a change run on this snapshot's state), keeping what both threw and stepped."""
        return Snapshot(later.state, later.serializer_version, later.status, later.error, later.data,
                        later.human_tasks, later.service_calls, later.timer_waits, later.message_waits,
                        later.signal_waits, self.thrown + later.thrown, self.steps + later.steps,
                        self.migration or later.migration)


@lru_cache(maxsize=8)
def _script_engine(limits: SandboxLimits, calendar: WorkingCalendar) -> PythonScriptEngine:
    # Stateless between calls (each call opens its own sandbox run), so one per set of limits
    # serves every change; building one per change would cost more than a small change does.
    return make_script_engine(limits, calendar)


def run_change(package: CompiledPackage, process_key: str, stored: StoredState | None, change: Change,
               limits: ChangeLimits) -> Snapshot | None:
    """Run `change` on the instance of `process_key` stored as `stored` (None: a new instance).

    Returns the instance afterwards, or None when it does not take the change (no catch
    matches the message or signal, no error event catches the service error): nothing changed.
    A `Migrate` change the instance cannot take returns it as it was, with the plan's reasons.

    Raises:
        TaskStateError: the instance is not waiting for this change (a task already done...).
        ChangeTooLarge: the change made too many tasks, or ran too long, within one step.
        StateTooLarge: the instance's state afterwards would be over `limits.max_state_bytes`.
    """
    script_engine = _script_engine(limits.sandbox, limits.calendar)
    if stored is None:
        if not isinstance(change, Start):
            raise TypeError(f"a new instance takes a Start change, not {type(change).__name__}")
        execution = Execution.start(package, process_key, change.data, script_engine)
    else:
        execution = Execution.restore(package, process_key, stored.state, stored.serializer_version, script_engine)
    execution.limit_steps(limits.max_steps, limits.max_seconds)
    if isinstance(change, Migrate):
        assert stored is not None  # a new instance takes a Start
        return _migrated(execution, package, stored, change, limits, script_engine)
    if not _apply(execution, change):
        return None
    snapshot = _snapshot(execution, package)
    if limits.max_state_bytes is not None:
        _within(snapshot.state, limits.max_state_bytes)
    return snapshot


def _within(state: str, limit: int) -> None:
    # Counted in UTF-8, as the database keeps it; the state is JSON, ASCII but for what the
    # data holds, so the encoding is rarely needed.
    size = len(state) if state.isascii() else len(state.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise StateTooLarge(f"this change would grow the instance's state to {size:,} bytes, over the limit of "
                            f"{limit:,} (PANJEREH_MAX_STATE_BYTES): a loop or a timer cycle that never ends?")


def _migrated(execution: Execution, package: CompiledPackage, stored: StoredState, change: Migrate,
              limits: ChangeLimits, script_engine: PythonScriptEngine) -> Snapshot:
    """The instance moved to `change.target` and advanced there, or as it was when it cannot move."""
    if change.target is None:
        raise TypeError("a Migrate change runs with its target's documents (the instance store adds them)")
    target = migration.target_package(change.target)
    key = execution.process_key
    plan, state = migration.migrate(execution.workflow, key, target)
    if state is None:
        # The refused move may have changed the workflow part way: the instance as stored.
        unmoved = Execution.restore(package, key, stored.state, stored.serializer_version, script_engine)
        return _snapshot(unmoved, package, plan)
    moved = Execution.restore(target, key, state, SERIALIZER_VERSION, script_engine)
    moved.limit_steps(limits.max_steps, limits.max_seconds)
    _failing_kept(moved.advance)
    return _snapshot(moved, target, plan)


def _apply(execution: Execution, change: Change) -> bool:
    """Apply `change`; whether the instance took it."""
    match change:
        case Start(event=event):
            _failing_kept(execution.advance)
            if event is not None and not execution.error:
                _failing_kept(lambda: _let_in(execution, event))
            return True
        case CompleteTask(task_id=task_id, data=data):
            _failing_kept(lambda: execution.complete_human_task(task_id, data))
            return True
        case ServiceResult(call_id=call_id, result=result):
            _failing_kept(lambda: execution.complete_service_task(call_id, result))
            return True
        case ServiceError(call_id=call_id, code=code, message=message):
            return _taken(lambda: execution.fail_service_task(call_id, code, message))
        case CatchMessage(name=name, payload=payload, correlation=correlation):
            return _taken(lambda: catch_events.catch_message(execution, name, payload, correlation))
        case CatchSignal(name=name, payload=payload):
            return _taken(lambda: catch_events.catch_signal(execution, name, payload))
        case FireTimer(task_id=task_id):
            _failing_kept(lambda: catch_events.fire_timer(execution, task_id))
            return True
        case Terminate():
            execution.terminate()
            return True
        case Migrate():
            raise TypeError("run_change moves an instance itself")


def _let_in(execution: Execution, event: StartEvent) -> None:
    if event.kind == "timer":
        catch_events.fire_start_timer(execution)
    else:
        catch_events.catch_start_event(execution, event.kind, event.name or "", event.payload)


def _failing_kept(step: Callable[[], None]) -> None:
    """Run `step`; a failing script (or a runaway) fails the instance, which keeps the error
    (`Execution.error`) and its state up to the failing task, so the change is saved whole."""
    try:
        step()
    except ScriptError:
        return


def _taken(catch: Callable[[], bool]) -> bool:
    """Whether the instance took an event; a script failing after the catch fails the
    instance (its state is saved with the error) but the event was still taken."""
    try:
        return catch()
    except ScriptError:
        return True


def _snapshot(execution: Execution, package: CompiledPackage, plan: MigrationPlan | None = None) -> Snapshot:
    # Thrown events are taken out of the workflow before it is dumped: stored, they would be
    # thrown again by the next change.
    thrown = tuple(catch_events.take_thrown(execution))
    state, serializer_version = execution.dump()
    return Snapshot(
        state=state, serializer_version=serializer_version, status=execution.status, error=execution.error,
        data=execution.data, human_tasks=tuple(execution.human_tasks()),
        service_calls=tuple(execution.service_calls()), timer_waits=tuple(catch_events.timer_waits(execution)),
        message_waits=tuple(catch_events.message_waits(execution, catch_events.zeebe_correlation_keys(package))),
        signal_waits=tuple(catch_events.signal_waits(execution)), thrown=thrown, steps=tuple(execution.take_steps()),
        migration=plan)
