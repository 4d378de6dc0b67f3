"""Every use of SpiffWorkflow's internals, in one place, for the one version it was read from.

The rest of the engine uses SpiffWorkflow's public API (classes, public methods and
attributes) plus what this module exports; `tests/core/test_spiff_wall.py` holds that true.
Everything here rests on SpiffWorkflow 3.2.0's source as it is, not as documented: private
attributes (`Task._state`, `_parent`, `_children`), private hooks (`_update_hook`,
`_run_hook`, `_on_complete_hook`, `_execute`, `_index_process_nodes`, `_create_task`),
private helpers (`_update`, `_inherit_data`, `_set_state`, `_drop_children`,
`_set_internal_data`), keys of `internal_data` the library writes for itself
(`event_value`, `cardinality`, `remaining`, `merged`), the positional defaults of the task
iterators, and Python frames. Each is a function or a small class below, with the limit
of the library it works around and a reproduction.

The import fails on any other SpiffWorkflow version (`SUPPORTED_VERSIONS`), so an upgrade is
a decision: read each patch against the new source, run the engine's tests with
`--cross-check-index`, then add the version. The patches that SpiffWorkflow could take
itself are offered upstream in docs/upstream/.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib.metadata import version
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway, StartEvent
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.spiff.parser.event_parsers import SpiffStartEventParser
from SpiffWorkflow.spiff.parser.process import SpiffProcessParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator

SUPPORTED_VERSIONS = ("3.2.0",)


class UnsupportedSpiffWorkflow(ImportError):
    """The installed SpiffWorkflow is not a version this module was written for."""


def check_version(installed: str) -> None:
    """Refuse to run on a SpiffWorkflow this module was not written for.

    Raises:
        UnsupportedSpiffWorkflow: `installed` is not in `SUPPORTED_VERSIONS`.
    """
    if installed not in SUPPORTED_VERSIONS:
        raise UnsupportedSpiffWorkflow(
            f"engine/core/spiff_compat.py was written for SpiffWorkflow {', '.join(SUPPORTED_VERSIONS)}, "
            f"but {installed} is installed. That module patches the library's internals (task iterator "
            "defaults, Task._state, the parallel join's and the service task's private hooks, the process "
            "and start event parsers, cycle timers' internal data, multi-instance counters); re-check each "
            "patch against the new source, run tests/core, tests/behaviour, tests/events and "
            "tests/test_designer_exports.py with --cross-check-index, then add the version to "
            "SUPPORTED_VERSIONS.")


check_version(version("SpiffWorkflow"))


# --- Task iterators: depth ---------------------------------------------------------------

# TaskIterator and BpmnTaskIterator stop descending at depth 1000, and SpiffWorkflow builds
# them in a dozen places (Workflow.is_completed, the joins, get_tasks...) without a depth.
# A gateway loop adds about three levels a round, so past ~330 rounds the walk misses the
# live tasks: reproduction, tests/models/loops/gateway_loop.bpmn with rounds=400 makes
# `is_completed()` return True with empty data. Tree size is bounded elsewhere (the step
# budget per change), so the depth limit only hides tasks.
ITERATOR_MAX_DEPTH = 10**6


def _lift_max_depth(init: Callable[..., Any]) -> None:
    # By name, not by position: the defaults tuple is positional, and a reordered signature
    # in a later release must fail here rather than change another parameter's default.
    with_defaults = [p.name for p in inspect.signature(init).parameters.values()
                     if p.default is not inspect.Parameter.empty]
    defaults = list(init.__defaults__ or ())
    if "max_depth" not in with_defaults or len(defaults) != len(with_defaults):
        raise UnsupportedSpiffWorkflow(f"{init.__qualname__} has no positional max_depth default any more")
    defaults[with_defaults.index("max_depth")] = ITERATOR_MAX_DEPTH
    init.__defaults__ = tuple(defaults)


_lift_max_depth(TaskIterator.__init__)
_lift_max_depth(BpmnTaskIterator.__init__)


# --- Tasks: state changes, tree links, class ----------------------------------------------

class StateObservedTask(Task):  # type: ignore[misc]
    """A task that calls `state_changed` whenever its state changes, however it is set.

    SpiffWorkflow assigns `Task._state` directly (the constructor, `_set_state`, the
    serializer's TaskConverter) and offers no hook, so the state index of
    engine/core/workflow.py could not otherwise see every change. Reproduction of why an
    index is needed at all: gateway_loop.bpmn with 2,000 rounds takes 27 s in one
    `do_engine_steps`, each step walking the whole tree for READY and WAITING tasks.
    """

    @property
    def _state(self) -> int:
        state: int = self.__dict__["_state"]
        return state

    @_state.setter
    def _state(self, value: int) -> None:
        old = self.__dict__.get("_state")
        self.__dict__["_state"] = value
        if old != value:
            self.state_changed(old, value)

    def state_changed(self, old: int | None, new: int) -> None:
        """Called after the state changed from `old` (None: the task is new) to `new`."""


def observe(task: Task, observed: type[StateObservedTask]) -> None:
    """Make a task SpiffWorkflow built into an `observed` task, before it has a state.

    SpiffWorkflow constructs plain `Task`s itself (`Task._add_child`, the serializer), with
    no factory to substitute; the first thing a new task does is enter its workflow's
    `tasks` mapping, which is where this is called.
    """
    if type(task) is Task:
        task.__class__ = observed


def stored_state(task: Task) -> int | None:
    """The task's state, or None while SpiffWorkflow's constructor has not set it yet."""
    state: int | None = task.__dict__.get("_state")
    return state


def has_spec(task: Task) -> bool:
    """Whether the constructor has set the task's spec yet (it enters the table before)."""
    return "task_spec" in task.__dict__


def parent_id(task: Task) -> Any:
    """The id of the task's parent, None for the root of a (sub)workflow.

    `Task.parent` also answers None when the parent is no longer in the table; the tree
    walk of the index must tell the two apart.
    """
    return task._parent


def child_position(parent: Task, child: Task) -> int:
    """Where `child` stands among `parent`'s children (`Task.children` would build every
    child's object to find one)."""
    return int(parent._children.index(child.id))


def update_task(task: Task) -> None:
    """Let the task's spec re-evaluate a waiting task (a join, a catch event, a timer).

    `Workflow.update_waiting_tasks` does this for every WAITING task of a tree walk; there
    is no public call for one task, which the index (and delivering one event) needs.
    """
    task.task_spec._update(task)


# --- Parallel joins -----------------------------------------------------------------------

class HookedParallelGateway(ParallelGateway):  # type: ignore[misc]
    """A parallel gateway whose join is decided by public methods: `join_update` (may the
    join fire now?) and `join_run` (what data leaves it).

    SpiffWorkflow's join lists every task of the instance by name on each update and run,
    counts a previous loop round's tokens again, and lays whole branch copies over each
    other; engine/core/joins.py replaces both hooks. Reproduction: a parallel split and join
    inside a loop fires in round 2 before the round's second branch ends
    (tests/core/test_parallel_joins.py). Upstream proposal: docs/upstream/parallel-join.md.
    """

    def _update_hook(self, my_task: Task) -> bool:
        return bool(self.join_update(my_task))

    def _run_hook(self, my_task: Task) -> bool:
        return bool(self.join_run(my_task))

    def join_update(self, my_task: Task) -> bool:
        """SpiffWorkflow's decision; a subclass overrides it."""
        return bool(super()._update_hook(my_task))

    def join_run(self, my_task: Task) -> bool:
        """SpiffWorkflow's merge; a subclass overrides it."""
        return bool(super()._run_hook(my_task))


def take_parent_data(task: Task) -> None:
    """The task's data becomes a copy of its parent's (what a join that fires starts from)."""
    task._inherit_data()


def force_state(task: Task, state: int) -> None:
    """Set a state the public setter refuses (it never moves a task back, e.g. READY to
    WAITING, which a join that may not fire yet needs)."""
    task._set_state(state)


def drop_children(task: Task) -> None:
    """Remove every child of the task from the tree, finished ones included (a join does this
    for a branch left over when an instance is reset into a cancelled branch)."""
    task._drop_children(force=True)


# --- Service tasks ------------------------------------------------------------------------

class HookedServiceTask(ServiceTask):  # type: ignore[misc]
    """A spiff service task whose call and completion are public methods.

    SpiffWorkflow's service task calls `script_engine.call_service` synchronously inside
    `do_engine_steps` (`_execute`); the engine parks it instead (engine/core/parser.py).
    Reproduction: a serviceTask with a `serviceTaskOperator` calls the connector while the
    instance's row is locked, and a slow connector holds the transaction.
    """

    def _execute(self, my_task: Task) -> Any:
        return self.execute_call(my_task)

    def _on_complete_hook(self, my_task: Task) -> None:
        self.on_complete(my_task)

    def execute_call(self, my_task: Task) -> Any:
        """SpiffWorkflow's call; a subclass overrides it."""
        return super()._execute(my_task)

    def on_complete(self, my_task: Task) -> None:
        """SpiffWorkflow's completion (post-script, then outputs); a subclass overrides it."""
        super()._on_complete_hook(my_task)

    def complete_without_postscript(self, my_task: Task) -> None:
        """The completion of a BPMN task, skipping the post-script of SpiffBpmnTask (for a
        subclass that has already run it with the service's answer in reach)."""
        super(SpiffBpmnTask, self)._on_complete_hook(my_task)


# --- Start events and parsers -------------------------------------------------------------

class HookedStartEvent(StartEvent):  # type: ignore[misc]
    """A start event whose run is the public `on_run`.

    SpiffWorkflow never interrupts for an interrupting event subprocess: the rest of the
    process runs on beside the handler (engine/core/event_subprocesses.py). Reproduction: an
    error event subprocess with isInterrupting="true" catches an error while a user task of
    the process stays READY.
    """

    def _run_hook(self, my_task: Task) -> Any:
        return self.on_run(my_task)

    def on_run(self, my_task: Task) -> Any:
        """SpiffWorkflow's run; a subclass overrides it."""
        return super()._run_hook(my_task)


class HookedStartEventParser(SpiffStartEventParser):  # type: ignore[misc]
    """A start event parser that may build its task from any event definition.

    SpiffWorkflow reads only message, signal, timer and conditional definitions on a start
    event, and builds the task in the private `_create_task`. Reproduction: an event
    subprocess started by an error start event runs as soon as the process starts.
    """

    def build_event_task(self, event_definition: Any) -> Any:
        """The start event's task spec for `event_definition` (correlation keys registered)."""
        return self._create_task(event_definition)


class HookedProcessParser(SpiffProcessParser):  # type: ignore[misc]
    """A process parser whose element index is the public `index_process_nodes`.

    SpiffWorkflow indexes every element with an id anywhere under the process and takes any
    tag ending in "sequenceFlow" for a flow, whatever its namespace. Reproduction: an
    extension element `<x:sequenceFlow sourceRef="a" targetRef="b"/>` inside
    `extensionElements` becomes a flow the engine follows and no modeler shows.
    """

    def _index_process_nodes(self) -> None:
        self.index_process_nodes()

    def index_process_nodes(self) -> None:
        """SpiffWorkflow's index; a subclass overrides it."""
        super()._index_process_nodes()


# --- Timers -------------------------------------------------------------------------------

# Far enough back that SpiffWorkflow's "due before now" holds whatever the clock says.
_BACKDATE = timedelta(days=365 * 100)
_TIMER_VALUE = "event_value"


def timer_value(task: Any) -> Any:
    """What SpiffWorkflow stored for a waiting timer: an ISO date-time for date and duration
    timers, {"cycles", "next", "duration"} for a cycle; None before the timer was evaluated."""
    return task.internal_data.get(_TIMER_VALUE)


def restore_timer_value(task: Any, value: Any) -> None:
    """Put back what a waiting timer had stored (`timer_value`), after its task was reset.

    Moving an instance to another version resets every waiting task
    (`SpiffWorkflow.bpmn.util.diff.migrate_workflow` calls `Task.reset_branch`), which clears
    its internal data and evaluates the timer again: a ten-day deadline would count ten days
    from the migration. Reproduction: migrate an instance whose user task carries a
    duration boundary timer; the timer's due time moves to the migration's time plus the
    duration (tests/core/test_migration.py). Upstream proposal: docs/upstream/migrate-workflow.md.
    """
    task.internal_data[_TIMER_VALUE] = value


def fire_cycle_now(task: Any) -> None:
    """Let a cycle timer spawn its next branch now, whatever its stored due time.

    A cycle decides it is due by comparing its stored next time with the wall clock inside
    `CycleTimerEventDefinition.cycle_complete`, and has no "fired" flag to set. Reproduction:
    a boundary timer "R3/PT1H" cannot be fired by the service layer (whose timer row is due)
    before the hour has passed on this machine's clock. The next time is moved into the
    past for the one update that spawns the branch and counts the cycle, then back.
    """
    value = task.internal_data[_TIMER_VALUE]
    value["next"] = (datetime.fromisoformat(value["next"]) - _BACKDATE).isoformat()
    update_task(task)
    after = task.internal_data.get(_TIMER_VALUE)
    if isinstance(after, dict) and "next" in after:
        after["next"] = (datetime.fromisoformat(after["next"]) + _BACKDATE).isoformat()


def end_cycle(task: Any) -> None:
    """Count a cycle timer as having no cycles left (its next update completes it)."""
    task.internal_data[_TIMER_VALUE]["cycles"] = 0


def cycle_timer(value: Any) -> bool:
    """Whether a stored timer value is a cycle with cycles left."""
    return isinstance(value, dict) and value.get("cycles") != 0


def mark_event_fired(task: Any) -> None:
    """Record on a catch task that its event arrived (its next update completes it).

    Used when the engine hands a message's payload over itself because the correlation came
    beside the payload: SpiffWorkflow's `catch` would recompute the correlation from the
    payload and refuse it. Reproduction: POST a message with `correlation` and a payload
    without the correlation property.
    """
    task._set_internal_data(event_fired=True)


# --- Multi-instance -----------------------------------------------------------------------

def sequential_instance_count(my_task: Any) -> Any:
    """How many instances a sequential multi-instance activity will run, once SpiffWorkflow
    has counted them (None before, or once the instances are merged).

    The count lives only in the task's internal data, under keys SpiffWorkflow chose:
    "cardinality" for a loop cardinality, "remaining" for an input collection.
    """
    known = my_task.internal_data
    if known.get("merged"):
        return None
    if "cardinality" in known:
        return known["cardinality"]
    return len(known.get("remaining", ()))


# --- Errors -------------------------------------------------------------------------------

def task_on_traceback(err: BaseException) -> Any:
    """The innermost SpiffWorkflow task on the traceback of `err`, if any.

    SpiffWorkflow lets plain errors out of its own code without the task they happened in
    (a multi-instance whose input is not a collection, a join meeting bad data: a bare
    TypeError or KeyError), so the failing task is found from the frames' local variables.
    Reproduction: a parallel multi-instance whose loopDataInputRef holds the number 5 fails
    with a bare TypeError ("'int' object is not iterable") that names no task.
    """
    found = None
    trace = err.__traceback__
    while trace is not None:
        for name in ("my_task", "task", "self"):
            candidate = trace.tb_frame.f_locals.get(name)
            if isinstance(candidate, Task):
                found = candidate
                break
        trace = trace.tb_next
    return found
