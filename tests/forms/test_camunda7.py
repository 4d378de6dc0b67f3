"""Camunda 7 generated forms: every field type, constraint and property, and what is refused."""

from __future__ import annotations

import pytest

from forms.extract import FormDefinitionError
from forms.validate import validate_submission
from tests.forms.helpers import DATA, camunda7, codes, forms_of


@pytest.fixture(scope="module")
def forms() -> dict:
    return forms_of((DATA / "permit_c7.bpmn").read_bytes())


def test_user_tasks_and_start_events_with_form_data_get_models(forms: dict) -> None:
    assert sorted(forms) == ["apply", "review", "start"]
    assert forms["apply"]["source"] == "camunda:formData"
    assert forms["review"]["source"] == "none" and forms["review"]["schema"]["properties"] == {}
    start = forms["start"]["schema"]
    assert start["properties"]["applicant_code"]["format"] == "ir-national-code"
    assert start["required"] == ["applicant_code"]
    assert forms["start"]["ui"]["labels"]["applicant_code"] == {"fa": "کد ملی متقاضی",
                                                                "en": "Applicant's national code"}


def test_types_constraints_and_defaults(forms: dict) -> None:
    props = forms["apply"]["schema"]["properties"]
    assert props["full_name"] == {"type": "string", "minLength": 3, "maxLength": 80,
                                      "title": "نام و نام خانوادگی", "x-title-fa": "نام و نام خانوادگی",
                                      "x-title-en": "Full name"}
    assert props["age"]["type"] == "integer" and (props["age"]["minimum"], props["age"]["maximum"]) == (18, 120)
    assert props["age"]["default"] == 30
    assert props["income"] == {"type": "number", "minimum": 0, "title": "Monthly income (rial)",
                               "x-title-en": "Monthly income (rial)"}
    assert props["agree"]["type"] == "boolean" and props["agree"]["default"] is False
    assert props["birth"]["format"] == "jalali-date"
    assert props["start_on"]["format"] == "date"
    assert props["permit_type"]["oneOf"] == [{"const": "parking", "title": "Parking permit"},
                                             {"const": "building", "title": "Building permit"}]
    assert props["permit_type"]["default"] == "parking"
    assert props["plate"] == {"type": "string", "pattern": "^[0-9]{2}[A-Z][0-9]{5}$", "title": "Plate",
                              "x-title-en": "Plate"}
    assert props["mobile"]["format"] == "ir-mobile"
    assert props["case_number"]["readOnly"] is True
    assert forms["apply"]["schema"]["required"] == ["full_name", "agree", "spouse_name", "case_number"]


def test_properties_become_ui_hints(forms: dict) -> None:
    ui = forms["apply"]["ui"]
    assert ui["order"][:3] == ["full_name", "age", "income"]
    assert ui["help"]["full_name"] == {"fa": "همان‌طور که روی کارت ملی نوشته شده است",
                                       "en": "As written on your national card"}
    assert ui["widgets"] == {
        "full_name": "text", "age": "number", "income": "number", "agree": "checkbox", "birth": "date-jalali",
        "start_on": "date", "permit_type": "radio", "marital": "radio", "spouse_name": "text", "plate": "text",
        "mobile": "text", "postal_code": "text", "notes": "textarea", "case_number": "text"}
    assert ["mobile", "postal_code"] in ui["pages"] and ["full_name"] in ui["pages"]
    assert sum(len(page) for page in ui["pages"]) == len(ui["order"])
    assert ui["hidden_when"] == {"spouse_name": {"field": "marital", "op": "ne", "value": "married"}}
    assert ui["readonly"] == ["case_number"]
    assert ui["properties"] == {"postal_code": {"placeholder": "1193653471"}}


def test_submission_against_formdata(forms: dict) -> None:
    form = forms["apply"]
    kept, errors = validate_submission(form, {
        "full_name": " علي رضايي ", "age": "۲۵", "income": "۱۲٬۵۰۰٫۵", "agree": True, "birth": "۱۳۷۰/۷/۱۵",
        "start_on": "2026-12-01", "permit_type": "building", "marital": "single", "spouse_name": "ignored",
        "plate": "12B34567", "mobile": "+98 912 123 4567", "postal_code": "۱۱۹۳۶-۵۳۴۷۱", "case_number": "hack",
        "approved": True})
    assert errors == []
    assert kept == {"full_name": "علی رضایی", "age": 25, "income": 12500.5, "agree": True, "birth": "1370/07/15",
                    "start_on": "2026-12-01", "permit_type": "building", "marital": "single", "plate": "12B34567",
                    "mobile": "09121234567", "postal_code": "1193653471",
                    "notes": None}, "an unanswered field is null, as Camunda stores it; a hidden one is left out"


def test_constraint_errors(forms: dict) -> None:
    _, errors = validate_submission(forms["apply"], {
        "full_name": "ab", "age": 12, "income": -1, "birth": "1404/12/30", "permit_type": "boat",
        "marital": "married", "plate": "۱۲ب۳۴۵۶۷", "mobile": "0912"})
    assert codes(errors) == {
        "full_name": "min-length", "age": "minimum", "income": "minimum", "agree": "required", "birth": "jalali-date",
        "permit_type": "choice", "spouse_name": "required", "plate": "pattern", "mobile": "ir-mobile"}
    assert [e.field for e in errors][:3] == ["full_name", "age", "income"], "errors follow the form's order"
    age = next(e for e in errors if e.field == "age")
    assert age.params["limit"] == 18 and age.message == "must be 18 or more"


@pytest.mark.parametrize(("field_xml", "complaint"), [
    ('<camunda:formField id="a" type="string"><camunda:validation>'
     '<camunda:constraint name="validator" config="org.example.Check" /></camunda:validation></camunda:formField>',
     "field 'a': constraint 'validator' is not one Panjereh can check"),
    ('<camunda:formField id="a" type="long"><camunda:validation>'
     '<camunda:constraint name="min" config="ten" /></camunda:validation></camunda:formField>',
     "field 'a': constraint 'min' needs a number, not 'ten'"),
    ('<camunda:formField id="a" type="string"><camunda:validation>'
     '<camunda:constraint name="max" config="3" /></camunda:validation></camunda:formField>',
     "'max' applies to long and double fields only"),
    ('<camunda:formField id="a" type="string"><camunda:validation>'
     '<camunda:constraint name="pattern" config="[0-9" /></camunda:validation></camunda:formField>',
     "is not a regular expression"),
    ('<camunda:formField id="code" type="long"><camunda:properties>'
     '<camunda:property id="format" value="ir-national-code" /></camunda:properties></camunda:formField>',
     "format 'ir-national-code' needs a string field"),
    ('<camunda:formField id="a" type="string"><camunda:properties>'
     '<camunda:property id="format" value="ir-passport" /></camunda:properties></camunda:formField>',
     "unknown format 'ir-passport'"),
    ('<camunda:formField id="a" type="string"><camunda:properties>'
     '<camunda:property id="widget" value="slider" /></camunda:properties></camunda:formField>',
     "unknown widget 'slider'"),
    ('<camunda:formField id="a" type="string"><camunda:properties>'
     '<camunda:property id="hide" value="=count(items) &gt; 2" /></camunda:properties></camunda:formField>',
     "field 'a': hide condition"),
    ('<camunda:formField id="a" type="enum" />', "an enum field needs at least one camunda:value"),
    ('<camunda:formField id="a" type="boolean" defaultValue="yes" />', "default 'yes' is not true or false"),
    ('<camunda:formField id="a" type="string" /><camunda:formField id="a" type="long" />',
     "two form fields have the id 'a'"),
    ('<camunda:formField id="_secret" type="string" />', "must be an identifier that does not start with '_'"),
])
def test_refused_definitions_name_the_task_and_field(field_xml: str, complaint: str) -> None:
    with pytest.raises(FormDefinitionError) as raised:
        camunda7(field_xml)
    assert "user task 't'" in str(raised.value) and complaint in str(raised.value)


def test_expression_defaults_are_left_to_the_process() -> None:
    form = camunda7('<camunda:formField id="a" type="string" defaultValue="${applicant_name}" />')
    assert "default" not in form["schema"]["properties"]["a"]
