"""Camunda 7 and Camunda 8 extension elements, carried over to what the engine runs.

- Input/output mappings (`camunda:inputOutput`, `zeebe:ioMapping`) on tasks become the
  task's pre- and post-scripts (`spiffworkflow:preScript`/`postScript`): an input is set
  before the task runs, an output after it completes. Service tasks are the exception:
  their bindings and mappings are the call itself (`engine.bpmn.service_tasks`).
- `candidateGroups` (and Camunda 8's `assignmentDefinition`) put a task that is in no lane
  into a lane of that name: lanes are how work reaches an agency's staff.
- Call and decision targets written the Camunda 8 way are read into the BPMN attributes.
- Async flags, job priorities and the like are noted: every step here is durable anyway.
- Listeners run Java code this engine does not have: flagged for the analyst.
"""

from __future__ import annotations

import re

from lxml import etree

from engine.bpmn.expression_translation import ExpressionProblem, translate
from engine.bpmn.import_context import BPMN, CAMUNDA, SPIFF, SPIFF_NS, TASKS, ZEEBE, ImportContext, local
from engine.bpmn.juel import is_juel

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ASYNC = ("asyncBefore", "asyncAfter", "exclusive", "jobPriority", "taskPriority", "async")


def extension_root(node: etree._Element) -> etree._Element:
    """The element's `bpmn:extensionElements`, created where the schema puts it when missing."""
    found = node.find(f"{BPMN}extensionElements")
    if found is None:
        found = etree.Element(f"{BPMN}extensionElements")
        documentation = node.findall(f"{BPMN}documentation")
        if documentation:
            documentation[-1].addnext(found)
        else:
            node.insert(0, found)
    return found


def add_script(node: etree._Element, tag: str, lines: list[str]) -> None:
    """Add `lines` to the element's pre- or post-script (`tag`): before a pre-script, after a post-script."""
    extensions = extension_root(node)
    existing = extensions.find(f"{SPIFF}{tag}")
    if existing is None:
        existing = etree.SubElement(extensions, f"{SPIFF}{tag}", nsmap={"spiffworkflow": SPIFF_NS})
        existing.text = ""
    before = (existing.text or "").strip()
    script = "\n".join(lines)
    existing.text = f"{script}\n{before}" if tag == "preScript" and before else (
        f"{before}\n{script}" if before else script)


def camunda_value(node: etree._Element) -> str:
    """Python for one Camunda parameter: text, list, map or script."""
    nested = [c for c in node if isinstance(c.tag, str)]
    if not nested:
        text = node.text or ""
        return translate(text, "juel").python if is_juel(text) else repr(text)
    inner = nested[0]
    kind = local(inner)
    if kind == "list":
        return "[" + ", ".join(camunda_value(v) for v in inner if isinstance(v.tag, str)) + "]"
    if kind == "map":
        return "{" + ", ".join(f"{e.get('key', '')!r}: {camunda_value(e)}" for e in inner
                               if isinstance(e.tag, str)) + "}"
    if kind == "script":
        script_format = (inner.get("scriptFormat") or "").lower()
        if script_format in {"python", "py"} and (inner.text or "").strip():
            return translate(inner.text or "", "python").python
        raise ExpressionProblem(f"a {script_format or 'script'} parameter script cannot run here; "
                                "compute the value in a Python script task")
    raise ExpressionProblem(f"parameter form camunda:{kind} is not supported")


def _mappings(ctx: ImportContext, node: etree._Element) -> None:
    extensions = node.find(f"{BPMN}extensionElements")
    if extensions is None:
        return
    before: list[str] = []
    after: list[str] = []
    notes: list[str] = []
    for parameter in extensions.iterfind(f"{CAMUNDA}inputOutput/*"):
        name = parameter.get("name", "")
        is_input = local(parameter) == "inputParameter"
        if not _IDENTIFIER.match(name):
            # Camunda allows any text as a local variable's name; a script can never read such
            # a variable, so leaving it out changes nothing that runs.
            ctx.mark(node, "needs attention", f"parameter '{name}' is not a variable name a script could use; "
                     "it is not set")
            continue
        try:
            value = camunda_value(parameter)
        except ExpressionProblem as err:
            ctx.mark(node, "unsupported", f"parameter '{name}': {err}")
            continue
        (before if is_input else after).append(f"{name} = {value}")
        notes.append(f"camunda:{local(parameter)} '{name}' → {'pre' if is_input else 'post'}-script `{name} = {value}`")
    for mapping in extensions.iterfind(f"{ZEEBE}ioMapping/*"):
        target, source = mapping.get("target", ""), mapping.get("source", "")
        is_input = local(mapping) == "input"
        if not _IDENTIFIER.match(target):
            ctx.mark(node, "unsupported", f"mapping target '{target}' is not a plain variable name")
            continue
        try:
            value = translate(source).python if source.strip().startswith("=") else repr(source)
        except ExpressionProblem as err:
            ctx.mark(node, "unsupported", f"mapping '{target}': {err}")
            continue
        (before if is_input else after).append(f"{target} = {value}")
        notes.append(f"zeebe:{local(mapping)} '{target}' → {'pre' if is_input else 'post'}-script "
                     f"`{target} = {value}`")
    if not (before or after):
        return
    if local(node) not in TASKS:
        ctx.mark(node, "needs attention", "input/output mappings on this element are not applied; "
                 "set the variables in a script task next to it")
        return
    if before:
        add_script(node, "preScript", before)
    if after:
        add_script(node, "postScript", after)
    ctx.mark(node, "translated", "; ".join(notes))


def _lane_names(process: etree._Element) -> dict[str, str]:
    lanes: dict[str, str] = {}
    for lane in process.iter(f"{BPMN}lane"):
        for ref in lane.iterfind(f"{BPMN}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane.get("name") or lane.get("id", "")
    return lanes


def _lane_for(ctx: ImportContext, process: etree._Element, name: str) -> etree._Element:
    lane_set = process.find(f"{BPMN}laneSet")
    if lane_set is None:
        lane_set = etree.Element(f"{BPMN}laneSet", id=ctx.new_id(process.get("id", ""), "lanes"))
        anchor = None
        for child in process:
            if isinstance(child.tag, str) and local(child) in {"documentation", "extensionElements", "auditing",
                                                               "monitoring", "property"}:
                anchor = child
        if anchor is None:
            process.insert(0, lane_set)
        else:
            anchor.addnext(lane_set)
    for lane in lane_set.iterfind(f"{BPMN}lane"):
        if lane.get("name") == name:
            return lane
    return etree.SubElement(lane_set, f"{BPMN}lane", id=ctx.new_id(process.get("id", ""), "lane"), name=name)


def _assignment(ctx: ImportContext, node: etree._Element, process: etree._Element | None,
                lanes: dict[str, str]) -> None:
    extensions = node.find(f"{BPMN}extensionElements")
    zeebe = extensions.find(f"{ZEEBE}assignmentDefinition") if extensions is not None else None
    groups = node.get(f"{CAMUNDA}candidateGroups") or (zeebe.get("candidateGroups") if zeebe is not None else None)
    assignee = node.get(f"{CAMUNDA}assignee") or (zeebe.get("assignee") if zeebe is not None else None)
    if assignee:
        ctx.mark(node, "translated", f"assignee '{assignee}' noted: staff of the task's agency claim it")
    if not groups:
        return
    group = groups.strip().lstrip("=").strip().strip('"').split(",")[0].strip()
    node_id = node.get("id", "")
    if "${" in groups or not group or not re.match(r"^[\w .-]+$", group):
        ctx.mark(node, "needs attention", f"candidate groups '{groups}' are computed; put the task in a lane instead")
    elif node_id in lanes:
        ctx.mark(node, "translated", f"candidate groups '{groups}' noted; the task's lane '{lanes[node_id]}' decides "
                 "which agency works it")
    elif process is None:
        ctx.mark(node, "needs attention", f"candidate groups '{groups}' inside a subprocess are not mapped to a lane")
    else:
        lane = _lane_for(ctx, process, group)
        etree.SubElement(lane, f"{BPMN}flowNodeRef").text = node_id
        lanes[node_id] = group
        ctx.mark(node, "translated", f"candidate group '{group}' → lane '{group}' (map it to an agency in "
                 "service.toml)")


def _notes(ctx: ImportContext, node: etree._Element) -> None:
    flags = [name for name in _ASYNC if node.get(f"{CAMUNDA}{name}") not in (None, "false")]
    if flags:
        ctx.mark(node, "executes", f"camunda:{', '.join(flags)} noted (harmless: every step is stored)")
    extensions = node.find(f"{BPMN}extensionElements")
    if extensions is None:
        return
    listeners = extensions.findall(f"{CAMUNDA}executionListener") + extensions.findall(f"{CAMUNDA}taskListener")
    listeners += extensions.findall(f"{ZEEBE}executionListeners")
    if listeners:
        ctx.mark(node, "needs attention", f"{len(listeners)} listener(s) are not run: model what they do as tasks")
    if extensions.find(f"{CAMUNDA}formData") is not None:
        fields = len(extensions.findall(f"{CAMUNDA}formData/{CAMUNDA}formField"))
        ctx.mark(node, "translated", f"camunda:formData → a form with {fields} field(s)")
    elif node.get(f"{CAMUNDA}formKey"):
        ctx.mark(node, "needs attention", f"form key '{node.get(f'{CAMUNDA}formKey')}' is not available here; "
                 "the task shows no form (use camunda:formData or a form-js form)")
    for kind in ("formDefinition", "userTaskForm"):
        if extensions.find(f"{ZEEBE}{kind}") is not None:
            ctx.mark(node, "translated", f"zeebe:{kind} → a generated form")


def _called(ctx: ImportContext, node: etree._Element) -> None:
    extensions = node.find(f"{BPMN}extensionElements")
    if extensions is None:
        return
    called = extensions.find(f"{ZEEBE}calledElement")
    if called is not None and called.get("processId") and not node.get("calledElement"):
        process_id = called.get("processId", "").strip()
        node.set("calledElement", process_id.lstrip("=").strip().strip('"'))
        ctx.mark(node, "translated",
                 f"zeebe:calledElement '{process_id}' → calls process '{node.get('calledElement')}'")
    decision = extensions.find(f"{ZEEBE}calledDecision")
    if decision is not None and decision.get("decisionId"):
        decision_id, result = decision.get("decisionId", ""), decision.get("resultVariable", "")
        outputs = ctx.decision_outputs.get(decision_id, [])
        note = f"zeebe:calledDecision '{decision_id}' → decision table"
        if result and _IDENTIFIER.match(result) and outputs:
            # Camunda 8 puts the whole result in one variable: the value of a single output,
            # or an object of all outputs.
            value = outputs[0] if len(outputs) == 1 else "{" + ", ".join(f"{o!r}: {o}" for o in outputs) + "}"
            add_script(node, "postScript", [f"{result} = {value}"])
            note += f", its result in '{result}'"
        ctx.mark(node, "translated", note)
    subscription = extensions.find(f"{ZEEBE}subscription")
    if subscription is not None and subscription.get("correlationKey"):
        ctx.mark(node, "translated", f"zeebe:subscription correlation key '{subscription.get('correlationKey')}'")


def apply(ctx: ImportContext) -> None:
    """Translate the extension elements of every flow node in `ctx`."""
    for process in ctx.root.iterfind(f"{BPMN}process"):
        lanes = _lane_names(process)
        for node in process.iter():
            if not isinstance(node.tag, str) or not node.tag.startswith(BPMN):
                continue
            kind = local(node)
            if kind in TASKS or kind in {"startEvent", "endEvent", "intermediateCatchEvent",
                                         "intermediateThrowEvent", "boundaryEvent", "receiveTask"}:
                if kind != "serviceTask":
                    _mappings(ctx, node)
                _notes(ctx, node)
            if kind in {"userTask", "manualTask"}:
                parent = node.getparent()
                _assignment(ctx, node, process if parent is process else None, lanes)
            if kind in {"callActivity", "businessRuleTask", "receiveTask", "intermediateCatchEvent",
                        "boundaryEvent", "startEvent"}:
                _called(ctx, node)
