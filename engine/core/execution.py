"""Running one process instance on SpiffWorkflow: start, advance, complete, snapshot.

An `Execution` wraps one `BpmnWorkflow`. It takes values and returns values; the service
layer loads and saves it. Every way in (`start`, `restore`) attaches our sandboxed script
engine, so a restored workflow can never fall back to SpiffWorkflow's plain `eval`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.core.bindings import RetryPolicy
from engine.core.errors import EngineError, ScriptError, StepLimitExceeded, TaskStateError
from engine.core.event_subprocesses import uncaught_error
from engine.core.package import CompiledPackage
from engine.core.parser import ANSWER, PENDING_CALL, ParkingServiceTask
from engine.core.sandbox import SandboxedEnvironment, SandboxLimits
from engine.core.serialization import SERIALIZER_VERSION, dump_state, load_state
from engine.core.spiff_compat import task_on_traceback
from engine.core.statuses import InstanceStatus
from engine.core.workflow import CreationBudget, EngineWorkflow, IndexedQueries
from engine.core.working_calendar import WorkingCalendar, timer_helpers

HUMAN_KINDS = {"UserTask": "user", "ManualTask": "manual", "NoneTask": "task"}


@dataclass(frozen=True)
class HumanTask:
    """A task waiting for a person."""

    id: str
    spec_id: str
    name: str
    kind: str
    lane: str | None
    documentation: str | None
    extensions: dict[str, Any]


@dataclass(frozen=True)
class ServiceCall:
    """A service task parked until the service layer brings its result."""

    task_id: str
    spec_id: str
    name: str
    operation: str
    params: dict[str, Any]
    result_variable: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class Step:
    """One task the engine completed by itself (script, gateway, event, decision...)."""

    task_id: str
    spec_id: str
    name: str
    kind: str


def make_script_engine(limits: SandboxLimits | None = None,
                       calendar: WorkingCalendar | None = None) -> PythonScriptEngine:
    """The only script engine instances run with; `working_days(n)` counts on `calendar`."""
    helpers = timer_helpers(calendar or WorkingCalendar())
    return PythonScriptEngine(environment=SandboxedEnvironment(limits, helpers))


def _title(spec: Any) -> str:
    return str(getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name)


class Execution:
    """One live instance of a process."""

    def __init__(self, workflow: BpmnWorkflow, process_key: str) -> None:
        self.workflow = workflow
        self.process_key = process_key
        self.error: str | None = None
        self._steps: list[Step] = []
        self._budget: tuple[int, float] | None = None
        self._limits: tuple[int, float] = (0, 0.0)
        self._spent = 0

    @classmethod
    def start(cls, package: CompiledPackage, key: str, data: dict[str, Any],
              script_engine: PythonScriptEngine) -> Execution:
        """A new instance of process `key` with `data` as its start data (not yet advanced)."""
        spec, subprocess_specs = package.spec(key)
        workflow = EngineWorkflow(spec, subprocess_specs, script_engine=script_engine)
        first = workflow.get_next_task(state=TaskState.READY)
        if first is None:
            raise TaskStateError(f"process '{key}' has nothing to start with")
        first.data.update(data)
        return cls(workflow, key)

    @classmethod
    def restore(cls, package: CompiledPackage, key: str, state: str, serializer_version: str,
                script_engine: PythonScriptEngine) -> Execution:
        """Rebuild an instance saved with `dump`."""
        spec, subprocess_specs = package.spec(key)
        workflow = load_state(state, serializer_version, spec, subprocess_specs)
        workflow.script_engine = script_engine
        execution = cls(workflow, key)
        execution._check_index()
        return execution

    def dump(self) -> tuple[str, str]:
        """The state to store, and its serializer version."""
        return dump_state(self.workflow), SERIALIZER_VERSION

    def advance(self) -> None:
        """Run every automatic task until the instance waits, completes or fails.

        Raises:
            ScriptError: a script, condition or decision failed; `status` is now failed.
            StepLimitExceeded: more steps or time than `limit_steps` allows.
        """
        try:
            self.workflow.do_engine_steps(did_complete_task=self._record)
        except StepLimitExceeded as err:
            # Stopped between two steps, so the state is whole; the instance fails with it.
            self.error = str(err)
            raise
        except EngineError:
            raise
        except Exception as err:  # SpiffWorkflow raises plain errors too
            raise self._script_error(err) from err
        finally:
            self._check_index()
        self.error = self.error or uncaught_error(self.workflow)

    def _check_index(self) -> None:
        # Every change ends in `advance` (or `terminate`): under --cross-check-index the
        # whole state index is compared with SpiffWorkflow's tree walk there.
        if IndexedQueries.cross_check and isinstance(self.workflow, EngineWorkflow):
            self.workflow.check_index()

    def limit_steps(self, max_steps: int, max_seconds: float) -> None:
        """Stop any later run of this instance after `max_steps` tasks or `max_seconds` in all;
        a multi-instance activity may create at most `max_steps` instances."""
        self._budget = (max_steps, time.monotonic() + max_seconds)
        self._limits = (max_steps, max_seconds)
        self.workflow.max_instances = max_steps
        if isinstance(self.workflow, EngineWorkflow):
            # The between-steps limit above keeps a whole state; the mid-step one cannot, so it
            # is only a backstop for one step that runs long by itself: a quarter later.
            budget = CreationBudget(2 * max_steps, self._budget[1] + max_seconds / 4,
                                    "PANJEREH_MAX_STEPS_PER_CHANGE")
            self.workflow.limit_creation(budget)

    def _record(self, task: Any) -> None:
        if self._budget is not None:
            self._spent += 1
            over_steps = self._spent > self._budget[0]
            if over_steps or time.monotonic() > self._budget[1]:
                max_steps, max_seconds = self._limits
                limit = (f"the limit of {max_steps:,} steps (PANJEREH_MAX_STEPS_PER_CHANGE)" if over_steps
                         else f"the limit of {max_seconds:g} s (PANJEREH_MAX_CHANGE_SECONDS)")
                raise StepLimitExceeded(
                    str(task.id), _title(task.task_spec),
                    f"stopped after {self._spent - 1:,} automatic steps in one change without waiting for "
                    f"anything, {limit}: a loop that never ends?")
        spec = task.task_spec
        if getattr(spec, "bpmn_id", None) and task.state == TaskState.COMPLETED:
            self._steps.append(Step(str(task.id), spec.bpmn_id, _title(spec), type(spec).__name__))

    def take_steps(self) -> list[Step]:
        """The tasks the engine completed since the last call, oldest first."""
        steps, self._steps = self._steps, []
        return steps

    def script_failure(self, err: Exception) -> ScriptError:
        """`err`, raised while an event was delivered into this instance (core.events), as the
        `ScriptError` that fails it; the instance keeps the error, as after a failing step."""
        return self._script_error(err)

    def _script_error(self, err: Exception) -> ScriptError:
        if not isinstance(err, SpiffWorkflowException):
            # A plain error from inside the library (bad data meeting a multi-instance, a
            # join...): the instance fails with it, named after the task that was running.
            task = task_on_traceback(err)
            name = _title(task.task_spec) if task is not None else "?"
            error = ScriptError(str(task.id) if task is not None else "", name, f"{type(err).__name__}: {err}")
            self.error = str(error)
            return error
        task = getattr(err, "task", None)
        spec = task.task_spec if task is not None else getattr(err, "task_spec", None)
        cause = err.__cause__ or err.__context__
        detail = str(cause) if cause is not None and str(cause) else str(err)
        if isinstance(err, WorkflowException) and getattr(err, "error_type", "") == "unknown":
            detail = str(err)
        error = ScriptError(str(task.id) if task is not None else "", _title(spec) if spec else "?", detail)
        self.error = str(error)
        return error

    @property
    def status(self) -> InstanceStatus:
        if self.error:
            return InstanceStatus.FAILED
        if self.workflow.is_completed():
            return InstanceStatus.COMPLETED if self.workflow.success else InstanceStatus.TERMINATED
        if self.error or self.workflow.get_tasks(state=TaskState.ERROR):
            return InstanceStatus.FAILED
        return InstanceStatus.WAITING

    @property
    def data(self) -> dict[str, Any]:
        """Process data: the final data once completed, else that of the last completed task."""
        last = self.workflow.last_task
        if self.workflow.is_completed() and (self.workflow.data or last is None):
            return dict(self.workflow.data)
        # An interrupting event subprocess ends the instance without copying its data to
        # the workflow: its last task holds what the instance produced.
        return dict(last.data) if last is not None else {}

    def human_tasks(self) -> list[HumanTask]:
        """Tasks ready for a person, in tree order."""
        found = []
        for task in self.workflow.get_tasks(state=TaskState.READY, manual=True):
            spec = task.task_spec
            found.append(HumanTask(
                id=str(task.id), spec_id=spec.bpmn_id, name=_title(spec),
                kind=HUMAN_KINDS.get(type(spec).__name__, "task"), lane=spec.lane,
                documentation=getattr(spec, "documentation", None),
                extensions=dict(getattr(spec, "extensions", {}) or {}),
            ))
        return found

    def service_calls(self) -> list[ServiceCall]:
        """Service tasks parked for a result."""
        calls = []
        for task in self.workflow.get_tasks(state=TaskState.STARTED):
            spec = task.task_spec
            if isinstance(spec, ParkingServiceTask):
                pending = task.internal_data.get(PENDING_CALL, {})
                calls.append(ServiceCall(str(task.id), spec.bpmn_id, _title(spec), pending.get("operation", ""),
                                         pending.get("params", {}), spec.result_variable, spec.retry))
        return calls

    @property
    def finished(self) -> bool:
        """Whether nothing more can happen: completed, ended by an error end or terminated."""
        return bool(self.workflow.is_completed())

    def pending_events(self) -> list[tuple[str, str]]:
        """(kind, name) of each event the instance waits for, e.g. ("MessageEventDefinition", "paid")."""
        return [(str(e.event_type), str(e.name)) for e in self.workflow.waiting_events()]

    def waiting_elements(self) -> list[str]:
        """Element ids of tasks that wait for something (a join, an event), in tree order."""
        return [t.task_spec.bpmn_id or t.task_spec.name for t in self.workflow.get_tasks(state=TaskState.WAITING)
                if getattr(t.task_spec, "bpmn_id", None)]

    def task_data(self, task_id: str) -> dict[str, Any]:
        """The data visible to one task."""
        return dict(self._task(task_id).data)

    def _task(self, task_id: str) -> Any:
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, TaskStateError):
            task = None
        except SpiffWorkflowException:
            task = None
        if task is None:
            raise TaskStateError(f"task {task_id} is not part of this instance")
        return task

    def complete_human_task(self, task_id: str, data: dict[str, Any]) -> None:
        """Complete a ready user/manual task with `data` (already validated) and advance."""
        task = self._task(task_id)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskStateError(f"task '{_title(task.task_spec)}' is not waiting for a person")
        if hasattr(task.task_spec, "add_data_from_form"):
            task.task_spec.add_data_from_form(task, data)
        else:
            task.data.update(data)
        try:
            task.run()
        except EngineError:
            raise
        except Exception as err:  # SpiffWorkflow raises plain errors too
            raise self._script_error(err) from err
        self._record(task)
        self.advance()

    def complete_service_task(self, task_id: str, result: Any) -> None:
        """Give a parked service task its result and advance."""
        task = self._task(task_id)
        if task.state != TaskState.STARTED or not isinstance(task.task_spec, ParkingServiceTask):
            raise TaskStateError(f"task '{_title(task.task_spec)}' is not waiting for a service result")
        if task.task_spec.result_variable:
            task.data[task.task_spec.result_variable] = result
        task.internal_data.pop(PENDING_CALL, None)
        task.internal_data[ANSWER] = result
        try:
            task.complete()
        except EngineError:
            raise
        except Exception as err:  # SpiffWorkflow raises plain errors too
            raise self._script_error(err) from err
        self._record(task)
        self.advance()

    def fail_service_task(self, task_id: str, code: str, message: str) -> bool:
        """Throw a BPMN error with `code` from a parked service task.

        Returns whether the model catches it (an error boundary event or event subprocess
        matching the code, or catching every code); when nothing does, the task is left
        waiting and the caller opens an incident instead.
        """
        task = self._task(task_id)
        if task.state != TaskState.STARTED or not isinstance(task.task_spec, ParkingServiceTask):
            raise TaskStateError(f"task '{_title(task.task_spec)}' is not waiting for a service result")
        definition = ErrorEventDefinition(code, code=code)
        if not self._catchable(task, definition):
            return False
        task.internal_data.pop(PENDING_CALL, None)
        event = BpmnEvent(definition, payload={"code": code, "message": message}, target=task.workflow)
        try:
            task.workflow.top_workflow.catch(event)
        except EngineError:
            raise
        except Exception as err:  # SpiffWorkflow raises plain errors too
            raise self._script_error(err) from err
        self.advance()
        return True

    @staticmethod
    def _catchable(task: Any, definition: Any) -> bool:
        event = BpmnEvent(definition, target=task.workflow)
        waiting = task.workflow.top_workflow.event_manager.tasks.values()
        return any(t.task_spec.event_definition.catches(t, event) for t in waiting
                   if hasattr(t.task_spec, "event_definition"))

    def terminate(self) -> None:
        """Cancel the instance; nothing more runs."""
        self.workflow.cancel()
        self._steps.clear()
        self._check_index()
