"""Call activities: which process each one calls by key, and which version of it.

A call may leave its upload: the callee is then an already deployed process, the newest
version by default, or the one the model pins (Camunda 7 `camunda:calledElementBinding`
with `calledElementVersion` / `calledElementVersionTag`; Camunda 8 `zeebe:calledElement`
with `bindingType` and `versionTag`). Resolving a key to a deployment needs the database,
so it is the service layer's job; this module only reads the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from engine.core.documents import Document
from engine.core.report import Report

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"


@dataclass(frozen=True)
class CallRef:
    """A call activity: the process it calls by key, and which version of it.

    `binding` is "latest" (the newest deployed version, the default), "deployment" (the
    one in the same upload), "version" (`version`) or "versionTag" (`version_tag`).
    """

    file: str
    element_id: str
    line: int | None
    key: str
    binding: str = "latest"
    version: int | None = None
    version_tag: str | None = None

    def describe(self) -> str:
        if self.binding == "version":
            return f"process '{self.key}' at version {self.version}"
        if self.binding == "versionTag":
            return f"process '{self.key}' with version tag '{self.version_tag}'"
        return f"process '{self.key}'"


def _zeebe_called(call: etree._Element) -> etree._Element | None:
    found: etree._Element | None = call.find(f"{BPMN}extensionElements/{ZEEBE}calledElement")
    return found


def _call_ref(doc: Document, call: etree._Element, report: Report | None) -> CallRef | None:
    zeebe = _zeebe_called(call)
    key = call.get("calledElement") or (zeebe.get("processId", "").lstrip("=").strip() if zeebe is not None else "")
    where = (doc.name, call.get("id", ""), call.sourceline)
    if not key:
        return None
    if zeebe is not None and zeebe.get("bindingType"):
        binding, version_text, tag = zeebe.get("bindingType", "latest"), None, zeebe.get("versionTag")
    else:
        binding = call.get(f"{CAMUNDA}calledElementBinding") or "latest"
        version_text, tag = call.get(f"{CAMUNDA}calledElementVersion"), call.get(f"{CAMUNDA}calledElementVersionTag")
    problem = None
    version = None
    if binding not in ("latest", "deployment", "version", "versionTag"):
        problem = f"call binding '{binding}' is not known; use latest, deployment, version or versionTag"
    elif binding == "version":
        if version_text is None or not version_text.strip().isdigit():
            problem = (f"calls '{key}' pinned to version '{version_text or ''}'; the version must be a number "
                       "(an expression cannot be resolved when the instance starts)")
        else:
            version = int(version_text)
    elif binding == "versionTag" and not (tag or "").strip():
        problem = f"calls '{key}' bound by version tag, but names no version tag"
    if problem:
        if report is not None:
            report.error(problem, *where)
        return None
    return CallRef(doc.name, where[1], where[2], key, binding, version, tag.strip() if tag else None)


def call_refs(docs: Sequence[Document], report: Report | None = None) -> list[CallRef]:
    """Every call activity of the BPMN `docs`; malformed bindings go to `report` instead."""
    found = []
    for doc in docs:
        if doc.kind != "bpmn":
            continue
        for call in doc.root.iter(f"{BPMN}callActivity"):
            ref = _call_ref(doc, call, report)
            if ref is not None:
                found.append(ref)
    return found


def version_tag(docs: Sequence[Document], key: str) -> str | None:
    """The version tag process `key` declares (`camunda:versionTag` or `zeebe:versionTag`)."""
    for doc in docs:
        if doc.kind != "bpmn":
            continue
        for node in doc.root.iterfind(f"{BPMN}process"):
            if node.get("id") != key:
                continue
            zeebe = node.find(f"{BPMN}extensionElements/{ZEEBE}versionTag")
            tag = node.get(f"{CAMUNDA}versionTag") or (zeebe.get("value") if zeebe is not None else None)
            return tag.strip() if tag else None
    return None


def name_zeebe_callees(docs: Sequence[Document]) -> None:
    """Camunda 8 names the callee only in `zeebe:calledElement`; SpiffWorkflow reads `calledElement`."""
    for doc in docs:
        if doc.kind != "bpmn":
            continue
        for call in doc.root.iter(f"{BPMN}callActivity"):
            zeebe = _zeebe_called(call)
            if not call.get("calledElement") and zeebe is not None and zeebe.get("processId"):
                call.set("calledElement", zeebe.get("processId", "").lstrip("=").strip())
