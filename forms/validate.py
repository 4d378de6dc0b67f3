"""Server-side validation of a task submission against its form model.

Only what the form declares is kept: a submission is never merged into task data as it came, so a
citizen cannot overwrite `approved` by posting an extra field. The order of work:

1. `forms.prepare`: keep declared, writable fields; normalise text, canonical formats, numbers from digits;
2. `forms.conditions`: drop fields hidden by ``ui.hidden_when`` (they are then not required either);
   conditions that would cost more than their budget on this submission refuse it;
3. check the rest against the JSON Schema (with `forms.formats` and `forms.keywords`);
4. check choices that come from a process variable, when the caller passes the variables.

A hide condition is evaluated against the submission, then the process variables when given. When the
engine does not pass them, a condition on a variable the form does not ask for is unknown, so the field
is shown and its rules apply: the safe side.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from itertools import islice
from typing import Any

from jsonschema.exceptions import ValidationError

from forms import schema as schemas
from forms.conditions import ConcretePath, ConditionsTooCostly, hide, occurrences
from forms.formats import FormatProblem, format_checker
from forms.keywords import FormValidator
from forms.messages import plain_message
from forms.model import FormModel, declares_fields, schema_text
from forms.normalize import normalize_value, out_of_range
from forms.prepare import prepare
from forms.storable import MAX_SAFE_INTEGER, NOT_FINITE_MESSAGE, out_of_range_places, unstorable_places

__all__ = ["FieldError", "validate_submission"]

_CODES = {
    "minLength": "min-length", "maxLength": "max-length", "minimum": "minimum", "maximum": "maximum",
    "exclusiveMinimum": "exclusive-minimum", "exclusiveMaximum": "exclusive-maximum", "multipleOf": "multiple-of",
    "x-increment": "multiple-of", "x-decimal-digits": "decimal-digits", "x-not-in-past": "not-in-past",
    "pattern": "pattern", "enum": "choice", "minItems": "min-items", "maxItems": "max-items",
    "uniqueItems": "unique-items",
}
# A submission is refused on the first few; listing every one of a million would cost as much.
MAX_UNSTORABLE = 20
_LIMITS = {"minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
           "x-increment", "x-decimal-digits", "minItems", "maxItems"}


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: `field` is a path (``children.0.name``), empty for the whole submission.

    `code` is stable (see `forms.messages`), `params` holds what a message needs (``limit``, ``reason``,
    ``label``...), `message` is short English for the API; `forms.messages.message_for` words it for people.
    """

    field: str
    message: str
    code: str = ""
    params: dict[str, Any] = dataclass_field(default_factory=dict, hash=False)


def error_names(schema: dict[str, Any]) -> dict[str, Any]:
    """Each field's name as an error message says it ("Enter *your business name*"), from
    `x-error-name-fa`/`x-error-name-en`: a question's title ("What is your business called?")
    does not fit in a sentence, so a form writes the name its errors use."""
    names = {}
    for found in schemas.walk(schema):
        if found.kind == "field":
            name = schema_text(schemas.first_with(schema, found.nodes, "x-error-name-en"), "error-name")
            if name:
                names[found.path] = name
    return names


def _error(path: ConcretePath, code: str, params: dict[str, Any], labels: Mapping[str, Any]) -> FieldError:
    label = labels.get(".".join(str(p) for p in path if isinstance(p, str)))
    full = {**params, "label": label} if label else params
    return FieldError(".".join(str(p) for p in path), plain_message(code, full), code, full)


def _required_params(prop: Any) -> dict[str, Any]:
    # A missing choice reads "Select …", not "Enter …": the person picks, they do not type.
    if isinstance(prop, dict) and any(key in prop for key in ("oneOf", "anyOf", "enum")):
        return {"choice": True}
    return {}


def _translate(error: ValidationError) -> list[tuple[ConcretePath, str, dict[str, Any]]]:
    path: ConcretePath = tuple(error.absolute_path)
    rule, value = str(error.validator), error.validator_value
    if rule == "required" and isinstance(error.instance, dict):
        properties = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        return [((*path, name), "required", _required_params(properties.get(name)))
                for name in value if name not in error.instance]
    if rule == "dependentRequired" and isinstance(error.instance, dict):
        return [((*path, name), "required", {}) for present, needed in value.items() if present in error.instance
                for name in needed if name not in error.instance]
    if rule == "type":
        kinds = [value] if isinstance(value, str) else [k for k in value if k != "null"] or ["null"]
        if {"integer", "number"} & set(kinds) and isinstance(error.instance, str) and out_of_range(error.instance):
            # A number, but one the parser would not read (see `forms.normalize.bounded_number`).
            return [(path, "out-of-range", {"limit": MAX_SAFE_INTEGER})]
        return [(path, f"type-{kinds[0]}", {})]
    if rule == "format":
        reason = error.cause.reason if isinstance(error.cause, FormatProblem) else "shape"
        return [(path, str(value), {"reason": reason})]
    if rule == "const":
        # A required checkbox is declared `const: true`: unticked, it was not answered.
        return [(path, "required", {"choice": True}) if value is True else (path, "choice", {})]
    if rule in ("oneOf", "anyOf") and all(isinstance(o, dict) and "const" in o for o in value):
        return [(path, "choice", {})]
    if rule in _CODES:
        return [(path, _CODES[rule], {"limit": value} if rule in _LIMITS else {})]
    return [(path, "invalid", {"rule": rule})]


def _hidden(path: ConcretePath, hidden: set[ConcretePath]) -> bool:
    return any(path[:len(h)] == h for h in hidden)


def _option_errors(data: dict[str, Any], options_from: Mapping[str, str],
                   variables: Mapping[str, Any]) -> list[tuple[ConcretePath, str, dict[str, Any]]]:
    found: list[tuple[ConcretePath, str, dict[str, Any]]] = []
    for path, variable in options_from.items():
        options = variables.get(variable)
        listed = options if isinstance(options, list) else []
        # form-js takes a list of {"label", "value"} objects, or of plain values.
        allowed = {o.get("value") if isinstance(o, dict) else o for o in listed}
        for holder, key, concrete in occurrences(data, path):
            given = holder.get(key)
            chosen = given if isinstance(given, list) else [given] if key in holder else []
            if any(not isinstance(c, str | int | float) or c not in allowed for c in chosen):
                found.append((concrete, "choice", {}))
    return found


def _unstorable(data: dict[str, Any]) -> list[tuple[ConcretePath, str]]:
    """Where an answer (or a name inside a free-form answer) holds a character no database keeps,
    or a number that is not finite, with the error code for it.

    The places go back to the caller as field names, so a lone surrogate in a name is escaped.
    """
    return [(tuple(p.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(p, str) else p
                   for p in path), "type-number" if problem == NOT_FINITE_MESSAGE else "characters")
            for path, problem in islice(unstorable_places(data), MAX_UNSTORABLE)]


def _check_names(data: dict[str, Any]) -> list[FieldError]:
    return [FieldError(str(key), plain_message("field-name", {}), "field-name")
            for key in data
            if not str(key).isidentifier() or str(key).startswith("_") or keyword.iskeyword(str(key))]


def validate_submission(form: FormModel | None, data: dict[str, Any], *,
                        variables: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], list[FieldError]]:
    """The data to store and the errors found; errors empty means the submission is accepted.

    With no declared fields (a plain BPMN task, or a form the server only knows by key) the data is
    kept, normalised, provided its names can be used as process variables. `variables` (the task's
    data) lets choices that come from a process variable be checked (without it they are only typed),
    and lets hide conditions read variables the form does not ask for.
    """
    if not declares_fields(form):
        kept = normalize_value(dict(data))
        return kept, _check_names(data) + [_error(path, code, {}, {}) for path, code in _unstorable(kept)]
    assert form is not None
    schema, ui = form["schema"], form.get("ui") or {}
    kept, readonly = prepare(schema, data)
    try:
        hidden = hide(kept, ui.get("hidden_when") or {}, variables) | readonly
    except ConditionsTooCostly as err:
        # Which fields apply is not known, so nothing can be checked; `hide` may have removed some.
        return kept, [FieldError("", str(err), "conditions-too-costly")]
    validator = FormValidator(schema, format_checker=format_checker())
    found = [item for e in validator.iter_errors(kept) for item in _translate(e)]
    found += [(path, code, {}) for path, code in _unstorable(kept)]
    found += [(path, "out-of-range", {"limit": MAX_SAFE_INTEGER})
              for path in islice(out_of_range_places(kept), MAX_UNSTORABLE)]
    if variables is not None:
        found += _option_errors(kept, ui.get("options_from") or {}, variables)
    order = {path: i for i, path in enumerate(ui.get("order") or [])}
    errors: dict[tuple[ConcretePath, str], FieldError] = {}
    names = {**(ui.get("labels") or {}), **error_names(schema)}
    for path, code, params in found:
        if not _hidden(path, hidden):
            errors.setdefault((path, code), _error(path, code, params, names))
    # In the order the form asks, so an error summary reads top to bottom.
    ranked = sorted(errors.values(), key=lambda e: (
        order.get(".".join(p for p in e.field.split(".") if not p.isdigit()), len(order)),
        [p.zfill(12) if p.isdigit() else p for p in e.field.split(".")]))
    if not ranked and form.get("source") == "camunda:formData":
        kept = {**_unanswered(schema, hidden), **kept}
    return kept, ranked


def _unanswered(schema: dict[str, Any], skipped: set[ConcretePath]) -> dict[str, Any]:
    """What Camunda 7 stores for the fields of a formData form left empty.

    Camunda submits every field of a generated form: its default, an unchecked box as false,
    anything else as null. Models rely on that (`${empty notes}`, `${!approved}`), so a
    field the person left empty is stored the same way here. Read-only fields (the process
    fills them) and fields hidden by a condition are left out.
    """
    found: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        if (name,) in skipped or not isinstance(prop, dict):
            continue
        found[name] = prop.get("default", False if prop.get("type") == "boolean" else None)
    return found
