"""Reading a JSON Schema the way forms need it: which fields an object declares, and of what kind.

A property may be declared in several places: in ``properties``, behind a local ``$ref``, inside
``allOf``/``anyOf``/``oneOf``, ``then``/``else`` or ``dependentSchemas``. Every declaration counts, so a field
declared only in a conditional branch is still a field (and is kept from a submission).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from forms.model import FormDefinitionError

Node = dict[str, Any]
MAX_DEPTH = 32
_BRANCH_LISTS = ("allOf", "anyOf", "oneOf")
_BRANCHES = ("then", "else")


def pointer(root: Node, ref: str) -> Node | None:
    """The node a local reference (``#/$defs/address``) points at, or None."""
    if not ref.startswith("#"):
        return None
    node: Any = root
    for raw in [part for part in ref[1:].split("/") if part]:
        name = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and name in node:
            node = node[name]
        elif isinstance(node, list) and name.isascii() and name.isdigit() and int(name) < len(node):
            node = node[int(name)]
        else:
            return None
    return node if isinstance(node, dict) else None


def branches(root: Node, node: Any, depth: int = 0) -> Iterator[Node]:
    """`node` and every schema that applies to the same value alongside it."""
    if depth > MAX_DEPTH or not isinstance(node, dict):
        return
    yield node
    ref = node.get("$ref")
    if isinstance(ref, str):
        yield from branches(root, pointer(root, ref), depth + 1)
    for key in _BRANCH_LISTS:
        for sub in node.get(key) or []:
            yield from branches(root, sub, depth + 1)
    for key in _BRANCHES:
        yield from branches(root, node.get(key), depth + 1)
    dependent = node.get("dependentSchemas")
    for sub in dependent.values() if isinstance(dependent, dict) else ():
        yield from branches(root, sub, depth + 1)


def declared(root: Node, nodes: Sequence[Node]) -> dict[str, list[Node]]:
    """Each property the nodes declare, with all its declarations, in declaration order."""
    found: dict[str, list[Node]] = {}
    for node in nodes:
        for branch in branches(root, node):
            properties = branch.get("properties")
            for name, sub in properties.items() if isinstance(properties, dict) else ():
                if isinstance(sub, dict):
                    found.setdefault(name, []).append(sub)
    return found


def items(root: Node, nodes: Sequence[Node]) -> list[Node]:
    """The declarations of an array's items."""
    return [branch["items"] for node in nodes for branch in branches(root, node)
            if isinstance(branch.get("items"), dict)]


def keyword(root: Node, nodes: Sequence[Node], key: str) -> Any:
    """The first value of `key` across all declarations, or None."""
    return first_with(root, nodes, key).get(key)


def first_with(root: Node, nodes: Sequence[Node], key: str) -> Node:
    """The first declaration that has `key` (an empty node when none has)."""
    for node in nodes:
        for branch in branches(root, node):
            if key in branch:
                return branch
    return {}


def types(root: Node, nodes: Sequence[Node]) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        for branch in branches(root, node):
            declared_type = branch.get("type")
            found.update([declared_type] if isinstance(declared_type, str) else declared_type or [])
    return found


def choices(root: Node, nodes: Sequence[Node]) -> list[Any] | None:
    """The allowed values of an enumerated field (``enum``, or ``oneOf`` of ``const``), else None."""
    for node in nodes:
        for branch in branches(root, node):
            if isinstance(branch.get("enum"), list):
                return list(branch["enum"])
            options = branch.get("oneOf") or branch.get("anyOf")
            if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
                return [o["const"] for o in options]
    return None


def always_required(root: Node, nodes: Sequence[Node], depth: int = 0) -> set[str]:
    """Names the nodes require whatever the data (``required`` here, behind ``$ref`` and in ``allOf``)."""
    found: set[str] = set()
    for node in nodes if depth <= MAX_DEPTH else ():
        found.update(name for name in node.get("required") or [] if isinstance(name, str))
        target = pointer(root, node["$ref"]) if isinstance(node.get("$ref"), str) else None
        found |= always_required(root, [n for n in [target, *(node.get("allOf") or [])] if isinstance(n, dict)],
                                 depth + 1)
    return found


def readonly(root: Node, nodes: Sequence[Node]) -> bool:
    return any(branch.get("readOnly") is True for node in nodes for branch in branches(root, node))


@dataclass(frozen=True)
class Field:
    """A field or a container (an object or a list of objects) of a schema."""

    path: str
    nodes: tuple[Node, ...]
    kind: Literal["field", "object", "list"]
    container: str | None


def walk(root: Node) -> Iterator[Field]:
    """Every field and container of the schema, depth first, each container before what it holds."""
    yield from _walk(root, [root], "", None, 0)


def _walk(root: Node, nodes: Sequence[Node], prefix: str, container: str | None, depth: int) -> Iterator[Field]:
    if depth > MAX_DEPTH:
        raise FormDefinitionError(f"the schema nests fields deeper than {MAX_DEPTH} levels at '{prefix[:-1]}'")
    for name, declarations in declared(root, nodes).items():
        path = prefix + name
        item_nodes = items(root, declarations)
        if declared(root, declarations):
            yield Field(path, tuple(declarations), "object", container)
            yield from _walk(root, declarations, path + ".", path, depth + 1)
        elif item_nodes and declared(root, item_nodes):
            yield Field(path, tuple(declarations), "list", container)
            yield from _walk(root, item_nodes, path + ".", path, depth + 1)
        else:
            yield Field(path, tuple(declarations), "field", container)
