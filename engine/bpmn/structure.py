"""Flow structure other engines accept and SpiffWorkflow does not, given its BPMN meaning.

- An activity or event with several unconditioned outgoing flows splits in parallel
  (BPMN "uncontrolled flow"): a parallel gateway is placed after it.
- Conditional flows out of an activity are taken for every condition that holds, the
  unconditioned ones always, the activity's default flow when none holds: an inclusive
  gateway is placed after it. When no flow may be taken the token ends there, as BPMN says.
- An exclusive gateway takes the first flow whose condition holds, in the order of the
  file: the sequenceFlow elements for Camunda 7, Activiti and Flowable, the gateway's own
  outgoing list for Camunda 8 and plain BPMN. SpiffWorkflow tries them top to bottom as
  drawn instead, so each condition is rewritten to hold only when no earlier one does.
  SpiffArena models keep SpiffWorkflow's order.
- An exclusive gateway flow without a condition: Camunda 7, Activiti and Flowable (and
  so most modelers' "descriptive" exports) treat it as always holding, so it is taken
  when no earlier flow holds; a single such flow with no default is simply the
  default. Camunda 8 and SpiffArena refuse such a gateway, so their models are refused
  too. Either way the gateway is flagged for the analyst.
- An embedded subprocess drawn collapsed and left empty is a step that does nothing.
- A process or embedded subprocess without a start event starts every node that has no
  incoming flow (BPMN's implicit start).
- Link events jump from the throw to the catch of the same name.
- Data stores without an implementation, and data associations that point nowhere, are
  descriptive only: the associations are dropped and the element is flagged. So are all
  data associations and task ioSpecifications in Camunda, Activiti and Flowable models:
  those engines never run them.
"""

from __future__ import annotations

import ast

from lxml import etree

from engine.bpmn.import_context import (
    BPMN,
    CONTAINERS,
    FLOW_NODES,
    GATEWAYS,
    ImportContext,
    children,
    is_bpmn,
    local,
)
from engine.core.sandbox import SandboxViolation
from engine.core.sandbox_ast import parse

_STRICT_GATEWAYS = {"camunda8", "spiffarena"}
# Engines that try an exclusive gateway's flows in the order the sequenceFlow elements come in the file.
_FLOWS_IN_FILE_ORDER = {"camunda7", "activiti", "flowable"}
# Engines of these dialects never execute data associations or a task's ioSpecification.
_IGNORES_DATA_FLOW = {"camunda7", "camunda8", "activiti", "flowable"}


def _condition(flow: etree._Element) -> etree._Element | None:
    found = flow.find(f"{BPMN}conditionExpression")
    if found is not None and not (found.text or "").strip():
        flow.remove(found)
        return None
    return found


def _flows(container: etree._Element) -> list[etree._Element]:
    return children(container, "sequenceFlow")


def _set_condition(flow: etree._Element, python: str) -> None:
    condition = flow.find(f"{BPMN}conditionExpression")
    if condition is None:
        condition = etree.SubElement(flow, f"{BPMN}conditionExpression")
    condition.text = python


def _connect(ctx: ImportContext, container: etree._Element, source: str, target: str,
             after: etree._Element) -> etree._Element:
    return ctx.element("sequenceFlow", container, after, id=ctx.new_id(source, "flow"), sourceRef=source,
                       targetRef=target)


def _gateway_after(ctx: ImportContext, container: etree._Element, node: etree._Element, kind: str,
                   flows: list[etree._Element]) -> etree._Element:
    """Insert a gateway of `kind` between `node` and its outgoing `flows`."""
    node_id = node.get("id", "")
    gateway = ctx.element(kind, container, node, id=ctx.new_id(node_id, "split"))
    for flow in flows:
        flow.set("sourceRef", gateway.get("id", ""))
    for out in node.findall(f"{BPMN}outgoing"):
        node.remove(out)
    _connect(ctx, container, node_id, gateway.get("id", ""), gateway)
    default = node.get("default")
    if default:
        gateway.set("default", default)
        del node.attrib["default"]
    return gateway


def _end_path(ctx: ImportContext, container: etree._Element, gateway: etree._Element) -> None:
    """A default flow from `gateway` to a new end event: the token ends when nothing holds."""
    end = ctx.element("endEvent", container, gateway, id=ctx.new_id(gateway.get("id", ""), "end"))
    flow = _connect(ctx, container, gateway.get("id", ""), end.get("id", ""), end)
    gateway.set("default", flow.get("id", ""))


def _splits(ctx: ImportContext, container: etree._Element) -> None:
    nodes = {n.get("id"): n for n in container if is_bpmn(n) and local(n) in FLOW_NODES}
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in _flows(container):
        outgoing.setdefault(flow.get("sourceRef", ""), []).append(flow)
    for source_id, flows in outgoing.items():
        node = nodes.get(source_id)
        if node is None or local(node) in GATEWAYS:
            continue
        conditional = [f for f in flows if _condition(f) is not None]
        name = node.get("name") or source_id
        if not conditional and len(flows) > 1:
            _gateway_after(ctx, container, node, "parallelGateway", flows)
            ctx.mark(node, "translated", f"{len(flows)} outgoing flows without conditions: all are taken "
                     "(an implicit parallel split, made explicit)")
        elif conditional:
            default = node.get("default")
            gateway = _gateway_after(ctx, container, node, "inclusiveGateway", flows)
            for flow in flows:
                if flow.get("id") != default and _condition(flow) is None:
                    _set_condition(flow, "True")
            if not default:
                _end_path(ctx, container, gateway)
            ctx.mark(node, "translated", f"conditional flows out of '{name}': every flow whose condition "
                     "holds is taken (an inclusive split, made explicit)")


def _outgoing(container: etree._Element) -> dict[str, list[etree._Element]]:
    flows_of: dict[str, list[etree._Element]] = {}
    for flow in _flows(container):
        flows_of.setdefault(flow.get("sourceRef", ""), []).append(flow)
    return flows_of


def _in_order(ctx: ImportContext, gateway: etree._Element, flows: list[etree._Element]) -> list[etree._Element]:
    """The gateway's flows other than its default, in the order its dialect's engine tries them."""
    flows = [f for f in flows if f.get("id") != gateway.get("default")]
    listed = [(ref.text or "").strip() for ref in children(gateway, "outgoing")]
    if ctx.origin.dialect not in _FLOWS_IN_FILE_ORDER and {f.get("id") for f in flows} <= set(listed):
        # BPMN (and Zeebe, through its model API) order a gateway's flows as the gateway lists them.
        flows.sort(key=lambda f: listed.index(f.get("id", "")))
    return flows


def _exclusive_defaults(ctx: ImportContext, container: etree._Element) -> None:
    flows_of = _outgoing(container)
    for gateway in children(container, "exclusiveGateway", "inclusiveGateway"):
        flows = flows_of.get(gateway.get("id", ""), [])
        if len(flows) < 2:
            continue
        default = gateway.get("default")
        ordered = _in_order(ctx, gateway, flows)
        bare = [f for f in ordered if _condition(f) is None]
        if not bare:
            continue
        names = ", ".join(f"'{f.get('name') or f.get('id')}'" for f in bare)
        # One bare flow tried last holds exactly when no other does: it is the default, in every dialect.
        if (len(bare) == 1 and not default and local(gateway) == "exclusiveGateway"
                and (bare[0] is ordered[-1] or ctx.origin.dialect in _STRICT_GATEWAYS)):
            gateway.set("default", bare[0].get("id", ""))
            ctx.mark(gateway, "needs attention", f"flow {names} has no condition and is not marked as the "
                     "default; it is taken as the default flow (when no other condition holds)")
        elif local(gateway) == "inclusiveGateway" or ctx.origin.dialect not in _STRICT_GATEWAYS:
            for flow in bare:
                _set_condition(flow, "True")
            rule = ("a flow without a condition is always taken" if local(gateway) == "inclusiveGateway" else
                    "as in Camunda 7, Activiti and Flowable, a flow without a condition always holds and the "
                    "first holding flow in the order of the file is taken")
            ctx.mark(gateway, "needs attention", f"flows {names} have no condition: {rule}; give them "
                     "conditions if that is not what you mean")
        else:
            ctx.mark(gateway, "unsupported", f"exclusive gateway '{gateway.get('name') or gateway.get('id')}': "
                     f"flows {names} have no condition; give each a condition, or mark one as the default flow")


def _one_line(text: str) -> str | None:
    """`text` as a one-line Python expression (comments and line breaks gone), or None if it is not one."""
    try:
        return ast.unparse(parse(text.strip(), "eval"))
    except (SyntaxError, SandboxViolation, RecursionError):
        return None


def _first_match(ctx: ImportContext, container: etree._Element) -> None:
    """Make each exclusive gateway's conditions hold only when no earlier flow's does."""
    if ctx.origin.dialect == "spiffarena":
        return
    flows_of = _outgoing(container)
    for gateway in children(container, "exclusiveGateway"):
        flows = _in_order(ctx, gateway, flows_of.get(gateway.get("id", ""), []))
        conditions = [_condition(f) for f in flows]
        texts = [_one_line(c.text or "") if c is not None else None for c in conditions]
        # A flow without a condition, or one that is not Python, is reported as it is; nothing to order.
        if len(flows) < 2 or any(t is None for t in texts):
            continue
        earlier: list[str] = []
        for condition, text in zip(conditions, texts, strict=True):
            assert condition is not None and text is not None
            if "True" in earlier:
                condition.text = "False"
            elif earlier:
                # Earlier conditions first, so one that holds stops the rest being evaluated, as there.
                condition.text = " and ".join([*(f"not ({e})" for e in earlier), f"({text})"])
            earlier.append(text)


def _implicit_start(ctx: ImportContext, container: etree._Element) -> None:
    if container.get("triggeredByEvent") == "true" or local(container) == "adHocSubProcess":
        return
    if children(container, "startEvent"):
        return
    targets = {f.get("targetRef") for f in _flows(container)}
    entry = [n for n in container if is_bpmn(n) and local(n) in FLOW_NODES and local(n) != "boundaryEvent"
             and n.get("id") not in targets and n.get("isForCompensation") != "true"
             and n.get("triggeredByEvent") != "true"]
    if not entry:
        return
    container_id = container.get("id", "")
    first = entry[0]
    start = ctx.element("startEvent", container, None, id=ctx.new_id(container_id, "start"))
    first.addprevious(start)
    if len(entry) == 1:
        _connect(ctx, container, start.get("id", ""), first.get("id", ""), start)
    else:
        fork = ctx.element("parallelGateway", container, start, id=ctx.new_id(container_id, "fork"))
        _connect(ctx, container, start.get("id", ""), fork.get("id", ""), fork)
        for node in entry:
            _connect(ctx, container, fork.get("id", ""), node.get("id", ""), fork)
    names = ", ".join(f"'{n.get('name') or n.get('id')}'" for n in entry)
    for node in entry:
        ctx.mark(node, "translated", f"no start event: begins with {names} (BPMN's implicit start)")


def _implicit_end(ctx: ImportContext, container: etree._Element) -> None:
    """BPMN's implicit end: a path ends where a node has no outgoing flow. SpiffWorkflow
    ends it there by itself after an activity or event, not after a gateway; without any end
    event in the container, every such node gets one."""
    if container.get("triggeredByEvent") == "true":
        return
    wanted = GATEWAYS if children(container, "endEvent") else FLOW_NODES - {"startEvent"}
    sources = {f.get("sourceRef") for f in _flows(container)}
    last = [n for n in container if is_bpmn(n) and local(n) in wanted
            and n.get("id") not in sources and n.get("isForCompensation") != "true"]
    for node in last:
        end = ctx.element("endEvent", container, node, id=ctx.new_id(node.get("id", ""), "end"))
        _connect(ctx, container, node.get("id", ""), end.get("id", ""), end)
        ctx.mark(node, "translated", "no end event here: the path ends after this element (BPMN's implicit end)")


def _links(ctx: ImportContext, container: etree._Element) -> None:
    catches: dict[str, etree._Element] = {}
    for event in children(container, "intermediateCatchEvent"):
        link = event.find(f"{BPMN}linkEventDefinition")
        if link is not None:
            catches[link.get("name") or event.get("name") or ""] = event
    by_event_name = {c.get("name") or "": c for c in catches.values()}
    for event in children(container, "intermediateThrowEvent"):
        link = event.find(f"{BPMN}linkEventDefinition")
        if link is None:
            continue
        name = link.get("name") or event.get("name") or ""
        # Some tools give every link definition its own generated name and pair the events
        # by their own names instead; a lone catch in the level is the only possible target.
        target = catches.get(name)
        if target is None:
            target = by_event_name.get(event.get("name") or "\0")
        if target is None and len(catches) == 1:
            target = next(iter(catches.values()))
        if target is None:
            ctx.mark(event, "unsupported", f"link event '{name}' has no catching link event of the same name "
                     "in this process level")
            continue
        event.remove(link)
        _connect(ctx, container, event.get("id", ""), target.get("id", ""), event)
        ctx.mark(event, "translated", f"link to '{name}': continues at '{target.get('name') or target.get('id')}'")
    for name, catch in catches.items():
        definition = catch.find(f"{BPMN}linkEventDefinition")
        if definition is not None:
            catch.remove(definition)
            catch.tag = f"{BPMN}intermediateThrowEvent"
            ctx.mark(catch, "translated", f"link target '{name}': a pass-through event")


def _drop_io(task: etree._Element, io_id: str) -> None:
    """Remove data input or output `io_id` from the task's ioSpecification: what fed or took it is gone."""
    for spec in children(task, "ioSpecification"):
        for node in list(spec.iter()):
            declared = is_bpmn(node, "dataInput", "dataOutput") and node.get("id") == io_id
            referenced = local(node).endswith("Refs") and (node.text or "").strip() == io_id
            if (declared or referenced) and node.getparent() is not None:
                node.getparent().remove(node)


def _data_associations(ctx: ImportContext) -> None:
    ids = {n.get("id") for n in ctx.root.iter() if isinstance(n.tag, str) and n.get("id")}
    stores = {n.get("id") for n in ctx.root.iter(f"{BPMN}dataStoreReference")}
    for association in list(ctx.root.iter(f"{BPMN}dataInputAssociation", f"{BPMN}dataOutputAssociation")):
        refs = [(r.text or "").strip() for r in association.iter(f"{BPMN}sourceRef", f"{BPMN}targetRef")]
        task = association.getparent()
        dangling = [r for r in refs if r and r not in ids]
        stored = [r for r in refs if r in stores]
        camunda = ctx.origin.dialect in _IGNORES_DATA_FLOW
        if not (dangling or stored or camunda) or task is None:
            continue
        task.remove(association)
        for end in refs:
            _drop_io(task, end)
        what = (f"data store '{stored[0]}' has no implementation here" if stored
                else f"data reference '{dangling[0]}' points to no element" if dangling
                else "Camunda, Activiti and Flowable do not run data associations (they document the model)")
        ctx.mark(task, "needs attention", f"{what}; the association is ignored (descriptive only)")
    if ctx.origin.dialect in _IGNORES_DATA_FLOW:
        for spec in list(ctx.root.iter(f"{BPMN}ioSpecification")):
            owner_node = spec.getparent()
            if owner_node is not None and not is_bpmn(owner_node, "process"):
                owner_node.remove(spec)
                ctx.mark(owner_node, "needs attention", "the data inputs and outputs declared here are not run, as "
                         "in Camunda, Activiti and Flowable")
    for store in list(ctx.root.iter(f"{BPMN}dataStoreReference")):
        ctx.mark(store, "needs attention", "data stores are descriptive here: nothing is read or written")
        if store.getparent() is not None:
            store.getparent().remove(store)
    # Nothing refers to a data store any more; SpiffWorkflow would want an implementation for each.
    for store in list(ctx.root.iterfind(f"{BPMN}dataStore")):
        ctx.root.remove(store)


def _empty_subprocesses(ctx: ImportContext) -> None:
    for node in list(ctx.root.iter(f"{BPMN}subProcess")):
        if node.get("triggeredByEvent") == "true":
            continue
        if any(is_bpmn(n) and local(n) in FLOW_NODES for n in node):
            continue
        attached = [b for b in ctx.root.iter(f"{BPMN}boundaryEvent") if b.get("attachedToRef") == node.get("id")]
        if attached:
            # Boundary events need an activity to sit on: an empty script step ends at once.
            for child in [c for c in node if not is_bpmn(c, "incoming", "outgoing", "documentation")]:
                node.remove(child)
            node.tag = f"{BPMN}scriptTask"
            node.set("scriptFormat", "python")
            etree.SubElement(node, f"{BPMN}script").text = "pass"
            ctx.mark(node, "needs attention", "the subprocess is empty (drawn collapsed with no content): it "
                     "ends as soon as it starts, so its boundary events have no time to fire")
            continue
        # A none intermediate event is BPMN's pass-through: the token goes straight on.
        node.tag = f"{BPMN}intermediateThrowEvent"
        for child in [c for c in node if not is_bpmn(c, "incoming", "outgoing", "documentation", "extensionElements")]:
            node.remove(child)
        ctx.mark(node, "needs attention", "the subprocess is empty (drawn collapsed with no content): "
                 "it is passed straight through")


def _untimed(timer: etree._Element) -> bool:
    return not any(is_bpmn(t, "timeDate", "timeDuration", "timeCycle") and (t.text or "").strip() for t in timer)


def _drop_event(ctx: ImportContext, event: etree._Element, note: str) -> None:
    """Remove an event that can never fire, with the flows to and from it."""
    container = event.getparent()
    if container is None:
        return
    for flow in [f for f in children(container, "sequenceFlow")
                 if event.get("id") in (f.get("sourceRef"), f.get("targetRef"))]:
        container.remove(flow)
    container.remove(event)
    ctx.mark(event, "needs attention", note)


def _drop_boundary(ctx: ImportContext, event: etree._Element, why: str) -> None:
    _drop_event(ctx, event, f"{why}: it can never fire, so the path after it is never taken")


def _gateway_choice(event: etree._Element) -> bool:
    """Whether `event` is reached only as one of an event-based gateway's choices, with others left."""
    container = event.getparent()
    if container is None or not is_bpmn(event, "intermediateCatchEvent"):
        return False
    nodes = {n.get("id"): n for n in container if is_bpmn(n)}
    incoming = [f for f in children(container, "sequenceFlow") if f.get("targetRef") == event.get("id")]
    gateways = [nodes.get(f.get("sourceRef")) for f in incoming]
    if not gateways or not all(g is not None and is_bpmn(g, "eventBasedGateway") for g in gateways):
        return False
    sources = {g.get("id") for g in gateways if g is not None}
    choices = [f for f in children(container, "sequenceFlow") if f.get("sourceRef") in sources]
    return len(choices) > len(incoming)


def _events(ctx: ImportContext) -> None:
    for event in list(ctx.root.iter(f"{BPMN}boundaryEvent")):
        definitions = [d for d in event if isinstance(d.tag, str) and local(d).endswith("EventDefinition")]
        if not definitions:
            _drop_boundary(ctx, event, "the boundary event has no trigger (timer, message, error, signal, ...)")
        elif len(definitions) == 1 and local(definitions[0]) == "timerEventDefinition" and _untimed(definitions[0]):
            _drop_boundary(ctx, event, "the boundary timer has no date, duration or cycle")
    for timer in list(ctx.root.iter(f"{BPMN}timerEventDefinition")):
        event = timer.getparent()
        if _untimed(timer) and event is not None and is_bpmn(event, "startEvent") and is_bpmn(
                event.getparent(), "process"):
            event.remove(timer)
            ctx.mark(event, "needs attention", "the start timer has no date, duration or cycle: the process "
                     "starts when someone starts it, as with a plain start event")
        elif _untimed(timer) and event is not None and _gateway_choice(event):
            _drop_event(ctx, event, "the timer has no date, duration or cycle: it can never fire, so the "
                        "event-based gateway before it waits for its other events; give it a time to restore "
                        "this path")
        elif _untimed(timer):
            ctx.mark(timer, "unsupported", "the timer has no date, duration or cycle; give it one "
                     "(e.g. duration PT48H)")


def apply(ctx: ImportContext) -> None:
    """Rewrite the structure of every process and subprocess in `ctx`."""
    _events(ctx)
    _empty_subprocesses(ctx)
    _data_associations(ctx)
    containers = [n for n in ctx.root.iter() if is_bpmn(n) and local(n) in CONTAINERS]
    for container in containers:
        _links(ctx, container)
        _implicit_start(ctx, container)
        _implicit_end(ctx, container)
        _exclusive_defaults(ctx, container)
        _first_match(ctx, container)
        _splits(ctx, container)

