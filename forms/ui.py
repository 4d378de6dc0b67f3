"""Completing UI hints from a canonical schema, so every dialect yields the same full shape.

A dialect translator passes what its form says explicitly (a widget chosen, a page, a visual group);
everything else is derived here from the schema: order, labels, help, widgets, read-only fields, groups
for nested objects and lists, and pages.
"""

from __future__ import annotations

import copy
from typing import Any

from forms import conditions
from forms import schema as schemas
from forms.model import WIDGETS, FormDefinitionError, empty_hints, schema_text

_DATE_WIDGETS = {"jalali-date": "date-jalali", "date": "date", "time": "time", "date-time": "datetime",
                 "data-url": "file"}
# GOV.UK: radios for a few options, a select only when there are too many to scan.
_MAX_RADIOS = 5


def default_widget(root: schemas.Node, nodes: tuple[schemas.Node, ...]) -> str:
    """The widget a field gets when its form does not choose one."""
    found = schemas.keyword(root, nodes, "format")
    if found in _DATE_WIDGETS:
        return _DATE_WIDGETS[found]
    kinds = schemas.types(root, nodes)
    if "boolean" in kinds:
        return "checkbox"
    if "array" in kinds:
        return "checklist" if schemas.choices(root, schemas.items(root, nodes)) else "taglist"
    options = schemas.choices(root, nodes)
    if options is not None:
        return "radio" if len(options) <= _MAX_RADIOS else "select"
    return "number" if kinds & {"integer", "number"} else "text"


def build_ui(schema: schemas.Node, hints: dict[str, Any] | None = None) -> dict[str, Any]:
    """Full UI hints: `hints` as given, completed from `schema`.

    Raises:
        FormDefinitionError: a hint names a field the schema does not have, or an unknown widget, or
            the hide conditions are too many to check (`forms.conditions.MAX_FORM_COST`).
    """
    ui = empty_hints()
    ui.update(copy.deepcopy(hints or {}))
    walked = list(schemas.walk(schema))
    fields = [f for f in walked if f.kind == "field"]
    known = {f.path for f in fields}
    everything = {f.path for f in walked}
    for named in [*ui["order"], *ui["widgets"], *ui["readonly"], *ui["hidden_when"], *ui["labels"], *ui["help"]]:
        if named not in everything:
            raise FormDefinitionError(f"the UI hints name a field '{named}' that the form does not have")
    parts = sum(conditions.cost(condition) for condition in ui["hidden_when"].values())
    if parts > conditions.MAX_FORM_COST:
        raise FormDefinitionError(f"the form's hide conditions have {parts:,} parts together (each comparison, "
                                  f"and, or, not, and dot in a field name); at most {conditions.MAX_FORM_COST:,}")
    for path, widget in ui["widgets"].items():
        if widget not in WIDGETS:
            raise FormDefinitionError(f"field '{path}': unknown widget '{widget}'; known: {', '.join(sorted(WIDGETS))}")
    ui["order"] = [p for p in ui["order"] if p in known] + [f.path for f in fields if f.path not in ui["order"]]
    for f in fields:
        _complete_field(ui, schema, f)
    _add_container_groups(ui, schema, walked)
    if not ui["pages"]:
        ui["pages"] = _default_pages(ui["order"], ui["groups"])
    return ui


def _complete_field(ui: dict[str, Any], root: schemas.Node, field: schemas.Field) -> None:
    label = schema_text(schemas.first_with(root, field.nodes, "title"), "title")
    if label and field.path not in ui["labels"]:
        ui["labels"][field.path] = label
    help_text = schema_text(schemas.first_with(root, field.nodes, "description"), "description")
    if help_text and field.path not in ui["help"]:
        ui["help"][field.path] = help_text
    ui["widgets"].setdefault(field.path, default_widget(root, field.nodes))
    if schemas.readonly(root, field.nodes) and field.path not in ui["readonly"]:
        ui["readonly"].append(field.path)


def _add_container_groups(ui: dict[str, Any], root: schemas.Node, walked: list[schemas.Field]) -> None:
    group_of_path = {g["path"]: gid for gid, g in ui["groups"].items() if g.get("path")}
    for container in (f for f in walked if f.kind != "field"):
        if container.path in group_of_path:
            continue
        ui["groups"][container.path] = {
            "label": schema_text(schemas.first_with(root, container.nodes, "title"), "title"),
            "path": container.path,
            "repeat": container.kind == "list",
            "parent": group_of_path.get(container.container) if container.container else None,
            "fields": [p for p in ui["order"] if p.startswith(container.path + ".")],
        }
        group_of_path[container.path] = container.path


def _default_pages(order: list[str], groups: dict[str, Any]) -> list[list[str]]:
    outer = [(gid, set(g["fields"])) for gid, g in groups.items() if g.get("parent") is None]
    pages: dict[str, list[str]] = {}
    for path in order:
        key = next((gid for gid, members in outer if path in members), path)
        pages.setdefault(key, []).append(path)
    return list(pages.values())
