"""Turning a raw submission into candidate task data: only declared fields, in canonical form.

The schema and the submission are walked together:

- only properties the schema declares are kept, at every level, whatever ``additionalProperties`` says
  (a raw post is never merged into task data); an object that declares no properties is free-form and
  kept as given;
- read-only properties are dropped, never taken from a client;
- strings are normalised (`forms.normalize`) and put in their format's canonical form;
- a string of digits given for an integer or number field becomes a number (``"۲۵"`` → 25);
- a blank answer (empty after trimming, or null where null is not allowed) counts as not given, so
  "required" reports it and an optional field is simply absent;
- a required group (an object with declared fields) that is absent is taken as empty, so the questions
  inside it are reported rather than the group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from forms import schema as schemas
from forms.conditions import ConcretePath
from forms.formats import canonical
from forms.normalize import normalize_text, normalize_value, parse_integer, parse_number


def prepare(schema: schemas.Node, data: dict[str, Any]) -> tuple[dict[str, Any], set[ConcretePath]]:
    """The declared, normalised part of `data`, and where read-only fields are; checks nothing.

    Read-only places are listed whether or not the submission had them: their values come from the
    process, so the caller must not call them missing.
    """
    readonly: set[ConcretePath] = set()
    return _object(schema, [schema], data, (), readonly), readonly


def _object(root: schemas.Node, nodes: Sequence[schemas.Node], value: dict[str, Any], at: ConcretePath,
            readonly: set[ConcretePath]) -> dict[str, Any]:
    declared = schemas.declared(root, nodes)
    if not declared:
        return dict(normalize_value(value))
    kept: dict[str, Any] = {}
    required = schemas.always_required(root, nodes)
    for name, declarations in declared.items():
        if schemas.readonly(root, declarations):
            readonly.add((*at, name))
            continue
        if name not in value:
            if name in required and schemas.declared(root, declarations):
                kept[name] = _object(root, declarations, {}, (*at, name), readonly)
            continue
        prepared = _value(root, declarations, value[name], (*at, name), readonly)
        blank = prepared == "" or (prepared is None and "null" not in schemas.types(root, declarations))
        if not blank:
            kept[name] = prepared
    return kept


def _value(root: schemas.Node, nodes: Sequence[schemas.Node], value: Any, at: ConcretePath,
           readonly: set[ConcretePath]) -> Any:
    if isinstance(value, str):
        return _string(root, nodes, value)
    if isinstance(value, dict):
        return _object(root, nodes, value, at, readonly)
    if isinstance(value, list):
        item_nodes = schemas.items(root, nodes)
        if not item_nodes:
            return normalize_value(value)
        return [_value(root, item_nodes, item, (*at, i), readonly) for i, item in enumerate(value)]
    kinds = schemas.types(root, nodes)
    # JSON Schema counts 25.0 as an integer; store it as one.
    if isinstance(value, float) and value.is_integer() and "integer" in kinds and "number" not in kinds:
        return int(value)
    return value


def _string(root: schemas.Node, nodes: Sequence[schemas.Node], value: str) -> Any:
    kinds = schemas.types(root, nodes)
    if kinds & {"integer", "number"} and "string" not in kinds:
        number = parse_number(value) if "number" in kinds else parse_integer(value)
        return normalize_text(value) if number is None else number
    declared_format = schemas.keyword(root, nodes, "format")
    return canonical(declared_format, value) if isinstance(declared_format, str) else normalize_text(value)
