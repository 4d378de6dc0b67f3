"""Iranian identifiers, checked through the form formats a modeler writes: every research vector."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forms.validate import validate_submission
from tests.forms.helpers import DATA, string_form

# A copy of shared/research/iran-identifier-vectors.json, so the suite runs where shared/ is absent;
# the first test keeps the two the same.
ALL = json.loads((DATA / "iran-identifier-vectors.json").read_text())
RESEARCH = Path(__file__).resolve().parents[3] / "shared" / "research" / "iran-identifier-vectors.json"
FORMAT_OF = {"nc": "ir-national-code", "lid": "ir-legal-id", "sheba": "ir-sheba", "card": "ir-card"}


def test_vectors_are_the_research_ones() -> None:
    if not RESEARCH.exists():
        pytest.skip("shared/research is not beside this checkout")
    assert json.loads(RESEARCH.read_text()) == ALL
    assert sum(len(v) for v in ALL.values()) == 42


def _cases(valid: bool) -> list[tuple[str, str]]:
    return [(FORMAT_OF[key.split("_")[0]], value) for key, values in ALL.items()
            if key.endswith("_valid") == valid for value in values]


@pytest.mark.parametrize(("fmt", "value"), _cases(valid=True))
def test_valid_vectors_are_accepted(fmt: str, value: str) -> None:
    kept, errors = validate_submission(string_form(fmt), {"value": value})
    assert errors == []
    assert kept == {"value": value}


@pytest.mark.parametrize(("fmt", "value"), _cases(valid=False))
def test_invalid_vectors_are_refused_with_the_format_code(fmt: str, value: str) -> None:
    _, errors = validate_submission(string_form(fmt), {"value": value})
    assert [(e.field, e.code, e.params["reason"]) for e in errors] == [("value", fmt, "checksum")]


@pytest.mark.parametrize(("fmt", "typed", "stored"), [
    ("ir-national-code", "۰۰۱۳۵۴۲۴۱۹", "0013542419"),
    ("ir-national-code", "۰۰۱-۳۵۴۲۴۱-۹", "0013542419"),
    ("ir-national-code", "13542419", "0013542419"),
    ("ir-national-code", "٠٠١٣٥٤٢٤١٩", "0013542419"),
    ("ir-mobile", "09121234567", "09121234567"),
    ("ir-mobile", "+989121234567", "09121234567"),
    ("ir-mobile", "00989121234567", "09121234567"),
    ("ir-mobile", "989121234567", "09121234567"),
    ("ir-mobile", "9121234567", "09121234567"),
    ("ir-mobile", "۰۹۱۲ ۱۲۳ ۴۵۶۷", "09121234567"),
    ("ir-sheba", "ir82 0540 1026 8002 0817 9090 02", "IR820540102680020817909002"),
    ("ir-sheba", "820540102680020817909002", "IR820540102680020817909002"),
    ("ir-sheba", "IR۸۲۰۵۴۰۱۰۲۶۸۰۰۲۰۸۱۷۹۰۹۰۰۲", "IR820540102680020817909002"),
    ("ir-card", "6037-9900-0000-0006", "6037990000000006"),
    ("ir-card", "۶۰۳۷ ۹۹۰۰ ۰۰۰۰ ۰۰۰۶", "6037990000000006"),
    ("ir-postal-code", "11936-53471", "1193653471"),
    ("ir-landline", "+98 21 8877 6655", "02188776655"),
    ("ir-landline", "۰۳۱-۳۲۲۲۱۱۰۰", "03132221100"),
    ("ir-legal-id", "۱۰۳۸۰۲۸۴۷۹۰", "10380284790"),
    ("jalali-date", "۱۴۰۳/۷/۱۵", "1403/07/15"),
    ("jalali-date", "15-07-1403", "1403/07/15"),
    ("jalali-date", "1403.12.30", "1403/12/30"),
    ("date", "2024/10/6", "2024-10-06"),
    ("phone", "0098 21 8877 6655", "+982188776655"),
])
def test_typed_forms_are_stored_canonically(fmt: str, typed: str, stored: str) -> None:
    kept, errors = validate_submission(string_form(fmt), {"value": typed})
    assert errors == []
    assert kept == {"value": stored}


@pytest.mark.parametrize(("fmt", "value", "reason"), [
    ("ir-national-code", "1111111111", "checksum"),
    ("ir-national-code", "0010000003", "checksum"),
    ("ir-national-code", "1234567", "length"),
    ("ir-national-code", "06841594140", "length"),
    ("ir-national-code", "12345abcde", "length"),
    ("ir-legal-id", "11111111111", "checksum"),
    ("ir-legal-id", "1038028479", "length"),
    ("ir-postal-code", "0423437584", "shape"),
    ("ir-postal-code", "1203456789", "shape"),
    ("ir-postal-code", "5555512345", "shape"),
    ("ir-postal-code", "142386473", "length"),
    ("ir-mobile", "0912123456", "shape"),
    ("ir-mobile", "091212345678", "shape"),
    ("ir-mobile", "08121234567", "shape"),
    ("ir-mobile", "+98912123456", "shape"),
    ("ir-landline", "02912345678", "area-code"),
    ("ir-landline", "0218877665", "shape"),
    ("ir-landline", "88776655", "shape"),
    ("ir-sheba", "IR01234567890123456789", "length"),
    ("ir-sheba", "IR05017000000012345678901A", "length"),
    ("ir-card", "603799000000000", "length"),
    ("ir-card", "1234567890123456", "checksum"),
    ("jalali-date", "1404/12/30", "not-real"),
    ("jalali-date", "1403/07/31", "not-real"),
    ("jalali-date", "1403/13/01", "not-real"),
    ("jalali-date", "03/07/15", "shape"),
    ("date", "2023-02-29", "not-real"),
    ("email", "name@", "shape"),
    ("phone", "02188776655", "shape"),
    ("time", "25:00", "shape"),
])
def test_wrong_values_say_why(fmt: str, value: str, reason: str) -> None:
    _, errors = validate_submission(string_form(fmt), {"value": value})
    assert [(e.code, e.params["reason"]) for e in errors] == [(fmt, reason)]


def test_jalali_leap_years_follow_the_calendar() -> None:
    for leap_day in ("1399/12/30", "1403/12/30", "1408/12/30"):
        assert validate_submission(string_form("jalali-date"), {"value": leap_day})[1] == []
    assert validate_submission(string_form("jalali-date"), {"value": "1402/12/30"})[1][0].params["reason"] == "not-real"


def test_every_digit_set_is_stored_as_ascii() -> None:
    # str.isdigit() is True for '⁶' and re's \d matches Devanagari digits: both reach storage as ASCII.
    kept, errors = validate_submission(string_form("ir-card"), {"value": "603799000000000⁶"})
    assert errors == [] and kept == {"value": "6037990000000006"}
    kept, errors = validate_submission(string_form("ir-national-code"), {"value": "००१३५४२४१९"})
    assert errors == [] and kept == {"value": "0013542419"}
