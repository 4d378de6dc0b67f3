"""The moves between statuses are written once (`TRANSITIONS`), and `moved` refuses any other."""

from __future__ import annotations

import json
import re
from enum import StrEnum

import pytest

from engine.core.statuses import (
    INITIAL,
    TRANSITIONS,
    CallStatus,
    IllegalTransition,
    IncidentStatus,
    InstanceStatus,
    TaskStatus,
    incident_status,
    moved,
)

KINDS: tuple[type[StrEnum], ...] = (InstanceStatus, TaskStatus, CallStatus, IncidentStatus)


@pytest.mark.parametrize("kind", KINDS)
def test_every_status_has_its_moves_and_every_move_ends_in_its_own_kind(kind: type[StrEnum]) -> None:
    assert set(TRANSITIONS[kind]) == set(kind)
    assert all(isinstance(target, kind) for targets in TRANSITIONS[kind].values() for target in targets)
    assert isinstance(INITIAL[kind], kind)


def test_a_status_reads_and_serializes_as_the_word_it_always_was() -> None:
    assert InstanceStatus.WAITING == "waiting" and f"{CallStatus.INCIDENT}" == "incident"
    assert json.dumps({"status": TaskStatus.READY}) == '{"status": "ready"}'


@pytest.mark.parametrize(("current", "new"), [
    ("waiting", InstanceStatus.COMPLETED), (InstanceStatus.FAILED, InstanceStatus.WAITING),
    (InstanceStatus.WAITING, InstanceStatus.WAITING), (TaskStatus.READY, TaskStatus.CANCELLED),
    (CallStatus.RUNNING, CallStatus.WAITING), (CallStatus.INCIDENT, CallStatus.WAITING),
    (IncidentStatus.OPEN, IncidentStatus.RESOLVED), (None, CallStatus.WAITING),
])
def test_allowed_moves_answer_the_new_status(current: str | None, new: StrEnum) -> None:
    assert moved(current, new) is new


@pytest.mark.parametrize(("current", "new", "message"), [
    (InstanceStatus.COMPLETED, InstanceStatus.WAITING,
     "instance cannot go from completed to waiting; from completed it may go to nothing (it is final)"),
    (InstanceStatus.TERMINATED, InstanceStatus.FAILED, "instance cannot go from terminated to failed"),
    (TaskStatus.CANCELLED, TaskStatus.COMPLETED, "task cannot go from cancelled to completed"),
    (CallStatus.WAITING, CallStatus.INCIDENT,
     "call cannot go from waiting to incident; from waiting it may go to cancelled, caught, completed, running"),
    (CallStatus.CAUGHT, CallStatus.WAITING, "call cannot go from caught to waiting"),
    (IncidentStatus.RESOLVED, IncidentStatus.OPEN, "incident cannot go from resolved to open"),
    (None, InstanceStatus.COMPLETED, "a new instance starts as running, not completed"),
    (None, TaskStatus.CANCELLED, "a new task starts as ready, not cancelled"),
])
def test_other_moves_are_refused_with_what_was_allowed(current: str | None, new: StrEnum, message: str) -> None:
    with pytest.raises(IllegalTransition, match=re.escape(message)):
        moved(current, new)


def test_a_refusal_names_the_row() -> None:
    with pytest.raises(IllegalTransition, match=r"^service call c-1 cannot go from completed to running"):
        moved("completed", CallStatus.RUNNING, "service call c-1")


def test_an_unknown_stored_status_is_refused_as_one() -> None:
    with pytest.raises(ValueError, match="'paused' is not a valid TaskStatus"):
        moved("paused", TaskStatus.COMPLETED)


def test_an_incident_is_open_until_resolved() -> None:
    assert (incident_status(False), incident_status(True)) == (IncidentStatus.OPEN, IncidentStatus.RESOLVED)
