"""Multi-instance activities that count their instances before they create any.

SpiffWorkflow creates every instance of a parallel multi-instance activity in one step, from
a loop cardinality or an input collection of any size: ``loopCardinality`` 50000 built
50,000 tasks (and grew the state past 20 MB) before any limit could look. Here the count is
known first, and a count over the instance's budget fails the activity, naming it, before
a single instance exists. A sequential activity is bounded the same way, so the two read
the same to an analyst (its instances would also meet the step budget one by one).
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.spiff.specs.defaults import ParallelMultiInstanceTask, SequentialMultiInstanceTask

from engine.core.spiff_compat import sequential_instance_count

# Used when the workflow carries no budget of its own (a model checked outside a server).
DEFAULT_MAX_INSTANCES = 10_000


def max_instances(my_task: Any) -> int:
    """The most instances one multi-instance activity of this workflow may create."""
    top = getattr(my_task.workflow, "top_workflow", my_task.workflow)
    limit = getattr(top, "max_instances", None)
    return int(limit) if limit is not None else DEFAULT_MAX_INSTANCES


def _planned(spec: Any, my_task: Any) -> Any:
    """How many instances the activity is about to create, or None when it cannot say."""
    if spec.data_input is not None:
        if not spec.data_input.exists(my_task):
            return None  # SpiffWorkflow reports the missing input itself
        items = spec.data_input.get(my_task)
        return len(items) if isinstance(items, Sized) else None
    if spec.cardinality is None:
        return None
    return my_task.workflow.script_engine.evaluate(my_task, spec.cardinality)


def _refuse_over_limit(my_task: Any, count: Any) -> None:
    limit = max_instances(my_task)
    if isinstance(count, int) and count > limit:
        raise WorkflowTaskException(
            f"this multi-instance activity would create {count:,} instances, over the limit of {limit:,} "
            "(PANJEREH_MAX_STEPS_PER_CHANGE)", task=my_task)


class BoundedParallelMultiInstance(ParallelMultiInstanceTask):  # type: ignore[misc]
    """A parallel multi-instance activity refused before it creates more instances than allowed."""

    def create_children(self, my_task: Any) -> None:
        _refuse_over_limit(my_task, _planned(self, my_task))
        super().create_children(my_task)


class BoundedSequentialMultiInstance(SequentialMultiInstanceTask):  # type: ignore[misc]
    """A sequential multi-instance activity with the same bound as a parallel one, checked
    before its first instance (SpiffWorkflow has counted them by then)."""

    def add_next_child(self, my_task: Any) -> None:
        count = sequential_instance_count(my_task)
        if count is not None:
            _refuse_over_limit(my_task, count)
        super().add_next_child(my_task)


def bounded(parser_class: type) -> type:
    """`parser_class`, building bounded multi-instance activities; other parsers unchanged."""
    if not issubclass(parser_class, TaskParser):
        return parser_class
    return type(parser_class.__name__, (parser_class,), {
        "PARALLEL_MI_CLASS": BoundedParallelMultiInstance,
        "SEQUENTIAL_MI_CLASS": BoundedSequentialMultiInstance,
        "__module__": __name__,
    })
