"""Service-task bindings written the Camunda way, read into the one form the engine runs.

Camunda Modeler element templates (served at /api/v1/connectors/element-templates) write a
Camunda 8 task as `zeebe:taskDefinition type="connector/operation"` with `zeebe:ioMapping`
inputs and a `resultVariable` task header, and a Camunda 7 task as an external task whose
topic is the operation, with `camunda:inputParameter`s and a `resultVariable` property.
Values are literals, a FEEL `=path` or a JUEL `${path}`: here only variable paths are
translated (the full expression languages are the importer's job); anything else is kept
as a literal string, which the connector's parameter check then judges.
"""

from __future__ import annotations

import re
from typing import Any

CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
UNBOUND_PREFIX = "manual/"  # an operation no connector runs; the service layer waits for a person
_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")


def _path_expression(path: str) -> str:
    head, *rest = path.split(".")
    return head + "".join(f"[{part!r}]" for part in rest)


def value_expression(raw: str) -> str:
    """The sandbox expression for one Camunda parameter value."""
    text = raw.strip()
    if text.startswith("=") and _PATH.match(text[1:].strip()):
        return _path_expression(text[1:].strip())
    if text.startswith("${") and text.endswith("}") and _PATH.match(text[2:-1].strip()):
        return _path_expression(text[2:-1].strip())
    return repr(raw)


def camunda_binding(node: Any) -> dict[str, Any] | None:
    """`{"name", "parameters", "resultVariable"}` like spiff's operator, or None when unbound."""
    extensions = node.find(f"{BPMN}extensionElements")
    zeebe = extensions.find(f"{ZEEBE}taskDefinition") if extensions is not None else None
    if zeebe is not None and zeebe.get("type"):
        inputs = {i.get("target"): i.get("source", "") for i in extensions.iterfind(f"{ZEEBE}ioMapping/{ZEEBE}input")}
        headers = {h.get("key"): h.get("value") for h in extensions.iterfind(f"{ZEEBE}taskHeaders/{ZEEBE}header")}
        return _binding(zeebe.get("type"), inputs, headers.get("resultVariable"))
    if node.get(f"{CAMUNDA}type") == "external" and node.get(f"{CAMUNDA}topic"):
        inputs = {}
        properties = {}
        if extensions is not None:
            inputs = {p.get("name"): p.text or "" for p in
                      extensions.iterfind(f"{CAMUNDA}inputOutput/{CAMUNDA}inputParameter")}
            properties = {p.get("name"): p.get("value") for p in
                          extensions.iterfind(f"{CAMUNDA}properties/{CAMUNDA}property")}
        return _binding(node.get(f"{CAMUNDA}topic"), inputs, properties.get("resultVariable"))
    return None


def _binding(operation: str, inputs: dict[str, str], result: str | None) -> dict[str, Any]:
    # A Camunda topic or job type that is not `agency/operation` names a worker of another
    # platform: the task is unbound (completed through the API) until a connector is bound.
    name = operation if "/" in operation else f"{UNBOUND_PREFIX}{operation}"
    return {"name": name, "resultVariable": result or "",
            "parameters": {name: {"value": value_expression(value), "type": "any"}
                           for name, value in inputs.items() if name}}
