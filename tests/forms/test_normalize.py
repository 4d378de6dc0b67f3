"""Text as we store it: ASCII digits, Persian letters, ZWNJ kept inside words, no stray whitespace."""

from __future__ import annotations

import pytest

from forms.normalize import ascii_digits, compact, normalize_text, parse_integer, parse_number
from forms.validate import validate_submission

ZWNJ = "\u200c"


@pytest.mark.parametrize(("typed", "stored"), [
    ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
    ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
    ("علي", "علی"),
    ("كتاب", "کتاب"),
    ("موسى", "موسی"),
    (f"می{ZWNJ}خواهم", f"می{ZWNJ}خواهم"),
    (f"کتاب{ZWNJ}{ZWNJ}ها", f"کتاب{ZWNJ}ها"),
    (f"سلام{ZWNJ} دنیا", "سلام دنیا"),
    (f"{ZWNJ}سلام{ZWNJ}", "سلام"),
    ("  علی   رضا  ", "علی رضا"),
    ("علی\u00a0رضا", "علی رضا"),
    ("محمـــد", "محمد"),
    ("\u200fنام\u200e", "نام"),
    ("ﻋﻠﯽ", "علی"),
    ("خط اول  \r\n  خط دوم ", "خط اول\nخط دوم"),
    ("رأفت", "رأفت"),
    ("آیین", "آیین"),
])
def test_normalize_text(typed: str, stored: str) -> None:
    assert normalize_text(typed) == stored


def test_digits_and_separators() -> None:
    assert ascii_digits("کد ۱۲۳ و ٤٥٦") == "کد 123 و 456"
    assert compact(" ۰۰۱-۳۵۴ ۲۴۱.۹ ") == "0013542419"


@pytest.mark.parametrize(("typed", "number"), [
    ("۲۵", 25), ("25", 25), ("-۳", -3), ("1,500", 1500), ("۱٬۵۰۰", 1500), (" 42 ", 42),
])
def test_parse_integer(typed: str, number: int) -> None:
    assert parse_integer(typed) == number


@pytest.mark.parametrize("typed", ["12.5", "۲۵ سال", "", "1e3", "0x1A", "١٢,٣٤٥.٦"])
def test_parse_integer_refuses(typed: str) -> None:
    assert parse_integer(typed) is None


def test_parse_number() -> None:
    assert parse_number("۱۲٫۵") == 12.5
    assert parse_number("۱۲") == 12 and isinstance(parse_number("۱۲"), int)
    assert parse_number("nan") is None and parse_number("inf") is None


def test_submissions_are_normalised_everywhere() -> None:
    form = {"source": "test", "ui": {}, "schema": {"type": "object", "properties": {
        "name": {"type": "string"}, "age": {"type": "integer"}, "weight": {"type": "number"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "address": {"type": "object", "properties": {"street": {"type": "string"}, "no": {"type": "integer"}}}}}}
    kept, errors = validate_submission(form, {
        "name": f"  علي{ZWNJ}اكبر  ", "age": "۲۵", "weight": "۷۲٫۵", "tags": ["كتاب", " ۱ "],
        "address": {"street": "خيابان ۱۲", "no": "٤"}})
    assert errors == []
    assert kept == {"name": f"علی{ZWNJ}اکبر", "age": 25, "weight": 72.5, "tags": ["کتاب", "1"],
                    "address": {"street": "خیابان 12", "no": 4}}


def test_a_number_field_keeps_what_is_not_a_number_and_says_so() -> None:
    form = {"source": "test", "ui": {}, "schema": {"type": "object", "properties": {"age": {"type": "integer"}}}}
    kept, errors = validate_submission(form, {"age": "۲۵ سال"})
    assert [(e.field, e.code) for e in errors] == [("age", "type-integer")]
    assert kept == {"age": "25 سال"}
    assert validate_submission(form, {"age": 30.0})[0] == {"age": 30}


def test_forms_without_fields_keep_the_data_normalised() -> None:
    kept, errors = validate_submission(None, {"iban": "IR82 ۰۵۴۰", "note": "علي"})
    assert errors == [] and kept == {"iban": "IR82 0540", "note": "علی"}
    _, errors = validate_submission({"source": "none", "schema": {"type": "object", "properties": {}}, "ui": {}},
                                    {"_secret": 1, "class": 2, "ok": 3})
    assert sorted((e.field, e.code) for e in errors) == [("_secret", "field-name"), ("class", "field-name")]
