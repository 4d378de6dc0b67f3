"""Operators move running instances to another version of their process.

One instance, or every open instance of a deployment, moves to another deployment of the
same process: first as a dry run that changes nothing and says, for each instance, whether it
can move and why not; then for real, each instance as one change of the instance store
(`Migrate`, engine/core/migration.py) in a transaction of its own, audited with the
versions it moved from and to and who moved it. Whatever the move leaves the instance
waiting for (tasks, timers, messages, service calls) is projected from the moved state, as
after any change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.changes import Migrate
from engine.core.migration import MigrationPlan
from engine.core.snapshot import Snapshot
from engine.core.statuses import OPEN_CALLS, OPEN_INSTANCE, TaskStatus
from engine.db.models import (
    Deployment,
    HumanTaskRow,
    Instance,
    MessageWaitRow,
    ProcessDefinition,
    ServiceCallRow,
    SignalWaitRow,
    TimerRow,
)
from engine.services.errors import Conflict, MigrationRefused, ModelStopped, NotFound
from engine.services.event_delivery import apply_routed
from engine.services.instance_store import Cause, InstanceStore
from engine.services.runtime import Runtime

MAX_PER_BATCH = 1000


@dataclass(frozen=True)
class Waits:
    """What an instance waits for: people's tasks, timers, messages, signals, service calls."""

    status: str
    error: str | None = None
    tasks: list[str] = field(default_factory=list)
    timers: list[tuple[str, datetime]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    service_calls: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """One instance's migration, done or tried: from and to which deployment and version,
    whether it moved, the plan, the reasons it cannot move, and what it waits for afterwards
    (for a dry run, would wait for). `lock_version` is the instance's as read (a dry run) or
    saved (a move): a move given it is refused if the instance changed since."""

    instance_id: str
    tracking_code: str
    from_deployment: int
    from_version: int
    to_deployment: int
    to_version: int | None
    dry_run: bool
    migrated: bool
    lock_version: int
    plan: MigrationPlan | None = None
    refusals: list[str] = field(default_factory=list)
    after: Waits | None = None


def migrate(session: Session, runtime: Runtime, actor: str, instance_id: str, deployment_id: int, *,
            dry_run: bool = False, lock_version: int | None = None) -> Outcome:
    """Move instance `instance_id` to the same process in deployment `deployment_id`.

    A dry run changes nothing and answers with the plan, or the reasons the instance cannot
    move. `lock_version` (from a dry run) makes the move refuse an instance changed since.

    Raises:
        NotFound: no such instance or deployment.
        MigrationRefused: (not for a dry run) the instance cannot move; nothing was saved.
        Conflict: the instance changed since `lock_version`, or changed at the same moment.
    """
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(f"no instance {instance_id}")
    if session.get(Deployment, deployment_id) is None:
        raise NotFound(f"no deployment {deployment_id}")
    if lock_version is not None and lock_version != instance.lock_version:
        raise Conflict(f"the instance changed since its dry run (lock version {instance.lock_version}, not "
                       f"{lock_version}); run the dry run again")
    before = (instance.deployment_id, instance.version)
    target = _target_version(session, instance, deployment_id)
    if dry_run:
        return _dry_run(session, runtime, instance, deployment_id, target)
    cause = Cause(actor, "instance.migrated", instance.process_key)
    try:
        applied = apply_routed(session, runtime, instance, Migrate(deployment_id), cause)
    except ModelStopped as stopped:
        # The new version's code ran away; the instance keeps running the version it has
        # (it is not failed, as after a change of its own version's code).
        raise MigrationRefused([f"the new version's code was stopped in its worker: {stopped}"]) from stopped
    assert applied is not None  # a move is taken or refused
    session.flush()
    return Outcome(instance.id, instance.tracking_code, before[0], before[1], deployment_id, target, False, True,
                   instance.lock_version, applied.migration, [], _stored_waits(session, instance))


def migrate_all(runtime: Runtime, actor: str, from_deployment: int, to_deployment: int, *,
                dry_run: bool = False, limit: int = 100) -> list[Outcome]:
    """Move the open instances of deployment `from_deployment` (oldest first, at most `limit`)
    to `to_deployment`, each in a transaction of its own; one that cannot move is reported
    and the others move on. Call again for the next batch: moved instances are not found
    again.
    """
    with runtime.reading() as session:
        if session.get(Deployment, from_deployment) is None:
            raise NotFound(f"no deployment {from_deployment}")
        ids = list(session.execute(
            select(Instance.id)
            .where(Instance.deployment_id == from_deployment, Instance.status.in_(sorted(OPEN_INSTANCE)))
            .order_by(Instance.created_at, Instance.id).limit(min(limit, MAX_PER_BATCH))).scalars())
    outcomes = []
    for instance_id in ids:
        try:
            with (runtime.reading() if dry_run else runtime.unit_of_work()) as session:
                outcomes.append(migrate(session, runtime, actor, instance_id, to_deployment, dry_run=dry_run))
        except Conflict as refused:
            outcomes.append(_refused(runtime, instance_id, to_deployment, refused))
    return outcomes


def _target_version(session: Session, instance: Instance, deployment_id: int) -> int | None:
    return session.execute(select(ProcessDefinition.version).where(
        ProcessDefinition.deployment_id == deployment_id,
        ProcessDefinition.key == instance.process_key)).scalar_one_or_none()


def _dry_run(session: Session, runtime: Runtime, instance: Instance, deployment_id: int,
             target: int | None) -> Outcome:
    def outcome(plan: MigrationPlan | None, refusals: list[str], after: Waits | None) -> Outcome:
        return Outcome(instance.id, instance.tracking_code, instance.deployment_id, instance.version, deployment_id,
                       target, True, False, instance.lock_version, plan, refusals, after)

    try:
        snapshot = InstanceStore(session, runtime).preview(instance, Migrate(deployment_id))
    except MigrationRefused as refused:
        return outcome(None, refused.reasons, None)
    except ModelStopped as stopped:
        return outcome(None, [f"the new version's code was stopped in its worker: {stopped}"], None)
    assert snapshot is not None and snapshot.migration is not None  # a move is taken or refused
    plan = snapshot.migration
    if not plan.safe:
        return outcome(plan, list(plan.refusals), None)
    refusals = [f"the instance would fail in the new version right after the move: {snapshot.error}"] \
        if snapshot.error else []
    return outcome(plan, refusals, _snapshot_waits(snapshot))


def _refused(runtime: Runtime, instance_id: str, deployment_id: int, refused: Conflict) -> Outcome:
    reasons = refused.reasons if isinstance(refused, MigrationRefused) else [str(refused)]
    with runtime.reading() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None  # instances are never deleted
        return Outcome(instance.id, instance.tracking_code, instance.deployment_id, instance.version, deployment_id,
                       _target_version(session, instance, deployment_id), False, False, instance.lock_version,
                       None, reasons, None)


def _snapshot_waits(snapshot: Snapshot) -> Waits:
    return Waits(str(snapshot.status), snapshot.error, [t.spec_id for t in snapshot.human_tasks],
                 [(t.element_id, t.due_at) for t in snapshot.timer_waits], [m.name for m in snapshot.message_waits],
                 [s.name for s in snapshot.signal_waits], [c.spec_id for c in snapshot.service_calls])


def _stored_waits(session: Session, instance: Instance) -> Waits:
    tasks = session.execute(select(HumanTaskRow.spec_id).where(
        HumanTaskRow.instance_id == instance.id, HumanTaskRow.status == TaskStatus.READY)
        .order_by(HumanTaskRow.created_at)).scalars()
    timers = session.execute(select(TimerRow.element_id, TimerRow.due_at).where(
        TimerRow.instance_id == instance.id, TimerRow.fired_at.is_(None)).order_by(TimerRow.due_at)).all()
    messages = session.execute(select(MessageWaitRow.name).where(MessageWaitRow.instance_id == instance.id)).scalars()
    signals = session.execute(select(SignalWaitRow.name).where(SignalWaitRow.instance_id == instance.id)).scalars()
    calls = session.execute(select(ServiceCallRow.spec_id).where(
        ServiceCallRow.instance_id == instance.id, ServiceCallRow.status.in_(OPEN_CALLS))).scalars()
    return Waits(str(instance.status), instance.error, list(tasks), [(e, d) for e, d in timers], list(messages),
                 list(signals), list(calls))


def view(outcome: Outcome) -> dict[str, Any]:
    """An outcome as the API and the command line show it."""
    plan = outcome.plan
    after = outcome.after
    return {
        "instance_id": outcome.instance_id, "tracking_code": outcome.tracking_code,
        "from": {"deployment_id": outcome.from_deployment, "version": outcome.from_version},
        "to": {"deployment_id": outcome.to_deployment, "version": outcome.to_version},
        "dry_run": outcome.dry_run, "migrated": outcome.migrated,
        "safe": not outcome.refusals, "refusals": outcome.refusals, "lock_version": outcome.lock_version,
        "plan": None if plan is None else {
            "removed": list(plan.removed), "added": list(plan.added),
            "changed": [{"element_id": c.element_id, "renamed_to": c.renamed_to, "attributes": list(c.attributes)}
                        for c in plan.changed],
            "tasks": [{"task_id": t.task_id, "element_id": t.element_id, "state": t.state, "outcome": t.outcome,
                       "reason": t.reason} for t in plan.tasks]},
        "after": None if after is None else {
            "status": after.status, "error": after.error, "tasks": after.tasks,
            "timers": [{"element_id": element, "due_at": due} for element, due in after.timers],
            "messages": after.messages, "signals": after.signals, "service_calls": after.service_calls},
    }
