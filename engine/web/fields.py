"""From a task's form model to the questions of one page, and from a posted page back to data.

Handles fields at the top level and inside (non-repeating) groups; a repeating group
(Camunda Forms dynamic list) is asked on the API only for now and shown as not supported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from engine.web.i18n import Translator
from forms.conditions import hidden_fields

Model = dict[str, Any]


@dataclass
class Option:
    value: str
    label: str
    checked: bool = False


@dataclass
class Question:
    """One field as a page shows it."""

    path: str
    label: str
    hint: str
    widget: str
    required: bool
    readonly: bool
    value: Any
    options: list[Option] = field(default_factory=list)
    error: str | None = None
    parts: dict[str, str] = field(default_factory=dict)
    # Required only when another answer makes it so (a reason when refusing): not "optional".
    conditional: bool = False

    @property
    def id(self) -> str:
        return "f-" + self.path.replace(".", "-")


def schema_at(schema: Model, path: str) -> tuple[Model, bool]:
    """The sub-schema of a field path, and whether the field is required in its parent."""
    node, required = schema, False
    for part in path.split("."):
        if node.get("type") == "array":
            node = node.get("items", {})
        required = part in node.get("required", [])
        node = node.get("properties", {}).get(part, {})
    return node, required


def get_value(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def set_value(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _title(t: Translator, node: Model, key: str = "title") -> str:
    return t.pick({"fa": node.get(f"x-{key}-fa"), "en": node.get(f"x-{key}-en")}, str(node.get(key) or ""))


def _options(t: Translator, node: Model) -> list[Option]:
    target = node.get("items", node) if node.get("type") == "array" else node
    if "oneOf" in target or "anyOf" in target:
        return [Option(str(choice.get("const")), _title(t, choice) or str(choice.get("const")))
                for choice in target.get("oneOf") or target.get("anyOf") or [] if "const" in choice]
    return [Option(str(value), str(value)) for value in target.get("enum", [])]


# A page lists at most this many choices taken from a process variable; more is a model's mistake.
MAX_VARIABLE_OPTIONS = 200


def variable_options(t: Translator, listed: Any) -> list[Option]:
    """The choices a process variable offers: a list of ``{"value", "label"}`` (a label being a string
    or a ``{"fa", "en"}`` table) or of plain values, as `forms.validate` accepts them."""
    found = []
    for item in listed[:MAX_VARIABLE_OPTIONS] if isinstance(listed, list) else []:
        value = item.get("value") if isinstance(item, dict) else item
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            label = item.get("label") if isinstance(item, dict) else None
            found.append(Option(str(value), t.pick(label, str(value))))
    return found


def _widget(node: Model, hinted: str | None) -> str:
    if hinted:
        return hinted
    kind = node.get("type")
    if "oneOf" in node or "enum" in node:
        return "radio"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return "number"
    if node.get("format") == "jalali-date":
        return "date-jalali"
    return "text"


def hidden_paths(model: Model, data: dict[str, Any]) -> set[str]:
    """The fields of `data` a condition hides. The conditions run here under a step budget
    (forms/conditions.py), so a page that shows many fields asks once and passes the answer on."""
    return set(hidden_fields(data, model["ui"].get("hidden_when", {})))


def questions(t: Translator, model: Model, paths: list[str], data: dict[str, Any],
              errors: dict[str, str] | None = None, hidden: set[str] | None = None,
              variables: Mapping[str, Any] | None = None) -> list[Question]:
    """The questions for `paths`, filled from `data`, skipping those hidden by a condition
    (`hidden`, when the caller has them already for this data); choices that come from a process
    variable are read from `variables` (the case's data)."""
    ui, schema = model["ui"], model.get("schema") or {}
    options_from = ui.get("options_from") or {}
    hidden = hidden_paths(model, data) if hidden is None else hidden
    found = []
    for path in paths:
        if path in hidden:
            continue
        node, required = schema_at(schema, path)
        widget = _widget(node, ui.get("widgets", {}).get(path))
        value = get_value(data, path)
        label = t.pick(ui.get("labels", {}).get(path), _title(t, node) or path)
        hint = t.pick(ui.get("help", {}).get(path), _title(t, node, "description"))
        options = (variable_options(t, (variables or {}).get(options_from[path])) if path in options_from
                   else _options(t, node))
        chosen = {str(v) for v in value} if isinstance(value, list) else {str(value)} if value is not None else set()
        for option in options:
            option.checked = option.value in chosen
        parts = {}
        if widget == "date-jalali" and isinstance(value, str) and value.count("/") == 2:
            year, month, day = value.split("/")
            parts = {"year": year, "month": month, "day": day}
        found.append(Question(path, label, hint, widget, required, path in ui.get("readonly", []), value, options,
                              (errors or {}).get(path), parts, conditional=path in _required_when(schema)))
    return found


def _required_when(schema: Mapping[str, Any]) -> set[str]:
    """The top-level fields a condition of `schema` makes required (`if`/`then`/`else`, also
    inside `allOf`): the page does not call them optional, as the citizen may have to answer."""
    named: set[str] = set()
    for part in [schema, *(schema.get("allOf") or [])]:
        if not isinstance(part, Mapping):
            continue
        for branch in ("then", "else"):
            required = (part.get(branch) or {}).get("required") if isinstance(part.get(branch), Mapping) else None
            if isinstance(required, list):
                named.update(name for name in required if isinstance(name, str))
    return named


def parse(page: list[Question], posted: FormData) -> tuple[dict[str, Any], set[str]]:
    """The answers on a posted page, and the fields left empty (to drop from the draft)."""
    answers: dict[str, Any] = {}
    empty: set[str] = set()
    for question in page:
        if question.readonly or question.widget == "file":
            continue
        name = question.path
        if question.widget == "checkbox":
            answers[name] = posted.get(name) == "true"
        elif question.widget == "checklist":
            answers[name] = [str(v) for v in posted.getlist(name)]
        elif question.widget == "date-jalali":
            parts = [str(posted.get(f"{name}.{p}", "")).strip() for p in ("year", "month", "day")]
            if any(parts):
                answers[name] = "/".join(parts)
            else:
                empty.add(name)
        else:
            raw = str(posted.get(name, "")).strip()
            if raw:
                answers[name] = raw
            else:
                empty.add(name)
    return answers, empty


def task_title(t: Translator, task: Any) -> str:
    """A task's name in the page's language: its form's title when it has one, else the BPMN name."""
    schema = ((getattr(task, "form", None) or {}).get("schema")) or {}
    own = schema.get(f"x-title-{t.lang}")
    return str(own) if own else str(task.title)
