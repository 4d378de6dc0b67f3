"""The instance store: the one way an instance changes, and the only writer of its state.

Every path that changes an instance (a start, by a person or by a timer, message or signal
start event; a completed task; a connector's result or error; a message, signal or timer
caught; a termination; a move to another version) calls `InstanceStore.apply` with a change
(`engine.core.changes`). In the caller's transaction it

1. restores the instance (its deployment compiled with the callees it was pinned to),
   applies the change and advances it (`engine.core.snapshot.run_change`: no database, so
   it may run in another process), within the change's step and time budget; in a unit of
   work run by `engine.services.rehearsal.run_rehearsed`, the change ran between two of its
   rounds, with no transaction open, and the store takes its outcome;
2. hands a message catch that now waits any message that came early and is still buffered;
3. writes the state, then the projections built from the snapshot (human tasks, service
   calls, timers, message and signal waits) under the instance's optimistic lock (a second
   writer that read the same version gets `LostRace`), posts new connector calls to the
   outbox, and appends the change's audit entries in one batch;
4. returns the signals and messages the instance threw; routing them to other instances is
   the caller's (`engine.services.event_delivery.route_thrown`), so this module imports no service
   that drives instances.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import audit
from engine.core.catch_events import ThrownEvent
from engine.core.changes import (
    CatchMessage,
    Change,
    ChangeLimits,
    CompleteTask,
    FireTimer,
    Migrate,
    ServiceError,
    ServiceResult,
    Start,
)
from engine.core.errors import ChangeTooLarge, StateTooLarge, TaskStateError
from engine.core.execution import Execution, HumanTask
from engine.core.migration import MigrationPlan
from engine.core.package import CompiledPackage
from engine.core.report import Report
from engine.core.serialization import LIBRARY_VERSION
from engine.core.snapshot import Snapshot, StoredState
from engine.core.statuses import ENDED_INSTANCE, OPEN_CALLS, CallStatus, InstanceStatus, TaskStatus, moved
from engine.core.worker_pool import JobFailed, JobKilled
from engine.db import limits
from engine.db.base import utcnow
from engine.db.models import HumanTaskRow, Incident, Instance, ProcessDefinition, ServiceCallRow, TimerRow
from engine.services import waits
from engine.services.access import audience_of, party_of, party_variable
from engine.services.data_limits import check_storable
from engine.services.deployments import (
    DeploymentRejected,
    LoadedPackage,
    bound_package,
    is_manual,
    package_of,
    resolve_calls,
)
from engine.services.errors import Conflict, LostRace, ModelStopped
from engine.services.migration_targets import migration_target, repoint
from engine.services.outbox import outbox
from engine.services.rehearsal import ChangeRun, Rehearsal
from engine.services.runtime import Runtime
from engine.services.tracking import new_tracking_code
from forms.storable import escaped

log = logging.getLogger("panjereh.events")
# An instance that takes a buffered message may at once wait for another one; a model that
# keeps doing so is cut off here (the rest stays buffered for its next change).
MAX_BUFFERED_PER_CHANGE = 20


@dataclass(frozen=True)
class Cause:
    """Who made a change and how the audit log names it (the instance is filled in)."""

    actor: str
    action: str
    subject: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewInstance:
    """An instance to create by a `Start` change: of `definition`, owned by `owner`."""

    definition: ProcessDefinition
    owner: str


@dataclass(frozen=True)
class Applied:
    """A change saved: the instance as stored now, and the events it threw for routing."""

    instance: Instance
    thrown: tuple[ThrownEvent, ...]
    # What a `Migrate` change did (its plan); None for every other change.
    migration: MigrationPlan | None = None


class InstanceStore:
    """Changes instances inside one transaction (`session`); the caller commits."""

    def __init__(self, session: Session, runtime: Runtime) -> None:
        self.session = session
        self.runtime = runtime

    def apply(self, target: Instance | NewInstance, change: Change, cause: Cause,
              now: datetime | None = None) -> Applied | None:
        """Apply `change` to `target` and save the result (see the module docstring).

        Returns None, with nothing written, when the instance does not take the change (no
        catch matches the message or signal, no error event catches the service error).

        Raises:
            TaskStateError: the instance is not waiting for this change.
            Conflict: a new instance's callees no longer fit together.
            Unstorable: the process data or a call's parameters hold what no database keeps.
            LostRace: someone else saved the instance since it was read.
        """
        now = now or utcnow()
        if isinstance(target, NewInstance):
            if not isinstance(change, Start):
                raise TypeError(f"a new instance is made by a Start change, not {type(change).__name__}")
            instance, package, snapshot = self._create(target, change)
            entry = audit.Entry(cause.actor, cause.action, instance.id, cause.subject or target.definition.key,
                                {"version": target.definition.version, "tracking_code": instance.tracking_code,
                                 "data_keys": sorted(change.data), **cause.detail})
        else:
            instance = target
            package = bound_package(self.session, self.runtime, instance.deployment_id, instance.call_bindings)
            move = migration_target(self.session, instance, change, self._pinned_package)
            found = self._run(instance.id, package.compiled, instance.process_key,
                               StoredState(instance.state, instance.serializer_version),
                               move.change if move else change, self.runtime.change_limits)
            if found is None:
                return None
            snapshot = found
            detail = cause.detail
            if move is not None:
                package, detail = move.package, {**detail, **repoint(instance, move, snapshot)}
            self._settle_subject(instance, change, cause.actor, now)
            entry = audit.Entry(cause.actor, cause.action, instance.id, cause.subject, detail)
        snapshot, delivered = self._take_buffered(instance, package, snapshot, now)
        self._save(instance, package, snapshot, [entry, *delivered], _audited_task(change), now,
                   migrated=isinstance(change, Migrate))
        return Applied(instance, snapshot.thrown, snapshot.migration)

    def preview(self, instance: Instance, change: Change) -> Snapshot | None:
        """What `change` would make of `instance`, run as `apply` runs it; nothing is written.

        A `Migrate` change the instance cannot take comes back with its plan's reasons
        (`Snapshot.migration`); one whose target does not fit at all raises `MigrationRefused`.
        """
        package = bound_package(self.session, self.runtime, instance.deployment_id, instance.call_bindings)
        move = migration_target(self.session, instance, change, self._pinned_package)
        return self._run(instance.id, package.compiled, instance.process_key,
                         StoredState(instance.state, instance.serializer_version), move.change if move else change,
                         self.runtime.change_limits)

    def _run(self, instance_id: str | None, package: CompiledPackage, process_key: str, stored: StoredState | None,
             change: Change, limits: ChangeLimits) -> Snapshot | None:
        """The change's outcome: run where the runtime runs model code (a worker process, by
        default), or, in a rehearsed unit of work, as run between its rounds with no
        transaction open (`engine.services.rehearsal`)."""
        run = ChangeRun(package, process_key, stored, change, limits)
        perform = partial(run_model_code, self.runtime, instance_id, run)
        rehearsal = Rehearsal.of(self.session)
        return perform() if rehearsal is None else rehearsal.outcome(run, perform)

    def restore(self, instance: Instance) -> Execution:
        """The instance's workflow as stored, to read; it is never saved (changes go through `apply`)."""
        package = bound_package(self.session, self.runtime, instance.deployment_id, instance.call_bindings)
        return Execution.restore(package.compiled, instance.process_key, instance.state,
                                 instance.serializer_version, self.runtime.script_engine)

    def _create(self, new: NewInstance, change: Start) -> tuple[Instance, LoadedPackage, Snapshot]:
        definition = new.definition
        package, bindings = self._pinned_package(definition.deployment_id)
        snapshot = self._run(None, package.compiled, definition.key, None, change, self.runtime.change_limits)
        assert snapshot is not None  # a new instance always takes its start
        instance = Instance(id=str(uuid.uuid4()), definition_id=definition.id,
                            deployment_id=definition.deployment_id, process_key=definition.key,
                            version=definition.version, status=moved(None, InstanceStatus.RUNNING),
                            tracking_code=self._free_code(), owner=new.owner, data={}, state="", serializer_version="",
                            library_version="",
                            call_bindings=bindings or None)
        self.session.add(instance)
        self.session.flush()
        return instance, package, snapshot

    def _pinned_package(self, deployment_id: int) -> tuple[LoadedPackage, dict[str, int]]:
        """The deployment compiled with the processes it calls in other deployments, as deployed now.

        The bindings go on the instance, so every later restore compiles the same callees.
        """
        base = package_of(self.session, self.runtime, deployment_id)
        report = Report()
        bindings = resolve_calls(self.session, base.compiled.documents, report)
        try:
            if not report.deployable:
                raise DeploymentRejected(report)
            return bound_package(self.session, self.runtime, deployment_id, bindings), bindings
        except DeploymentRejected as err:
            raise Conflict(f"the processes this one calls no longer fit together: {err}") from err

    def _free_code(self) -> str:
        for _ in range(20):
            code = new_tracking_code()
            if self.session.execute(select(Instance.id).where(Instance.tracking_code == code)).first() is None:
                return code
        raise IntegrityError("tracking code space exhausted", None, Exception())

    def _settle_subject(self, instance: Instance, change: Change, actor: str, now: datetime) -> None:
        """Mark the row the change answered (a task, a call, a timer) before the projections
        are rebuilt, so they keep it as done rather than cancel it."""
        session = self.session
        match change:
            case CompleteTask(task_id=task_id):
                task = session.get(HumanTaskRow, task_id)
                if task is not None:
                    task.status = moved(task.status, TaskStatus.COMPLETED, f"task {task_id}")
                    task.completed_by, task.completed_at = actor, now
            case ServiceResult(call_id=call_id, result=result):
                call = session.get(ServiceCallRow, call_id)
                if call is not None:
                    call.status = moved(call.status, CallStatus.COMPLETED, f"service call {call_id}")
                    call.result, call.completed_at = result, now
            case ServiceError(call_id=call_id):
                call = session.get(ServiceCallRow, call_id)
                if call is not None:
                    call.status = moved(call.status, CallStatus.CAUGHT, f"service call {call_id}")
                    call.completed_at = now
            case FireTimer(task_id=task_id):
                for timer in session.execute(select(TimerRow).where(
                        TimerRow.instance_id == instance.id, TimerRow.task_id == task_id,
                        TimerRow.fired_at.is_(None))).scalars():
                    timer.fired_at = now
            case _:
                pass

    def _take_buffered(self, instance: Instance, package: LoadedPackage, snapshot: Snapshot,
                       now: datetime) -> tuple[Snapshot, list[audit.Entry]]:
        """Hand the instance the unexpired buffered messages its waiting catches correlate with,
        each as a change of its own on the state the last one left."""
        entries: list[audit.Entry] = []
        for _ in range(MAX_BUFFERED_PER_CHANGE):
            if snapshot.error:
                break  # a failed instance waits for an operator, not for more messages
            found = waits.next_buffered(self.session, snapshot.message_waits, now)
            if found is None:
                break
            row, wait = found
            try:
                later = self._run(instance.id, package.compiled, instance.process_key, snapshot.stored,
                                   CatchMessage(row.name, row.payload, wait.correlation), self.runtime.change_limits)
            except ModelStopped:
                break  # the message stays buffered; the change that brought the instance here stands
            except TaskStateError as err:
                log.warning("buffered message %s (%s) not taken by instance %s: %s", row.id, row.name, instance.id,
                            err)
                break
            if later is None:
                break
            snapshot = snapshot.then(later)
            row.consumed_at, row.consumed_by = now, instance.id
            entries.append(audit.Entry("engine", "message.delivered", instance.id, wait.element_id,
                                       {"message": row.name, "correlation": row.correlation, "buffer_id": row.id,
                                        "buffered_at": row.created_at.isoformat()}))
        return snapshot, entries

    def _save(self, instance: Instance, package: LoadedPackage, snapshot: Snapshot, entries: list[audit.Entry],
              audited_task: str | None, now: datetime, *, migrated: bool = False) -> None:
        """Write state and projections, then the audit entries of this change in one batch.

        `migrated`: the instance now runs another version, whose titles, lanes and forms its
        open tasks take.
        """
        check_storable(snapshot.data, "the process data")
        instance.state, instance.serializer_version = snapshot.state, snapshot.serializer_version
        instance.library_version = LIBRARY_VERSION
        instance.status = moved(instance.status, InstanceStatus(snapshot.status), f"instance {instance.id}")
        # A script's error may quote the text it failed on, whatever characters that held.
        error = escaped(snapshot.error) if snapshot.error else snapshot.error
        instance.error = error
        instance.data = json.loads(json.dumps(snapshot.data, default=str))
        self._flush()
        self._project_tasks(instance, snapshot, package, now, migrated)
        waits.project(self.session, instance.id, snapshot.timer_waits, snapshot.message_waits, snapshot.signal_waits)
        entries += [audit.Entry("engine", "task.completed", instance.id, step.spec_id,
                                {"task": step.name, "type": step.kind, "task_id": step.task_id})
                    for step in snapshot.steps if step.task_id != audited_task]
        if error:
            entries.append(audit.Entry("engine", "instance.failed", instance.id, None, {"error": error}))
        elif instance.status is InstanceStatus.COMPLETED:
            entries.append(audit.Entry(entries[0].actor, "instance.completed", instance.id))
        audit.append_all(self.session, entries)
        self._flush()

    def _project_tasks(self, instance: Instance, snapshot: Snapshot, package: LoadedPackage, now: datetime,
                       migrated: bool = False) -> None:
        """Bring the human-task and service-call tables in line with the workflow."""
        session = self.session
        ready = {task.id: task for task in snapshot.human_tasks}
        open_rows = session.execute(
            select(HumanTaskRow).where(HumanTaskRow.instance_id == instance.id, HumanTaskRow.status == TaskStatus.READY)
        ).scalars().all()
        open_calls = session.execute(
            select(ServiceCallRow).where(ServiceCallRow.instance_id == instance.id,
                                         ServiceCallRow.status.in_(OPEN_CALLS))
        ).scalars().all()
        for row in open_rows:
            if row.id not in ready:
                row.status = moved(row.status, TaskStatus.CANCELLED, f"task {row.id}")
                row.completed_at = now
            elif migrated:
                _describe(row, ready[row.id], package, snapshot.data)
        known = {row.id for row in open_rows}
        for task in ready.values():
            if task.id in known:
                continue
            row = HumanTaskRow(id=task.id, instance_id=instance.id, status=moved(None, TaskStatus.READY))
            _describe(row, task, package, snapshot.data)
            session.add(row)
        pending = {call.task_id: call for call in snapshot.service_calls}
        for call_row in open_calls:
            if call_row.id not in pending:
                call_row.status = moved(call_row.status, CallStatus.CANCELLED, f"service call {call_row.id}")
                call_row.completed_at = now
        known_calls = {row.id for row in open_calls}
        for call in pending.values():
            if call.task_id in known_calls:
                continue
            check_storable(call.params, f"the parameters of service task '{call.spec_id}'")
            session.add(ServiceCallRow(id=call.task_id, instance_id=instance.id, spec_id=call.spec_id,
                                       name=limits.CALL_NAME.shortened(call.name), operation=call.operation,
                                       params=json.loads(json.dumps(call.params, default=str)),
                                       status=moved(None, CallStatus.WAITING), attempts=0,
                                       max_attempts=call.retry.attempts, backoff_base=call.retry.backoff_base,
                                       retry_delays=list(call.retry.delays) or None))
            if not is_manual(call.operation):
                outbox(session).post(call.task_id)

    def _flush(self) -> None:
        try:
            self.session.flush()
        except StaleDataError as err:
            raise LostRace("the instance was changed by someone else at the same time; reload and retry") from err


def _describe(row: HumanTaskRow, task: HumanTask, package: LoadedPackage, data: dict[str, Any]) -> None:
    """Fill in what a human-task row shows of `task`, from the version the instance runs, and
    whom it is for: a party lane's citizen is read from the case's data when the task opens."""
    row.spec_id, row.name, row.title = task.spec_id, task.spec_id, limits.TASK_TITLE.shortened(task.name)
    row.kind, row.lane = task.kind, task.lane
    row.audience, row.agency = audience_of(task.lane, package.lanes)
    variable = party_variable(task.lane, package.lanes)
    row.citizen = party_of(variable, data) if variable is not None else None
    row.form = package.forms.get(task.spec_id)


def run_model_code(runtime: Runtime, instance_id: str | None, run: ChangeRun) -> Snapshot | None:
    """Run `run` where `runtime` runs model code; it touches no database.

    Raises:
        ModelStopped: the model's code was stopped (killed in its worker, or past a budget
            that leaves no whole state to keep).
        TaskStateError: the instance is not waiting for this change.
    """
    try:
        return runtime.changes.run(run.package, run.process_key, run.stored, run.change, run.limits)
    except StateTooLarge as err:
        log.error("instance %s: %s", instance_id or "(new)", err)
        raise ModelStopped(f"{err}; nothing of this change was saved", instance_id, "state-too-large") from err
    except (JobKilled, JobFailed, ChangeTooLarge) as err:
        log.error("instance %s: the model's code was stopped in its worker: %s", instance_id or "(new)", err)
        raise ModelStopped(f"the model's code was stopped: {err}; nothing of this change was saved",
                           instance_id) from err


def _audited_task(change: Change) -> str | None:
    """The task a change's own audit entry names, so its step is not logged twice."""
    match change:
        case CompleteTask(task_id=task_id):
            return task_id
        case ServiceResult(call_id=call_id) | ServiceError(call_id=call_id):
            return call_id
        case _:
            return None


def mark_stopped(session: Session, stopped: ModelStopped, actor: str = "engine") -> None:
    """Fail the instance a stopped change was for, its state as it was, with an incident an
    operator sees (so no timer or message runs the same code again until one acts)."""
    if stopped.instance_id is None:
        return
    instance = session.get(Instance, stopped.instance_id)
    if instance is None or instance.status in ENDED_INSTANCE:
        return  # another change ended it meanwhile; the stopped one changed nothing
    message = escaped(str(stopped))
    instance.status = moved(instance.status, InstanceStatus.FAILED, f"instance {instance.id}")
    instance.error = message
    session.add(Incident(instance_id=instance.id, kind=stopped.kind, message=message))
    audit.append(session, actor, "instance.failed", instance_id=instance.id, subject=None,
                 detail={"error": message, "kind": stopped.kind})


def record_stopped(runtime: Runtime, stopped: ModelStopped, *, quietly: bool = False) -> None:
    """`mark_stopped` in a transaction of its own, for callers whose transaction the stop ended.

    `quietly` logs a failure to record instead of raising it: for an answer that reports the
    stop and must not turn into another error.
    """
    try:
        with runtime.unit_of_work() as session:
            mark_stopped(session, stopped)
    except Exception:
        if not quietly:
            raise
        log.exception("could not record the incident of a stopped change on instance %s", stopped.instance_id)
