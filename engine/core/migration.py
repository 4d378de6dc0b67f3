"""Moving a running instance to another version of its process, with SpiffWorkflow's own diff.

SpiffWorkflow 3.2 aligns two versions of a process element by element
(`SpiffWorkflow.bpmn.util.diff`: by BPMN id, then by position for an element that was
renamed), says which tasks of a running workflow sit on removed or changed elements, and
moves the workflow onto the new version, resetting its ready and waiting tasks so that
they predict their way through it. Around that, here:

- a plan, made before anything moves: the elements removed, added and changed, and what
  becomes of each task the instance is at (ready, waiting, or started, as a parked
  service call is);
- a refusal, with its reasons, when the instance's state has no place in the new version:
  a task it is at, or a subprocess it runs, whose element is gone or is now another kind of
  element; or a task it already passed whose element is gone (its history would name an
  element the version does not have, and the state would not load again);
- waits kept: a waiting timer on an element that did not change keeps its due time, where
  SpiffWorkflow's reset would count it again from the migration; one whose element
  changed starts again, and the plan says so.

The moved state is written and read back against the new version before anything else
happens to it, so what runs next is exactly what every later restore sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, diff_workflow, filter_tasks, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from engine.core.package import CompiledPackage
from engine.core.package_source import PackageSource, compile_source
from engine.core.serialization import dump_state, spec_registry
from engine.core.spiff_compat import restore_timer_value, timer_value

# The tasks an instance is at: SpiffWorkflow resets the ready and waiting ones; started
# ones (a parked service call, a running subprocess) keep their state and take the new spec.
LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
# Tasks that happened: the instance's history.
PASSED = TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR
# Attributes that differ whenever a neighbour is added or removed; they say nothing about
# the element itself, and a reset task predicts its way through the new ones.
_STRUCTURE = frozenset({"inputs", "outputs"})


@dataclass(frozen=True)
class ElementChange:
    """An element both versions have, which of its attributes differ, and its new id when
    it was renamed (SpiffWorkflow aligns a renamed element by its place in the flow)."""

    element_id: str
    attributes: tuple[str, ...]
    renamed_to: str | None = None


@dataclass(frozen=True)
class TaskMove:
    """What a migration does with one task the instance is at.

    `outcome` is "kept" (as it is; a waiting timer keeps its due time), "changed" (its
    element changed: `reason` says how), "restarted" (a wait on a changed element starts
    again from the migration) or "refused" (the task has no place in the new version).
    """

    task_id: str
    element_id: str
    state: str
    outcome: str
    reason: str


@dataclass(frozen=True)
class MigrationPlan:
    """What moving an instance to another version does, or why it cannot move."""

    removed: tuple[str, ...]
    added: tuple[str, ...]
    changed: tuple[ElementChange, ...]
    tasks: tuple[TaskMove, ...]
    refusals: tuple[str, ...]

    @property
    def safe(self) -> bool:
        """Whether the instance can move."""
        return not self.refusals


@lru_cache(maxsize=4)
def target_package(source: PackageSource) -> CompiledPackage:
    """The version to move to, compiled once per process: a bulk migration moves many
    instances to the same one."""
    return compile_source(source)


def migrate(workflow: Any, process_key: str, target: CompiledPackage) -> tuple[MigrationPlan, str | None]:
    """Move `workflow` (an instance of `process_key`) onto `target`'s version of the process.

    Returns the plan and, when it is safe, the moved state as `dump_state` writes it. When
    it is not, the state is None and `workflow` may have been changed part way: the caller
    throws it away.
    """
    info = target.processes.get(process_key)
    if info is None or not info.executable:
        return _refused(f"the version to move to has no executable process '{process_key}'"), None
    new_spec, new_dependencies = target.spec(process_key)
    registry = spec_registry()
    top, subprocess_diffs = diff_workflow(registry, workflow, new_spec, new_dependencies)
    # diff_workflow keeps the spec diffs it made to itself; the plan lists elements, and
    # which attributes of each changed, from the same comparison made again.
    parts: list[_Part] = [_Part("", top, SpecDiff(registry, workflow.spec, new_spec))]
    refusals: list[str] = []
    for sub_id, diff in subprocess_diffs.items():
        sub = workflow.subprocesses[sub_id]
        if diff is None:
            verb = "ran" if sub.is_completed() else "runs"
            refusals.append(f"the instance {verb} '{sub.spec.name}' (from "
                            f"{_named(workflow.get_task_from_id(sub_id))}), which the new version does not have")
            continue
        parts.append(_Part(f"{sub.spec.name}/", diff, SpecDiff(registry, sub.spec, new_dependencies[sub.spec.name])))
    moves: list[TaskMove] = []
    kept_timers: list[tuple[Any, Any]] = []
    for part in parts:
        refusals += part.passed_elements_removed()
        for task in filter_tasks([*part.diff.alignment, *part.diff.removed], state=LIVE):
            move = part.move(task)
            moves.append(move)
            if move.outcome == "refused":
                refusals.append(move.reason)
            elif move.outcome == "kept" and timer_value(task) is not None:
                kept_timers.append((task, timer_value(task)))
    plan = _plan(parts, moves, refusals)
    if not plan.safe:
        return plan, None
    try:
        _move_onto(workflow, top, subprocess_diffs, new_spec, new_dependencies)
    except Exception as err:  # the reset evaluates the new version's timers and conditions
        return _with_refusal(plan, f"the instance could not be re-predicted in the new version: {err}"), None
    for task, value in kept_timers:
        restore_timer_value(task, value)
    stale = _left_on_old_elements(workflow, new_spec, new_dependencies)
    if stale:
        return _with_refusal(plan, "the instance would keep tasks of elements the new version does not have: "
                                   f"{', '.join(stale)}"), None
    return plan, dump_state(workflow)


def _move_onto(workflow: Any, top: WorkflowDiff, subprocess_diffs: dict[Any, WorkflowDiff | None], new_spec: Any,
               new_dependencies: dict[str, Any]) -> None:
    # A waiting parallel join reset here may look up its own tasks by a spec that was just
    # replaced and find none: it waits, as it did (a join that could fire has fired); the
    # state is read back against the new version before it runs on, which sorts them again.
    last = {id(owner): owner.last_task for owner in [workflow, *workflow.subprocesses.values()]}
    migrate_workflow(top, workflow, new_spec)
    for sub_id, sub in list(workflow.subprocesses.items()):
        diff = subprocess_diffs.get(sub_id)
        if diff is not None:
            migrate_workflow(diff, sub, new_dependencies[sub.spec.name])
    workflow.subprocess_specs = new_dependencies
    # migrate_workflow drops the last completed task whenever it is still in the tree (it
    # asks `task in workflow.tasks`, a mapping keyed by id), and the instance's data is read
    # from that task: put back each one the move kept (docs/upstream/migrate-workflow.md).
    for owner in [workflow, *workflow.subprocesses.values()]:
        task = last.get(id(owner))
        if owner.last_task is None and task is not None and owner.tasks.get(task.id) is task:
            owner.last_task = task


@dataclass(frozen=True)
class _Part:
    """The top workflow or one subprocess of it: its diff as tasks and as specs."""

    prefix: str
    diff: WorkflowDiff
    specs: SpecDiff

    def move(self, task: Any) -> TaskMove:
        """What moving does with `task`, one the instance is at."""
        state = TaskState.get_name(task.state).lower()
        element = self.prefix + _element_id(task.task_spec)
        new = self.diff.alignment.get(task)
        if task in self.diff.removed or new is None:
            return TaskMove(str(task.id), element, state, "refused",
                            f"the instance is at {_named(task)} ({state}), which the new version does not have")
        changed = self.specs.changed.get(task.task_spec, [])
        if "typename" in changed:
            return TaskMove(str(task.id), element, state, "refused",
                            f"the instance is at {_named(task)} ({state}), a {type(task.task_spec).__name__} here "
                            f"and a {type(new).__name__} in the new version")
        own = [name for name in changed if name not in _STRUCTURE]
        if not own:
            return TaskMove(str(task.id), element, state, "kept", "")
        what = ", ".join(own)
        if task.state == TaskState.WAITING and timer_value(task) is not None:
            return TaskMove(str(task.id), element, state, "restarted",
                            f"its element changed ({what}): the timer counts again from the migration")
        return TaskMove(str(task.id), element, state, "changed", f"its element changed ({what})")

    def passed_elements_removed(self) -> list[str]:
        """A refusal for each element the instance passed that the new version removes."""
        removed = self.diff.removed
        live = {_element_id(task.task_spec) for task in filter_tasks(removed, state=LIVE)}
        passed = sorted({_element_id(task.task_spec) for task in filter_tasks(removed, state=PASSED)} - live)
        return [f"the instance already passed '{self.prefix}{element}', which the new version does not have "
                "(its history would name an element that no longer exists)" for element in passed]


def _left_on_old_elements(workflow: Any, new_spec: Any, new_dependencies: dict[str, Any]) -> list[str]:
    """Elements of tasks still on a spec of the old version (none, when the move is whole)."""
    found: set[str] = set()
    for owner, spec in [(workflow, new_spec), *((sub, new_dependencies.get(sub.spec.name))
                                               for sub in workflow.subprocesses.values())]:
        for task in owner.tasks.values():
            if spec is None or spec.task_specs.get(task.task_spec.name) is not task.task_spec:
                found.add(f"'{_element_id(task.task_spec)}' ({TaskState.get_name(task.state).lower()})")
    return sorted(found)


def _plan(parts: list[_Part], moves: list[TaskMove], refusals: list[str]) -> MigrationPlan:
    removed: set[str] = set()
    added: set[str] = set()
    changed: dict[str, ElementChange] = {}
    for part in parts:
        removed |= {part.prefix + _element_id(spec) for spec in part.specs.removed if spec.bpmn_id}
        added |= {part.prefix + _element_id(spec) for spec in part.specs.added if spec.bpmn_id}
        for spec, attributes in part.specs.changed.items():
            own = tuple(name for name in attributes if name not in _STRUCTURE)
            if spec.bpmn_id and own:
                new_id = _element_id(part.specs.alignment[spec])
                element = part.prefix + _element_id(spec)
                changed[element] = ElementChange(element, own, part.prefix + new_id if new_id != spec.bpmn_id else None)
    return MigrationPlan(tuple(sorted(removed)), tuple(sorted(added)), tuple(changed[e] for e in sorted(changed)),
                         tuple(moves), tuple(dict.fromkeys(refusals)))


def _refused(reason: str) -> MigrationPlan:
    return MigrationPlan((), (), (), (), (reason,))


def _with_refusal(plan: MigrationPlan, reason: str) -> MigrationPlan:
    return MigrationPlan(plan.removed, plan.added, plan.changed, plan.tasks, (*plan.refusals, reason))


def _element_id(spec: Any) -> str:
    # SpiffWorkflow's own specs around an element (a boundary event split, an end join) are
    # named after it: "review.BoundaryEventSplit".
    return str(spec.bpmn_id or spec.name.split(".")[0])


def _named(task: Any) -> str:
    spec = task.task_spec
    name = getattr(spec, "bpmn_name", None)
    return f"'{name}' ({_element_id(spec)})" if name else f"'{_element_id(spec)}'"
