"""Elements declared once at the top of a file and used by reference from the processes.

- An event that names a reusable event definition (`eventDefinitionRef` to a definition
  declared at the top of the file) gets its own copy of it; top-level definitions no
  event uses are descriptive only and are left out.
- A message, signal, error or escalation reference to nothing the file declares is
  dropped: a throw (or an error or escalation catch) is the unnamed kind BPMN allows, and it
  is flagged; a message or signal catch could never be reached, so it is refused.
- A call activity that calls a global task (``globalTask``, ``globalUserTask``,
  ``globalManualTask``, ``globalScriptTask``, ``globalBusinessRuleTask``) is that task:
  BPMN's reusable tasks have no process of their own to start.
- ``calledElement`` is a QName: ``bpmn2:order`` calls process ``order`` when the prefix is
  declared in the file.
"""

from __future__ import annotations

import re
from copy import deepcopy

from lxml import etree

from engine.bpmn.import_context import BPMN, ImportContext, is_bpmn, local

_REFERENCES = {
    "messageEventDefinition": ("messageRef", "message"), "receiveTask": ("messageRef", "message"),
    "sendTask": ("messageRef", "message"), "signalEventDefinition": ("signalRef", "signal"),
    "errorEventDefinition": ("errorRef", "error"), "escalationEventDefinition": ("escalationRef", "escalation"),
}
# Global task kind -> the task it runs as.
_GLOBAL_TASKS = {"globalTask": "task", "globalUserTask": "userTask", "globalManualTask": "manualTask",
                 "globalScriptTask": "scriptTask", "globalBusinessRuleTask": "businessRuleTask"}
_QNAME = re.compile(r"^([A-Za-z_][\w.-]*):([A-Za-z_][\w.-]*)$")


def _copy(node: etree._Element, suffix: str) -> etree._Element:
    """A deep copy of `node` whose ids (its own and its descendants') end in `suffix`, so
    copies placed in several elements never share an id."""
    copy = deepcopy(node)
    for element in copy.iter():
        if isinstance(element.tag, str) and element.get("id"):
            element.set("id", f"{element.get('id')}{suffix}")
    return copy


def _event_definitions(ctx: ImportContext) -> None:
    """Copy each top-level event definition into the events that refer to it, then drop them all."""
    shared = {d.get("id"): d for d in ctx.root if is_bpmn(d) and local(d).endswith("EventDefinition")}
    for ref in list(ctx.root.iter(f"{BPMN}eventDefinitionRef")):
        event, target = ref.getparent(), (ref.text or "").strip()
        if event is None:
            continue
        definition = shared.get(target)
        if definition is None:
            ctx.mark(event, "unsupported", f"the event refers to event definition '{target}', which this "
                     "file does not declare")
            continue
        event.replace(ref, _copy(definition, f"__{event.get('id')}"))
        ctx.mark(event, "translated", f"the reusable {local(definition)} '{target}' is copied into the event")
    for definition in shared.values():
        ctx.root.remove(definition)


def _waits(node: etree._Element) -> bool:
    """Whether `node` (a receive task or an event definition) catches rather than throws."""
    event = node.getparent() if local(node).endswith("EventDefinition") else node
    return event is not None and local(event) in ("receiveTask", "startEvent", "intermediateCatchEvent",
                                                  "boundaryEvent")


def _dangling_references(ctx: ImportContext) -> None:
    """Drop references to messages, signals, errors and escalations the file does not declare."""
    declared = {(local(n), n.get("id")) for n in ctx.root if is_bpmn(n)}
    for node in list(ctx.root.iter()):
        if not is_bpmn(node) or local(node) not in _REFERENCES:
            continue
        attribute, kind = _REFERENCES[local(node)]
        target = node.get(attribute)
        if target is None or (kind, target.split(":")[-1]) in declared or (kind, target) in declared:
            continue
        del node.attrib[attribute]
        if kind in ("message", "signal") and _waits(node):
            ctx.mark(node, "unsupported", f"waits for {kind} '{target}', which this file does not declare; "
                     f"declare the {kind} so it can be sent")
        else:
            ctx.mark(node, "needs attention", f"{attribute} '{target}' names no {kind} declared in this file: "
                     f"it is treated as an unnamed {kind}; declare the {kind} to give it a name")


def _local_name(call: etree._Element, called: str) -> str:
    """The id a QName-valued calledElement names (a declared prefix is not part of it)."""
    match = _QNAME.match(called)
    return match.group(2) if match and match.group(1) in (call.nsmap or {}) else called


def _as_task(call: etree._Element, task: etree._Element) -> None:
    """Turn call activity `call` into the task global task `task` describes, keeping its flow."""
    call.tag = f"{BPMN}{_GLOBAL_TASKS[local(task)]}"
    del call.attrib["calledElement"]
    for name, value in task.attrib.items():
        if name not in ("id", "name") and call.get(name) is None:
            call.set(name, value)
    if call.get("name") is None and task.get("name"):
        call.set("name", str(task.get("name")))
    # The script, extension elements and resource roles of the global task come along.
    for child in task:
        if isinstance(child.tag, str) and not is_bpmn(child, "documentation"):
            call.append(_copy(child, f"__{call.get('id')}"))


def _global_tasks(ctx: ImportContext) -> None:
    tasks = {t.get("id"): t for t in ctx.root if is_bpmn(t) and local(t) in _GLOBAL_TASKS}
    for call in list(ctx.root.iter(f"{BPMN}callActivity")):
        called = call.get("calledElement")
        if not called:
            continue
        target = _local_name(call, called)
        task = tasks.get(target)
        if task is not None:
            _as_task(call, task)
            ctx.mark(call, "translated", f"calls the {local(task)} '{target}': it runs as a "
                     f"{_GLOBAL_TASKS[local(task)]} here")
        elif target != called:
            call.set("calledElement", target)
            ctx.mark(call, "translated", f"calledElement '{called}' is the process '{target}'")
    for task in tasks.values():
        ctx.root.remove(task)


def apply(ctx: ImportContext) -> None:
    """Resolve the file's reusable elements for every process in `ctx`."""
    _event_definitions(ctx)
    _dangling_references(ctx)
    _global_tasks(ctx)
