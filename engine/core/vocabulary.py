"""Which elements a BPMN or DMN document may hold, read from the schemas SpiffWorkflow ships.

The XSD check in `package.schema_check` reports what it finds as warnings, because real
exports depart from the schema in ways that change nothing (elements in another order, an
attribute a tool leaves out). That also let through what the schema forbids outright: an
element of another vocabulary in the middle of a process, such as ``xi:include`` (never
processed here, so the model runs without what the analyst meant to include), or an
element name BPMN does not have. Those are refused here, each with its line.

The rule is the schema's: an element is in one of the standard's namespaces and declared
there, unless it lies inside an element whose content the schema leaves open
(``extensionElements``, ``documentation``, a text annotation's ``text``, DI's
``extension``). One place is stricter than the schema: the engine reads only the text of a
script or an expression, so an element inside one would silently cut the code that runs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS

_XSD = "{http://www.w3.org/2001/XMLSchema}"
# Elements whose content the schemas leave open to any vocabulary.
_OPEN = {"BPMN": frozenset({"extensionElements", "documentation", "text", "extension"}),
         "DMN": frozenset({"extensionElements", "extension"})}
# What the engine reads as code: BPMN expressions and scripts, DMN cells and literal expressions.
_TEXT_TYPES = frozenset({"tExpression", "tFormalExpression", "tScript"})
_TEXT_NAMES = {"BPMN": frozenset({"script"}), "DMN": frozenset({"text"})}
# DMN DI namespaces some modelers write that SpiffWorkflow ships no schema for.
_DMN_PREFIXES = ("http://www.omg.org/spec/DMN/", "https://www.omg.org/spec/DMN/")


@dataclass(frozen=True)
class _Vocabulary:
    """The element names each namespace of one standard declares, and its text-only elements."""

    names: dict[str, frozenset[str]]
    text_only: frozenset[str]
    open: frozenset[str]
    standard: str

    def knows(self, namespace: str) -> bool:
        if namespace in self.names:
            return True
        return self.standard == "DMN" and namespace.startswith(_DMN_PREFIXES)


def _schemas(folder: Path) -> Iterator[etree._Element]:
    for path in sorted(folder.glob("*.xsd")):
        yield etree.parse(str(path)).getroot()


@functools.cache
def _vocabulary(standard: str) -> _Vocabulary:
    folder = Path(XSD_PATH if standard == "BPMN" else next(iter(DMN_SCHEMAS.values()))).parent
    names: dict[str, set[str]] = {}
    text_only: set[str] = set()
    for schema in _schemas(folder):
        declared = names.setdefault(schema.get("targetNamespace", ""), set())
        for element in schema.iter(f"{_XSD}element"):
            name = element.get("name")
            if name:
                declared.add(name)
                # DMN's tExpression is a different thing: the base of tables and literal expressions.
                if (standard == "BPMN" and element.get("type") in _TEXT_TYPES) or name in _TEXT_NAMES[standard]:
                    text_only.add(name)
    return _Vocabulary({ns: frozenset(found) for ns, found in names.items()}, frozenset(text_only),
                       _OPEN[standard], standard)


def _shown(node: etree._Element) -> str:
    name = etree.QName(node)
    prefix = node.prefix
    return f"<{prefix}:{name.localname}>" if prefix else f"<{name.localname}>"


def foreign_elements(root: etree._Element, standard: str) -> list[tuple[etree._Element, str]]:
    """(element, reason) for each element of `root` the BPMN or DMN schema (`standard`) does not allow."""
    vocabulary = _vocabulary(standard)
    found: list[tuple[etree._Element, str]] = []
    pending: list[etree._Element] = [root]
    while pending:
        node = pending.pop()
        for child in node:
            if not isinstance(child.tag, str):
                continue
            qname = etree.QName(child)
            namespace = qname.namespace or ""
            parent = etree.QName(node)
            if parent.localname in vocabulary.text_only and vocabulary.knows(parent.namespace or ""):
                found.append((child, f"{_shown(child)} inside <{parent.localname}>: a script or "
                              "expression holds text only, and the engine would run the text without it"))
                continue
            if not vocabulary.knows(namespace):
                where = f" (namespace {namespace})" if namespace else " (no namespace)"
                found.append((child, f"{_shown(child)}{where} is not part of {standard}; elements of "
                              "other vocabularies are allowed only inside extensionElements (or documentation), "
                              "and nothing here processes them"))
                continue
            declared = vocabulary.names.get(namespace)
            if declared is not None and qname.localname not in declared:
                found.append((child, f"{_shown(child)} is not a {standard} element"))
                continue
            if qname.localname not in vocabulary.open:
                pending.append(child)
    return sorted(found, key=lambda item: item[0].sourceline or 0)
