"""Messages for people: Persian and English for every code, GOV.UK style, with the field's label."""

from __future__ import annotations

import re

import pytest

from forms import validate
from forms.formats import FORMATS
from forms.messages import MESSAGES, message_for
from forms.validate import FieldError, validate_submission
from tests.forms.helpers import string_form

PERSIAN = re.compile("[\u0600-\u06ff]")


def test_every_code_the_validator_gives_has_messages() -> None:
    produced = {*validate._CODES.values(), *FORMATS, "required", "choice", "invalid", "field-name",
                *(f"type-{t}" for t in ("integer", "number", "string", "boolean", "array", "object", "null"))}
    assert produced <= set(MESSAGES)


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_each_message_is_bilingual_and_free_of_blame(code: str) -> None:
    for message in MESSAGES[code].values():
        assert message.plain and message.en and message.fa
        assert PERSIAN.search(message.fa) and not PERSIAN.search(message.en)
        assert not re.search(r"[0-9]", message.fa.replace("{limit}", "")), "Persian messages use Persian digits"
        for text in (message.plain, message.en):
            assert "invalid" not in text.lower() and "!" not in text
        assert "نامعتبر" not in message.fa


def test_national_code_messages() -> None:
    _, [short] = validate_submission(string_form("ir-national-code"), {"value": "12345"})
    assert message_for(short, "fa") == "کد ملی باید ۱۰ رقم باشد"
    assert message_for(short, "en") == "National code must be 10 digits"
    _, [typo] = validate_submission(string_form("ir-national-code"), {"value": "0013542410"})
    assert message_for(typo, "fa") == "کد ملی درست نیست؛ آن را با کارت ملی مقایسه کنید"


def test_the_field_label_is_used_in_the_readers_language() -> None:
    error = FieldError("age", "must be 18 or more", "minimum", {"limit": 18, "label": {"fa": "سن", "en": "Age"}})
    assert message_for(error, "fa") == "سن باید ۱۸ یا بیشتر باشد"
    assert message_for(error, "en") == "Age must be 18 or more"
    required = FieldError("full_name", "this field is required", "required", {"label": {"en": "Full name"}})
    assert message_for(required, "en") == "Enter full name"
    assert message_for(required, "fa") == "Full name را وارد کنید", "a label in one language beats none"
    choose = FieldError("agree", "this field is required", "required", {"choice": True, "label": {"fa": "شرایط"}})
    assert message_for(choose, "fa") == "شرایط را انتخاب کنید"
    acronym = FieldError("iban", "x", "ir-sheba", {"reason": "checksum", "label": {"en": "IBAN"}})
    assert message_for(acronym, "en") == "IBAN is not right; copy it from your bank app or card"


def test_without_a_label() -> None:
    error = FieldError("x", "this field is required", "required")
    assert message_for(error, "en") == "Enter this answer"
    assert message_for(error, "fa") == "این پاسخ را وارد کنید"
    mobile = FieldError("m", "x", "ir-mobile", {"reason": "shape"})
    assert message_for(mobile, "fa") == "شماره تلفن همراه باید مانند ۰۹۱۲۱۲۳۴۵۶۷ باشد"
    assert message_for(mobile, "en") == "Enter mobile number like 09121234567"


def test_errors_from_elsewhere_keep_their_message() -> None:
    error = FieldError("", "data is 2,000,000 bytes, over the limit of 1,000,000 bytes")
    assert message_for(error, "en") == error.message
    assert PERSIAN.search(message_for(error, "fa"))
