"""Parallel joins that look only at their own tasks.

SpiffWorkflow 3.2's parallel gateway decides whether it may fire by listing every task of
the instance with its name (a walk of the whole tree), and checks ancestry by climbing
the parent chain one task at a time; updating and running it scan the workflow's whole
task table again. In a loop through a parallel split and join, each round repeats all of
that over a tree that grows every round.

Here the join asks its workflow's `TaskTable` for the tasks of its own spec (kept as they
are created) and ancestry comes from the index's jump pointers (`EngineTask`). The rules
are the library's: a join waits until one token has arrived on each incoming flow, and
tasks of later rounds only mark their own branch as arrived. Three differences, on purpose:
only tasks of this join's own workflow count, never a same-named gateway of another
process; tokens consumed by an earlier firing (a previous round of a loop) are not counted
again, where SpiffWorkflow would take a branch of the previous round as arrived and fire
before this round's branch ends; and the data after the join keeps what each branch
changed (see `_merged`).
"""

from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from engine.core.spiff_compat import HookedParallelGateway, drop_children, force_state, take_parent_data
from engine.core.workflow import TaskTable


def _same_spec(spec: Any, my_task: Any) -> list[Any]:
    table = my_task.workflow.tasks
    if isinstance(table, TaskTable):
        return table.of_spec(spec)
    return [t for t in table.values() if t.task_spec == spec]


def _this_round(spec: Any, my_task: Any) -> list[Any]:
    """The tasks of this join that changed since its previous firing above `my_task`.

    A firing consumes the tokens that had arrived; in a loop, everything that settled
    before the previous round's firing belongs to earlier rounds (the branches it joined
    were cancelled or completed before it completed). Tasks are kept in creation order and
    each round's tasks are created after the previous firing's, so that firing is found by
    looking back from the newest.
    """
    same = _same_spec(spec, my_task)
    for position in range(len(same) - 1, -1, -1):
        task = same[position]
        if task is not my_task and task.state == TaskState.COMPLETED and my_task.is_descendant_of(task):
            fired = task.last_state_change
            return [t for t in same[position + 1:] if t.last_state_change > fired]
    return same


def _arrived_from(task: Any, waiting: set[Any]) -> None:
    """Mark the incoming flow `task` came by as arrived (the nearest input spec above it)."""
    current = task
    while current is not None and waiting:  # with nothing left to find, the climb would change nothing
        if current.task_spec in waiting:
            waiting.discard(current.task_spec)
            return
        current = current.parent


class EngineParallelGateway(HookedParallelGateway):
    """A parallel gateway whose join costs no walk of the whole instance."""

    def may_fire(self, my_task: Any) -> bool:
        """Whether a token has arrived on each incoming flow of this round."""
        waiting = set(self.inputs)
        for task in _this_round(self, my_task):
            if task.is_descendant_of(my_task):
                # A later round of a loop: its branch has been reached before this join fires.
                _arrived_from(task, waiting)
            elif my_task.is_descendant_of(task):
                continue  # an earlier round: its tokens were consumed then
            elif task.parent is not None and task.parent.state == TaskState.COMPLETED:
                waiting.discard(task.parent.task_spec)
        return not waiting

    def join_update(self, my_task: Any) -> bool:
        """Fire when every flow has a token, else wait (one waiting task per join)."""
        may_fire = self.may_fire(my_task)
        # One waiting task per join is enough; the others would only be updated in vain.
        for task in _this_round(self, my_task):
            if task is not my_task and task.state is TaskState.WAITING:
                task.cancel()
        if may_fire:
            take_parent_data(my_task)
        else:
            force_state(my_task, TaskState.WAITING)
        return bool(may_fire)

    def join_run(self, my_task: Any) -> bool:
        """Merge what the branches of this round changed (SpiffWorkflow would merge every
        earlier round's branches too)."""
        arrived = sorted((t for t in _this_round(self, my_task)
                          if t.has_state(TaskState.FINISHED_MASK) and not my_task.is_descendant_of(t)),
                         key=lambda t: t.last_state_change)
        branches = [t.parent for t in arrived if t.parent is not None] + [my_task.parent]
        my_task.data = _merged(my_task, branches)
        for task in arrived:
            if task.has_state(TaskState.COMPLETED):
                # Left over when an instance is reset into a branch that had been cancelled.
                drop_children(task)
        return True


def _merged(my_task: Any, branches: list[Any]) -> dict[str, Any]:
    """The data after the join: what each branch changed since the split, in the order the
    branches arrived (this one last).

    SpiffWorkflow lays whole branch copies over each other, so a variable one branch set
    is overwritten by the stale copy another branch carried from before the split (in a
    loop, from the previous round). Only what a branch changed counts here; when two
    branches change the same variable, the later one wins.
    """
    table = my_task.workflow.tasks
    if not isinstance(table, TaskTable):
        data: dict[str, Any] = {}
        for branch in branches:
            DeepMerge.merge(data, branch.data)
        return data
    split = branches[-1]
    for branch in branches[:-1]:
        split = table.index.common_ancestor(split, branch)
    base = split.data
    data = copy.deepcopy(base)
    for branch in branches:
        for key, value in branch.data.items():
            if key not in base or base[key] != value:
                data[key] = copy.deepcopy(value)
    return data
