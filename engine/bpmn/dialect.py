"""Which modeler wrote a file: the dialect its extensions speak and the exporter it names.

The dialect decides which extension elements carry meaning and which engine's rules apply
where BPMN leaves a choice open (a gateway flow without a condition, data associations). It is
judged from the namespaces actually used, then from the modeler's execution-platform
stamp, then from the exporter name; a plain file is `bpmn`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lxml import etree

Dialect = Literal["camunda7", "camunda8", "spiffarena", "activiti", "flowable", "bpmn"]
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
MODELER_NS = "http://camunda.org/schema/modeler/1.0"
_BY_NAMESPACE: tuple[tuple[str, Dialect], ...] = (
    (ZEEBE_NS, "camunda8"),
    (CAMUNDA_NS, "camunda7"),
    (SPIFF_NS, "spiffarena"),
    ("http://flowable.org/bpmn", "flowable"),
    ("http://activiti.org/bpmn", "activiti"),
)


@dataclass(frozen=True)
class Origin:
    """The dialect of one file and the modeler that exported it."""

    dialect: Dialect
    exporter: str
    exporter_version: str


def _used_namespaces(root: etree._Element) -> set[str]:
    used: set[str] = set()
    for node in root.iter():
        if isinstance(node.tag, str):
            used.add(etree.QName(node).namespace or "")
        used.update(etree.QName(name).namespace or "" for name in node.attrib if name.startswith("{"))
    return used


def detect(root: etree._Element) -> Origin:
    """The dialect and exporter of a BPMN or DMN document."""
    exporter = (root.get("exporter") or "").strip()
    version = (root.get("exporterVersion") or "").strip()
    used = _used_namespaces(root)
    platform = (root.get(f"{{{MODELER_NS}}}executionPlatform") or "").lower()
    for namespace, dialect in _BY_NAMESPACE:
        if namespace in used:
            return Origin(dialect, exporter, version)
    if "cloud" in platform or "camunda 8" in platform:
        return Origin("camunda8", exporter, version)
    if "platform" in platform:
        return Origin("camunda7", exporter, version)
    declared = set(root.nsmap.values())
    if ZEEBE_NS in declared:
        return Origin("camunda8", exporter, version)
    if CAMUNDA_NS in declared and "camunda" in exporter.lower():
        return Origin("camunda7", exporter, version)
    return Origin("bpmn", exporter, version)
