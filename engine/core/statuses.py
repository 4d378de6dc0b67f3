"""The statuses of instances, human tasks, service calls, incidents and payments, and the moves between them.

Each status is a `StrEnum`: a member equals, formats and serializes as its value, so the
database, the JSON API and the pages keep the words they always had. The values are also
held by a CHECK constraint on each status column (migrations 0010 and 0011), which repeats them rather
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


class PaymentStatus(StrEnum):
    """A payment at a bank gateway, as Panjereh knows it (the gateway's word is final only once verified)."""

    # A token was issued: the citizen may pay on the gateway's page, or has paid and is not confirmed yet.
    PENDING = "pending"
    # A return from the gateway is asking it, server to server, whether the money was taken;
    # a claim older than a few connector timeouts was lost with its request, and is taken again.
    VERIFYING = "verifying"
    # The gateway confirmed the payment, and the case was told in the same transaction.
    VERIFIED = "verified"
    # The citizen cancelled on the gateway's page; no money was taken.
    CANCELLED = "cancelled"
    # The gateway will never confirm it (declined, expired, reversed, another amount), or the case
    # stopped waiting before it was verified (so the bank gives the money back by itself).
    FAILED = "failed"
    # A verified payment given back (a refusal after payment).
    REFUNDED = "refunded"


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
# Payments the citizen may still complete at the gateway, or that are being confirmed.
OPEN_PAYMENTS = frozenset({PaymentStatus.PENDING, PaymentStatus.VERIFYING})
# Payments that ended without money kept: the citizen may pay again.
UNPAID_PAYMENTS = frozenset({PaymentStatus.CANCELLED, PaymentStatus.FAILED})

_I, _T, _C, _P = InstanceStatus, TaskStatus, CallStatus, PaymentStatus

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
    PaymentStatus: {
        # Claimed by a return to verify it; or failed unasked, when the case no longer waits.
        _P.PENDING: frozenset({_P.VERIFYING, _P.FAILED}),
        # Settled by the gateway's answer; back to pending when the gateway could not answer.
        _P.VERIFYING: frozenset({_P.PENDING, _P.VERIFIED, _P.CANCELLED, _P.FAILED}),
        _P.VERIFIED: frozenset({_P.REFUNDED}),
        _P.CANCELLED: frozenset(),
        _P.FAILED: frozenset(),
        _P.REFUNDED: frozenset(),
    },
}

# The status each kind of row is created in.
INITIAL: Mapping[type[StrEnum], StrEnum] = {
    InstanceStatus: InstanceStatus.RUNNING, TaskStatus: TaskStatus.READY, CallStatus: CallStatus.WAITING,
    IncidentStatus: IncidentStatus.OPEN, PaymentStatus: PaymentStatus.PENDING,
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
