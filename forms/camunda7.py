"""Camunda 7 generated forms (``camunda:formData``, on user tasks and start events) in the canonical model.

Field types: ``string``, ``long`` (integer), ``double`` (number), ``boolean``, ``date`` (an ISO date),
``enum`` (choices from ``camunda:value``); any other (custom) type is a string.

Constraints: ``required``, ``readonly``, ``minlength``, ``maxlength``, ``min``, ``max``, ``pattern``. Any
other (a Java validator class, say) is refused: the server could not enforce it.

Properties (``camunda:properties``) Panjereh reads; the rest go to ``ui.properties``:

==========================================  =====================================================
``label_fa``, ``label_en``                  Persian and English label, next to ``label``
``help``, ``help_fa``, ``help_en``          help text
``format`` or ``panjereh:format``           a format of `forms.formats` (``ir-national-code``, ``jalali-date``...)
``widget`` or ``panjereh:widget``           a widget of `forms.model.WIDGETS`
``hide`` or ``panjereh:hide``               hide the field while a condition holds, in the FEEL subset of `forms.feel`
``page`` or ``panjereh:page``               fields with the same page name are asked on one page
==========================================  =====================================================

A literal ``defaultValue`` becomes the schema default; an expression (``${...}``) is the process's business.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from forms.feel import FeelError, shown, translate
from forms.formats import FORMATS
from forms.model import FormDefinitionError, FormModel, empty_hints, object_schema, put_schema_text, text
from forms.normalize import NumberOutOfRange, bounded_number
from forms.patterns import PatternError, check_pattern
from forms.ui import build_ui

CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "long": {"type": "integer"},
    "double": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "enum": {"type": "string"},
}
_KNOWN_CONSTRAINTS = ("required", "readonly", "minlength", "maxlength", "min", "max", "pattern")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def variable_name(name: str, what: str) -> str:
    """`name` if it can be a process variable; the engine refuses data under other names."""
    if not name.isidentifier() or name.startswith("_"):
        raise FormDefinitionError(f"{what} '{name}' must be an identifier that does not start with '_'")
    return name


def _number(config: str | None, field_id: str, constraint: str) -> int | float:
    if config is None or not _NUMBER.fullmatch(config.strip()):
        shown = repr(config) if config is None or len(config) <= 40 else f"{len(config):,} characters"
        raise FormDefinitionError(f"field '{field_id}': constraint '{constraint}' needs a number, not {shown}")
    try:
        return bounded_number(config.strip())
    except NumberOutOfRange as err:
        raise FormDefinitionError(f"field '{field_id}': constraint '{constraint}': {err}") from err


def _constrain(prop: dict[str, Any], field_id: str, name: str, config: str | None) -> None:
    numeric = prop["type"] in ("integer", "number")
    if name == "readonly":
        prop["readOnly"] = True
    elif name in ("minlength", "maxlength"):
        limit = _number(config, field_id, name)
        if prop["type"] != "string" or not isinstance(limit, int) or limit < 0:
            raise FormDefinitionError(f"field '{field_id}': '{name}' needs a text field and a whole number")
        prop["minLength" if name == "minlength" else "maxLength"] = limit
    elif name in ("min", "max"):
        if not numeric:
            raise FormDefinitionError(f"field '{field_id}': '{name}' applies to long and double fields only")
        prop["minimum" if name == "min" else "maximum"] = _number(config, field_id, name)
    elif name == "pattern":
        try:
            check_pattern(config or "")
        except PatternError as err:
            shown = repr(config) if len(config or "") <= 100 else f"of {len(config or ''):,} characters"
            raise FormDefinitionError(f"field '{field_id}': pattern {shown} is not a regular expression: {err}") \
                from err
        prop["pattern"] = config
    else:
        raise FormDefinitionError(f"field '{field_id}': constraint '{name}' is not one Panjereh can check "
                                  f"(known: {', '.join(_KNOWN_CONSTRAINTS)})")


def _default(prop: dict[str, Any], field_id: str, raw: str) -> None:
    if "${" in raw or "#{" in raw:
        return
    if prop["type"] == "boolean":
        if raw.strip().lower() not in ("true", "false"):
            raise FormDefinitionError(f"field '{field_id}': default {raw!r} is not true or false")
        prop["default"] = raw.strip().lower() == "true"
    elif prop["type"] in ("integer", "number"):
        prop["default"] = _number(raw, field_id, "defaultValue")
    else:
        prop["default"] = raw


def _apply_properties(field_id: str, prop: dict[str, Any], props: dict[str, str], hints: dict[str, Any],
                      pages: dict[str, str]) -> None:
    def take(name: str) -> str | None:
        return props.pop(f"panjereh:{name}", None) or props.pop(name, None)

    help_text = text(take("help"), take("help_fa"), take("help_en"))
    if help_text:
        hints["help"][field_id] = help_text
    if (widget := take("widget")) is not None:
        hints["widgets"][field_id] = widget
    if (page := take("page")) is not None:
        pages[field_id] = page
    if (declared_format := take("format")) is not None:
        if declared_format not in FORMATS:
            raise FormDefinitionError(f"field '{field_id}': unknown format '{declared_format}' "
                                      f"(known: {', '.join(FORMATS)})")
        if prop["type"] != "string":
            raise FormDefinitionError(f"field '{field_id}': format '{declared_format}' needs a string field "
                                      "(a number would lose leading zeros)")
        prop["format"] = declared_format
    if (hide := take("hide")) is not None:
        try:
            hints["hidden_when"][field_id] = translate(hide)
        except FeelError as err:
            raise FormDefinitionError(f"field '{field_id}': hide condition {shown(hide)}: {err}") from err
    if props:
        hints["properties"][field_id] = dict(props)


def _field(node: etree._Element, hints: dict[str, Any], pages: dict[str, str]) -> tuple[str, dict[str, Any], bool]:
    field_id = variable_name(node.get("id", ""), "form field id")
    kind = node.get("type") or "string"
    prop: dict[str, Any] = dict(_TYPES.get(kind, {"type": "string"}))
    props = {p.get("id", ""): p.get("value", "") for p in node.iterfind(f"{CAMUNDA}properties/{CAMUNDA}property")}
    label = text(node.get("label"), props.pop("label_fa", None), props.pop("label_en", None))
    put_schema_text(prop, "title", label or {"en": field_id})
    if kind == "enum":
        prop["oneOf"] = [{"const": v.get("id", ""), "title": v.get("name") or v.get("id", "")}
                         for v in node.iterfind(f"{CAMUNDA}value")]
        if not prop["oneOf"]:
            raise FormDefinitionError(f"field '{field_id}': an enum field needs at least one camunda:value")
    required = False
    for constraint in node.iterfind(f"{CAMUNDA}validation/{CAMUNDA}constraint"):
        if constraint.get("name") == "required":
            required = True
        else:
            _constrain(prop, field_id, constraint.get("name") or "", constraint.get("config"))
    default = node.get("defaultValue")
    if default is not None:
        _default(prop, field_id, default)
    _apply_properties(field_id, prop, props, hints, pages)
    return field_id, prop, required


def camunda7_form(form_data: etree._Element) -> FormModel:
    """The canonical model of one ``camunda:formData`` element."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    hints = empty_hints()
    page_names: dict[str, str] = {}
    for node in form_data.iterfind(f"{CAMUNDA}formField"):
        field_id, prop, is_required = _field(node, hints, page_names)
        if field_id in properties:
            raise FormDefinitionError(f"two form fields have the id '{field_id}'")
        properties[field_id] = prop
        if is_required:
            required.append(field_id)
    if page_names:
        pages: dict[str, list[str]] = {}
        for field_id in properties:
            pages.setdefault(page_names.get(field_id, f"\0{field_id}"), []).append(field_id)
        hints["pages"] = list(pages.values())
    schema = object_schema(properties, required)
    return {"source": "camunda:formData", "schema": schema, "ui": build_ui(schema, hints)}
