"""What each BPMN or DMN element may hold, read from the XML schemas SpiffWorkflow ships.

A content model is the schema's answer to "which child elements, how many of each":
the particles of an element's type (sequences, choices, element references, wildcards),
with the particles of the types it extends in front of its own. An element reference
admits the element and every member of its substitution group (``flowElement`` admits
``userTask``, ``rootElement`` admits ``process``), as the schema says.

Nothing here is written by hand: a new SpiffWorkflow with other schemas gives other
models. A construct this reader does not know (``xsd:group``, an element declared
without a type) raises at load, so such a schema fails the tests instead of being half
read.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS

XSD_NS = "http://www.w3.org/2001/XMLSchema"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_XSD = f"{{{XSD_NS}}}"
_PARTICLES = frozenset({f"{_XSD}sequence", f"{_XSD}choice", f"{_XSD}all", f"{_XSD}element", f"{_XSD}any"})


@dataclass(frozen=True, eq=False)
class Particle:
    """One term of a content model and how often it may occur (`most` None: unbounded)."""

    most: int | None


@dataclass(frozen=True, eq=False)
class ElementTerm(Particle):
    """An element the model names (a Clark name), declared in place (`local`) or globally."""

    name: str
    local: Declaration | None


@dataclass(frozen=True, eq=False)
class Wildcard(Particle):
    """``xsd:any``: `namespaces` it admits (None: any), or all but `excluded` ones."""

    namespaces: frozenset[str] | None
    excluded: frozenset[str]

    def admits(self, namespace: str) -> bool:
        if self.namespaces is not None:
            return namespace in self.namespaces
        return namespace not in self.excluded


@dataclass(frozen=True, eq=False)
class Group(Particle):
    """A sequence or ``xsd:all`` (`choice` False) or a choice of `terms`."""

    choice: bool
    terms: tuple[Particle, ...]


@dataclass(frozen=True, eq=False)
class Declaration:
    """An element declaration: its Clark name and its type (named, or `inline`)."""

    name: str
    type_name: str | None
    inline: ComplexType | None
    abstract: bool


@dataclass(frozen=True, eq=False)
class ComplexType:
    """A complex type as written: its own particle and the type it extends or restricts."""

    name: str
    base: str | None
    extends: bool
    particle: Particle | None
    abstract: bool
    simple: bool = False


@dataclass(frozen=True, eq=False)
class Content:
    """The effective content model of one type: `root` None means no child elements at all.

    `by_name` maps each Clark name the model admits to the terms that admit it (an element
    reference admits its whole substitution group); `parent` leads from a term to its group;
    `labels` names what the model holds, in schema order, for messages.
    """

    type_name: str
    root: Particle | None
    abstract: bool
    by_name: dict[str, tuple[ElementTerm, ...]] = field(default_factory=dict)
    wildcards: tuple[Wildcard, ...] = ()
    parent: dict[Particle, Group] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    simple: bool = False


def _leaves(particle: Particle | None) -> Iterator[ElementTerm | Wildcard]:
    if isinstance(particle, Group):
        for term in particle.terms:
            yield from _leaves(term)
    elif isinstance(particle, ElementTerm | Wildcard):
        yield particle


def _qname(node: etree._Element, value: str) -> str:
    prefix, _, local = value.rpartition(":")
    namespace = node.nsmap.get(prefix or None, "")
    return f"{{{namespace}}}{local}" if namespace else local


def _most(node: etree._Element) -> int | None:
    value = node.get("maxOccurs", "1")
    return None if value == "unbounded" else int(value)


class _Reader:
    """Reads the declarations and types of every schema file of one standard."""

    def __init__(self) -> None:
        self.elements: dict[str, Declaration] = {}
        self.types: dict[str, ComplexType] = {}
        self.simple: set[str] = set()
        self.heads: dict[str, str] = {}
        self.names: dict[str, set[str]] = {}

    def read(self, schema: etree._Element) -> None:
        target = schema.get("targetNamespace", "")
        qualified = schema.get("elementFormDefault") == "qualified"
        self.names.setdefault(target, set())
        for node in schema:
            if node.tag == f"{_XSD}element":
                declaration = self._declaration(node, target, qualified, is_global=True)
                self.elements[declaration.name] = declaration
                head = node.get("substitutionGroup")
                if head:
                    self.heads[declaration.name] = _qname(node, head)
            elif node.tag == f"{_XSD}complexType":
                complex_type = self._complex_type(node, target, qualified)
                self.types[complex_type.name] = complex_type
            elif node.tag == f"{_XSD}simpleType":
                self.simple.add(f"{{{target}}}{node.get('name')}")
            elif node.tag == f"{_XSD}group":
                raise ValueError(f"content models: xsd:group in {target} is not read here")

    def _declaration(self, node: etree._Element, target: str, qualified: bool, *,
                     is_global: bool) -> Declaration:
        local = node.get("name", "")
        in_namespace = is_global or node.get("form", "qualified" if qualified else "unqualified") == "qualified"
        name = f"{{{target}}}{local}" if in_namespace and target else local
        self.names.setdefault(target if in_namespace else "", set()).add(local)
        inline = node.find(f"{_XSD}complexType")
        type_name = node.get("type")
        if inline is None and type_name is None and node.find(f"{_XSD}simpleType") is None:
            raise ValueError(f"content models: element {local} in {target} has no type")
        return Declaration(name, _qname(node, type_name) if type_name else None,
                           self._complex_type(inline, target, qualified) if inline is not None else None,
                           node.get("abstract") == "true")

    def _complex_type(self, node: etree._Element, target: str, qualified: bool) -> ComplexType:
        name = f"{{{target}}}{node.get('name')}" if node.get("name") else ""
        abstract = node.get("abstract") == "true"
        if node.find(f"{_XSD}simpleContent") is not None:
            return ComplexType(name, None, False, None, abstract, simple=True)
        derivation = node.find(f"{_XSD}complexContent/*")
        holder = node if derivation is None else derivation
        if derivation is not None and derivation.tag not in (f"{_XSD}extension", f"{_XSD}restriction"):
            raise ValueError(f"content models: {derivation.tag} in type {name} is not read here")
        particles = [child for child in holder if child.tag in _PARTICLES]
        if any(child.tag == f"{_XSD}group" for child in holder):
            raise ValueError(f"content models: xsd:group in type {name} is not read here")
        particle = self._particle(particles[0], target, qualified) if particles else None
        base = _qname(derivation, derivation.get("base", "")) if derivation is not None else None
        return ComplexType(name, base, derivation is not None and derivation.tag == f"{_XSD}extension",
                           particle, abstract)

    def _particle(self, node: etree._Element, target: str, qualified: bool) -> Particle:
        most = _most(node)
        if node.tag == f"{_XSD}element":
            ref = node.get("ref")
            if ref:
                return ElementTerm(most, _qname(node, ref), None)
            declaration = self._declaration(node, target, qualified, is_global=False)
            return ElementTerm(most, declaration.name, declaration)
        if node.tag == f"{_XSD}any":
            rule = node.get("namespace", "##any").split()
            if rule == ["##any"]:
                return Wildcard(most, None, frozenset())
            if rule == ["##other"]:
                return Wildcard(most, None, frozenset({target, ""}))
            admitted = {target if ns == "##targetNamespace" else "" if ns == "##local" else ns for ns in rule}
            return Wildcard(most, frozenset(admitted), frozenset())
        if node.tag in (f"{_XSD}sequence", f"{_XSD}choice", f"{_XSD}all"):
            terms = tuple(self._particle(child, target, qualified) for child in node if child.tag in _PARTICLES)
            if any(child.tag == f"{_XSD}group" for child in node):
                raise ValueError(f"content models: xsd:group in {target} is not read here")
            return Group(most, node.tag == f"{_XSD}choice", terms)
        raise ValueError(f"content models: {node.tag} in {target} is not read here")


class ContentModels:
    """The content models of one standard (BPMN or DMN), across all its schema files."""

    def __init__(self, reader: _Reader) -> None:
        self.elements = reader.elements
        self._types = reader.types
        self._simple = reader.simple
        self.namespaces = frozenset(ns for ns in reader.names if ns)
        self._declared = {ns: frozenset(found) for ns, found in reader.names.items()}
        members: dict[str, set[str]] = {}
        for member, head in reader.heads.items():
            while head:
                members.setdefault(head, set()).add(member)
                head = reader.heads.get(head, "")
        self._members = {head: frozenset(found) for head, found in members.items()}
        self._contents: dict[str, Content | None] = {}
        self._inline: dict[ComplexType, Content | None] = {}

    def declares(self, name: str) -> bool:
        """Whether any declaration (global or local) of the schemas has the Clark `name`."""
        namespace, _, local = name[1:].rpartition("}") if name.startswith("{") else ("", "", name)
        return local in self._declared.get(namespace, frozenset())

    def content(self, declaration: Declaration) -> Content | None:
        """The content model of an element declared by `declaration`; None if the schemas do not say."""
        if declaration.inline is not None:
            if declaration.inline not in self._inline:
                self._inline[declaration.inline] = self._resolved(declaration.inline)
            return self._inline[declaration.inline]
        if declaration.type_name is None:
            # Declared with an inline simple type: text only.
            return Content("", None, False, simple=True)
        return self.named(declaration.type_name)

    def named(self, type_name: str) -> Content | None:
        """The content model of the type called `type_name` (a Clark name)."""
        if type_name not in self._contents:
            if type_name.startswith(f"{{{XSD_NS}}}") or type_name in self._simple:
                self._contents[type_name] = Content(type_name, None, False, simple=True)
            elif type_name in self._types:
                self._contents[type_name] = self._resolved(self._types[type_name])
            else:
                self._contents[type_name] = None
        return self._contents[type_name]

    def derives(self, type_name: str, ancestor: str) -> bool:
        """Whether the type `type_name` is `ancestor` or derives from it, by extension or restriction."""
        seen: set[str] = set()
        current: str | None = type_name
        while current is not None and current not in seen:
            if current == ancestor:
                return True
            seen.add(current)
            found = self._types.get(current)
            current = found.base if found is not None else None
        return False

    def _particle_of(self, complex_type: ComplexType) -> tuple[Particle | None, bool]:
        """The effective particle of `complex_type`, and whether the schemas fully say what it is."""
        if complex_type.base is None or not complex_type.extends:
            return complex_type.particle, True
        if complex_type.base.startswith(f"{{{XSD_NS}}}") or complex_type.base in self._simple:
            return complex_type.particle, True
        base = self._types.get(complex_type.base)
        if base is None:
            return None, False
        inherited, known = self._particle_of(base)
        parts = tuple(p for p in (inherited, complex_type.particle) if p is not None)
        if len(parts) == 1:
            return parts[0], known
        return (Group(1, False, parts) if parts else None), known

    def _resolved(self, complex_type: ComplexType) -> Content | None:
        particle, known = self._particle_of(complex_type)
        if not known:
            return None
        root = particle
        by_name: dict[str, tuple[ElementTerm, ...]] = {}
        parent: dict[Particle, Group] = {}
        leaves = list(_leaves(root))
        pending = [root] if isinstance(root, Group) else []
        while pending:
            group = pending.pop()
            for term in group.terms:
                parent[term] = group
                if isinstance(term, Group):
                    pending.append(term)
        for leaf in leaves:
            if isinstance(leaf, ElementTerm):
                for name in (leaf.name, *self._members.get(leaf.name, ())):
                    by_name[name] = (*by_name.get(name, ()), leaf)
        return Content(complex_type.name, root, complex_type.abstract, by_name,
                       tuple(t for t in leaves if isinstance(t, Wildcard)), parent,
                       tuple(dict.fromkeys(self._label(t) for t in leaves)), complex_type.simple)

    def _label(self, term: ElementTerm | Wildcard) -> str:
        if isinstance(term, ElementTerm):
            local = term.name.rpartition("}")[2]
            return f"any kind of {local}" if term.name in self._members else local
        if term.namespaces is None and not term.excluded:
            return "any element"
        return "elements of other vocabularies"


@functools.cache
def content_models(standard: str) -> ContentModels:
    """The content models of `standard` ("BPMN" or "DMN"), from every schema file SpiffWorkflow ships for it."""
    folder = Path(XSD_PATH if standard == "BPMN" else next(iter(DMN_SCHEMAS.values()))).parent
    reader = _Reader()
    for path in sorted(folder.glob("*.xsd")):
        reader.read(etree.parse(str(path)).getroot())
    return ContentModels(reader)
