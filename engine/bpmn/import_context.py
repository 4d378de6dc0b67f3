"""What every import step works on: one file's tree, its dialect and the report entries.

Steps rewrite the parsed tree in place (the uploaded bytes are stored untouched) and
record on each element what they did. New elements get ids derived from the element
they serve and the line of that element, so an analyst can find them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from engine.bpmn.dialect import Origin
from engine.core.report import ElementEntry, ElementStatus, Report

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMN = f"{{{BPMN_NS}}}"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
SPIFF = f"{{{SPIFF_NS}}}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"

TASKS = {"task", "userTask", "manualTask", "serviceTask", "sendTask", "receiveTask", "scriptTask",
         "businessRuleTask", "callActivity"}
SUBPROCESSES = {"subProcess", "transaction", "adHocSubProcess"}
ACTIVITIES = TASKS | SUBPROCESSES
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
FLOW_NODES = ACTIVITIES | EVENTS | GATEWAYS
LISTED = FLOW_NODES | {"sequenceFlow", "dataStoreReference"}
CONTAINERS = {"process", *SUBPROCESSES}


def local(node: etree._Element) -> str:
    """The element's local name ('' for comments and processing instructions)."""
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def is_bpmn(node: etree._Element, *names: str) -> bool:
    return isinstance(node.tag, str) and node.tag.startswith(BPMN) and (not names or local(node) in names)


def owner(node: etree._Element) -> etree._Element:
    """The nearest ancestor with an id: the element an analyst can find in the modeler."""
    current: etree._Element | None = node
    while current is not None and not current.get("id"):
        current = current.getparent()
    return current if current is not None else node


def children(container: etree._Element, *names: str) -> list[etree._Element]:
    """Direct BPMN children of `container` with one of `names`."""
    return [n for n in container if is_bpmn(n, *names)]


@dataclass
class ImportContext:
    """One BPMN file being imported."""

    file: str
    root: etree._Element
    origin: Origin
    report: Report
    decision_outputs: dict[str, list[str]] = field(default_factory=dict)
    entries: dict[str, ElementEntry] = field(default_factory=dict)
    _counter: int = 0

    def list_elements(self) -> None:
        """One report entry per flow element, in document order."""
        for node in self.root.iter():
            if is_bpmn(node) and local(node) in LISTED and node.get("id"):
                entry = ElementEntry(self.file, node.get("id", ""), local(node), node.get("name") or "",
                                     node.sourceline)
                self.entries.setdefault(entry.element_id, entry)
                if entry is self.entries[entry.element_id]:
                    self.report.elements.append(entry)

    def mark(self, node: etree._Element | str, status: ElementStatus, detail: str) -> None:
        """Record what happened to an element (or to the nearest listed ancestor of `node`)."""
        if isinstance(node, str):
            entry = self.entries.get(node)
        else:
            current: etree._Element | None = node
            entry = None
            while current is not None and entry is None:
                entry = self.entries.get(current.get("id", "")) if isinstance(current.tag, str) else None
                current = current.getparent()
        if status == "unsupported" and not isinstance(node, str) and self.descriptive(node):
            status = "needs attention"
        if entry is not None:
            entry.mark(status, detail)
        if status == "unsupported":
            element = node if isinstance(node, str) else owner(node).get("id", "")
            line = None if isinstance(node, str) else node.sourceline
            self.report.error(detail, self.file, element, line)

    def descriptive(self, node: etree._Element) -> bool:
        """Whether `node` lies in a process marked not executable (nothing there blocks a deployment)."""
        current: etree._Element | None = node
        while current is not None:
            if is_bpmn(current, "process"):
                return str(current.get("isExecutable", "true")).strip().lower() == "false"
            current = current.getparent()
        return False

    def new_id(self, base: str, kind: str) -> str:
        """A fresh element id that says which element it was made for."""
        self._counter += 1
        return f"{base}__{kind}_{self._counter}"

    def element(self, tag: str, parent: etree._Element, after: etree._Element | None = None,
                **attributes: str) -> etree._Element:
        """A new BPMN element in `parent`, right after `after` when given, else at the end."""
        node = etree.Element(f"{BPMN}{tag}", nsmap=None)
        for key, value in attributes.items():
            node.set(key, value)
        if after is not None and after.getparent() is parent:
            after.addnext(node)
        else:
            parent.append(node)
        return node
