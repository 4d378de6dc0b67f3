"""Camunda Forms (form-js JSON, as Camunda Modeler saves it) in the canonical model.

Data shape: as form-js submits it, so a model moved from Camunda keeps its variables. A dotted ``key``
and a group with a ``path`` nest (``applicant.name``); a group without a path and a page only gather
fields visually; a ``dynamiclist`` is a list of objects at its ``path``.

Components: textfield, textarea, number, checkbox, checklist, taglist, radio, select, datetime, group,
dynamiclist, multipage and page; text and html become ``ui.texts``; spacer, separator and button carry
nothing. Any other (image, iframe, table, expression, filepicker...) is refused, naming the component.

Rules: ``validate`` (required, minLength, maxLength, min, max, pattern, validationType email/phone/custom),
number ``decimalDigits`` and ``increment``, datetime ``disallowPassedDates``, ``readonly``/``disabled``
(never taken from a submission), ``conditional.hide`` in the FEEL subset of `forms.feel` (anything else
is refused). A required checkbox must be ticked and a required checklist needs one choice, as in form-js.
Properties: the same as for Camunda 7 (`forms.camunda7`): ``format``, ``widget``, ``label_fa``/``label_en``,
``help_fa``/``help_en``; others go to ``ui.properties``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from forms.camunda7 import variable_name
from forms.feel import FeelError, shown, translate
from forms.formjs_fields import WIDGETS, field_schema
from forms.model import Condition, FormDefinitionError, FormModel, empty_hints, object_schema, put_schema_text, text
from forms.ui import build_ui

_NOTHING = {"spacer", "separator", "button"}
SUPPORTED = sorted({*WIDGETS, "datetime", "group", "dynamiclist", "multipage", "page", "text", "html", *_NOTHING})


@dataclass
class _Scope:
    """An object of the submission: where a component's key lands."""

    properties: dict[str, Any]
    required: list[str]
    prefix: str
    groups: list[str] = field(default_factory=list)


def _label(c: dict[str, Any]) -> dict[str, str] | None:
    props = c.get("properties") or {}
    return text(c.get("label"), props.get("label_fa"), props.get("label_en"))


def _any(conditions: list[Condition]) -> Condition | None:
    return None if not conditions else conditions[0] if len(conditions) == 1 else {"any": conditions}


class _Translator:
    def __init__(self) -> None:
        self.hints = empty_hints()
        self.pending_texts: list[dict[str, Any]] = []
        self.seen: set[str] = set()

    def components(self, items: Any, scope: _Scope, hide: list[Condition], where: str) -> None:
        if not isinstance(items, list):
            raise FormDefinitionError(f"{where}: 'components' must be a list")
        for component in items:
            if not isinstance(component, dict):
                raise FormDefinitionError(f"{where}: every component must be an object")
            self.component(component, scope, hide)

    def component(self, c: dict[str, Any], scope: _Scope, hide: list[Condition]) -> None:
        kind, name = c.get("type"), str(c.get("key") or c.get("path") or c.get("id") or c.get("type"))
        own = self.condition(c, name)
        conditions = hide + ([own] if own else [])
        if kind in _NOTHING:
            return
        if kind in ("text", "html"):
            self.display(c, name, scope, conditions)
        elif kind in ("group", "page", "multipage", "dynamiclist"):
            self.container(c, name, scope, conditions)
        elif kind in WIDGETS or kind == "datetime":
            self.field(c, name, scope, conditions)
        else:
            raise FormDefinitionError(f"component '{name}': type '{kind}' is not supported "
                                      f"(supported: {', '.join(SUPPORTED)})")

    def condition(self, c: dict[str, Any], name: str) -> Condition | None:
        hide = (c.get("conditional") or {}).get("hide")
        if hide is None or hide is False or hide == "":
            return None
        if hide is True:
            return {"all": []}
        try:
            return translate(str(hide))
        except FeelError as err:
            raise FormDefinitionError(f"field '{name}': hide condition {shown(hide)}: {err}") from err

    def display(self, c: dict[str, Any], name: str, scope: _Scope, conditions: list[Condition]) -> None:
        body = str(c.get("text") if c.get("type") == "text" else c.get("content") or "")
        if body.strip().startswith("="):
            raise FormDefinitionError(f"component '{name}': text computed by a FEEL expression is not supported")
        props = c.get("properties") or {}
        self.pending_texts.append({"id": str(c.get("id") or name), "format": "markdown" if c["type"] == "text"
                                   else "html", "text": text(body, props.get("text_fa"), props.get("text_en")),
                                   "before": None, "group": scope.groups[-1] if scope.groups else None,
                                   "hidden_when": _any(conditions)})
        self.hints["texts"].append(self.pending_texts[-1])

    def container(self, c: dict[str, Any], name: str, scope: _Scope, conditions: list[Condition]) -> None:
        path = c.get("path") or ""
        if c["type"] == "dynamiclist" and not path:
            raise FormDefinitionError(f"dynamic list '{name}' needs a path")
        if c["type"] == "multipage":
            self.components(c.get("components") or [], scope, conditions, f"component '{name}'")
            return
        target = scope
        if path:
            properties, _, last, data_path = self.place(scope, path, name)
            if c["type"] == "dynamiclist":
                holder: dict[str, Any] = {"type": "object", "properties": {}}
                properties[last] = {"type": "array", "items": holder}
            else:
                holder = self.nested(properties, last)
            put_schema_text(properties[last], "title", _label(c))
            target = _Scope(holder["properties"], holder.setdefault("required", []), data_path + ".")
            if conditions:
                self.hints["hidden_when"][data_path] = _any(conditions)
            # The hidden container takes its fields with it; they need no condition of their own.
            conditions = []
        group_id = str(c.get("id") or path or name)
        self.hints["groups"][group_id] = {"label": _label(c), "path": scope.prefix + path if path else None,
                                          "repeat": c["type"] == "dynamiclist",
                                          "parent": scope.groups[-1] if scope.groups else None, "fields": []}
        inner = _Scope(target.properties, target.required, target.prefix, [*scope.groups, group_id])
        self.components(c.get("components") or [], inner, conditions, f"component '{name}'")

    def place(self, scope: _Scope, key: str, name: str) -> tuple[dict[str, Any], list[str], str, str]:
        """The properties and required list that hold `key`, its last name and its data path; a dotted key
        gets the objects it goes through."""
        if not re.fullmatch(r"\w+(\.\w+)*", key):
            raise FormDefinitionError(f"component '{name}': key or path '{key}' is not a dotted name")
        *parents, last = [variable_name(part, f"component '{name}': key part") for part in key.split(".")]
        properties, required = scope.properties, scope.required
        for part in parents:
            node = self.nested(properties, part)
            properties, required = node["properties"], node.setdefault("required", [])
        data_path = scope.prefix + key
        if data_path in self.seen:
            raise FormDefinitionError(f"two components are bound to '{data_path}'")
        self.seen.add(data_path)
        return properties, required, last, data_path

    @staticmethod
    def nested(properties: dict[str, Any], name: str) -> dict[str, Any]:
        node = properties.setdefault(name, {"type": "object", "properties": {}})
        if node.get("type") != "object" or "properties" not in node:
            raise FormDefinitionError(f"'{name}' is used both as a field and as a group")
        return node  # type: ignore[no-any-return]

    def field(self, c: dict[str, Any], name: str, scope: _Scope, conditions: list[Condition]) -> None:
        if not c.get("key"):
            raise FormDefinitionError(f"component '{name}' ({c['type']}) needs a key")
        properties, required, last, path = self.place(scope, str(c["key"]), name)
        prop, is_required = field_schema(c, name, self.hints, path)
        properties[last] = prop
        if is_required:
            required.append(last)
        if conditions:
            self.hints["hidden_when"][path] = _any(conditions)
        for group_id in scope.groups:
            self.hints["groups"][group_id]["fields"].append(path)
        for pending in self.pending_texts:
            pending["before"] = path
        self.pending_texts = []


def formjs_form(document: Any, ref: str) -> FormModel:
    """The canonical model of one form-js document; `ref` names where it came from."""
    if not isinstance(document, dict) or not isinstance(document.get("components"), list):
        raise FormDefinitionError(f"form '{ref}' is not a Camunda Forms document (no 'components' list)")
    translator = _Translator()
    root = object_schema()
    root["required"] = []
    translator.components(document["components"], _Scope(root["properties"], root["required"], ""), [],
                          f"form '{ref}'")
    _require_parents(root)
    return {"source": "camunda-forms", "ref": ref, "schema": root, "ui": build_ui(root, translator.hints)}


def _require_parents(node: dict[str, Any]) -> bool:
    """Make an object required in its parent when something inside it is, so a missing group reports the
    questions in it rather than passing; empty `required` lists are removed. True if `node` requires anything."""
    for name, child in node.get("properties", {}).items():
        if child.get("type") == "object" and _require_parents(child) and name not in node.setdefault("required", []):
            node["required"].append(name)
        if child.get("type") == "array":
            _require_parents(child["items"])
    if not node.get("required"):
        node.pop("required", None)
    return bool(node.get("required"))
