"""Deploy-time checks for what SpiffWorkflow 3.2 would accept but run wrongly.

The library parses several constructs into something that silently does nothing (link
events, compensation throws, a lone conditional flow) or crashes at run time
(ad-hoc subprocesses). A citizen's case must never "complete" because a model was
misread, so these are refused here with the element and line, before any instance runs.
"""

from __future__ import annotations

from lxml import etree

from engine.core.expression_checks import expression_problem
from engine.core.report import Report, shown

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
PYTHON_SCRIPT_FORMATS = {"", "python", "text/x-python", "text/python", "py"}

_UNSUPPORTED = {
    "linkEventDefinition": "link events are not supported: the engine would end the path at the "
    "throw event instead of jumping to the catch event; connect the flow directly",
    "compensateEventDefinition": "compensation events are not supported; model the undo step "
    "explicitly with an error boundary event or a gateway",
    "complexGateway": "complex gateways are not supported; use exclusive, inclusive or parallel gateways",
    "adHocSubProcess": "ad-hoc subprocesses are not supported; use an embedded subprocess",
}
_GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _owner(node: etree._Element) -> etree._Element:
    """The nearest ancestor with an id: the element an analyst can find in the modeler."""
    current: etree._Element | None = node
    while current is not None and not current.get("id"):
        current = current.getparent()
    return current if current is not None else node


def _check_flows(process: etree._Element, file: str, report: Report) -> None:
    # BPMN elements only, as the parser indexes them: an extension element may carry any id.
    by_id = {node.get("id"): node for node in process.iter(f"{BPMN}*") if node.get("id")}
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in process.iter(f"{BPMN}sequenceFlow"):
        ends = [by_id.get(flow.get("sourceRef")), by_id.get(flow.get("targetRef"))]
        crossing = next((n for n in ends if n is not None and n.getparent() is not flow.getparent()), None)
        if crossing is not None:
            # Another scope's element: SpiffWorkflow would count it as a second way out of its source.
            report.error(f"sequence flow '{flow.get('name') or flow.get('id')}' crosses the boundary of a subprocess "
                         f"('{crossing.get('name') or crossing.get('id')}' is on the other side); a flow stays "
                         "in one process or subprocess: end the subprocess and continue from it",
                         file, flow.get("id", ""), flow.sourceline)
            continue
        outgoing.setdefault(flow.get("sourceRef", ""), []).append(flow)
    for source_id, flows in outgoing.items():
        source = by_id.get(source_id)
        if source is None or _local(source) in _GATEWAYS:
            continue
        conditional = [f for f in flows if f.find(f"{BPMN}conditionExpression") is not None]
        if conditional:
            report.error(
                "a condition on a flow leaving an activity or event is not supported; "
                "put an exclusive or inclusive gateway after it and move the condition there",
                file, conditional[0].get("id", ""), conditional[0].sourceline)
        elif len(flows) > 1:
            report.error(
                f"'{source.get('name') or source_id}' has {len(flows)} outgoing flows; "
                "split explicitly with a parallel gateway",
                file, source_id, source.sourceline)


def _check_expressions(process: etree._Element, file: str, report: Report) -> None:
    for script_task in process.iter(f"{BPMN}scriptTask"):
        task_id = script_task.get("id", "")
        script_format = (script_task.get("scriptFormat") or "").strip().lower()
        if script_format not in PYTHON_SCRIPT_FORMATS:
            report.error(f"script format '{script_format}' is not supported; scripts are Python",
                         file, task_id, script_task.sourceline)
            continue
        script = script_task.find(f"{BPMN}script")
        if script is not None and (script.text or "").strip():
            problem = expression_problem(script.text or "", "exec")
            if problem:
                report.error(f"script: {problem}", file, task_id, script.sourceline)
    for tag in ("preScript", "postScript"):
        for node in process.iter(f"{SPIFF}{tag}"):
            if (node.text or "").strip():
                problem = expression_problem(node.text or "", "exec")
                if problem:
                    report.error(f"{tag}: {problem}", file, _owner(node).get("id", ""), node.sourceline)
    for condition in process.iter(f"{BPMN}conditionExpression"):
        text = (condition.text or "").strip()
        flow = condition.getparent()
        flow_id = flow.get("id", "") if flow is not None else ""
        if not text:
            report.error("condition is empty", file, flow_id, condition.sourceline)
            continue
        problem = expression_problem(text, "eval")
        if problem:
            report.error(f"condition '{shown(text)}': {problem}", file, flow_id, condition.sourceline)


def _check_defaults(root: etree._Element, file: str, report: Report) -> None:
    flows = {f.get("id"): f for f in root.iter(f"{BPMN}sequenceFlow")}
    for gateway in root.iter(f"{BPMN}exclusiveGateway", f"{BPMN}inclusiveGateway"):
        default = flows.get(gateway.get("default"))
        if default is not None and default.find(f"{BPMN}conditionExpression") is not None:
            report.warning("the default flow has a condition, which is ignored: a default flow is taken "
                           "only when no other condition holds", file, default.get("id", ""), default.sourceline)


def _runs(node: etree._Element) -> bool:
    """Whether `node` belongs to a process that may run (descriptive processes are only drawn)."""
    for ancestor in node.iterancestors(f"{BPMN}process"):
        return str(ancestor.get("isExecutable", "true")).strip().lower() != "false"
    return _local(node) != "process" or node.get("isExecutable", "true").strip().lower() != "false"


def check_model(root: etree._Element, file: str, report: Report) -> None:
    """Add to `report` every construct in `root` the engine would not run faithfully."""
    for node in root.iter():
        message = _UNSUPPORTED.get(_local(node))
        if message and _runs(node):
            owner = _owner(node)
            report.error(message, file, owner.get("id", ""), owner.sourceline)
    for node in root.iter(f"{BPMN}startEvent"):
        if node.find(f"{BPMN}timerEventDefinition") is not None and _local(node.getparent()) == "process":
            report.warning("a timer start event starts a new instance each time it fires (only the newest "
                           "deployed version is scheduled); an instance started by hand first waits for "
                           "the timer", file, node.get("id", ""), node.sourceline)
    # Camunda 8's zeebe:calledElement has been copied into calledElement by now (calls.name_zeebe_callees).
    for call in root.iter(f"{BPMN}callActivity"):
        if not (call.get("calledElement") or "").strip() and _runs(call):
            report.error(f"call activity '{call.get('name') or call.get('id')}' names no process to call; set "
                         "calledElement to the id of the process it starts", file, call.get("id", ""),
                         call.sourceline)
    for process in root.iter(f"{BPMN}process", f"{BPMN}subProcess", f"{BPMN}transaction"):
        if _runs(process):
            _check_flows(process, file, report)
    for process in root.iterfind(f"{BPMN}process"):
        if _runs(process):
            _check_expressions(process, file, report)
    _check_defaults(root, file, report)
