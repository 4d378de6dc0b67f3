"""Answers with a character no database keeps are refused field by field, by the one validation the
API and the portal share, whatever the form declares."""

from __future__ import annotations

from typing import Any

from forms.messages import message_for
from forms.validate import validate_submission

FORM: dict[str, Any] = {
    "schema": {"type": "object", "properties": {
        "name": {"type": "string", "title": "Name"},
        "children": {"type": "array", "items": {"type": "object", "properties": {"note": {"type": "string"}}}},
        "extra": {"type": "object"},
    }},
    "ui": {"labels": {"name": {"en": "Name", "fa": "نام"}}},
}


def _refused(form: dict[str, Any] | None, data: dict[str, Any]) -> list[tuple[str, str]]:
    _, errors = validate_submission(form, data)
    return [(e.field, e.code) for e in errors]


def test_nul_and_lone_surrogates_are_refused_where_they_are() -> None:
    assert _refused(FORM, {"name": "a\x00b"}) == [("name", "characters")]
    assert _refused(FORM, {"children": [{"note": "ok"}, {"note": "\ud800"}]}) == [("children.1.note", "characters")]
    assert _refused(FORM, {"extra": {"free\x00": "x"}}) == [("extra.free\x00", "characters")]
    assert _refused(FORM, {"extra": {"\udfff": "x"}}) == [("extra.\\udfff", "characters")]
    assert _refused(FORM, {"name": "نام\u200cخانوادگی", "extra": {"note": "tab\tand\nline"}}) == []


def test_a_task_without_a_form_refuses_them_too() -> None:
    assert ("note", "characters") in _refused(None, {"note": "x\x00"})
    assert _refused(None, {"note": "x"}) == []


def test_the_message_says_what_to_do_in_both_languages() -> None:
    [error] = validate_submission(FORM, {"name": "a\x00"})[1]
    assert "NUL" in error.message
    assert message_for(error, "en") == "Name contains a character that cannot be saved; remove it and enter name again"
    assert message_for(error, "fa").startswith("نام نویسه‌ای دارد که نمی‌توان ذخیره کرد")


def test_numbers_that_are_not_finite_are_refused_as_numbers() -> None:
    assert _refused(None, {"amount": float("inf")}) == [("amount", "type-number")]
    assert _refused(FORM, {"extra": {"ratio": float("nan")}}) == [("extra.ratio", "type-number")]
