"""`EngineWorkflow`: SpiffWorkflow's `BpmnWorkflow` without full-tree scans per engine step.

SpiffWorkflow 3.2 finds work by walking the whole task tree: every engine step asks for the
READY tasks and every completed task refreshes the WAITING ones, each a depth-first walk
from the root. A gateway loop adds about three tasks per round to one long branch, so round
n costs O(n) and a loop of n rounds O(n^2) (2,000 rounds: 27 s in one `do_engine_steps`).

Here every task of an instance (top workflow and subprocesses) reports its state changes to
one index, which keeps the WAITING, READY and STARTED tasks. Queries for those states
(`get_tasks`, `get_next_task`, and so `_do_engine_steps`, which is left as it is) and
`update_waiting_tasks` read the index and then put the few tasks found in the order the
tree walk would have produced: depth-first, a subprocess before the children of its task.
Order is decided through the lowest common ancestor, found with skew-binary jump pointers
(each task remembers its depth, parent and one jump), so comparing two tasks costs
O(log depth) even when one sits at the root and the other 15,000 tasks deeper.

How the states are seen: SpiffWorkflow builds `Task` objects itself (`_add_child`, the
serializer), and every one of them registers in its workflow's `tasks` mapping first. That
mapping is a `TaskTable` here; it turns each task it receives into an `EngineTask`, which
reports every state change to the index (how, and why it takes SpiffWorkflow's internals,
is in engine/core/spiff_compat.py). Only tasks of our workflows change class; no
SpiffWorkflow class is patched. The serialized state is the same as before (same type names).

Same results as the tree walk, which rests on two facts of SpiffWorkflow 3.2: a task in a
definite state never hangs below a predicted one (so the walk always reaches it; the depth
limit is lifted in `spiff_compat`), and relative tree order never changes for tasks that
exist (children are appended, removed, never moved). `update_waiting_tasks` also visits, in
tree order, a task that starts waiting during the same pass if it lies after the current
one; the walk would miss it only if it were created under a branch already passed, which no
BPMN task spec does while being updated. With `cross_check` on (the tests' option
`--cross-check-index`), every answer is compared with the walk, and `check_index` compares
the whole index after each change of an `Execution`.

Not done: pruning completed rounds. It would bound the tree and the state size (about 1.2 MB
per 1,000 rounds), but finished tasks are still read: joins merge data from earlier
instances of themselves, structured joins and boundary events look up their split ancestor,
`reset_from_task_id` returns to any earlier task, the serializer stores each task's data as
a delta to its parent's, and the instance history comes from them. Cutting them would change
behaviour; long iteration is better modelled as a standard loop or a capped subprocess.
"""

from __future__ import annotations

import time
from functools import cmp_to_key
from typing import Any, ClassVar

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.util.task import BpmnTaskFilter
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator, TaskState

from engine.core.errors import ChangeTooLarge
from engine.core.spiff_compat import (
    StateObservedTask,
    child_position,
    has_spec,
    observe,
    parent_id,
    stored_state,
    update_task,
)

INDEXED_STATES = (TaskState.WAITING, TaskState.READY, TaskState.STARTED)
_INDEXED_MASK = TaskState.WAITING | TaskState.READY | TaskState.STARTED
_FILTER_KEYS = frozenset({"state", "manual", "spec_name", "spec_class", "lane", "catches_event", "updated_ts"})


class IndexMismatchError(RuntimeError):
    """The index answered differently from SpiffWorkflow's tree walk (only raised under `cross_check`)."""


def _mismatch(message: str) -> IndexMismatchError:
    # Kept as well as raised under `cross_check`: the error passes through code that turns
    # any error of a step into a failed instance, which a test of failure paths would take
    # for success.
    if IndexedQueries.cross_check:
        IndexedQueries.mismatches.append(message)
    return IndexMismatchError(message)


class CreationBudget:
    """How many tasks one change may create, and until when it may run: checked as each
    task is made, so the limit holds inside one step too (the step budget of
    `Execution.limit_steps` is checked only between steps)."""

    # Reading the clock costs more than counting; it is read every so many tasks.
    _CLOCK_EVERY = 64

    def __init__(self, max_tasks: int, deadline: float, limit_name: str) -> None:
        self.max_tasks = max_tasks
        self.deadline = deadline
        self.limit_name = limit_name
        self.created = 0

    def created_one(self) -> None:
        self.created += 1
        if self.created > self.max_tasks:
            raise ChangeTooLarge(f"this change would create more than {self.max_tasks:,} tasks (twice "
                                 f"{self.limit_name}): a multi-instance inside a multi-instance, or a process "
                                 "calling itself?")
        if self.created % self._CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise ChangeTooLarge(f"this change ran past its time limit while creating {self.created:,} tasks "
                                 "in one step (PANJEREH_MAX_CHANGE_SECONDS)")


class StateIndex:
    """Tasks of one instance by state, and where they sit in the tree."""

    def __init__(self) -> None:
        self.buckets: dict[int, dict[Task, None]] = {state: {} for state in INDEXED_STATES}
        self.entered_waiting = 0
        self._places: dict[Task, tuple[int, Task, Task]] = {}
        # Set for each change once the instance is restored (restoring re-creates its tasks).
        self.creation: CreationBudget | None = None

    def moved(self, task: Task, old: int | None, new: int | None) -> None:
        if old in self.buckets:
            self.buckets[old].pop(task, None)
        if new in self.buckets:
            self.buckets[new][task] = None
            if new == TaskState.WAITING:
                self.entered_waiting += 1

    def forget(self, task: Task) -> None:
        self.moved(task, stored_state(task), None)
        self._places.pop(task, None)

    def _place(self, task: Task) -> tuple[int, Task, Task]:
        """(depth, jump, parent) of `task`; the root is its own jump and parent."""
        if (place := self._places.get(task)) is not None:
            return place
        chain = []
        node = task
        while node not in self._places:
            up = _tree_parent(node)
            if up is None:
                self._places[node] = (0, node, node)
                break
            chain.append((node, up))
            node = up
        for node, up in reversed(chain):
            depth, jump, _ = self._places[up]
            jump_depth, jump_jump, _ = self._places[jump]
            far = jump_jump if depth - jump_depth == jump_depth - self._places[jump_jump][0] else up
            self._places[node] = (depth + 1, far, up)
        return self._places[task]

    def is_ancestor(self, ancestor: Task, task: Task) -> bool:
        """Whether `ancestor` lies above `task` in the tree (strictly)."""
        depth = self._place(ancestor)[0]
        return self._place(task)[0] > depth and self._ancestor_at(task, depth) is ancestor

    def common_ancestor(self, first: Task, second: Task) -> Task:
        """The deepest task above (or equal to) both, found by jumps of equal length."""
        depth = min(self._place(first)[0], self._place(second)[0])
        a, b = self._ancestor_at(first, depth), self._ancestor_at(second, depth)
        while a is not b:
            place_a, place_b = self._place(a), self._place(b)
            if place_a[2] is a:
                raise ValueError(f"{first} and {second} are not in one task tree")
            a, b = (place_a[1], place_b[1]) if place_a[1] is not place_b[1] else (place_a[2], place_b[2])
        return a

    def _ancestor_at(self, task: Task, depth: int) -> Task:
        while (place := self._place(task))[0] > depth:
            task = place[1] if self._place(place[1])[0] >= depth else place[2]
        return task

    def compare(self, first: Task, second: Task) -> int:
        """-1 when the tree walk reaches `first` before `second`, 1 after, 0 for the same task."""
        if first is second:
            return 0
        first_depth, second_depth = self._place(first)[0], self._place(second)[0]
        a = self._ancestor_at(first, second_depth)
        b = self._ancestor_at(second, first_depth)
        if a is second:
            return 1
        if b is first:
            return -1
        while (place_a := self._place(a))[2] is not (place_b := self._place(b))[2]:
            if place_a[2] is a:
                raise ValueError(f"{first} and {second} are not in one task tree")
            a, b = (place_a[1], place_b[1]) if place_a[1] is not place_b[1] else (place_a[2], place_b[2])
        parent = self._place(a)[2]
        return -1 if _position(parent, a) < _position(parent, b) else 1

    def in_tree_order(self, tasks: list[Task]) -> list[Task]:
        return tasks if len(tasks) < 2 else sorted(tasks, key=cmp_to_key(self.compare))


def _tree_parent(task: Task) -> Task | None:
    """The task above `task` in the walk: its parent, or the task that runs its subprocess."""
    if parent_id(task) is not None:
        parent: Task | None = task.parent
        return parent
    parent_task_id = task.workflow.parent_task_id
    if parent_task_id is None:
        return None
    return task.workflow.top_workflow.get_task_from_id(parent_task_id)


def _position(parent: Task, child: Task) -> int:
    # The walk enters a task's subprocess before the task's own children.
    return -1 if parent_id(child) is None else child_position(parent, child)


class EngineTask(StateObservedTask):
    """A task that reports its state changes to its instance's `StateIndex`."""

    def state_changed(self, old: int | None, new: int) -> None:
        """Move the task to the index's bucket for `new` (when it is in its workflow's table)."""
        table = getattr(getattr(self, "workflow", None), "tasks", None)
        if isinstance(table, TaskTable) and table.get(self.id) is self:
            table.index.moved(self, old, new)

    def is_descendant_of(self, task: Task) -> bool:
        """As SpiffWorkflow's, which walks the whole parent chain, in O(log depth).

        SpiffWorkflow's walk never leaves the task's own (sub)workflow.
        """
        table = getattr(getattr(self, "workflow", None), "tasks", None)
        if not isinstance(table, TaskTable) or table.get(self.id) is not self:
            return bool(super().is_descendant_of(task))
        if task is None or task.workflow is not self.workflow:
            return False
        return table.index.is_ancestor(task, self)


class TaskTable(dict[Any, Task]):
    """A workflow's `tasks` mapping that keeps the instance's `StateIndex` in step."""

    def __init__(self, index: StateIndex, tasks: dict[Any, Task] | None = None) -> None:
        super().__init__()
        self.index = index
        # Tasks of this workflow by spec: a join looks at every task of its own spec. A task
        # enters the table before it has a spec (SpiffWorkflow's constructor order), so new
        # tasks wait in `_unsorted` until the next lookup.
        self.by_spec: dict[Any, dict[Task, None]] = {}
        self._unsorted: dict[Task, None] = {}
        for key, task in (tasks or {}).items():
            self[key] = task

    def __setitem__(self, key: Any, task: Task) -> None:
        observe(task, EngineTask)  # SpiffWorkflow constructs plain `Task`s itself
        if (previous := self.get(key)) is not None and previous is not task:
            self._forget(previous)
        if previous is None and self.index.creation is not None:
            self.index.creation.created_one()
        super().__setitem__(key, task)
        self._unsorted[task] = None
        if (state := stored_state(task)) is not None:
            self.index.moved(task, None, state)

    def _forget(self, task: Task) -> None:
        self.index.forget(task)
        self._unsorted.pop(task, None)
        self.by_spec.get(getattr(task, "task_spec", None), {}).pop(task, None)

    def of_spec(self, spec: Any) -> list[Task]:
        """This workflow's tasks of `spec`, in no particular order."""
        for task in list(self._unsorted):
            if has_spec(task):
                del self._unsorted[task]
                self.by_spec.setdefault(task.task_spec, {})[task] = None
        return list(self.by_spec.get(spec, ()))

    def __delitem__(self, key: Any) -> None:
        self._forget(self[key])
        super().__delitem__(key)

    def pop(self, key: Any, *default: Any) -> Any:
        if key in self:
            self._forget(self[key])
        return super().pop(key, *default)

    def clear(self) -> None:
        for task in self.values():
            self._forget(task)
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, task in dict(*args, **kwargs).items():
            self[key] = task

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def popitem(self) -> tuple[Any, Task]:
        key, task = super().popitem()
        self._forget(task)
        return key, task


class IndexedQueries:
    """What `EngineWorkflow` and `EngineSubWorkflow` share: the indexed queries."""

    # Tests turn this on (--cross-check-index); every mismatch found is also kept here.
    cross_check: ClassVar[bool] = False
    mismatches: ClassVar[list[str]] = []
    task_tree: Any
    _index: StateIndex
    _table: TaskTable | None = None

    @property
    def tasks(self) -> TaskTable | None:
        return self._table

    @tasks.setter
    def tasks(self, tasks: dict[Any, Task]) -> None:
        tasks = dict(tasks)
        if self._table is not None:
            self._table.clear()
        self._table = TaskTable(self._index, tasks)

    def _in_scope(self, task: Task) -> bool:
        """Whether a walk from this workflow's root reaches `task`'s workflow."""
        workflow = task.workflow
        while workflow is not self:
            parent_task_id = workflow.parent_task_id
            if parent_task_id is None or workflow.top_workflow.subprocesses.get(parent_task_id) is not workflow:
                return False
            parent = _tree_parent(workflow.task_tree)
            if parent is None:
                return False
            workflow = parent.workflow
        return True

    def _indexed(self, first_task: Task | None, kwargs: dict[str, Any]) -> list[Task] | None:
        state = kwargs.get("state", TaskState.ANY_MASK)
        if (first_task is not None and first_task is not self.task_tree) or not kwargs.keys() <= _FILTER_KEYS \
                or not state or state & ~_INDEXED_MASK:
            return None
        task_filter = BpmnTaskFilter(**kwargs)
        found = [task for bucket_state, bucket in self._index.buckets.items() if bucket_state & state
                 for task in bucket if self._in_scope(task) and task_filter.matches(task)]
        found = self._index.in_tree_order(found)
        if self.cross_check:
            walked = list(super().get_tasks_iterator(first_task, **kwargs))  # type: ignore[misc]
            if walked != found:
                raise _mismatch(f"query {kwargs}: index {found}, tree walk {walked}")
        return found

    def get_tasks(self, first_task: Task | None = None, **kwargs: Any) -> list[Task]:
        """As `Workflow.get_tasks`, from the index when the query is for waiting/ready/started tasks."""
        found = self._indexed(first_task, kwargs)
        if found is None:
            tasks: list[Task] = super().get_tasks(first_task, **kwargs)  # type: ignore[misc]
            return tasks
        return found

    def get_next_task(self, first_task: Task | None = None, **kwargs: Any) -> Task | None:
        """As `Workflow.get_next_task`, from the index when the query is for waiting/ready/started tasks."""
        found = self._indexed(first_task, kwargs)
        if found is None:
            task: Task | None = super().get_next_task(first_task, **kwargs)  # type: ignore[misc]
            return task
        return found[0] if found else None

    def update_waiting_tasks(self) -> None:
        """As `Workflow.update_waiting_tasks`: update this workflow's WAITING tasks in tree order."""
        index = self._index
        pending = index.in_tree_order([task for task in index.buckets[TaskState.WAITING] if task.workflow is self])
        if self.cross_check:
            walked = list(TaskIterator(self.task_tree, state=TaskState.WAITING))
            if walked != pending:
                raise _mismatch(f"waiting tasks: index {pending}, tree walk {walked}")
        visited: set[Task] = set()
        while pending:
            task = pending.pop(0)
            visited.add(task)
            entered = index.entered_waiting
            update_task(task)
            if index.entered_waiting != entered:
                later = [other for other in index.buckets[TaskState.WAITING]
                         if other.workflow is self and other not in visited and index.compare(task, other) < 0]
                pending = index.in_tree_order(later)
            else:
                pending = [other for other in pending if other.state == TaskState.WAITING]


class EngineSubWorkflow(IndexedQueries, BpmnSubWorkflow):  # type: ignore[misc]
    """A subprocess of an `EngineWorkflow`; its tasks report to the top workflow's index."""

    def __init__(self, spec: Any, parent_task_id: Any, top_workflow: EngineWorkflow, **kwargs: Any) -> None:
        self._index = top_workflow._index
        super().__init__(spec, parent_task_id, top_workflow, **kwargs)


class EngineWorkflow(IndexedQueries, BpmnWorkflow):  # type: ignore[misc]
    """The workflow every instance runs as."""

    # The most instances one multi-instance activity may create (None: the default of
    # engine/core/multi_instance.py); set with the change's step budget, never stored.
    max_instances: int | None = None

    def __init__(self, spec: Any, subprocess_specs: dict[str, Any] | None = None,
                 script_engine: Any = None, **kwargs: Any) -> None:
        self._index = StateIndex()
        super().__init__(spec, subprocess_specs, script_engine=script_engine, **kwargs)

    def limit_creation(self, budget: CreationBudget) -> None:
        """From now on, count the tasks made (in this workflow and its subprocesses) against `budget`."""
        self._index.creation = budget

    def is_completed(self) -> bool:
        """As SpiffWorkflow's, which walks the tree up to the first unfinished task (in a loop,
        past every finished round); a task of this workflow that waits, is ready or has
        started settles it at once."""
        if any(task.workflow is self for state in INDEXED_STATES for task in self._index.buckets[state]):
            return False
        return bool(super().is_completed())

    def check_index(self) -> None:
        """Compare the whole index with SpiffWorkflow's tree walks: the tasks in each indexed
        state (this workflow and its subprocesses), each workflow's waiting tasks, and
        whether the workflow is completed.

        Raises:
            IndexMismatchError: an answer differs from the walk's.
        """
        for state in INDEXED_STATES:
            found = self._indexed(None, {"state": state})
            walked = list(super().get_tasks_iterator(state=state))
            if found != walked:
                raise _mismatch(f"tasks in state {TaskState.get_name(state)}: index {found}, tree walk {walked}")
        for workflow in [self, *self.subprocesses.values()]:
            waiting = self._index.in_tree_order([task for task in self._index.buckets[TaskState.WAITING]
                                                 if task.workflow is workflow])
            walked = list(TaskIterator(workflow.task_tree, state=TaskState.WAITING))
            if waiting != walked:
                name = workflow.task_tree.task_spec.name
                raise _mismatch(f"waiting tasks of {name}: index {waiting}, tree walk {walked}")
        completed = self.is_completed()
        if completed != bool(super().is_completed()):
            raise _mismatch(f"is_completed: index {completed}, tree walk {not completed}")

    def create_subprocess(self, my_task: Task, spec_name: str) -> EngineSubWorkflow:
        """As `BpmnWorkflow.create_subprocess`, with an indexed subprocess."""
        subprocess = EngineSubWorkflow(self.subprocess_specs[spec_name], parent_task_id=my_task.id, top_workflow=self)
        self.subprocesses[my_task.id] = subprocess
        return subprocess
