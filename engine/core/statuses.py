"""The statuses of instances, human tasks, service calls and incidents, and the moves between them.

Each status is a `StrEnum`: a member equals, formats and serializes as its value, so the
database, the JSON API and the pages keep the words they always had. The values are also
held by a CHECK constraint on each status column (migration 0010), which repeats them rather
than importing them, as migrations do. The moves allowed are written once, here, in
`TRANSITIONS`; `moved` refuses any other with `IllegalTransition`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar


class InstanceStatus(StrEnum):
    # Only while a new instance's first change is saved; a saved change leaves one of the others.
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    # An error no model catches, or a change stopped in its worker; an operator's retry of
    # a task or call, or a termination, moves it on.
    FAILED = "failed"
    TERMINATED = "terminated"


class TaskStatus(StrEnum):
    READY = "ready"
    COMPLETED = "completed"
    # The workflow left the task behind (a boundary event, a termination).
    CANCELLED = "cancelled"


class CallStatus(StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    INCIDENT = "incident"
    COMPLETED = "completed"
    # The connector's error was thrown into the model and an error event caught it.
    CAUGHT = "caught"
    CANCELLED = "cancelled"


class IncidentStatus(StrEnum):
    """An incident has no status column: it is open until `resolved_at` is set."""

    OPEN = "open"
    RESOLVED = "resolved"


# Instances that still take messages, signals and timers.
OPEN_INSTANCE = frozenset({InstanceStatus.RUNNING, InstanceStatus.WAITING})
# Instances no change reaches any more.
ENDED_INSTANCE = frozenset({InstanceStatus.COMPLETED, InstanceStatus.TERMINATED})
# Calls the workflow still waits for; a person may complete them, or throw an error into the model.
OPEN_CALLS = (CallStatus.WAITING, CallStatus.RUNNING, CallStatus.INCIDENT)

_I, _T, _C = InstanceStatus, TaskStatus, CallStatus

TRANSITIONS: Mapping[type[StrEnum], Mapping[StrEnum, frozenset[StrEnum]]] = {
    InstanceStatus: {
        _I.RUNNING: frozenset({_I.WAITING, _I.COMPLETED, _I.FAILED, _I.TERMINATED}),
        _I.WAITING: frozenset({_I.COMPLETED, _I.FAILED, _I.TERMINATED}),
        _I.FAILED: frozenset({_I.WAITING, _I.COMPLETED, _I.TERMINATED}),
        _I.COMPLETED: frozenset(),
        _I.TERMINATED: frozenset(),
    },
    TaskStatus: {
        _T.READY: frozenset({_T.COMPLETED, _T.CANCELLED}),
        _T.COMPLETED: frozenset(),
        _T.CANCELLED: frozenset(),
    },
    CallStatus: {
        # Taken by a worker; or settled by a person (a manual call, or one given up on).
        _C.WAITING: frozenset({_C.RUNNING, _C.COMPLETED, _C.CAUGHT, _C.CANCELLED}),
        # Settled by its attempt: answered, retried later, caught, or handed to an operator.
        _C.RUNNING: frozenset({_C.WAITING, _C.COMPLETED, _C.CAUGHT, _C.INCIDENT, _C.CANCELLED}),
        # An operator retries it, settles it by hand, or the workflow moves past it.
        _C.INCIDENT: frozenset({_C.WAITING, _C.COMPLETED, _C.CAUGHT, _C.CANCELLED}),
        _C.COMPLETED: frozenset(),
        _C.CAUGHT: frozenset(),
        _C.CANCELLED: frozenset(),
    },
    IncidentStatus: {
        IncidentStatus.OPEN: frozenset({IncidentStatus.RESOLVED}),
        IncidentStatus.RESOLVED: frozenset(),
    },
}

# The status each kind of row is created in.
INITIAL: Mapping[type[StrEnum], StrEnum] = {
    InstanceStatus: InstanceStatus.RUNNING, TaskStatus: TaskStatus.READY, CallStatus: CallStatus.WAITING,
    IncidentStatus: IncidentStatus.OPEN,
}

S = TypeVar("S", bound=StrEnum)


class IllegalTransition(ValueError):
    """A status change the table above does not allow: a bug, or a race a caller did not check."""

    def __init__(self, subject: str, current: StrEnum | None, new: StrEnum) -> None:
        if current is None:
            message = f"a new {subject} starts as {INITIAL[type(new)]}, not {new}"
        else:
            allowed = ", ".join(sorted(TRANSITIONS[type(new)][current])) or "nothing (it is final)"
            message = f"{subject} cannot go from {current} to {new}; from {current} it may go to {allowed}"
        super().__init__(message)
        self.current, self.new = current, new


def moved(current: str | None, new: S, subject: str = "") -> S:
    """`new`, if something in status `current` may move to it (staying put is no move).

    `current` None is a row being created, which starts in its kind's `INITIAL` status.

    Raises:
        IllegalTransition: `TRANSITIONS` does not allow the move.
    """
    kind = type(new)
    subject = subject or kind.__name__.removesuffix("Status").lower()
    if current is None:
        if new != INITIAL[kind]:
            raise IllegalTransition(subject, None, new)
        return new
    before = kind(current)
    if before != new and new not in TRANSITIONS[kind][before]:
        raise IllegalTransition(subject, before, new)
    return new


def incident_status(resolved: bool) -> IncidentStatus:
    """An incident's status, which its row keeps as whether `resolved_at` is set."""
    return IncidentStatus.RESOLVED if resolved else IncidentStatus.OPEN
