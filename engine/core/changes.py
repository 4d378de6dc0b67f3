"""The changes an instance takes, as plain data: one frozen class per kind.

A change says what happens to one instance (it is started, a task is completed, a timer
fires...) and nothing about where the instance is stored: `engine.core.snapshot` runs it on
an instance's stored state, and `engine.services.instance_store` saves what came of it.
Being values, changes can be logged, compared, and sent to another process as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from engine.core.package_source import PackageSource
from engine.core.sandbox import SandboxLimits
from engine.core.working_calendar import WorkingCalendar


@dataclass(frozen=True)
class StartEvent:
    """What started an instance at a start event of its own: a timer, a message or a signal."""

    kind: Literal["timer", "message", "signal"]
    name: str | None = None
    payload: Any = None


@dataclass(frozen=True)
class Start:
    """A new instance with `data` as its start data, let in at `event` when one started it."""

    data: dict[str, Any]
    event: StartEvent | None = None


@dataclass(frozen=True)
class CompleteTask:
    """A person completed human task `task_id` with `data` (already validated)."""

    task_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class ServiceResult:
    """A connector answered parked service task `call_id` with `result`."""

    call_id: str
    result: Any


@dataclass(frozen=True)
class ServiceError:
    """A connector refused parked service task `call_id` with a BPMN error `code`."""

    call_id: str
    code: str
    message: str


@dataclass(frozen=True)
class CatchMessage:
    """Message `name` (with its correlation value, if any) arrives."""

    name: str
    payload: Any
    correlation: str | None = None


@dataclass(frozen=True)
class CatchSignal:
    """Signal `name` is broadcast."""

    name: str
    payload: Any = None


@dataclass(frozen=True)
class FireTimer:
    """The timer the instance's task `task_id` waits on is due."""

    task_id: str


@dataclass(frozen=True)
class Terminate:
    """The instance is stopped for good."""


@dataclass(frozen=True)
class Migrate:
    """The instance moves to the same process as deployment `deployment_id` has it.

    The caller names the deployment; the instance store adds `target`, the documents of that
    deployment bound to the processes it calls, which is what the move runs against
    (engine/core/migration.py).
    """

    deployment_id: int
    target: PackageSource | None = field(default=None, repr=False)


Change = (Start | CompleteTask | ServiceResult | ServiceError | CatchMessage | CatchSignal | FireTimer | Terminate
          | Migrate)


@dataclass(frozen=True)
class ChangeLimits:
    """What one change may spend: the sandbox's limits per script, and the automatic steps
    and seconds of the whole change (past them the instance fails as a runaway); the working
    calendar its timers count in (it travels with the limits to the model workers, which read
    no settings); and how large the instance's state may be after it (None: as large as it grows)."""

    max_steps: int
    max_seconds: float
    sandbox: SandboxLimits = field(default_factory=SandboxLimits)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    max_state_bytes: int | None = None
