"""Each element of BPMN and DMN, put by a generator where its parent's type allows it and where it does not.

The placements come from the XSDs SpiffWorkflow ships: every element the schemas declare
(globally, or locally as ``rule`` in a decision table) under every parent reachable from
``definitions``, those whose content model admits it and those whose does not. The
refusals are held against lxml's own validation with the same XSDs, so the check is
never stricter than the schema about what may stand where, except where `vocabulary`
says it is on purpose (an element of the standard in open content).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest
from lxml import etree

from engine.core.content_models import ContentModels, Declaration, content_models
from engine.core.documents import Document
from engine.core.package import _bpmn_schema, _dmn_schema, schema_check
from engine.core.report import Report

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN11 = "http://www.omg.org/spec/DMN/20151101/dmn.xsd"
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"
TEXT_TYPES = {"tExpression", "tFormalExpression", "tScript"}


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _namespace(name: str) -> str:
    return name[1:].partition("}")[0]


class _Placements:
    """Which elements of one standard may stand in which, as the schemas' content models say.

    Parents are declarations (global or local, as ``rule`` in a decision table) reachable
    from `definitions`, each with a chain of declarations leading to it.
    """

    def __init__(self, standard: str, definitions: str) -> None:
        self.models: ContentModels = content_models(standard)
        root = self.models.elements[definitions]
        self.paths: dict[Declaration, list[Declaration]] = {root: [root]}
        queue = deque([root])
        while queue:
            parent = queue.popleft()
            if self.text_only(parent):
                continue
            for child in self._children(parent):
                if child not in self.paths:
                    self.paths[child] = [*self.paths[parent], child]
                    queue.append(child)

    def concrete(self, declaration: Declaration | None) -> bool:
        content = self.models.content(declaration) if declaration is not None else None
        return declaration is not None and not declaration.abstract and content is not None and not content.abstract

    def _children(self, parent: Declaration) -> list[Declaration]:
        content = self.models.content(parent)
        assert content is not None
        found: list[Declaration] = []
        # Sorted: the order of a substitution group's members is a set's, which differs per run.
        for name, terms in sorted(content.by_name.items(), key=lambda item: item[0]):
            for term in terms:
                declaration = term.local or self.models.elements.get(name)
                if declaration is not None and self.concrete(declaration) and declaration not in found:
                    found.append(declaration)
        return found

    def text_only(self, declaration: Declaration) -> bool:
        content = self.models.content(declaration)
        return (content is None or _local(content.type_name) in TEXT_TYPES
                or _local(declaration.name) in ("script", "text"))

    def placement(self, parent: Declaration, child: str) -> str | None:
        """How `parent` holds an element named `child`: "term" (its model names it with a concrete
        declaration), "hidden" (only a lax wildcard takes it, which the check refuses on purpose)
        or None (not at all)."""
        content = self.models.content(parent)
        assert content is not None
        declared = self.models.elements.get(child)
        if any(self.concrete(term.local or declared) for term in content.by_name.get(child, ())):
            return "term"
        if not any(w.admits(_namespace(child)) for w in content.wildcards):
            return None
        if declared is not None and not self.concrete(declared):
            return None
        # A nested extensionElements only holds more open content; the check looks through it.
        return "term" if _local(child) == "extensionElements" else "hidden"


def _document(chain: list[str], prefixes: dict[str, str]) -> bytes:
    """The chain as nested elements, one per line, the n-th with id "n<n>"."""
    root = etree.Element(chain[0], nsmap={p: ns for ns, p in prefixes.items()})
    root.set("id", "n0")
    node = root
    for level, name in enumerate(chain[1:], start=1):
        node = etree.SubElement(node, name, id=f"n{level}")
    return etree.tostring(root, pretty_print=True)


def _xsd_says(kind: str, namespace: str, chain: list[Declaration], models: ContentModels) -> bool | None:
    """Whether lxml, validating with the same XSDs, refuses the last element of `chain` under the one before.

    The document validated starts at the nearest element the schema declares globally, so
    what stands above it does not count; None when lxml stops at an element on the way
    down (one that needs a sibling this chain does not have) and cannot tell.
    """
    start = max(i for i, d in enumerate(chain[:-1]) if models.elements.get(d.name) is d)
    names = [d.name for d in chain[start:]]
    prefixes = {ns: f"n{i}" for i, ns in enumerate(sorted({_namespace(n) for n in names}))}
    root = etree.fromstring(_document(names, prefixes))
    validator: Any = _bpmn_schema() if kind == "bpmn" else _dmn_schema(namespace)
    schema = validator.validator
    if schema.validate(root):
        return False
    lines = {node.get("id"): node.sourceline for node in root.iter()}
    child, parent = lines[f"n{len(names) - 1}"], lines[f"n{len(names) - 2}"]
    for entry in schema.error_log:
        if "This element is not expected" in entry.message:
            return True if entry.line == child else None
        if entry.line == child and "is abstract" in entry.message:
            return True
        if entry.line == parent and "Element content is not allowed" in entry.message:
            return True
    return False


GENERATED = [("BPMN", "bpmn", BPMN), ("DMN", "dmn", DMN11), ("DMN", "dmn", DMN13)]


@pytest.mark.parametrize("standard, kind, namespace", GENERATED, ids=["bpmn", "dmn-1.1", "dmn-1.3"])
def test_each_element_is_refused_where_its_parent_does_not_allow_it_and_taken_where_it_does(
        standard: str, kind: str, namespace: str) -> None:
    placements = _Placements(standard, f"{{{namespace}}}definitions")
    prefixes = {ns: f"n{i}" for i, ns in enumerate(sorted({_namespace(d.name) for d in placements.paths}))}
    parents = [d for d in placements.paths if not placements.text_only(d)]
    elements = sorted({d.name for d in placements.paths if _namespace(d.name) == namespace})
    assert len(elements) > (100 if kind == "bpmn" else 50), len(elements)
    tried: dict[str | None, int] = {"term": 0, "hidden": 0, None: 0}
    confirmed = 0
    for element in elements:
        for parent in parents:
            placement = placements.placement(parent, element)
            chain = placements.paths[parent]
            root = etree.fromstring(_document([*(d.name for d in chain), element], prefixes))
            child = next(node for node in root.iter() if node.get("id") == f"n{len(chain)}")
            report = Report()
            schema_check(Document(f"g.{kind}", kind, root), report)
            if str(child.tag) != element:
                continue  # SpiffWorkflow's own rewrite of a bpmn-js quirk (see schema_check)
            errors = [p for p in report.problems if p.severity == "error"]
            where = f"<{_local(element)}> in <{_local(parent.name)}>"
            tried[placement] += 1
            if placement == "term":
                assert not errors, (where, [str(p) for p in errors])
                continue
            assert [(p.line, p.element_id) for p in errors] == [(child.sourceline, f"n{len(chain) - 1}")], \
                (where, [str(p) for p in errors])
            assert f"inside <{prefixes[_namespace(parent.name)]}:{_local(parent.name)}>" in errors[0].message, errors
            if placement == "hidden":
                # Stricter than the schema on purpose (see vocabulary): lxml's lax wildcard takes it.
                assert "hidden where the schema leaves room" in errors[0].message, errors
                continue
            xsd = _xsd_says(kind, namespace, [*chain, Declaration(element, None, None, False)], placements.models)
            assert xsd is not False, f"the XSD takes {where}, the check refused it"
            confirmed += xsd is True
    assert tried["term"] > len(elements) and tried[None] > 2 * len(elements), tried
    # lxml stops at the first element out of its order; most refusals are still seen by it.
    assert confirmed > tried[None] * 0.8, (confirmed, tried)
