"""Server-side validation of a task submission against its form model.

Only what the form declares is kept: a submission is never merged into task data as it
came, so a citizen cannot overwrite `approved` by posting an extra field.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from forms.extract import FormModel


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


def _field_of(error: ValidationError) -> str:
    if error.validator == "required":
        missing = str(error.message).split("'")
        return missing[1] if len(missing) > 1 else ""
    return ".".join(str(p) for p in error.absolute_path)


def _message(error: ValidationError) -> str:
    if error.validator == "required":
        return "this field is required"
    if error.validator == "type":
        return f"must be of type {error.validator_value}"
    return str(error.message)


def _check_names(data: dict[str, Any]) -> list[FieldError]:
    return [FieldError(str(key), "field names must be identifiers that do not start with '_'")
            for key in data
            if not str(key).isidentifier() or str(key).startswith("_") or keyword.iskeyword(str(key))]


def validate_submission(form: FormModel | None, data: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """The data to store and the errors found; errors empty means the submission is accepted.

    With no schema (a plain BPMN task, or a form the server only knows by key) the data is
    kept as given, provided its names can be used as process variables.
    """
    schema = (form or {}).get("schema")
    if not schema:
        return dict(data), _check_names(data)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [FieldError(_field_of(e), _message(e))
              for e in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))]
    properties = schema.get("properties", {})
    readonly = {name for name, prop in properties.items() if isinstance(prop, dict) and prop.get("readOnly")}
    kept = {k: v for k, v in data.items() if k in properties and k not in readonly}
    return kept, errors
