"""SpiffArena JSON Schema + RJSF uiSchema: the schema is checked at deploy, the uiSchema becomes UI hints."""

from __future__ import annotations

import json
from typing import Any

import pytest

from forms.extract import FormDefinitionError
from forms.model import SCHEMA_DIALECT, FormModel
from forms.spiff import spiff_form
from forms.validate import validate_submission
from tests.forms.helpers import DATA, codes, forms_of

SCHEMA = json.loads((DATA / "permit.schema.json").read_text(encoding="utf-8"))
UI = json.loads((DATA / "permit.uischema.json").read_text(encoding="utf-8"))


def _files(schema: dict[str, Any] = SCHEMA, ui: dict[str, Any] | None = UI) -> dict[str, bytes]:
    files = {"s.json": json.dumps(schema).encode()}
    if ui is not None:
        files["u.json"] = json.dumps(ui).encode()
    return files


@pytest.fixture(scope="module")
def form() -> FormModel:
    files = {name: (DATA / name).read_bytes() for name in ("permit.schema.json", "permit.uischema.json")}
    return forms_of((DATA / "permit_spiff.bpmn").read_bytes(), files)["apply"]


def test_draft_07_is_brought_to_2020_12(form: FormModel) -> None:
    schema = form["schema"]
    assert form["source"] == "spiffworkflow:formJsonSchemaFilename" and form["ref"] == "permit.schema.json"
    assert schema["$schema"] == SCHEMA_DIALECT
    assert schema["dependentRequired"] == {"has_partner": ["partner_name"]} and "dependencies" not in schema
    assert schema["properties"]["reference"]["readOnly"] is True, "ui:readonly is enforced by the schema"


def test_ui_schema_becomes_ui_hints(form: FormModel) -> None:
    ui = form["ui"]
    assert ui["order"] == ["activity", "national_code", "area_m2", "has_partner", "partner_name",
                           "applicant.postal_code", "applicant.mobile", "children.name", "children.birth", "reference"]
    assert ui["widgets"]["activity"] == "radio" and ui["widgets"]["children.birth"] == "date-jalali"
    assert ui["widgets"]["has_partner"] == "checkbox" and ui["widgets"]["area_m2"] == "number"
    assert ui["help"]["activity"] == {"en": "Choose the main activity"}
    assert ui["help"]["applicant.mobile"] == {"fa": "شماره‌ای که به نام خودتان است"}
    assert ui["help"]["national_code"] == {"fa": "ده رقم روی کارت ملی", "en": "The 10 digits on your national card"}
    assert ui["labels"]["national_code"] == {"fa": "کد ملی", "en": "National code"}
    assert ui["labels"]["children.birth"] == {"en": "Date of birth"}
    assert ui["labels"]["applicant.postal_code"] == {"en": "Postal code"}, "a title behind $ref is found"
    assert ui["readonly"] == ["reference"]
    assert ui["groups"]["children"] == {"label": {"en": "Children"}, "path": "children", "repeat": True,
                                        "parent": None, "fields": ["children.name", "children.birth"]}
    assert ["applicant.postal_code", "applicant.mobile"] in ui["pages"]


def test_submission(form: FormModel) -> None:
    kept, errors = validate_submission(form, {
        "national_code": "۰۰۱۳۵۴۲۴۱۹", "activity": "food", "has_partner": True, "partner_name": "رضا",
        "applicant": {"mobile": "9121234567", "postal_code": "۱۱۹۳۶۵۳۴۷۱", "approved": True},
        "children": [{"name": "مريم", "birth": "1395/1/1", "extra": 1}], "reference": "forged", "approved": True})
    assert errors == []
    assert kept == {"national_code": "0013542419", "activity": "food", "has_partner": True, "partner_name": "رضا",
                    "applicant": {"mobile": "09121234567", "postal_code": "1193653471"},
                    "children": [{"name": "مریم", "birth": "1395/01/01"}]}


def test_errors_name_nested_fields(form: FormModel) -> None:
    _, errors = validate_submission(form, {"national_code": "1234567", "activity": "mining", "has_partner": False,
                                           "children": [{"birth": "1400/01/01"}, {"name": "x", "birth": "x"}]})
    assert codes(errors) == {"national_code": "ir-national-code", "activity": "choice", "partner_name": "required",
                             "applicant.mobile": "required", "children.0.name": "required",
                             "children.1.birth": "jalali-date"}
    labels = {e.field: e.params.get("label") for e in errors}
    assert labels["children.0.name"] == {"en": "Name"} and labels["applicant.mobile"] == {"en": "Mobile number"}


@pytest.mark.parametrize(("schema", "complaint"), [
    ({"type": "object", "properties": {"a": {"type": "strin"}}}, "'s.json' is not a valid JSON Schema"),
    ({"type": "object", "properties": {"a": {"type": "string", "minLength": -1}}}, "at properties/a/minLength"),
    ({"type": "object", "properties": {"a": {"type": "string", "format": "ir-passport"}}},
     "format 'ir-passport' is not one Panjereh checks"),
    ({"type": "object", "properties": {"a": {"type": "string", "pattern": "[0-"}}},
     "'[0-' is not a 'regex' (at properties/a/pattern)"),
    ({"type": "object", "properties": {"first-name": {"type": "string"}}}, "field name 'first-name'"),
    ({"type": "array", "items": {"type": "string"}}, "must describe an object"),
    ({"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}, "declares $schema"),
    ({"type": "object", "properties": {"a": {"$ref": "https://example.com/person.json"}}},
     "$ref 'https://example.com/person.json' does not point inside the file"),
    ({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}, "does not point inside the file"),
])
def test_bad_schemas_are_refused_with_the_reason(schema: dict[str, Any], complaint: str) -> None:
    with pytest.raises(FormDefinitionError) as raised:
        spiff_form(_files(schema, None), "s.json", None)
    assert complaint in str(raised.value)


@pytest.mark.parametrize(("ui", "complaint"), [
    ({"activity": {"ui:widget": "typeahead"}}, "ui:widget 'typeahead' is not supported"),
    ({"ui:order": ["activity"], "activity": {"ui:title": "A"}, "nickname": {"ui:widget": "text"}},
     "name a field 'nickname' that the form does not have"),
    ({"nickname": {"ui:readonly": True}}, "names 'nickname', which the schema does not have"),
])
def test_bad_ui_schemas_are_refused(ui: dict[str, Any], complaint: str) -> None:
    with pytest.raises(FormDefinitionError) as raised:
        spiff_form(_files(ui=ui), "s.json", "u.json")
    assert complaint in str(raised.value)


def test_missing_and_broken_files_are_refused() -> None:
    with pytest.raises(FormDefinitionError, match=r"form UI schema file 'u\.json' was not uploaded"):
        spiff_form(_files(ui=None), "s.json", "u.json")
    with pytest.raises(FormDefinitionError, match="is not valid JSON"):
        spiff_form({"s.json": b"{nope"}, "s.json", None)
    with pytest.raises(FormDefinitionError, match="must hold a JSON object"):
        spiff_form({"s.json": b"[]"}, "s.json", None)


def test_a_property_named_like_a_keyword_is_left_alone() -> None:
    schema = {"type": "object", "properties": {"dependencies": {"type": "object", "properties": {
        "items": {"type": "string"}}}}}
    form = spiff_form(_files(schema, None), "s.json", None)
    assert form["schema"]["properties"]["dependencies"]["properties"]["items"] == {"type": "string"}
    assert form["ui"]["order"] == ["dependencies.items"]


SLOT_SCHEMA = {"$schema": SCHEMA_DIALECT, "type": "object", "required": ["slot"], "properties": {
    "slot": {"type": "string", "title": "نوبت", "x-options-from": "offered_slots"}}}


def test_choices_from_a_process_variable() -> None:
    form = spiff_form({"s.json": json.dumps(SLOT_SCHEMA).encode()}, "s.json", None)
    assert form["ui"]["options_from"] == {"slot": "offered_slots"}
    assert form["ui"]["widgets"]["slot"] == "radio"
    offered = {"offered_slots": [{"value": "s1", "label": {"fa": "شنبه", "en": "Saturday"}}, "s2"]}
    assert validate_submission(form, {"slot": "s2"}, variables=offered)[1] == []
    assert codes(validate_submission(form, {"slot": "s9"}, variables=offered)[1]) == {"slot": "choice"}
    assert codes(validate_submission(form, {"slot": "s1"}, variables={})[1]) == {"slot": "choice"}, \
        "no offer in the case: nothing can be chosen"
    chosen_widget = spiff_form({"s.json": json.dumps(SLOT_SCHEMA).encode(),
                                "u.json": b'{"slot": {"ui:widget": "select"}}'}, "s.json", "u.json")
    assert chosen_widget["ui"]["widgets"]["slot"] == "select"


@pytest.mark.parametrize("variable", ["not a name", "_private", 7])
def test_choices_from_a_variable_need_a_variable_name(variable: object) -> None:
    schema = json.loads(json.dumps(SLOT_SCHEMA))
    schema["properties"]["slot"]["x-options-from"] = variable
    with pytest.raises(FormDefinitionError, match="x-options-from"):
        spiff_form({"s.json": json.dumps(schema).encode()}, "s.json", None)
