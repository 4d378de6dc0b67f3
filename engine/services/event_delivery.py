"""Timers, messages and signals between instances: the tick, delivery and broadcast.

- The tick fires every timer row that is due (one transaction per timer, the row claimed
  with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's writer lock serialises) and
  starts an instance for every timer start event that is due.
- A message goes to the instance that has waited longest with the same name and
  correlation (one indexed lookup), else starts the processes whose message start event
  it names, else is buffered until an instance waits for it or it expires.
- A signal goes to every instance waiting for it and starts every process whose signal
  start event it names.
- Signals and messages an instance throws are routed the same way, in the transaction
  that saved it: every change goes through `apply_routed`, which saves it with the
  instance store and then calls `route_thrown` on what it threw.

Start events are looked up in `start_trigger` rows, written the first time the tick or a
delivery sees a new process definition; only the newest version of a process is active. A
timer start event's expression is evaluated then, once, where model code runs (a model worker
unless PANJEREH_MODEL_WORKERS=0); one that fails or is stopped there leaves its row inactive
with the reason in `last_error`.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, Literal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from engine import audit
from engine.core import catch_events as core
from engine.core.changes import CatchMessage, CatchSignal, Change, FireTimer, Start, StartEvent
from engine.core.errors import ScriptError, TaskStateError
from engine.core.package import CompiledPackage
from engine.core.statuses import OPEN_INSTANCE
from engine.core.worker_pool import JobFailed, JobKilled, PoolBusy
from engine.db import limits
from engine.db.base import utcnow
from engine.db.models import (
    Instance,
    MessageBufferRow,
    MessageWaitRow,
    ProcessDefinition,
    SignalWaitRow,
    StartTriggerRow,
    TimerRow,
)
from engine.services.data_limits import check_data_size
from engine.services.deployments import package_of
from engine.services.errors import Conflict, InvalidInput, ModelStopped, RoutingLimit
from engine.services.instance_store import Applied, Cause, InstanceStore, NewInstance, mark_stopped, record_stopped
from engine.services.payments import PAYMENT_MESSAGE
from engine.services.rehearsal import Unrehearsed, run_rehearsed
from engine.services.runtime import Runtime
from engine.services.waits import correlation_is, correlation_key
from forms.storable import unstorable_places
from forms.validate import FieldError

log = logging.getLogger("panjereh.events")
TIMER_BATCH = 100
# A cycle that falls due again within one tick's `now` is fired again in the same tick,
# up to this many rounds (a tick long overdue catches up in a bounded way).
MAX_ROUNDS = 50
# A routed signal may make its receivers throw in turn; a chain longer than this is a
# modelling loop, cut off with a log line rather than run for ever.
MAX_ROUTING_DEPTH = 8
# Depth alone does not bound a chain: three processes that each start on a signal and throw
# it again reach 3**8 instances at depth 8 (one transaction ran for 14 minutes holding the
# write lock). The instances events thrown by instances reach in one transaction are counted.
MAX_ROUTED_PER_CHANGE = 200
_ROUTED = "panjereh.routed"
CLAIM_SECONDS = 60.0
MAX_REPORTED = 20
SYSTEM = "engine"


@dataclass(frozen=True)
class MessageOutcome:
    """What became of a message: delivered to, or started, `instances`; or buffered."""

    outcome: Literal["delivered", "started", "buffered"]
    instances: list[str] = field(default_factory=list)
    buffer_id: str | None = None


@dataclass(frozen=True)
class SignalOutcome:
    """Instances a signal reached, and instances it started."""

    delivered: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)


@dataclass
class TickReport:
    """What one tick did."""

    fired: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)


# -- start events ----------------------------------------------------------------------


def sync_start_triggers(session: Session, runtime: Runtime, now: datetime) -> None:
    """Write start-trigger rows for process definitions not seen yet, and retire the
    triggers of versions a newer one replaced."""
    new = session.execute(
        select(ProcessDefinition).where(~exists().where(StartTriggerRow.definition_id == ProcessDefinition.id))
        .order_by(ProcessDefinition.key, ProcessDefinition.version)
    ).scalars().all()
    for definition in new:
        package = package_of(session, runtime, definition.deployment_id)
        triggers = core.start_triggers(package.compiled, definition.key)
        session.execute(
            StartTriggerRow.__table__.update()  # type: ignore[attr-defined]
            .where(StartTriggerRow.process_key == definition.key, StartTriggerRow.definition_id != definition.id)
            .values(active=False))
        if not triggers:
            session.add(StartTriggerRow(definition_id=definition.id, process_key=definition.key, element_id="",
                                        kind="none", active=False, fired=0))
        for trigger in triggers:
            session.add(_trigger_row(definition, trigger, package.compiled, runtime, now))
    session.flush()


def _trigger_row(definition: ProcessDefinition, trigger: core.StartTrigger, package: CompiledPackage,
                 runtime: Runtime, now: datetime) -> StartTriggerRow:
    row = StartTriggerRow(definition_id=definition.id, process_key=definition.key, element_id=trigger.element_id,
                          kind=trigger.kind, name=trigger.name, expression=trigger.expression, active=True, fired=0)
    if trigger.kind == "timer":
        try:
            # The expression is model code: it runs where changes run (a model worker, by default).
            plan = runtime.changes.plan_timer_start(package, definition.key, trigger.element_id, now,
                                                    runtime.change_limits.sandbox, runtime.change_limits.calendar)
        except PoolBusy:
            raise  # no worker came free: the expression is not at fault; the next sync plans it
        except (JobKilled, JobFailed) as err:
            # Stopped once, it would be stopped on every sync: it waits for a new version instead.
            row.active = False
            row.last_error = f"timer '{trigger.expression}' was stopped while it was evaluated: {err}"
            log.error("timer start event %s of %s v%d: %s", trigger.element_id, definition.key,
                      definition.version, row.last_error)
            return row
        except Exception as err:  # the expression is the analyst's; one bad timer must not stop the tick
            row.active, row.last_error = False, str(err)
            log.warning("timer start event %s of %s v%d: %s", trigger.element_id, definition.key,
                        definition.version, err)
            return row
        if plan.cycles > limits.MAX_INTEGER:
            # Stored, such a count would fail every transaction that registers start events.
            row.active = False
            row.last_error = (f"timer '{trigger.expression}' repeats {plan.cycles:,} times; at most "
                              f"{limits.MAX_INTEGER:,} (leave the count out to repeat for ever)")
            log.warning("timer start event %s of %s v%d: %s", trigger.element_id, definition.key,
                        definition.version, row.last_error)
            return row
        row.due_at, row.cycles_left, row.period_seconds = plan.first_due, plan.cycles, plan.period_seconds
    return row


def _active_starts(session: Session, kind: str, name: str) -> list[StartTriggerRow]:
    rows = session.execute(
        select(StartTriggerRow).where(StartTriggerRow.kind == kind, StartTriggerRow.name == name,
                                      StartTriggerRow.active.is_(True))
        .order_by(StartTriggerRow.process_key, StartTriggerRow.id)
    ).scalars().all()
    return list(rows)


def _start(session: Session, runtime: Runtime, trigger: StartTriggerRow, data: dict[str, Any], actor: str,
           event: StartEvent, detail: dict[str, Any], depth: int = 0) -> str:
    definition = session.get(ProcessDefinition, trigger.definition_id)
    assert definition is not None
    check_data_size(data, runtime.settings.max_data_bytes)
    applied = apply_routed(session, runtime, NewInstance(definition, actor), Start(dict(data), event),
                           Cause(actor, "instance.started", None, {"start_event": trigger.element_id, **detail}),
                           depth=depth)
    assert applied is not None  # a new instance always takes its start
    trigger.fired += 1
    return applied.instance.id


def fire_start_trigger(session: Session, runtime: Runtime, trigger_id: int, now: datetime) -> str | None:
    """Start an instance for a due timer start event; None when it is not due (or taken)."""
    trigger = session.execute(
        select(StartTriggerRow).where(StartTriggerRow.id == trigger_id, StartTriggerRow.kind == "timer",
                                      StartTriggerRow.active.is_(True), StartTriggerRow.due_at <= now)
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if trigger is None or trigger.due_at is None:
        return None
    due = trigger.due_at
    instance_id = _start(session, runtime, trigger, {}, SYSTEM, StartEvent("timer"),
                         {"timer": trigger.expression, "due_at": due.isoformat()})
    missed = 0
    if trigger.period_seconds:
        # After downtime the missed firings are one, not a burst; the cycle keeps its clock times.
        missed = max(0, math.ceil((now - due).total_seconds() / trigger.period_seconds) - 1)
    if trigger.cycles_left is not None and trigger.cycles_left > 0:
        trigger.cycles_left = max(0, trigger.cycles_left - 1 - missed)
    if trigger.period_seconds and trigger.cycles_left != 0:
        trigger.due_at = due + timedelta(seconds=trigger.period_seconds * (missed + 1))
    else:
        trigger.active, trigger.due_at = False, None
    trigger.last_error = None
    return instance_id


# -- timers ----------------------------------------------------------------------------


def due_timers(session: Session, now: datetime, limit: int = TIMER_BATCH) -> list[int]:
    """Ids of timer rows due at `now` and not fired, oldest first."""
    query = (select(TimerRow.id).where(TimerRow.fired_at.is_(None), TimerRow.due_at <= now)
             .order_by(TimerRow.due_at, TimerRow.id).limit(limit))
    return list(session.execute(query).scalars())


def due_starts(session: Session, now: datetime) -> list[int]:
    """Ids of active timer start triggers due at `now`."""
    query = select(StartTriggerRow.id).where(StartTriggerRow.kind == "timer", StartTriggerRow.active.is_(True),
                                             StartTriggerRow.due_at <= now).order_by(StartTriggerRow.due_at)
    return list(session.execute(query).scalars())


def fire_timer(session: Session, runtime: Runtime, timer_id: int, now: datetime) -> str | None:
    """Fire one due timer and run its instance on; the instance id, or None when the row
    is not due, already fired, or being fired by someone else."""
    row = session.execute(
        select(TimerRow).where(TimerRow.id == timer_id, TimerRow.fired_at.is_(None), TimerRow.due_at <= now)
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if row is None:
        return None
    instance = session.get(Instance, row.instance_id)
    if instance is None or instance.status not in OPEN_INSTANCE:
        session.delete(row)
        return None
    cause = Cause(SYSTEM, "timer.fired", row.element_id,
                  {"task_id": row.task_id, "kind": row.kind, "due_at": row.due_at.isoformat()})
    try:
        apply_routed(session, runtime, instance, FireTimer(row.task_id), cause, now=now)
    except TaskStateError as err:
        # The state moved on since the row was written; the row is stale, not due.
        log.info("timer %d of instance %s is stale (%s); dropped", row.id, instance.id, err)
        session.delete(row)
        return None
    return instance.id


def tick(runtime: Runtime, now: datetime | None = None) -> TickReport:
    """Fire every timer and timer start event due at `now` (default: the current time).

    Each firing is its own transaction, so one failing instance does not hold up the rest.
    """
    now = now or utcnow()
    report = TickReport()
    _housekeeping(runtime, now)
    failed: set[tuple[str, int]] = set()
    for _ in range(MAX_ROUNDS):
        with runtime.reading() as session:
            timers = [i for i in due_timers(session, now) if ("timer", i) not in failed]
            starts = [i for i in due_starts(session, now) if ("start", i) not in failed]
        if not timers and not starts:
            break
        for kind, ident in [("timer", i) for i in timers] + [("start", i) for i in starts]:
            done = _run_one(runtime, kind, ident, now)
            if done is None:
                failed.add((kind, ident))
            elif kind == "timer":
                report.fired.append(done)
            else:
                report.started.append(done)
    return report


def _run_one(runtime: Runtime, kind: str, ident: int, now: datetime) -> str | None:
    def work(session: Session) -> str | None:
        if kind == "timer":
            return fire_timer(session, runtime, ident, now)
        return fire_start_trigger(session, runtime, ident, now)

    try:
        return run_rehearsed(runtime, work)
    except ModelStopped as stopped:
        # The instance fails with an incident, so the same code is not run again every tick.
        record_stopped(runtime, stopped)
        return None
    except Exception:  # the tick must outlive one bad instance; the row stays due for the next tick
        log.exception("firing %s %d failed; the next tick tries again", kind, ident)
        return None


def claim_due(runtime: Runtime, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """For the broker tick: due timers and timer starts not handed over in the last minute,
    marked as handed over now (a duplicate hand-over is harmless, only wasteful)."""
    now = now or utcnow()
    _housekeeping(runtime, now)
    stale = now - timedelta(seconds=CLAIM_SECONDS)
    with runtime.reading() as session:
        starts = due_starts(session, now)
        if not session.execute(select(TimerRow.id).where(
                TimerRow.fired_at.is_(None), TimerRow.due_at <= now,
                TimerRow.claimed_at.is_(None) | (TimerRow.claimed_at < stale)).limit(1)).first():
            return [], starts
    with runtime.unit_of_work() as session:
        rows = session.execute(
            select(TimerRow).where(TimerRow.fired_at.is_(None), TimerRow.due_at <= now,
                                   TimerRow.claimed_at.is_(None) | (TimerRow.claimed_at < stale))
            .order_by(TimerRow.due_at).limit(TIMER_BATCH).with_for_update(skip_locked=True)
        ).scalars().all()
        for row in rows:
            row.claimed_at = now
        return [row.id for row in rows], starts


def _housekeeping(runtime: Runtime, now: datetime) -> None:
    """Register new definitions' start events and drop expired buffered messages; an idle
    tick only reads (on SQLite a write would take the database's one write lock)."""
    with runtime.reading() as session:
        unseen = session.execute(select(ProcessDefinition.id).where(
            ~exists().where(StartTriggerRow.definition_id == ProcessDefinition.id)).limit(1)).first()
        expired = session.execute(select(MessageBufferRow.id).where(
            MessageBufferRow.consumed_at.is_(None), MessageBufferRow.expires_at <= now).limit(1)).first()
    if unseen is None and expired is None:
        return
    with runtime.unit_of_work() as session:
        sync_start_triggers(session, runtime, now)
        _purge_expired(session, now)


def fire_by_id(runtime: Runtime, kind: Literal["timer", "start"], ident: int) -> str | None:
    """One firing in its own transaction, at the current time (what a broker worker runs)."""
    return _run_one(runtime, kind, ident, utcnow())


def _purge_expired(session: Session, now: datetime) -> None:
    session.execute(MessageBufferRow.__table__.delete().where(  # type: ignore[attr-defined]
        MessageBufferRow.consumed_at.is_(None), MessageBufferRow.expires_at <= now))


# -- messages --------------------------------------------------------------------------


def deliver_message(session: Session, runtime: Runtime, actor: str, name: str, correlation: str | None,
                    payload: Any, ttl_seconds: int | None = None, *, depth: int = 0) -> MessageOutcome:
    """Deliver, start or buffer one message (see the module docstring).

    `depth` counts the instances a chain of thrown events passed to get here (`route_thrown`).

    Raises:
        InvalidInput: the payload holds what no database keeps (an instance's script made it), or
            the message is one only the engine delivers.
    """
    if name == PAYMENT_MESSAGE:
        # A case moves on after payment only once the gateway verified it (engine.services.payment_returns):
        # no one may send the message in its place, over the API or from another model.
        raise InvalidInput([FieldError("name", f"'{name}' is delivered only by the engine, when the payment "
                                               "gateway has verified a payment")])
    problems = [FieldError(".".join(str(p) for p in ("payload", *path)), problem)
                for path, problem in islice(unstorable_places(payload), MAX_REPORTED)]
    if problems:
        raise InvalidInput(problems)
    delivered = _deliver_to_waiting(session, runtime, actor, name, correlation, payload, depth)
    if delivered is not None:
        return MessageOutcome("delivered", [delivered])
    sync_start_triggers(session, runtime, utcnow())
    starts = _active_starts(session, "message", name)
    if starts:
        data = payload if isinstance(payload, dict) else {}
        started = [_start(session, runtime, trigger, data, actor, StartEvent("message", name, payload),
                          {"message": name, "correlation": correlation}, depth) for trigger in starts]
        return MessageOutcome("started", started)
    ttl = ttl_seconds or runtime.settings.message_ttl_seconds
    now = utcnow()
    row = MessageBufferRow(id=str(uuid.uuid4()), name=name, correlation=correlation_key(correlation), payload=payload,
                           sent_by=actor, created_at=now, expires_at=now + timedelta(seconds=ttl))
    session.add(row)
    audit.append(session, actor, "message.buffered", subject=name,
                 detail={"message": name, "correlation": correlation, "buffer_id": row.id,
                         "expires_at": row.expires_at.isoformat()})
    return MessageOutcome("buffered", buffer_id=row.id)


def _deliver_to_waiting(session: Session, runtime: Runtime, actor: str, name: str, correlation: str | None,
                        payload: Any, depth: int) -> str | None:
    waits = session.execute(
        select(MessageWaitRow).where(MessageWaitRow.name == name,
                                     correlation_is(MessageWaitRow.correlation, correlation))
        .order_by(MessageWaitRow.created_at, MessageWaitRow.id).with_for_update()
    ).scalars().all()
    for wait in waits:
        instance = session.get(Instance, wait.instance_id)
        if instance is None or instance.status not in OPEN_INSTANCE:
            continue
        cause = Cause(actor, "message.delivered", wait.element_id, {"message": name, "correlation": correlation})
        try:
            applied = apply_routed(session, runtime, instance, CatchMessage(name, payload, correlation), cause,
                                   depth=depth)
        except TaskStateError as err:
            raise InvalidInput([FieldError("payload", str(err))]) from err
        if applied is None:
            continue
        return instance.id
    return None


# -- signals ---------------------------------------------------------------------------


def broadcast_signal(session: Session, runtime: Runtime, actor: str, name: str, payload: Any,
                     exclude: str | None = None, *, depth: int = 0) -> SignalOutcome:
    """Deliver signal `name` to every waiting instance, and start its signal-start processes.

    `depth` counts the instances a chain of thrown events passed to get here (`route_thrown`).
    """
    instance_ids = session.execute(
        select(SignalWaitRow.instance_id).where(SignalWaitRow.name == name).distinct()
    ).scalars().all()
    delivered = []
    for instance_id in sorted(set(instance_ids) - {exclude}):
        instance = session.get(Instance, instance_id)
        if instance is None or instance.status not in OPEN_INSTANCE:
            continue
        cause = Cause(actor, "signal.delivered", name, {"signal": name})
        try:
            if apply_routed(session, runtime, instance, CatchSignal(name, payload), cause, depth=depth) is None:
                continue
        except ModelStopped as stopped:
            # One receiver's runaway code must not cancel the signal for the others.
            mark_stopped(session, stopped)
            continue
        except Unrehearsed:
            # Receivers take a signal each on their own: the round, rolled back all the same,
            # goes on to find the others' changes, so that all of them run before the next.
            continue
        delivered.append(instance.id)
    sync_start_triggers(session, runtime, utcnow())
    data = payload if isinstance(payload, dict) else {}
    started = [_start(session, runtime, trigger, data, actor, StartEvent("signal", name, payload),
                      {"signal": name}, depth)
               for trigger in _active_starts(session, "signal", name)]
    return SignalOutcome(delivered, started)


# -- thrown events ---------------------------------------------------------------------


def apply_routed(session: Session, runtime: Runtime, target: Instance | NewInstance, change: Change, cause: Cause,
                 now: datetime | None = None, depth: int = 0) -> Applied | None:
    """Apply `change` with the instance store, then route what the instance threw, in this transaction.

    Returns None, with nothing written, when the instance does not take the change.
    """
    if depth > 0:
        routed = session.info.get(_ROUTED, 0) + 1
        if routed > MAX_ROUTED_PER_CHANGE:
            raise RoutingLimit(f"the events thrown in this change would reach more than {MAX_ROUTED_PER_CHANGE} "
                               "instances (signals or messages that set off one another?); nothing was saved")
        session.info[_ROUTED] = routed
    applied = InstanceStore(session, runtime).apply(target, change, cause, now)
    if applied is not None:
        route_thrown(session, runtime, applied.instance.id, applied.thrown, depth)
    return applied


def route_thrown(session: Session, runtime: Runtime, source_id: str, thrown: tuple[core.ThrownEvent, ...],
                 depth: int = 0) -> None:
    """Route what instance `source_id` threw to other instances, in this transaction.

    `depth` is how many instances the chain of events that made `source_id` throw passed
    through; the receivers route what they throw in turn one deeper.
    """
    if not thrown:
        return
    if depth >= MAX_ROUTING_DEPTH:
        log.warning("instance %s threw %s, not routed: events already passed %d instances in a chain",
                    source_id, ", ".join(e.name for e in thrown), depth)
        return
    for event in thrown:
        if event.kind == "signal":
            broadcast_signal(session, runtime, SYSTEM, event.name, event.payload, exclude=source_id, depth=depth + 1)
        else:
            _route_message(session, runtime, source_id, event, depth + 1)


def _route_message(session: Session, runtime: Runtime, source_id: str, event: core.ThrownEvent, depth: int) -> None:
    try:
        deliver_message(session, runtime, SYSTEM, event.name, event.correlation, event.payload, depth=depth)
    except RoutingLimit:
        raise
    except (InvalidInput, Conflict, ScriptError) as err:
        log.warning("message %s thrown by instance %s could not be delivered: %s", event.name, source_id, err)
    except ModelStopped as stopped:
        mark_stopped(session, stopped)
