"""Running a model without a server or database: `panjereh run`, for analysts.

Answers are given per task element id (or task name): a JSON object for a task reached
once, a list of objects for a task reached several times. Results for service tasks are
given the same way, and messages by name (a payload, or a list for a message caught
several times), delivered when a catch waits for them. The run stops where the model would
wait for something not given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.core import catch_events
from engine.core.errors import ScriptError, TaskStateError
from engine.core.execution import Execution, make_script_engine
from engine.core.statuses import InstanceStatus
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from forms.validate import FieldError, validate_submission

MAX_ROUNDS = 10_000


@dataclass
class HeadlessRun:
    status: InstanceStatus
    process: str
    path: list[str] = field(default_factory=list)
    waiting: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "process": self.process, "path": self.path, "waiting": self.waiting,
                "data": self.data, "error": self.error}


class InvalidAnswer(ValueError):
    """An answer does not fit its task's form."""

    def __init__(self, task: str, errors: list[FieldError]) -> None:
        details = "; ".join(f"{e.field or 'data'}: {e.message}" for e in errors)
        super().__init__(f"answer for task '{task}' does not fit its form: {details}")


class _Answers:
    def __init__(self, given: dict[str, Any]) -> None:
        self._given = {k: (list(v) if isinstance(v, list) else [v]) for k, v in given.items()}

    def take(self, *keys: str) -> tuple[bool, Any]:
        for key in keys:
            queue = self._given.get(key)
            if queue:
                return True, queue.pop(0)
        return False, None


def run_model(files: Sequence[UploadedFile], settings: Settings, data: dict[str, Any], answers: dict[str, Any],
              results: dict[str, Any], process: str | None = None,
              messages: dict[str, Any] | None = None) -> HeadlessRun:
    """Deploy `files` in memory, start `process` (the first executable one by default), and
    feed it answers, service results and messages until it ends or waits for something not given.

    Raises:
        ValueError: the files are not deployable or the process is unknown.
    """
    loaded, report = check(files, settings)
    if loaded is None:
        raise ValueError("not deployable:\n" + "\n".join(str(p) for p in report.problems))
    keys = [k for k, info in loaded.compiled.processes.items() if info.executable]
    key = process or keys[0]
    if key not in keys:
        raise ValueError(f"no executable process '{key}'; the files define: {', '.join(keys)}")
    execution = Execution.start(loaded.compiled, key, data, make_script_engine())
    run = HeadlessRun(status=InstanceStatus.RUNNING, process=key)
    human, service, caught = _Answers(answers), _Answers(results), _Answers(messages or {})
    try:
        execution.advance()
        for _ in range(MAX_ROUNDS):
            progressed = False
            for task in execution.human_tasks():
                found, answer = human.take(task.spec_id, task.name)
                if found:
                    kept, errors = validate_submission(loaded.forms.get(task.spec_id), answer or {})
                    if errors:
                        raise InvalidAnswer(task.spec_id, errors)
                    execution.complete_human_task(task.id, kept)
                    progressed = True
                    break
            else:
                for call in execution.service_calls():
                    found, result = service.take(call.spec_id, call.name, call.operation)
                    if found:
                        execution.complete_service_task(call.task_id, result)
                        progressed = True
                        break
                else:
                    for wait in catch_events.message_waits(execution):
                        found, payload = caught.take(wait.name)
                        if found and catch_events.catch_message(execution, wait.name, payload, None):
                            progressed = True
                            break
            if not progressed:
                break
    except (ScriptError, InvalidAnswer, TaskStateError) as err:
        run.error = str(err)
    run.path = [step.spec_id for step in execution.take_steps()]
    run.status = execution.status
    run.data = execution.data
    run.waiting = [{"task": t.spec_id, "title": t.name, "lane": t.lane, "kind": t.kind}
                   for t in execution.human_tasks()]
    run.waiting += [{"task": c.spec_id, "title": c.name, "kind": "service", "operation": c.operation,
                     "params": c.params} for c in execution.service_calls()]
    run.waiting += [{"task": t.element_id, "kind": "timer", "timer": t.kind, "due_at": t.due_at.isoformat()}
                    for t in catch_events.timer_waits(execution)]
    run.waiting += [{"task": m.element_id, "kind": "message", "message": m.name, "correlation": m.correlation}
                    for m in catch_events.message_waits(execution)]
    run.waiting += [{"task": w.element_id, "kind": "signal", "signal": w.name}
                    for w in catch_events.signal_waits(execution)]
    return run
