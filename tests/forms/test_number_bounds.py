"""Numbers in forms share the API's bound, ±(2**53 − 1): an answer outside it is refused with the
field's own message (never a 500, never stored), whatever its length, digits or separators; a
form whose limits or conditions hold a number outside it does not deploy, with the field named."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.api.schemas import MAX_INT
from forms.feel import FeelError, translate
from forms.formjs import formjs_form
from forms.messages import message_for
from forms.model import FormModel
from forms.normalize import out_of_range, parse_integer, parse_number
from forms.spiff import spiff_form
from forms.storable import MAX_SAFE_INTEGER
from forms.validate import validate_submission
from tests.forms.helpers import camunda7

PERSIAN_MAX = str(MAX_SAFE_INTEGER).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
# Past Python's 4,300-digit conversion limit, in the ways a citizen may write them.
HUGE = ["9" * 4301, "۹" * 4301, "٩" * 4301, "1," + ",".join(["000"] * 1500), "۱٬" + "٬".join(["۰۰۰"] * 1500),
        "-" + "9" * 5000, "0" * 5000 + "1" * 17, "9" * 1_000_000, "9" * 5000 + ".5", "9" * 17]


def test_the_api_and_the_forms_share_one_bound() -> None:
    assert MAX_INT == MAX_SAFE_INTEGER == 2**53 - 1


@pytest.mark.parametrize("typed", HUGE, ids=lambda t: f"{len(t)}-characters")
def test_a_number_of_any_length_is_read_as_out_of_range(typed: str) -> None:
    assert parse_number(typed) is None
    if "." not in typed:
        assert parse_integer(typed) is None
    assert out_of_range(typed)


def test_the_bound_itself_is_kept() -> None:
    for number in (MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0):
        assert parse_integer(str(number)) == number and parse_number(str(number)) == number
        assert not out_of_range(str(number))
    assert parse_integer("0" * 5000 + "25") == 25, "leading zeros do not make a number large"
    for number in (MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1):
        assert parse_integer(str(number)) is None and out_of_range(str(number))
    assert parse_number("9007199254740993.5") is None and out_of_range("9007199254740993.5")


@pytest.mark.parametrize("typed", ["NaN", "nan", "Infinity", "-Infinity", "inf", "1e999", "1e3", "1E+308", "0x1F"])
def test_what_is_not_a_plain_number_is_not_one(typed: str) -> None:
    assert parse_number(typed) is None and parse_integer(typed) is None
    assert not out_of_range(typed), "not a number at all: the message says so, not that it is too large"


def _number_form(kind: str, **rules: Any) -> FormModel:
    return {"source": "test", "ui": {"labels": {"n": {"fa": "متراژ", "en": "Floor area"}}},
            "schema": {"type": "object", "required": ["n"], "properties": {"n": {"type": kind, **rules}}}}


@pytest.mark.parametrize("kind", ["integer", "number"])
@pytest.mark.parametrize("answer", [*HUGE, 2**60, -(2**60), 1e300, -1e20, float(2**53)])
def test_an_answer_outside_the_bound_is_refused_with_the_fields_message(kind: str, answer: Any) -> None:
    for rules in ({}, {"maximum": 10_000, "minimum": 6}, {"x-increment": 1e-13}, {"multipleOf": 0.5}):
        _, errors = validate_submission(_number_form(kind, **rules), {"n": answer})
        assert "out-of-range" in [e.code for e in errors if e.field == "n"], (rules, errors)
        [error] = [e for e in errors if e.code == "out-of-range"]
        assert str(MAX_SAFE_INTEGER) in error.message
        assert PERSIAN_MAX in message_for(error, "fa") and "متراژ" in message_for(error, "fa")
        assert str(MAX_SAFE_INTEGER) in message_for(error, "en") and "Floor area" in message_for(error, "en")


def test_answers_within_the_bound_are_kept() -> None:
    kept, errors = validate_submission(_number_form("integer"), {"n": f"{MAX_SAFE_INTEGER:,}"})
    assert errors == [] and kept == {"n": MAX_SAFE_INTEGER}
    kept, errors = validate_submission(_number_form("number", **{"x-increment": 1e-13}), {"n": 10**15})
    assert errors == [] and kept == {"n": 10**15}, "a step far smaller than the answer is still exact"
    kept, errors = validate_submission(_number_form("number"), {"n": "-۱۲٫۵"})
    assert errors == [] and kept == {"n": -12.5}


def test_text_that_is_no_number_keeps_its_own_message() -> None:
    for answer in ("NaN", "1e999", "Infinity", "دوازده"):
        _, errors = validate_submission(_number_form("number"), {"n": answer})
        assert [e.code for e in errors] == ["type-number"], (answer, errors)


def test_form_limits_outside_the_bound_do_not_deploy() -> None:
    for config in ("9" * 5000, "1" + "0" * 20, "-" + "9" * 17):
        with pytest.raises(ValueError, match="field 'n'") as refused:
            camunda7(f'<camunda:formField id="n" type="long"><camunda:validation>'
                     f'<camunda:constraint name="max" config="{config}" /></camunda:validation></camunda:formField>')
        assert type(refused.value).__name__ == "FormDefinitionError"
        document = {"components": [{"type": "number", "key": "n", "label": "N", "validate": {"min": config}}]}
        with pytest.raises(ValueError, match="field 'n'") as refused:
            formjs_form(document, "f.form")
        assert type(refused.value).__name__ == "FormDefinitionError"
    for limit in (10**400, 1e300, float("inf"), float("nan")):
        document = {"components": [{"type": "number", "key": "n", "label": "N", "validate": {"max": limit}}]}
        with pytest.raises(ValueError, match="field 'n'"):
            formjs_form(document, "f.form")
        schema = {"type": "object", "properties": {"n": {"type": "number", "multipleOf": limit}}}
        with pytest.raises(ValueError, match="multipleOf must lie within") as refused:
            spiff_form({"s.json": json.dumps(schema).encode()}, "s.json", None)
        assert type(refused.value).__name__ == "FormDefinitionError"


@pytest.mark.parametrize("condition", [
    "=n > " + "9" * 5000, "=n > 9007199254740992", "=" + "(" * 5000 + "n" + ")" * 5000,
    "=" + "not(" * 5000 + "n" + ")" * 5000, '=n = "' + '\\"' * 100_000, "=n > " + "1" * 100_000 + "x",
])
def test_conditions_that_no_form_can_hold_are_refused_with_the_reason(condition: str) -> None:
    with pytest.raises(FeelError):
        translate(condition)


def test_digits_given_for_a_question_that_is_no_number_keep_that_questions_message() -> None:
    form: FormModel = {"source": "test", "ui": {}, "schema": {"type": "object", "properties": {
        "agree": {"type": "boolean"}, "n": {"type": ["integer", "null"]}}}}
    _, errors = validate_submission(form, {"agree": "9" * 5000, "n": "9" * 5000})
    assert sorted((e.field, e.code) for e in errors) == [("agree", "type-boolean"), ("n", "out-of-range")]
