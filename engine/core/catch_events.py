"""What an instance waits for (timers, messages, signals) and how an event reaches it.

SpiffWorkflow keeps every waiting catch event in the top workflow's event manager, with
a timer's due time in the task's internal data (`event_value`). This module reads those
waits out as plain values for the service layer to project into tables, and delivers
events back in: a due timer, a message, a signal. All SpiffWorkflow calls for events live
here.

Firing a timer never touches the clock. The service layer decides a timer is due (its row
says so); date and duration timers are then fired the way SpiffWorkflow fires any event,
by catching it on the task. A cycle has no "fired" flag (each due time spawns a branch);
`spiff_compat.fire_cycle_now` lets the library spawn the branch and count the cycle.

Message payloads land where the model says: under `spiffworkflow:messageVariable`, and,
when a catch declares none (plain BPMN, Camunda), under the message's name. Signal
payloads land under the signal's `spiffworkflow:variableName`, else they are merged into
the task data like SpiffWorkflow's plain signal events do.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.core.errors import TaskStateError
from engine.core.execution import Execution
from engine.core.package import CompiledPackage
from engine.core.spiff_compat import (
    cycle_timer,
    end_cycle,
    fire_cycle_now,
    mark_event_fired,
    timer_value,
    update_task,
)

TimerKind = Literal["date", "duration", "cycle"]
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


@dataclass(frozen=True)
class TimerWait:
    """A timer an instance waits on, and when it is due (UTC)."""

    task_id: str
    element_id: str
    kind: TimerKind
    due_at: datetime


@dataclass(frozen=True)
class MessageWait:
    """A message catch waiting, with the correlation value it expects (None: any)."""

    task_id: str
    element_id: str
    name: str
    correlation: str | None


@dataclass(frozen=True)
class SignalWait:
    """A signal catch waiting."""

    task_id: str
    element_id: str
    name: str


@dataclass(frozen=True)
class ThrownEvent:
    """A signal or message an instance threw that nothing inside it caught."""

    kind: Literal["signal", "message"]
    name: str
    payload: Any
    correlation: str | None


@dataclass(frozen=True)
class StartTrigger:
    """A start event that starts instances by itself: on a timer, a message or a signal."""

    element_id: str
    kind: Literal["timer", "message", "signal"]
    name: str | None = None
    timer_kind: TimerKind | None = None
    expression: str | None = None


@dataclass(frozen=True)
class Schedule:
    """When a timer start event first fires, and how it repeats (cycles -1: for ever)."""

    first_due: datetime
    cycles: int
    period_seconds: float | None


def _timer_kind(definition: Any) -> TimerKind | None:
    if isinstance(definition, CycleTimerEventDefinition):
        return "cycle"
    if isinstance(definition, DurationTimerEventDefinition):
        return "duration"
    if isinstance(definition, TimeDateEventDefinition):
        return "date"
    return None


def _utc(value: str) -> datetime:
    """An ISO date-time as UTC; a time without zone is taken as UTC (servers run in UTC)."""
    week_date = "W" in value.upper()
    parsed = TimerEventDefinition.parse_iso_week(value) if week_date else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _definitions(task: Any) -> list[Any]:
    definition = task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def _waiting(execution: Execution) -> list[Any]:
    return [t for t in execution.workflow.event_manager.tasks.values() if t.state == TaskState.WAITING]


def timer_waits(execution: Execution) -> list[TimerWait]:
    """Every timer the instance waits on, with its due time."""
    found = []
    for task in _waiting(execution):
        value = timer_value(task)
        for definition in _definitions(task):
            kind = _timer_kind(definition)
            if kind is None or value is None:
                continue
            if kind == "cycle":
                if not cycle_timer(value):
                    continue
                due = _utc(value["next"])
            else:
                due = _utc(str(value))
            found.append(TimerWait(str(task.id), task.task_spec.bpmn_id or task.task_spec.name, kind, due))
    return found


def fire_timer(execution: Execution, task_id: str) -> None:
    """Fire the timer `task_id` waits on, now, whatever its stored due time; then advance.

    Raises:
        TaskStateError: the task is not waiting on a timer any more.
        ScriptError: a script run after the timer failed (the instance is failed).
    """
    task = _task(execution, task_id)
    timers = [d for d in _definitions(task) if _timer_kind(d) is not None] if task.state == TaskState.WAITING else []
    if not timers:
        raise TaskStateError(f"task {task_id} is not waiting on a timer")
    definition = timers[0]
    try:
        if _timer_kind(definition) == "cycle":
            fire_cycle_now(task)
        else:
            task.task_spec.catch(task, BpmnEvent(definition))
            update_task(task)
    except SpiffWorkflowException as err:
        raise execution.script_failure(err) from err
    execution.advance()


def fire_start_timer(execution: Execution) -> None:
    """Let a new instance of a timer-started process through its start event once.

    The start event's own timer would otherwise delay the instance (or, for a cycle, run
    its path again inside this instance at every cycle); the schedule lives with the
    process definition instead, and each firing is a new instance.
    """
    for task in _waiting(execution):
        definition = task.task_spec.event_definition
        kind = _timer_kind(definition)
        if not _is_start(task) or kind is None:
            continue
        try:
            if kind == "cycle":
                # A cycle's path only ever starts from a spawned branch; spawn one, then
                # end the cycle so the start event completes without another.
                fire_cycle_now(task)
                end_cycle(task)
            else:
                task.task_spec.catch(task, BpmnEvent(definition))
            update_task(task)
        except SpiffWorkflowException as err:
            raise execution.script_failure(err) from err
    execution.advance()


def _is_start(task: Any) -> bool:
    return task.task_spec in getattr(task.workflow.spec, "bpmn_start_events", [])


def _task(execution: Execution, task_id: str) -> Any:
    try:
        task = execution.workflow.get_task_from_id(UUID(task_id))
    except (ValueError, SpiffWorkflowException):
        task = None
    if task is None:
        raise TaskStateError(f"task {task_id} is not part of this instance")
    return task


def correlation_value(values: dict[str, Any]) -> str | None:
    """One string for a set of correlation property values: the value itself when there is
    one, canonical JSON when there are several, None when there are none."""
    if not values:
        return None
    if len(values) == 1:
        value = next(iter(values.values()))
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return json.dumps(values, sort_keys=True, default=str)


def _message_correlation(execution: Execution, task: Any, definition: Any, zeebe_keys: dict[str, str]) -> str | None:
    properties = list(getattr(definition, "process_correlations", []) or []) or list(
        getattr(definition, "correlation_properties", []) or [])
    if not properties:
        expression = zeebe_keys.get(definition.name)
        if expression is None:
            return None
        return correlation_value({"key": _evaluate(execution, expression.lstrip("= "), task.data)})
    values: dict[str, Any] = {}
    known = execution.workflow.correlations
    for prop in properties:
        held = next((known[key][prop.name] for key in prop.correlation_keys
                     if prop.name in known.get(key, {})), None)
        values[prop.name] = held if held is not None else _evaluate(execution, prop.retrieval_expression, task.data)
    return correlation_value(values)


def _evaluate(execution: Execution, expression: str, data: dict[str, Any]) -> Any:
    try:
        return execution.workflow.script_engine.environment.evaluate(expression, dict(data))
    except Exception:  # a key the data cannot give yet correlates with nothing
        return None


def message_waits(execution: Execution, zeebe_keys: dict[str, str] | None = None) -> list[MessageWait]:
    """Every message catch waiting (catch events, boundaries, receive tasks, event gateways)."""
    found = []
    for task in _waiting(execution):
        for definition in _definitions(task):
            if isinstance(definition, MessageEventDefinition):
                correlation = _message_correlation(execution, task, definition, zeebe_keys or {})
                found.append(MessageWait(str(task.id), task.task_spec.bpmn_id or task.task_spec.name,
                                         definition.name, correlation))
    return found


def signal_waits(execution: Execution) -> list[SignalWait]:
    """Every signal catch waiting."""
    return [SignalWait(str(task.id), task.task_spec.bpmn_id or task.task_spec.name, definition.name)
            for task in _waiting(execution) for definition in _definitions(task)
            if isinstance(definition, SignalEventDefinition)]


def _catching(execution: Execution, kind: type[Any], name: str) -> list[tuple[Any, Any]]:
    return [(task, definition) for task in _waiting(execution) for definition in _definitions(task)
            if isinstance(definition, kind) and definition.name == name]


def catch_message(execution: Execution, name: str, payload: Any, correlation: str | None) -> bool:
    """Deliver message `name` to the catches waiting for it with `correlation`, and advance.

    The service layer has already matched the correlation by index; SpiffWorkflow's own
    correlation check is given the instance's keys so it agrees. Returns False (nothing
    changed) when no catch of this instance takes it.

    Raises:
        TaskStateError: the payload lacks what the model's correlation expressions read.
        ScriptError: a script run after the catch failed (the instance is failed).
    """
    takers = [(t, d) for t, d in _catching(execution, MessageEventDefinition, name)
              if correlation is None or _message_correlation(execution, t, d, {}) in (None, correlation)]
    if not takers:
        return False
    definition = takers[0][1]
    keys = {key for prop in definition.correlation_properties for key in prop.correlation_keys}
    correlations = {key: value for key, value in execution.workflow.correlations.items() if key in keys}
    try:
        if _payload_answers(execution, definition, payload):
            execution.workflow.catch(BpmnEvent(definition, payload=payload, correlations=correlations))
        else:
            _catch_matched(execution, takers, definition, payload)
        if getattr(definition, "message_var", None) is None:
            for caught in (t for t, _ in takers if t.state == TaskState.READY):
                caught.data[name] = payload
    except SpiffWorkflowException as err:
        raise execution.script_failure(err) from err
    except Exception as err:  # a correlation expression the payload cannot answer
        raise TaskStateError(f"message '{name}' does not carry what the model correlates on: {err}") from err
    execution.advance()
    return True


def _payload_answers(execution: Execution, definition: Any, payload: Any) -> bool:
    """Whether SpiffWorkflow can read the correlation properties from the payload itself."""
    try:
        definition.calculate_correlations(execution.workflow.script_engine, definition.correlation_properties,
                                          payload if isinstance(payload, dict) else {})
    except Exception:  # the payload lacks a property: the correlation came beside it instead
        return False
    return True


def _catch_matched(execution: Execution, takers: list[tuple[Any, Any]], definition: Any, payload: Any) -> None:
    """Catch a message whose correlation the caller gave beside the payload (the API's
    `correlation`): the waits were matched by index, and the instance already holds the
    correlation, so only the payload is handed over, the way SpiffWorkflow's catch does."""
    for task, _ in takers:
        if isinstance(task.task_spec.event_definition, MultipleEventDefinition):
            raise TaskStateError(f"message '{definition.name}' reaches an event-based gateway, whose catch "
                                 "reads the correlation from the payload; include it there")
        definition.update_internal_data(task, BpmnEvent(definition, payload=payload))
        mark_event_fired(task)
        update_task(task)


def catch_signal(execution: Execution, name: str, payload: Any) -> bool:
    """Deliver signal `name` to every catch of this instance waiting for it, and advance."""
    waiting = _catching(execution, SignalEventDefinition, name)
    if not waiting:
        return False
    try:
        execution.workflow.catch(BpmnEvent(waiting[0][1], payload=payload if payload is not None else {}))
    except SpiffWorkflowException as err:
        raise execution.script_failure(err) from err
    execution.advance()
    return True


def take_thrown(execution: Execution) -> list[ThrownEvent]:
    """The signals and messages the instance threw that nothing inside it caught (taken once)."""
    thrown = []
    for event in execution.workflow.get_events():
        definition = event.event_definition
        if isinstance(definition, SignalEventDefinition):
            thrown.append(ThrownEvent("signal", definition.name, event.payload, None))
        elif isinstance(definition, MessageEventDefinition):
            values = {prop: value for key in event.correlations.values() for prop, value in key.items()}
            thrown.append(ThrownEvent("message", definition.name, event.payload, correlation_value(values)))
    return thrown


def start_triggers(package: CompiledPackage, key: str) -> list[StartTrigger]:
    """The start events of process `key` that start instances by themselves."""
    spec, _ = package.spec(key)
    found = []
    for event in spec.bpmn_start_events:
        for definition in (event.event_definition.event_definitions
                           if isinstance(event.event_definition, MultipleEventDefinition)
                           else [event.event_definition]):
            kind = _timer_kind(definition)
            if kind is not None:
                found.append(StartTrigger(event.bpmn_id, "timer", None, kind, definition.expression))
            elif isinstance(definition, MessageEventDefinition):
                found.append(StartTrigger(event.bpmn_id, "message", definition.name))
            elif isinstance(definition, SignalEventDefinition):
                found.append(StartTrigger(event.bpmn_id, "signal", definition.name))
    return found


def catch_start_event(execution: Execution, kind: Literal["message", "signal"], name: str, payload: Any) -> None:
    """Deliver the message or signal that started this new instance to its start event."""
    if kind == "message":
        delivered = catch_message(execution, name, payload, None)
    else:
        delivered = catch_signal(execution, name, payload)
    if not delivered:
        raise TaskStateError(f"no start event of this process catches {kind} '{name}'")


def schedule(trigger: StartTrigger, evaluate: Any, now: datetime) -> Schedule:
    """When a timer start event fires: its expression evaluated (`evaluate(text)`), from `now`.

    Raises:
        ValueError: the expression is not an ISO 8601 date, duration or repeating interval.
    """
    try:
        value = str(evaluate(trigger.expression or ""))
        if trigger.timer_kind == "date":
            return Schedule(_utc(value), 1, None)
        if trigger.timer_kind == "duration":
            parsed = TimerEventDefinition.parse_iso_duration(value)
            return Schedule(now + TimerEventDefinition.get_timedelta_from_start(parsed, now), 1, None)
        cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception as err:  # SpiffWorkflow's parsers raise bare Exception
        raise ValueError(f"timer '{trigger.expression}' is not an ISO 8601 date, duration or cycle: {err}") from err
    start = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
    return Schedule(start.astimezone(UTC), cycles, duration.total_seconds())


_ZEEBE_KEYS: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


def zeebe_correlation_keys(package: CompiledPackage) -> dict[str, str]:
    """Camunda 8 correlation keys by message name (`zeebe:subscription correlationKey`).

    Read once per compiled package (it is cached with its parser) from the models' XML,
    since SpiffWorkflow does not parse Zeebe extensions.
    """
    cached = _ZEEBE_KEYS.get(package.parser)
    if cached is not None:
        return cached
    keys: dict[str, str] = {}
    seen: set[int] = set()
    for process_parser in package.parser.process_parsers.values():
        root = process_parser.node.getroottree().getroot()
        if id(root) in seen:
            continue
        seen.add(id(root))
        for message in root.iter(f"{{{BPMN_NS}}}message"):
            subscription = message.find(f".//{{{ZEEBE_NS}}}subscription")
            if subscription is not None and subscription.get("correlationKey") and message.get("name"):
                keys[message.get("name", "")] = subscription.get("correlationKey", "")
    _ZEEBE_KEYS[package.parser] = keys
    return keys
