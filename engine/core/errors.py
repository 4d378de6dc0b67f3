"""Errors the core raises; the service layer maps them to statuses and messages."""

from __future__ import annotations

from engine.core.report import Report


class EngineError(Exception):
    """Base of every error the core raises on purpose."""


class ModelError(EngineError):
    """The uploaded files are not deployable; `report` says why, element by element."""

    def __init__(self, report: Report) -> None:
        self.report = report
        first = next((str(p) for p in report.problems if p.severity == "error"), "not deployable")
        super().__init__(first)


class UnknownProcessError(EngineError):
    """No process with that key in the package."""


class ScriptError(EngineError):
    """A script, condition or decision failed inside a task; the message names the task."""

    def __init__(self, task_id: str, task_name: str, message: str) -> None:
        self.task_id = task_id
        self.task_name = task_name
        super().__init__(f"task '{task_name}': {message.rstrip()}")


class TaskStateError(EngineError):
    """The task is not waiting for what the caller tried to do (already done, or never ready)."""


class StepLimitExceeded(ScriptError):
    """An instance ran more engine steps, or longer, than its caller allowed (a runaway loop).

    It fails the instance as a failing script does: the engine stops between two steps, so
    the state saved with the error is whole, and the change that set it off is kept in it.
    """


class ChangeTooLarge(EngineError):
    """A change made more tasks, or ran longer, than its budget allows, in the middle of a
    step (a multi-instance inside a multi-instance, a subprocess calling itself): the state
    is not whole there, so nothing of the change may be kept."""


class StateTooLarge(ChangeTooLarge):
    """A change would leave the instance's state larger than it may be stored (a loop or a
    timer cycle that never ends adds tasks to it with every round): nothing of the change
    may be kept, or the next one would start from a state larger still."""
