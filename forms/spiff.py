"""SpiffArena forms (a JSON Schema file plus an RJSF uiSchema file) in the canonical model.

The schema is checked at deploy time: it must be a valid JSON Schema (patterns included) whose fields
have names a process variable can have, and whose formats the server can check. Draft-07 schemas (RJSF's
default) are brought to 2020-12: ``dependencies`` becomes ``dependentRequired``/``dependentSchemas``,
array-form ``items`` becomes ``prefixItems``. Draft-04 and older are refused.

uiSchema keys read: ``ui:order`` (with ``*``), ``ui:widget``, ``ui:help``, ``ui:description``, ``ui:title``,
``ui:readonly``, ``ui:disabled``, nested per field and under ``items`` for lists; other RJSF presentation
keys are ignored. A read-only field is also marked ``readOnly`` in the schema, so it is never taken from
a submission.

Choices known only at run time (appointment slots an agency offered, say) are a string property with
``"x-options-from": "<process variable>"``: the variable holds a list of ``{"value": ..., "label": ...}``
(the label a string or ``{"fa": ..., "en": ...}``) or of plain values, the portal offers those and the
server accepts only those, as Camunda Forms' ``valuesKey`` does.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from forms import schema as schemas
from forms.camunda7 import variable_name
from forms.formats import FORMATS
from forms.model import SCHEMA_DIALECT, FormDefinitionError, FormModel, read_json, text
from forms.patterns import PatternError, check_pattern
from forms.storable import MAX_SAFE_INTEGER
from forms.ui import build_ui

_ACCEPTED_DRAFTS = ("draft-06", "draft-07", "2019-09", "2020-12")
_RJSF_WIDGETS = {"radio": "radio", "select": "select", "textarea": "textarea", "checkbox": "checkbox",
                 "checkboxes": "checklist", "hidden": "hidden", "date": "date", "alt-date": "date", "text": "text",
                 "updown": "number", "range": "number", "file": "file", "email": "text", "uri": "text"}
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_VALUES = ("items", "additionalItems", "additionalProperties", "not", "if", "then", "else", "contains",
                  "propertyNames", "unevaluatedItems", "unevaluatedProperties")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
OPTIONS_FROM = "x-options-from"
_NUMBER_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "x-increment")


def _load(files: Mapping[str, bytes], name: str, what: str) -> dict[str, Any]:
    if name not in files:
        raise FormDefinitionError(f"{what} file '{name}' was not uploaded with the model")
    try:
        loaded = read_json(files[name])
    except FormDefinitionError as err:
        raise FormDefinitionError(f"{what} file '{name}' {err}") from err
    if not isinstance(loaded, dict):
        raise FormDefinitionError(f"{what} file '{name}' must hold a JSON object")
    return loaded


def _subschemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema inside `node`, `node` first; only schema positions, so a field named "items" is safe."""
    if not isinstance(node, dict):
        return
    yield node
    for key in _SCHEMA_MAPS:
        for sub in (node.get(key) or {}).values() if isinstance(node.get(key), dict) else ():
            yield from _subschemas(sub)
    for key in _SCHEMA_VALUES:
        yield from _subschemas(node.get(key))
    for key in _SCHEMA_LISTS:
        for sub in node.get(key) or [] if isinstance(node.get(key), list) else ():
            yield from _subschemas(sub)
    dependencies = node.get("dependencies")
    for sub in dependencies.values() if isinstance(dependencies, dict) else ():
        yield from _subschemas(sub)


def _upgrade(schema: dict[str, Any], name: str) -> dict[str, Any]:
    declared = str(schema.get("$schema") or "draft-07")
    if not any(draft in declared for draft in _ACCEPTED_DRAFTS):
        raise FormDefinitionError(f"'{name}' declares $schema {declared!r}; use draft-07 or 2020-12")
    upgraded = copy.deepcopy(schema)
    for node in list(_subschemas(upgraded)):
        dependencies = node.pop("dependencies", None)
        for key, value in dependencies.items() if isinstance(dependencies, dict) else ():
            node.setdefault("dependentRequired" if isinstance(value, list) else "dependentSchemas", {})[key] = value
        if isinstance(node.get("items"), list):
            node["prefixItems"] = node.pop("items")
            if "additionalItems" in node:
                node["items"] = node.pop("additionalItems")
    upgraded["$schema"] = SCHEMA_DIALECT
    return upgraded


def _is_pattern(value: object) -> bool:
    if isinstance(value, str):
        check_pattern(value)
    return True


def _patterns_checker() -> FormatChecker:
    # The meta-schema says every pattern has the "regex" format; the default check compiles
    # it with `re`, and runtime matching is done by `forms.patterns`, so check with that.
    checker = FormatChecker(formats=())
    checker.checks("regex", raises=PatternError)(_is_pattern)
    return checker


def _check(schema: dict[str, Any], name: str) -> None:
    try:
        Draft202012Validator.check_schema(schema, format_checker=_patterns_checker())
    except SchemaError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "the top"
        # The message quotes the offending value, which may be the whole (hostile) pattern.
        message = err.message if len(err.message) <= 300 else f"{err.message[:300]}…"
        raise FormDefinitionError(f"'{name}' is not a valid JSON Schema: {message} (at {where})") from err
    if schema.get("type", "object") != "object":
        raise FormDefinitionError(f"'{name}' must describe an object (\"type\": \"object\")")
    for field in schemas.walk(schema):
        for part in field.path.split("."):
            variable_name(part, f"'{name}': field name")
    for node in _subschemas(schema):
        ref = node.get("$ref")
        # Validation must never fetch anything: only references inside the file are allowed.
        if ref is not None and (not isinstance(ref, str) or schemas.pointer(schema, ref) is None):
            raise FormDefinitionError(f"'{name}': $ref {ref!r} does not point inside the file")
        for keyword in _NUMBER_KEYWORDS:
            limit = node.get(keyword)
            # Answers lie within the range; a limit outside it (NaN compares false, too) is
            # meaningless, or as a divisor of a decimal answer too large to convert.
            if isinstance(limit, int | float) and not isinstance(limit, bool) and not (
                    -MAX_SAFE_INTEGER <= limit <= MAX_SAFE_INTEGER):
                raise FormDefinitionError(f"'{name}': {keyword} must lie within ±{MAX_SAFE_INTEGER}")
        declared_format = node.get("format")
        if declared_format is not None and declared_format not in FORMATS:
            raise FormDefinitionError(f"'{name}': format '{declared_format}' is not one Panjereh checks "
                                      f"(known: {', '.join(FORMATS)})")


def _ui_hints(schema: dict[str, Any], ui_schema: dict[str, Any]) -> dict[str, Any]:
    hints: dict[str, Any] = {"widgets": {}, "help": {}, "labels": {}, "readonly": [], "options_from": {}}
    ranks: dict[str, list[str]] = {}
    _read_ui(schema, ui_schema, "", hints, ranks)
    walked = list(schemas.walk(schema))
    for found in walked:
        source = schemas.keyword(schema, found.nodes, OPTIONS_FROM) if found.kind == "field" else None
        if source is not None:
            hints["options_from"][found.path] = variable_name(str(source), f"field '{found.path}': {OPTIONS_FROM}")
            # No choices are known before the case runs, so one choice among a list is the widget.
            hints["widgets"].setdefault(found.path, "radio")
    declared_at = {f.path: i for i, f in enumerate(walked)}
    fields = [f.path for f in walked if f.kind == "field"]
    hints["order"] = sorted(fields, key=lambda path: _rank(path, ranks, declared_at))
    return hints


def _rank(path: str, ranks: dict[str, list[str]], declared_at: dict[str, int]) -> list[tuple[int, int]]:
    """Position by each level's ``ui:order`` (unlisted names where ``*`` is, else last), then as declared."""
    found, prefix = [], ""
    for name in path.split("."):
        order = ranks.get(prefix, [])
        listed = order.index(name) if name in order else order.index("*") if "*" in order else len(order)
        found.append((listed, declared_at[prefix + name]))
        prefix += name + "."
    return found


def _read_ui(schema: dict[str, Any], node: dict[str, Any], prefix: str, hints: dict[str, Any],
             ranks: dict[str, list[str]]) -> None:
    path = prefix[:-1]
    for key, value in node.items():
        if key == "ui:order" and isinstance(value, list):
            ranks[prefix] = [str(v) for v in value]
        elif key == "ui:widget" and path:
            if value not in _RJSF_WIDGETS:
                raise FormDefinitionError(f"field '{path}': ui:widget '{value}' is not supported "
                                          f"(supported: {', '.join(_RJSF_WIDGETS)})")
            hints["widgets"][path] = _RJSF_WIDGETS[value]
        elif key in ("ui:help", "ui:description") and path and isinstance(value, str):
            hints["help"][path] = text(value)
        elif key == "ui:title" and path and isinstance(value, str):
            hints["labels"][path] = text(value)
        elif key in ("ui:readonly", "ui:disabled") and path and value is True:
            hints["readonly"].append(path)
            _property_node(schema, path)["readOnly"] = True
        elif key == "items" and isinstance(value, dict):
            _read_ui(schema, value, prefix, hints, ranks)
        elif not key.startswith("ui:") and isinstance(value, dict):
            _read_ui(schema, value, f"{prefix}{key}.", hints, ranks)


def _property_node(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The ``properties`` entry of a field path, so a keyword added there applies next to any $ref."""
    nodes: list[dict[str, Any]] = [schema]
    for name in path.split("."):
        declared = schemas.declared(schema, nodes)
        if name not in declared:
            raise FormDefinitionError(f"the uiSchema names '{path}', which the schema does not have")
        found = declared[name][0]
        nodes = [found, *(schemas.items(schema, [found]))]
    return nodes[0]


def spiff_form(files: Mapping[str, bytes], schema_file: str, ui_file: str | None) -> FormModel:
    """The canonical model of a ``formJsonSchemaFilename`` (and ``formUiSchemaFilename``) pair."""
    schema = _upgrade(_load(files, schema_file, "form schema"), schema_file)
    _check(schema, schema_file)
    ui_schema = _load(files, ui_file, "form UI schema") if ui_file else {}
    hints = _ui_hints(schema, ui_schema)
    return {"source": "spiffworkflow:formJsonSchemaFilename", "ref": schema_file, "schema": schema,
            "ui": build_ui(schema, hints)}
