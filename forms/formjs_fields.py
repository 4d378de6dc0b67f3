"""One Camunda Forms input component as a JSON Schema property (the rules are listed in `forms.formjs`)."""

from __future__ import annotations

import re
from typing import Any

from forms.camunda7 import variable_name
from forms.formats import FORMATS
from forms.model import FormDefinitionError, put_schema_text, text
from forms.normalize import NumberOutOfRange, bounded_number
from forms.patterns import PatternError, check_pattern
from forms.storable import MAX_SAFE_INTEGER

WIDGETS = {"textfield": "text", "textarea": "textarea", "number": "number", "checkbox": "checkbox",
           "checklist": "checklist", "taglist": "taglist", "radio": "radio", "select": "select"}
_DATETIME = {"date": ("date", "date"), "time": ("time", "time"), "datetime": ("date-time", "datetime")}
_CHOICES = {"checklist", "taglist", "radio", "select"}
_VALIDATE_KEYS = {"required", "minLength", "maxLength", "min", "max", "pattern", "validationType"}
_FORMAT_OF_VALIDATION = {"email": "email", "phone": "phone"}


def _limit(value: Any, name: str, rule: str, whole: bool) -> int | float:
    number = value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value.strip()):
        number = _bounded(value.strip(), name, rule)
    if isinstance(number, bool) or not isinstance(number, int | float) or (whole and not isinstance(number, int)):
        shown = repr(value) if len(repr(value)) <= 40 else "that"
        raise FormDefinitionError(f"field '{name}': {rule} must be a {'whole ' if whole else ''}number, not {shown}")
    if not -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:  # NaN compares false too
        raise FormDefinitionError(f"field '{name}': {rule} must lie within ±{MAX_SAFE_INTEGER}")
    return number


def _bounded(text: str, name: str, rule: str) -> int | float:
    try:
        return bounded_number(text)
    except NumberOutOfRange as err:
        raise FormDefinitionError(f"field '{name}': {rule}: {err}") from err


def _choices(c: dict[str, Any], name: str, hints: dict[str, Any], path: str) -> list[dict[str, Any]] | None:
    if c.get("valuesExpression"):
        raise FormDefinitionError(f"field '{name}': options from a FEEL expression are not supported")
    if c.get("valuesKey"):
        hints["options_from"][path] = variable_name(str(c["valuesKey"]), f"field '{name}': valuesKey")
        return None
    values = c.get("values")
    if not isinstance(values, list) or not values or not all(isinstance(v, dict) and "value" in v for v in values):
        raise FormDefinitionError(f"field '{name}': a {c['type']} needs options (values or valuesKey)")
    return [{"const": v["value"], "title": str(v.get("label", v["value"]))} for v in values]


def field_schema(c: dict[str, Any], name: str, hints: dict[str, Any], path: str) -> tuple[dict[str, Any], bool]:
    """The property for component `c` bound at `path`, and whether it is required; options from a
    variable, widgets and unread properties go into `hints`."""
    kind, rules, props = c["type"], c.get("validate") or {}, dict(c.get("properties") or {})
    unknown = set(rules) - _VALIDATE_KEYS
    if unknown:
        raise FormDefinitionError(f"field '{name}': validate.{sorted(unknown)[0]} is not supported")
    prop: dict[str, Any] = {"type": {"number": "number", "checkbox": "boolean"}.get(kind, "string")}
    widget = WIDGETS.get(kind)
    if kind == "datetime":
        prop["format"], widget = _DATETIME.get(str(c.get("subtype") or "date"), ("date", "date"))
        if c.get("disallowPassedDates") is True:
            prop["x-not-in-past"] = True
    if kind in _CHOICES:
        options = _choices(c, name, hints, path)
        target = prop
        if kind in ("checklist", "taglist"):
            prop.update({"type": "array", "uniqueItems": True, "items": {"type": "string"}})
            target = prop["items"]
        if options is not None:
            target["oneOf"] = options
            if not all(isinstance(o["const"], str) for o in options):
                target.pop("type")
    if kind == "number":
        _number_rules(c, name, prop)
    for rule, keyword in (("minLength", "minLength"), ("maxLength", "maxLength")):
        if rule in rules:
            prop[keyword] = _limit(rules[rule], name, rule, whole=True)
    for rule, keyword in (("min", "minimum"), ("max", "maximum")):
        if rule in rules:
            prop[keyword] = _limit(rules[rule], name, rule, whole=False)
    if rules.get("pattern"):
        try:
            check_pattern(str(rules["pattern"]))
        except PatternError as err:
            raise FormDefinitionError(f"field '{name}': pattern is not a regular expression: {err}") from err
        prop["pattern"] = str(rules["pattern"])
    if rules.get("validationType") in _FORMAT_OF_VALIDATION:
        prop["format"] = _FORMAT_OF_VALIDATION[rules["validationType"]]
    _common(c, name, prop, props, hints, path, widget)
    required = rules.get("required") is True
    if required and kind == "checkbox":
        prop["const"] = True
    if required and prop["type"] == "array":
        prop["minItems"] = 1
    return prop, required


def _number_rules(c: dict[str, Any], name: str, prop: dict[str, Any]) -> None:
    digits = c.get("decimalDigits")
    if digits is not None:
        digits = _limit(digits, name, "decimalDigits", whole=True)
        if digits == 0:
            prop["type"] = "integer"
        else:
            prop["x-decimal-digits"] = digits
    if c.get("increment") not in (None, ""):
        prop["x-increment"] = _limit(c["increment"], name, "increment", whole=False)


def _common(c: dict[str, Any], name: str, prop: dict[str, Any], props: dict[str, Any], hints: dict[str, Any],
            path: str, widget: str | None) -> None:
    for flag in ("readonly", "disabled"):
        if isinstance(c.get(flag), str) and c[flag]:
            raise FormDefinitionError(f"field '{name}': a {flag} expression is not supported, only true or false")
        if c.get(flag) is True:
            prop["readOnly"] = True
    label = text(c.get("label") or c.get("dateLabel"), props.pop("label_fa", None), props.pop("label_en", None))
    put_schema_text(prop, "title", label)
    put_schema_text(prop, "description", text(c.get("description"), props.pop("help_fa", None),
                                              props.pop("help_en", None)))
    if "defaultValue" in c:
        prop["default"] = c["defaultValue"]
    declared_format = props.pop("panjereh:format", None) or props.pop("format", None)
    if declared_format is not None:
        if declared_format not in FORMATS or prop.get("type") != "string":
            raise FormDefinitionError(f"field '{name}': format '{declared_format}' needs a text field and one of "
                                      f"{', '.join(FORMATS)}")
        prop["format"] = declared_format
        widget = "date-jalali" if declared_format == "jalali-date" else widget
    widget = props.pop("panjereh:widget", None) or props.pop("widget", None) or widget
    if widget:
        hints["widgets"][path] = widget
    if props:
        hints["properties"][path] = props
