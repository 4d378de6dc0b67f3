"""Event subprocesses started by an error or an escalation, and the interruption they cause.

SpiffWorkflow 3.2 reads only message, signal, timer and conditional definitions on a
start event: an error or escalation start event of an event subprocess is taken for a
plain start, so the handler runs as soon as the process starts, whether or not anything
went wrong. It also never interrupts: the rest of the process runs on beside a handler
that BPMN says replaces it. Both are put right here, in the parser and in the start
event's spec.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.event_parsers import (
    CONDITIONAL_EVENT_XPATH,
    ERROR_EVENT_XPATH,
    ESCALATION_EVENT_XPATH,
    MESSAGE_EVENT_XPATH,
    SIGNAL_EVENT_XPATH,
    TIMER_EVENT_XPATH,
)
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.core.spiff_compat import HookedStartEvent, HookedStartEventParser

_START_DEFINITIONS = [MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, TIMER_EVENT_XPATH, CONDITIONAL_EVENT_XPATH,
                      ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH]


class EventStart(HookedStartEvent):
    """A start event; in an interrupting event subprocess, starting cancels the rest of its scope."""

    interrupting = False

    def on_run(self, my_task: Any) -> Any:
        """Start; when interrupting, cancel the rest of the scope."""
        result = super().on_run(my_task)
        if self.interrupting:
            _interrupt(my_task)
        return result


def _interrupt(start: Any) -> None:
    """Cancel what still runs in the scope around the event subprocess `start` belongs to."""
    handler_workflow = start.workflow
    host = handler_workflow.parent_workflow
    host_task = host.get_task_from_id(handler_workflow.parent_task_id) if host is not None else None
    if host_task is None:
        return
    keep = {host_task.id}
    ancestor = host_task.parent
    while ancestor is not None:
        keep.add(ancestor.id)
        ancestor = ancestor.parent
    for task in host.get_tasks(state=TaskState.NOT_FINISHED_MASK):
        # The handler's own tasks belong to another workflow, though the iteration yields them too.
        if task.workflow is not host or task.id in keep or _below(task, host_task):
            continue
        parent = task.parent
        if parent is not None and parent.id not in keep and not parent.has_state(TaskState.FINISHED_MASK):
            continue  # cancelling its parent takes it too
        task.cancel()


def _below(task: Any, root: Any) -> bool:
    current = task.parent
    while current is not None:
        if current.id == root.id:
            return True
        current = current.parent
    return False


class EventStartParser(HookedStartEventParser):
    """Reads every start event definition, error and escalation included."""

    def create_task(self) -> Any:
        task = self.build_event_task(self.get_event_definition(_START_DEFINITIONS))
        self.spec.start.connect(task)
        parent = self.node.getparent()
        in_event_subprocess = parent is not None and parent.get("triggeredByEvent") == "true"
        task.interrupting = in_event_subprocess and self.node.get("isInterrupting", "true") != "false"
        return task


def uncaught_error(workflow: Any) -> str | None:
    """Why the instance must stop, when a BPMN error was thrown that no event caught.

    SpiffWorkflow files an uncaught error with the events for the host to route and lets the
    path end as if nothing happened; an error end event at the top would even "complete" the
    case. BPMN says an uncaught error ends the instance abnormally.
    """
    for event in workflow.bpmn_events:
        definition = event.event_definition
        if isinstance(definition, ErrorEventDefinition):
            code = f" (code '{definition.code}')" if definition.code else ""
            return (f"the error '{definition.name or definition.code}'{code} was thrown and no error event "
                    "catches it; the instance stops here")
    return None
