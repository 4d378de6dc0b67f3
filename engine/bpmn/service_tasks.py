"""Service tasks from any modeler, carried over to the one form the engine runs.

The engine reads a service task's call from `spiffworkflow:serviceTaskOperator`: the
operation, its parameters as expressions evaluated when the call is parked, and the
variable that receives the answer. SpiffArena writes that element itself; for Camunda
models it is written here:

- Binding: a Camunda 8 job type (`zeebe:taskDefinition type`), a Camunda 7 external-task
  topic or a Camunda 7 connector id that names an operation (``agency/operation``) binds
  the task to that connector. Any other name is another platform's worker; Java
  delegates and bare tasks have no implementation. Those wait for a person (``manual/``)
  until a connector is bound.
- Inputs (`zeebe:input`, `camunda:inputParameter`, a Camunda connector's inputs) are the
  call's parameters. FEEL (``=...``) and JUEL (``${...}``) are translated like every other
  expression; plain text is a literal. A value that cannot be translated refuses the
  deployment, naming the element and the parameter: an agency is never sent the text of
  an expression. SpiffArena's parameter expressions are checked against the sandbox too.
- Outputs (`zeebe:output`, `camunda:outputParameter`) run after the answer arrives, as
  the task's post-script; they read the answer's fields by name, as in Camunda
  (`engine.core.parser.ParkingServiceTask`).
- The answer's variable is the `resultVariable` task header (Camunda 8), property or
  attribute (Camunda 7).
- Retry settings are read by `engine.core.bindings.retry_policy`; here they are checked
  and described in the report.

Camunda implements send tasks (and, in Camunda 8, script and business rule tasks) the same
way when they name a job type or an external topic, or (Camunda 7 send tasks) Java code:
those become service tasks here, since left as they are they would do nothing at all. A
message event implemented by a job cannot be one; when its job names a connector
operation, the deployment is refused rather than the call silently skipped.
"""

from __future__ import annotations

import re

from lxml import etree

from engine.bpmn.expression_translation import ExpressionProblem, translate
from engine.bpmn.extensions import add_script, camunda_value, extension_root
from engine.bpmn.import_context import BPMN, CAMUNDA, SPIFF, SPIFF_NS, ZEEBE, ImportContext
from engine.core.bindings import UNBOUND_PREFIX, RetryProblem, retry_policy

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UNBOUND = "until a connector is bound it waits for POST /api/v1/service-calls/{id}/complete"


def _zeebe_value(source: str) -> str:
    """Python for a Camunda 8 mapping source: FEEL after ``=``, otherwise a literal text."""
    return translate(source).python if source.strip().startswith("=") else repr(source)


class _Call:
    """What one Camunda service task calls, gathered before it is written as an operator."""

    def __init__(self, ctx: ImportContext, node: etree._Element) -> None:
        self.ctx, self.node = ctx, node
        self.params: dict[str, str] = {}
        self.before: list[str] = []
        self.after: list[str] = []
        self.notes: list[str] = []
        self.refused = False

    def refuse(self, detail: str) -> None:
        self.ctx.mark(self.node, "unsupported", detail)
        self.refused = True

    def parameter(self, what: str, name: str, value: str) -> None:
        if not name:
            self.ctx.mark(self.node, "needs attention", f"{what} has no name; it is not sent")
        elif "." in name:
            self.refuse(f"{what} '{name}' is a nested path; a connector's parameters are plain names")
        else:
            self.params[name] = value
            self.notes.append(f"{what} '{name}' → parameter `{value}`")

    def assignment(self, what: str, name: str, value: str, *, after: bool) -> None:
        if not _IDENTIFIER.match(name):
            self.refuse(f"{what} '{name}' is not a plain variable name a script could use")
            return
        (self.after if after else self.before).append(f"{name} = {value}")
        self.notes.append(f"{what} '{name}' → {'post' if after else 'pre'}-script `{name} = {value}`")

    def camunda(self, parameters: etree._Element | None, *, as_params: bool) -> None:
        """Read a `camunda:inputOutput`: inputs as parameters (or pre-script), outputs as post-script."""
        if parameters is None:
            return
        for parameter in parameters:
            if not isinstance(parameter.tag, str):
                continue
            name = parameter.get("name", "")
            kind = etree.QName(parameter).localname
            what = f"camunda:{kind}"
            try:
                value = camunda_value(parameter)
            except ExpressionProblem as err:
                self.refuse(f"{what} '{name}': {err}")
                continue
            if kind == "inputParameter" and as_params:
                self.parameter(what, name, value)
            elif kind in ("inputParameter", "outputParameter"):
                self.assignment(what, name, value, after=kind == "outputParameter")

    def zeebe(self, mapping: etree._Element | None) -> None:
        if mapping is None:
            return
        for item in mapping:
            if not isinstance(item.tag, str):
                continue
            kind = etree.QName(item).localname
            target, source = item.get("target", ""), item.get("source", "")
            what = f"zeebe:{kind}"
            try:
                value = _zeebe_value(source)
            except ExpressionProblem as err:
                self.refuse(f"{what} '{target}': {err}")
                continue
            if kind == "input":
                self.parameter(what, target, value)
            elif kind == "output":
                self.assignment(what, target, value, after=True)


def _binding(ctx: ImportContext, node: etree._Element, extensions: etree._Element | None) -> str:
    """The operation the task is bound to ("" when none), with its report entry."""
    definition = extensions.find(f"{ZEEBE}taskDefinition") if extensions is not None else None
    connector = extensions.find(f"{CAMUNDA}connector/{CAMUNDA}connectorId") if extensions is not None else None
    topic = node.get(f"{CAMUNDA}topic") if node.get(f"{CAMUNDA}type") == "external" else None
    if definition is not None and definition.get("type"):
        kind = str(definition.get("type", "")).strip()
        source = f"zeebe:taskDefinition type '{kind}'"
    elif topic:
        kind, source = topic.strip(), f"camunda external task topic '{topic.strip()}'"
    elif connector is not None and (connector.text or "").strip():
        kind = (connector.text or "").strip()
        source = f"camunda:connector '{kind}'"
    else:
        for attribute in ("class", "delegateExpression", "expression"):
            value = node.get(f"{CAMUNDA}{attribute}")
            if value:
                ctx.mark(node, "needs attention", f"bind a connector: camunda:{attribute} '{value}' is Java code "
                         f"that does not run here; {_UNBOUND}")
                return ""
        ctx.mark(node, "needs attention", f"bind a connector: the task has no implementation; {_UNBOUND}")
        return ""
    if "/" in kind:
        ctx.mark(node, "translated", f"{source} → connector operation '{kind}'")
        return kind
    ctx.mark(node, "needs attention", f"bind a connector: {source} is not a connector operation "
             f"(agency/operation); {_UNBOUND}")
    return f"{UNBOUND_PREFIX}{kind}"


def _result_variable(node: etree._Element, extensions: etree._Element | None) -> str:
    if extensions is not None:
        for header in extensions.iterfind(f"{ZEEBE}taskHeaders/{ZEEBE}header"):
            if header.get("key") == "resultVariable" and header.get("value"):
                return str(header.get("value", "")).strip()
        for prop in extensions.iterfind(f"{CAMUNDA}properties/{CAMUNDA}property"):
            if prop.get("name") == "resultVariable" and prop.get("value"):
                return str(prop.get("value", "")).strip()
    return str(node.get(f"{CAMUNDA}resultVariable") or "").strip()


def _write(node: etree._Element, operation: str, call: _Call, result: str) -> None:
    operator = etree.SubElement(extension_root(node), f"{SPIFF}serviceTaskOperator",
                                nsmap={"spiffworkflow": SPIFF_NS})
    operator.set("id", operation)
    if result:
        operator.set("resultVariable", result)
    parameters = etree.SubElement(operator, f"{SPIFF}parameters")
    for name, value in call.params.items():
        etree.SubElement(parameters, f"{SPIFF}parameter", id=name, type="any", value=value)
    if call.before:
        add_script(node, "preScript", call.before)
    if call.after:
        add_script(node, "postScript", call.after)


def _camunda_task(ctx: ImportContext, node: etree._Element, extensions: etree._Element | None) -> None:
    operation = _binding(ctx, node, extensions)
    call = _Call(ctx, node)
    if extensions is not None:
        call.zeebe(extensions.find(f"{ZEEBE}ioMapping"))
        connector = extensions.find(f"{CAMUNDA}connector")
        if connector is not None:
            # A Camunda connector's own inputs are the call; the task's inputs are local
            # variables set before it, which its inputs may read.
            call.camunda(connector.find(f"{CAMUNDA}inputOutput"), as_params=True)
            call.camunda(extensions.find(f"{CAMUNDA}inputOutput"), as_params=False)
        else:
            call.camunda(extensions.find(f"{CAMUNDA}inputOutput"), as_params=True)
    result = _result_variable(node, extensions)
    if call.refused or not (operation or call.params or call.before or call.after or result):
        return
    _write(node, operation, call, result)
    if call.notes:
        ctx.mark(node, "translated", "; ".join(call.notes))


def _spiff_task(ctx: ImportContext, node: etree._Element, operator: etree._Element) -> None:
    for parameter in operator.iterfind(f"{SPIFF}parameters/{SPIFF}parameter"):
        value = parameter.get("value")
        if value is None:
            continue
        try:
            translate(value, "python")
        except ExpressionProblem as err:
            ctx.mark(node, "unsupported", f"spiffworkflow:parameter '{parameter.get('id', '')}': {err}")
    extensions = node.find(f"{BPMN}extensionElements")
    if extensions is not None and (extensions.find(f"{ZEEBE}ioMapping") is not None
                                   or extensions.find(f"{CAMUNDA}inputOutput") is not None):
        ctx.mark(node, "needs attention", "the Camunda input/output mappings are not applied: the task's "
                 "spiffworkflow:serviceTaskOperator says what it sends")


def _retries(ctx: ImportContext, node: etree._Element) -> None:
    try:
        policy = retry_policy(node)
    except RetryProblem as err:
        ctx.mark(node, "unsupported", str(err))
        return
    if policy.source:
        ctx.mark(node, "translated", policy.describe())


def _worker(node: etree._Element) -> str | None:
    """The job type or external topic that implements `node` the Camunda way, if any."""
    definition = node.find(f"{BPMN}extensionElements/{ZEEBE}taskDefinition")
    if definition is not None and definition.get("type"):
        return str(definition.get("type", "")).strip()
    if node.get(f"{CAMUNDA}type") == "external":
        return str(node.get(f"{CAMUNDA}topic") or "").strip()
    return None


def _calls_in_disguise(ctx: ImportContext) -> None:
    """Tasks Camunda runs like service tasks become service tasks; message events run by a job are reported."""
    for node in list(ctx.root.iter(f"{BPMN}sendTask", f"{BPMN}scriptTask", f"{BPMN}businessRuleTask")):
        kind = etree.QName(node).localname
        java = kind == "sendTask" and any(node.get(f"{CAMUNDA}{a}") for a in ("class", "delegateExpression",
                                                                             "expression"))
        if _worker(node) is None and not java:
            continue
        node.tag = f"{BPMN}serviceTask"
        ctx.mark(node, "translated", f"a {kind} implemented by a job, an external topic or Java code → "
                 "a service call, as Camunda runs it")
    for definition in ctx.root.iter(f"{BPMN}messageEventDefinition"):
        event = definition.getparent()
        if event is None or etree.QName(event).localname not in ("intermediateThrowEvent", "endEvent"):
            continue
        worker = _worker(event) or _worker(definition)
        if worker is None:
            continue
        if "/" in worker:
            ctx.mark(event, "unsupported", f"this message event is implemented by '{worker}', which here would "
                     "never be called (the event only throws its message): call it from a send or service task")
        else:
            ctx.mark(event, "needs attention", f"the job worker '{worker}' does not run here; the event only "
                     "throws its message")


def apply(ctx: ImportContext) -> None:
    """Write every service task of `ctx` as the operator the engine runs, and report it."""
    _calls_in_disguise(ctx)
    for node in ctx.root.iter(f"{BPMN}serviceTask"):
        extensions = node.find(f"{BPMN}extensionElements")
        operator = extensions.find(f"{SPIFF}serviceTaskOperator") if extensions is not None else None
        if operator is not None:
            _spiff_task(ctx, node, operator)
        else:
            _camunda_task(ctx, node, extensions)
        _retries(ctx, node)
