"""Where each element of a BPMN or DMN document may stand, as the schemas SpiffWorkflow ships say.

SpiffWorkflow reads a model by looking for elements by name where it expects them; what
stands anywhere else is skipped without a word. A ``scriptTask`` inside a ``userTask``, a
``timerEventDefinition`` inside a task, a second ``script`` in one script task, a
``process`` inside a process, an ``xi:include`` in the middle of a process: each deploys
as something else than the analyst drew. So every element is judged against the content
model of its parent (`content_models`): an element the parent's type does not allow,
or one more than its maxOccurs, is refused with its line and its parent.

The rule is the schema's, with these deliberate differences:

- Order is not judged. The schema's sequences fix an order that real exports do not all
  keep (3 of 690 documents of the corpus of real exports, from one tool, put a
  sequenceFlow after an association) and that changes nothing the engine reads, so
  `package.schema_check` reports it as a warning, as it does missing attributes.
- A script or an expression holds text only. The schema lets one element stand in it,
  but the engine runs the text and would silently drop the element's part of the code.
- An element is what its name says. The schema takes an abstract element, or other
  content, when an ``xsi:type`` names a type derived from the declared one; the engine
  reads elements by their name and would skip what only that type holds.
- Content the schema leaves open (``extensionElements``, ``documentation``, a text
  annotation's ``text``, DI's ``extension``) takes elements of other vocabularies, which
  each extension's own reader judges, but no element the standard declares, at any depth.
  The schema's lax wildcards would take one there; SpiffWorkflow searches subtrees and
  would read it (a timer definition in a start event's documentation makes a timer start
  event) while no modeler shows it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS

from engine.core.content_models import (
    XSI_TYPE,
    Content,
    ContentModels,
    Declaration,
    ElementTerm,
    Group,
    Particle,
    Wildcard,
    content_models,
)

_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# What the engine reads as code: BPMN expressions and scripts, DMN cells and literal expressions.
_TEXT_TYPES = frozenset({f"{{{_BPMN}}}tExpression", f"{{{_BPMN}}}tFormalExpression", f"{{{_BPMN}}}tScript"})
_TEXT_NAMES = {"BPMN": "script", "DMN": "text"}
# The namespaces of the models themselves (not their diagrams).
_MODELS = {"BPMN": frozenset({_BPMN}), "DMN": frozenset(DMN_SCHEMAS)}
# DMN DI namespaces some modelers write that SpiffWorkflow ships no schema for.
_DMN_PREFIXES = ("http://www.omg.org/spec/DMN/", "https://www.omg.org/spec/DMN/")
_NUMBERS = {1: "one", 2: "two", 3: "three"}
_KINDS = {"BPMN": "a <userTask>, not a <flowElement>", "DMN": "a <decision>, not a <drgElement>"}


def _shown(node: etree._Element) -> str:
    local = etree.QName(node).localname
    return f"<{node.prefix}:{local}>" if node.prefix else f"<{local}>"


def _namespace(node: etree._Element) -> str:
    return etree.QName(node).namespace or ""


def _inside(node: etree._Element) -> str:
    parent = node.getparent()
    return f" inside {_shown(parent)}" if parent is not None else ""


def _xsi_type(node: etree._Element) -> str | None:
    value = node.get(XSI_TYPE)
    if not value:
        return None
    prefix, _, local = value.strip().rpartition(":")
    namespace = node.nsmap.get(prefix or None)
    return f"{{{namespace}}}{local}" if namespace else local


def _fits(need: int, most: int | None) -> int:
    """How many occurrences of a group `need` occurrences of a term allowed `most` times in it take."""
    if need == 0:
        return 0
    return 1 if most is None else math.ceil(need / most)


@dataclass
class _Tally:
    """The children of one parent placed so far: how many occurrences each term of its model needs.

    Order aside, children fit a content model when no particle needs more occurrences than
    its maxOccurs times those of the particles around it allow: a sequence needs as many as
    its most crowded term, a choice one for each branch taken (a branch may repeat within
    its own maximum).
    """

    content: Content
    need: dict[Particle, int] = field(default_factory=dict)
    first: dict[Particle, etree._Element] = field(default_factory=dict)

    def _path(self, term: Particle) -> list[Particle]:
        path: list[Particle] = []
        current: Particle | None = term
        while current is not None:
            path.append(current)
            current = self.content.parent.get(current)
        return path

    def _count(self, path: list[Particle], step: int) -> None:
        self.need[path[0]] = self.need.get(path[0], 0) + step
        for group in path[1:]:
            assert isinstance(group, Group)
            parts = [_fits(self.need.get(t, 0), t.most) for t in group.terms]
            self.need[group] = sum(parts) if group.choice else max(parts, default=0)

    def _overflow(self, path: list[Particle]) -> Particle | None:
        """The lowest particle of `path` (a term up to the root) that needs more occurrences than it may have."""
        caps: list[int | None] = []
        allowed: int | None = 1
        for particle in reversed(path):
            allowed = None if allowed is None or particle.most is None else allowed * particle.most
            caps.append(allowed)
        for particle, cap in zip(path, reversed(caps), strict=True):
            if cap is not None and self.need.get(particle, 0) > cap:
                return particle
        return None

    def place(self, child: etree._Element,
              terms: Sequence[ElementTerm | Wildcard]) -> tuple[ElementTerm | Wildcard, Particle | None]:
        """Count `child` under the first of `terms` with room left; else say which particle is full."""
        first: Particle | None = None
        for term in terms:
            if term.most is None and self.need.get(term, 0):
                # One more of a term already present and unbounded changes no count above it.
                self.need[term] += 1
                return term, None
            path = self._path(term)
            self._count(path, 1)
            over = self._overflow(path)
            if over is None:
                self.first.setdefault(term, child)
                return term, None
            self._count(path, -1)
            first = first or over
        return terms[0], first

    def within(self, group: Group) -> list[etree._Element]:
        """The first child placed so far under each term of `group`."""
        return [child for term, child in self.first.items() if group in self._path(term)]


class _Placement:
    """One walk over a document, collecting each element that stands where the schema does not allow it."""

    def __init__(self, standard: str) -> None:
        self.standard = standard
        self.models: ContentModels = content_models(standard)
        self.found: list[tuple[etree._Element, str]] = []

    def knows(self, namespace: str) -> bool:
        if namespace in self.models.namespaces:
            return True
        return self.standard == "DMN" and namespace.startswith(_DMN_PREFIXES)

    def refuse(self, node: etree._Element, reason: str) -> None:
        self.found.append((node, reason))

    def walk(self, root: etree._Element) -> None:
        pending: list[tuple[etree._Element, Declaration | None]] = [
            (root, self.models.elements.get(str(root.tag)))]
        while pending:
            node, declaration = pending.pop()
            content = self.models.content(declaration) if declaration is not None else None
            if declaration is not None and content is not None:
                reason = self._read_by_name(node, declaration, content)
                if reason:
                    self.refuse(node, reason)
                elif self._text_only(declaration, content):
                    self._text(node)
                else:
                    pending.extend(self._children(node, content))
            else:
                pending.extend(self._open(node))

    def _read_by_name(self, node: etree._Element, declaration: Declaration, content: Content) -> str | None:
        """Why `node` would not be what the schema takes it for, in an engine that reads elements by name."""
        if declaration.abstract or content.abstract:
            # The schema takes an abstract one only with an xsi:type naming a concrete type.
            return (f"{_shown(node)}{_inside(node)} names a kind of {self.standard} element, not one: write the "
                    f"element itself ({_KINDS[self.standard]})")
        xsi_type = _xsi_type(node)
        if not xsi_type or xsi_type == content.type_name or not self.models.derives(xsi_type, content.type_name):
            return None
        other = self.models.named(xsi_type)
        if other is None or other.root is content.root:
            return None
        # The schema lets the derived type's elements stand in it; the engine would skip them.
        return (f"{_shown(node)}{_inside(node)} has xsi:type=\"{node.get(XSI_TYPE)}\", a type that holds other "
                f"elements than a <{etree.QName(node).localname}> does; the engine reads elements by their name: "
                "write the element of that type instead")

    def _text_only(self, declaration: Declaration, content: Content) -> bool:
        local = declaration.name.rpartition("}")[2]
        return local == _TEXT_NAMES[self.standard] or (self.standard == "BPMN" and content.type_name in _TEXT_TYPES)

    def _text(self, node: etree._Element) -> None:
        for child in node:
            if isinstance(child.tag, str):
                self.refuse(child, f"{_shown(child)} inside <{etree.QName(node).localname}>: a script or "
                            "expression holds text only, and the engine would run the text without it")

    def _unknown(self, child: etree._Element) -> bool:
        """Refuse `child` if it is of no vocabulary of the standard, or a name the standard lacks."""
        namespace = _namespace(child)
        if not self.knows(namespace):
            where = f" (namespace {namespace})" if namespace else " (no namespace)"
            self.refuse(child, f"{_shown(child)}{where} is not part of {self.standard} and cannot stand"
                        f"{_inside(child)}; elements of other vocabularies are allowed only inside "
                        "extensionElements (or documentation), and nothing here processes them")
            return True
        if namespace in self.models.namespaces and not self.models.declares(str(child.tag)):
            self.refuse(child, f"{_shown(child)} is not a {self.standard} element (found{_inside(child)})")
            return True
        return False

    def _open(self, node: etree._Element) -> list[tuple[etree._Element, Declaration | None]]:
        """Children of an element the schemas do not describe (a DMN DI version SpiffWorkflow lacks).

        Diagram elements of any DI version may stand there; the model's own elements may not,
        since the parser would find them there as it would in open content.
        """
        found: list[tuple[etree._Element, Declaration | None]] = []
        for child in node:
            if not isinstance(child.tag, str) or self._unknown(child):
                continue
            if _namespace(child) in _MODELS[self.standard]:
                self.refuse(child, self._hidden(child))
            else:
                found.append((child, self.models.elements.get(str(child.tag))))
        return found

    def _children(self, node: etree._Element, content: Content) -> list[tuple[etree._Element, Declaration | None]]:
        found: list[tuple[etree._Element, Declaration | None]] = []
        tally = _Tally(content)
        for child in node:
            if not isinstance(child.tag, str):
                continue
            name = str(child.tag)
            namespace = _namespace(child)
            terms: list[ElementTerm | Wildcard] = [*content.by_name.get(name, ())]
            terms += [w for w in content.wildcards if w.admits(namespace)]
            if not terms:
                if not self._unknown(child):
                    self.refuse(child, self._not_allowed(child, node, content))
                continue
            term, over = tally.place(child, terms)
            if over is not None:
                self.refuse(child, self._too_many(child, node, over, tally))
                continue
            if isinstance(term, ElementTerm):
                declaration = term.local or self.models.elements.get(name)
                if declaration is not None or self.knows(namespace):
                    found.append((child, declaration))
            else:
                self._open_content(child)
        return found

    def _open_content(self, top: etree._Element) -> None:
        """Refuse each element of the standard's vocabulary in `top` (taken by a wildcard) and below it.

        SpiffWorkflow finds much of a model by searching an element's whole subtree (a
        timer definition, a condition, a script, every element with an id), so such an
        element counts although it stands in documentation or an extension, where no
        modeler shows it. Names the standard does not declare are inert (some tools
        write their extensions in the BPMN namespace), and so is a nested
        ``extensionElements``, whose content is looked through.
        """
        pending = [top]
        while pending:
            node = pending.pop()
            if not isinstance(node.tag, str):
                continue
            name = etree.QName(node)
            if (name.namespace in self.models.namespaces and self.models.declares(str(node.tag))
                    and name.localname != "extensionElements"):
                self.refuse(node, self._hidden(node))
            else:
                pending.extend(node)

    def _hidden(self, node: etree._Element) -> str:
        return (f"{_shown(node)}{_inside(node)} is {self.standard} hidden where the schema leaves room for text, "
                "diagrams or other vocabularies: modelers do not show it there, yet the engine would read it as "
                f"part of the model; put it where {self.standard} places it, or remove it")

    def _not_allowed(self, child: etree._Element, parent: etree._Element, content: Content) -> str:
        if content.root is None:
            holds = "holds text only" if content.simple else "holds no elements"
        else:
            holds = "may hold " + ", ".join(content.labels)
        return f"{_shown(child)} is not allowed inside {_shown(parent)}: in {self.standard}, {_shown(parent)} {holds}"

    def _too_many(self, child: etree._Element, parent: etree._Element, over: Particle, tally: _Tally) -> str:
        where = f"in {self.standard}, {_shown(parent)}"
        if isinstance(over, Group) and over.choice and over.most == 1:
            taken = ", ".join(dict.fromkeys(_shown(c) for c in tally.within(over)))
            choices = ", ".join(" with ".join(_names(branch)) for branch in over.terms)
            return (f"{_shown(child)} cannot stand beside {taken} in {_shown(parent)}: {where} holds only one "
                    f"of {choices}")
        if isinstance(over, ElementTerm | Wildcard) and over.most is not None:
            what = f"<{over.name.rpartition('}')[2]}>" if isinstance(over, ElementTerm) else "element"
            count = f"{_NUMBERS.get(over.most, str(over.most))} {what}{'' if over.most == 1 else 's'}"
            return f"{_shown(child)} is one too many in {_shown(parent)}: {where} holds at most {count}"
        return f"{_shown(child)} is one too many in {_shown(parent)}: {where} does not hold that many"


def _names(particle: Particle) -> list[str]:
    """The elements `particle` names, as a message shows them."""
    if isinstance(particle, Group):
        return [name for term in particle.terms for name in _names(term)]
    if isinstance(particle, ElementTerm):
        return [f"<{particle.name.rpartition('}')[2]}>"]
    return ["an element of another vocabulary"]


def misplaced_elements(root: etree._Element, standard: str) -> list[tuple[etree._Element, str]]:
    """(element, reason) for each element of `root` the BPMN or DMN schema (`standard`) does not allow where it stands.

    That is: an element of no vocabulary of the standard outside open content, a name the
    standard does not declare, a child its parent's type does not allow, one more than
    its maxOccurs (or a second branch of a choice), and any element inside a script or
    expression. Order among allowed children is left to the schema warnings.
    """
    placement = _Placement(standard)
    placement.walk(root)
    return sorted(placement.found, key=lambda item: item[0].sourceline or 0)
