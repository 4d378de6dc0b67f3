"""Server-side validation: only declared fields are kept, whatever a client posts."""

from __future__ import annotations

from typing import Any

from forms.model import FormModel
from forms.ui import build_ui
from forms.validate import FieldError, validate_submission
from tests.forms.helpers import codes

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["amount"],
    "properties": {
        "amount": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "title": "مبلغ", "x-title-en": "Amount"},
        "purpose": {"type": "string", "maxLength": 50},
        "decision": {"type": "string", "readOnly": True},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}},
        "free": {"type": "object"},
    },
    "if": {"properties": {"purpose": {"const": "other"}}, "required": ["purpose"]},
    "then": {"required": ["details"], "properties": {"details": {"type": "string", "minLength": 5}}},
}
FORM: FormModel = {"source": "test", "schema": SCHEMA, "ui": build_ui(SCHEMA)}


def test_a_raw_post_is_never_merged() -> None:
    kept, errors = validate_submission(FORM, {
        "amount": 5000, "approved": True, "__class__": "x", "address": {"city": "قم", "approved": True},
        "free": {"anything": ["goes"]}})
    assert errors == []
    assert kept == {"amount": 5000, "address": {"city": "قم"}, "free": {"anything": ["goes"]}}


def test_read_only_fields_are_dropped_and_never_missing() -> None:
    form: FormModel = {"source": "test", "ui": {}, "schema": {
        "type": "object", "required": ["decision", "note"],
        "properties": {"decision": {"type": "string", "readOnly": True}, "note": {"type": "string"}}}}
    kept, errors = validate_submission(form, {"decision": "approved", "note": "ok"})
    assert (kept, errors) == ({"note": "ok"}, [])


def test_fields_declared_in_a_conditional_branch_are_fields() -> None:
    kept, errors = validate_submission(FORM, {"amount": 1, "purpose": "other", "details": "for the roof"})
    assert errors == [] and kept["details"] == "for the roof"
    _, errors = validate_submission(FORM, {"amount": 1, "purpose": "other"})
    assert codes(errors) == {"details": "required"}


def test_blank_answers_count_as_not_given() -> None:
    kept, errors = validate_submission(FORM, {"amount": "  ", "purpose": " \u200c "})
    assert kept == {} and codes(errors) == {"amount": "required"}


def test_errors_carry_a_code_params_label_and_plain_message() -> None:
    _, errors = validate_submission(FORM, {"amount": 0, "purpose": "x" * 51})
    assert errors == [
        FieldError("amount", "must be 1 or more", "minimum", {"limit": 1, "label": {"fa": "مبلغ", "en": "Amount"}}),
        FieldError("purpose", "must be at most 50 characters", "max-length", {"limit": 50}),
    ]
    missing = validate_submission(FORM, {})[1]
    assert [(e.field, e.message) for e in missing] == [("amount", "this field is required")]
    assert len({*errors, *missing}) == 3, "errors are hashable values"


def test_type_errors_have_a_code_per_type() -> None:
    form: FormModel = {"source": "test", "ui": {}, "schema": {"type": "object", "properties": {
        "n": {"type": "integer"}, "x": {"type": "number"}, "b": {"type": "boolean"}, "s": {"type": "string"},
        "l": {"type": "array"}, "o": {"type": "object", "properties": {"a": {"type": "string"}}},
        "maybe": {"type": ["integer", "null"]}}}}
    _, errors = validate_submission(form, {"n": "x", "x": "y", "b": "yes", "s": 1, "l": "a", "o": "b", "maybe": "c"})
    assert codes(errors) == {"n": "type-integer", "x": "type-number", "b": "type-boolean", "s": "type-string",
                             "l": "type-array", "o": "type-object", "maybe": "type-integer"}
    kept, errors = validate_submission(form, {"maybe": None})
    assert kept == {"maybe": None} and errors == []


def test_a_model_known_only_by_key_keeps_identifier_names() -> None:
    form: dict[str, Any] = {"source": "zeebe:formKey", "ref": "custom:apply", "schema": None, "ui": {}}
    kept, errors = validate_submission(form, {"anything": "۱", "bad name": 2})
    assert kept == {"anything": "1", "bad name": 2}
    assert [(e.field, e.code) for e in errors] == [("bad name", "field-name")]
