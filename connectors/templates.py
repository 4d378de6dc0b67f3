"""What modelers need to use the installed operations: element templates and a command catalogue.

Camunda Modeler (7 and 8) shows an element template as a ready-made service task: the
analyst picks "Civil registry: person by national code", fills in the parameters (usually
as expressions over process variables) and names the variable that receives the answer.
Each parameter's field comes from the operation's JSON Schema: required parameters must
not be empty, and a schema pattern becomes a pattern constraint.
SpiffArena's modeler reads the command catalogue instead, in its connector-proxy shape.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from connectors.registry import Operation, Registry

Platform = Literal["camunda8", "camunda7"]

CAMUNDA8_SCHEMA = "https://unpkg.com/@camunda/zeebe-element-templates-json-schema/resources/schema.json"
CAMUNDA7_SCHEMA = "https://unpkg.com/@camunda/element-templates-json-schema/resources/schema.json"

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "params": "Parameters",
        "result": "Result",
        "result_variable": "Result variable",
        "result_help": "The process variable that receives the answer.",
        "pattern": "must match the pattern {pattern}",
        "yes": "Yes",
        "no": "No",
    },
    "fa": {
        "params": "ورودی‌ها",
        "result": "نتیجه",
        "result_variable": "متغیر نتیجه",
        "result_help": "متغیری از فرایند که پاسخ در آن نوشته می‌شود.",
        "pattern": "باید با الگوی {pattern} جور باشد",
        "yes": "بله",
        "no": "خیر",
    },
}

# JavaScript reads these patterns (the modeler runs `new RegExp(...)`); Python-only syntax
# would make it refuse every value, so such a pattern is left for the server to check.
_PYTHON_ONLY_REGEX = re.compile(r"\(\?P|\\[AZ]|\(\?[aiLmsux]+\)")
_SPIFF_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


def element_templates(registry: Registry, lang: str = "en", platform: Platform = "camunda8") -> list[dict[str, Any]]:
    """One Camunda Modeler element template per operation, for Camunda 8 (Zeebe) or Camunda 7.

    Camunda 8 templates set the job type (``zeebe:taskDefinition``) to the operation id, map
    each parameter with ``zeebe:input`` and name the result variable in the
    ``resultVariable`` task header. Camunda 7 templates make an external task whose topic is
    the operation id, map parameters with ``camunda:inputParameter`` and name the result
    variable in the ``resultVariable`` extension property.
    """
    if platform not in ("camunda8", "camunda7"):
        raise ValueError(f"unknown platform {platform!r}; use 'camunda8' or 'camunda7'")
    words = _WORDS.get(lang, _WORDS["en"])
    templates = []
    for op in registry.operations.values():
        connector = registry.connectors.get(op.connector_id)
        template: dict[str, Any] = {
            "$schema": CAMUNDA8_SCHEMA if platform == "camunda8" else CAMUNDA7_SCHEMA,
            "name": _pick(op.title, lang) or op.id,
            "id": f"panjereh.{op.connector_id}.{op.name}",
            "description": _pick(op.description, lang) or (_pick(connector.title, lang) if connector else "") or op.id,
            "version": 1,
            "appliesTo": ["bpmn:Task"],
            "elementType": {"value": "bpmn:ServiceTask"},
            "groups": [{"id": "params", "label": words["params"]}, {"id": "result", "label": words["result"]}],
            "properties": _properties(op, lang, platform, words),
        }
        templates.append(template)
    return templates


def command_catalogue(registry: Registry) -> list[dict[str, Any]]:
    """The operations as SpiffArena's connector proxy lists its commands (``GET /v1/commands``)."""
    catalogue = []
    for op in registry.operations.values():
        schema = op.params_schema()
        required = set(schema.get("required", ()))
        catalogue.append({"id": op.id, "parameters": [
            {"id": name, "type": _SPIFF_TYPES.get(str(_resolve(prop, schema).get("type")), "any"),
             "required": name in required}
            for name, prop in schema.get("properties", {}).items()]})
    return catalogue


def _pick(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")


def _resolve(prop: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """`prop` with a `$ref` followed and an ``X | None`` reduced to X; the outer title, description and default win."""
    outer = {k: v for k, v in prop.items() if k not in ("$ref", "anyOf", "allOf")}
    inner = prop
    if "anyOf" in prop:
        branches = [b for b in prop["anyOf"] if b.get("type") != "null"]
        inner = branches[0] if len(branches) == 1 else {}
    elif "allOf" in prop and len(prop["allOf"]) == 1:
        inner = prop["allOf"][0]
    if "$ref" in inner:
        name = str(inner["$ref"]).rsplit("/", 1)[-1]
        inner = schema.get("$defs", {}).get(name, {})
    if inner is prop:
        return dict(prop)
    return {**inner, **outer}


def _text(prop: dict[str, Any], key: str, lang: str) -> str | None:
    """A field's title or description in `lang`: ``x-title``/``x-description`` by language, else the plain one."""
    localised = prop.get(f"x-{key}")
    if isinstance(localised, dict):
        text = _pick({str(k): str(v) for k, v in localised.items()}, lang)
        if text:
            return text
    plain = prop.get(key)
    return str(plain) if plain else None


def _properties(op: Operation, lang: str, platform: Platform, words: dict[str, str]) -> list[dict[str, Any]]:
    schema = op.params_schema()
    required = set(schema.get("required", ()))
    if platform == "camunda8":
        props: list[dict[str, Any]] = [
            {"type": "Hidden", "value": op.id, "binding": {"type": "zeebe:taskDefinition", "property": "type"}}]
    else:
        props = [
            {"type": "Hidden", "value": "external", "binding": {"type": "property", "name": "camunda:type"}},
            {"type": "Hidden", "value": op.id, "binding": {"type": "property", "name": "camunda:topic"}}]
    for name, raw in schema.get("properties", {}).items():
        prop = _resolve(raw, schema)
        entry: dict[str, Any] = {"label": _text(prop, "title", lang) or name, "group": "params"}
        description = _text(prop, "description", lang)
        if description:
            entry["description"] = description
        if platform == "camunda8":
            entry.update(_zeebe_input(name, prop, words))
        else:
            entry.update(_camunda7_input(name, prop, words))
        constraints = entry.setdefault("constraints", {})
        if name in required:
            constraints["notEmpty"] = True
        if not constraints:
            del entry["constraints"]
        props.append(entry)
    result: dict[str, Any] = {"label": words["result_variable"], "description": words["result_help"],
                              "group": "result", "type": "String", "value": op.name}
    if platform == "camunda8":
        result["binding"] = {"type": "zeebe:taskHeader", "key": "resultVariable"}
    else:
        result["binding"] = {"type": "camunda:property", "name": "resultVariable"}
    props.append(result)
    return props


def _choices(prop: dict[str, Any]) -> list[dict[str, str]] | None:
    values = prop.get("enum")
    if isinstance(values, list) and values and all(isinstance(v, str | int) and not isinstance(v, bool)
                                                   for v in values):
        return [{"name": str(v), "value": str(v)} for v in values]
    return None


def _pattern(prop: dict[str, Any], words: dict[str, str], *, expressions: bool) -> dict[str, str] | None:
    pattern = prop.get("pattern")
    if not isinstance(pattern, str) or _PYTHON_ONLY_REGEX.search(pattern):
        return None
    value = rf"^\$\{{.+\}}$|(?:{pattern})" if expressions else pattern
    return {"value": value, "message": words["pattern"].format(pattern=pattern)}


def _string_limits(prop: dict[str, Any], words: dict[str, str], *, expressions: bool) -> dict[str, Any]:
    constraints: dict[str, Any] = {}
    pattern = _pattern(prop, words, expressions=expressions)
    if pattern:
        constraints["pattern"] = pattern
    if not expressions:  # an expression's length says nothing about its value's
        for key in ("minLength", "maxLength"):
            if isinstance(prop.get(key), int):
                constraints[key] = prop[key]
    return constraints


def _zeebe_input(name: str, prop: dict[str, Any], words: dict[str, str]) -> dict[str, Any]:
    # "feel": "optional" lets the analyst switch a field to an expression (=national_code);
    # the modeler skips pattern and length checks on expressions.
    entry: dict[str, Any] = {"binding": {"type": "zeebe:input", "name": name}}
    default = prop.get("default")
    choices = _choices(prop)
    kind = prop.get("type")
    if choices:
        entry.update(type="Dropdown", choices=choices)
        entry["value"] = str(default) if default is not None else choices[0]["value"]
    elif kind == "boolean":
        entry.update(type="Boolean", feel="optional")
        if isinstance(default, bool):
            entry["value"] = default
    elif kind in ("integer", "number"):
        entry.update(type="Number", feel="optional")
        if isinstance(default, int | float) and not isinstance(default, bool):
            entry["value"] = default
    else:
        entry.update(type="String", feel="optional" if kind == "string" else "required")
        if kind == "string":
            entry["constraints"] = _string_limits(prop, words, expressions=False)
            if isinstance(default, str):
                entry["value"] = default
    return entry


def _camunda7_input(name: str, prop: dict[str, Any], words: dict[str, str]) -> dict[str, Any]:
    # Camunda 7 input parameters are text or ${...} expressions; the modeler checks the
    # pattern on whatever is typed, so every pattern also admits an expression.
    entry: dict[str, Any] = {"binding": {"type": "camunda:inputParameter", "name": name}}
    default = prop.get("default")
    choices = _choices(prop)
    kind = prop.get("type")
    if kind == "boolean" and not choices:
        choices = [{"name": words["yes"], "value": "true"}, {"name": words["no"], "value": "false"}]
        default = None if default is None else str(default).lower()
    if choices:
        entry.update(type="Dropdown", choices=choices)
        entry["value"] = str(default) if default is not None else choices[0]["value"]
        return entry
    entry["type"] = "String"
    if kind == "integer":
        prop = {**prop, "pattern": prop.get("pattern") or r"^-?\d+$"}
    elif kind == "number":
        prop = {**prop, "pattern": prop.get("pattern") or r"^-?\d+(\.\d+)?$"}
    entry["constraints"] = _string_limits(prop, words, expressions=True) if kind in (
        "string", "integer", "number") else {}
    if default is not None and not isinstance(default, dict | list):
        entry["value"] = str(default)
    return entry
