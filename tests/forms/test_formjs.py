"""Camunda Forms (form-js) as Camunda Modeler 8 saves them: every component, conditions, refusals."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest

from forms.dates import today_in_iran
from forms.extract import FormDefinitionError
from forms.formjs import formjs_form
from forms.model import FormModel
from forms.validate import validate_submission
from tests.forms.helpers import DATA, codes, forms_of

DOCUMENT = json.loads((DATA / "permit.form").read_text(encoding="utf-8"))
GOOD: dict[str, Any] = {
    "full_name": "سارا احمدی", "national_code": "0013542419", "area": 45, "has_lease": False, "activity": "retail",
    "services": ["take_away"], "postal_code": "1193653471", "refund": False,
}


@pytest.fixture(scope="module")
def form() -> FormModel:
    return formjs_form(DOCUMENT, "permit-form")


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def test_every_input_component_becomes_a_property(form: FormModel) -> None:
    props = form["schema"]["properties"]
    assert form["source"] == "camunda-forms" and form["ref"] == "permit-form"
    assert props["full_name"]["minLength"] == 3 and props["full_name"]["maxLength"] == 80
    assert props["national_code"]["format"] == "ir-national-code"
    assert props["email"]["format"] == "email" and props["phone"]["format"] == "phone"
    assert props["sign_code"]["pattern"] == "^[A-Z]{2}[0-9]{4}$"
    assert props["description"]["maxLength"] == 500
    assert props["area"]["type"] == "integer" and (props["area"]["minimum"], props["area"]["maximum"]) == (6, 10000)
    assert props["share"] == {"type": "number", "x-decimal-digits": 2, "x-increment": 0.25,
                              "title": "Partner share", "x-title-en": "Partner share"}
    assert props["has_lease"] == {"type": "boolean", "default": False, "title": "I have a lease for the premises",
                                  "x-title-en": "I have a lease for the premises"}
    assert [o["const"] for o in props["activity"]["oneOf"]] == ["retail", "food"]
    assert props["province"]["oneOf"][0] == {"const": "tehran", "title": "Tehran"}
    assert props["services"]["type"] == "array" and props["services"]["minItems"] == 1
    assert [o["const"] for o in props["services"]["items"]["oneOf"]] == ["dine_in", "take_away", "delivery"]
    assert props["district"] == {"type": "string", "title": "Municipal district", "x-title-en": "Municipal district"}
    assert props["opening_date"]["format"] == "date" and props["opening_date"]["x-not-in-past"] is True
    assert props["birth_date"]["format"] == "jalali-date"
    assert props["case_number"]["readOnly"] is True


def test_groups_nest_by_path_and_lists_hold_objects(form: FormModel) -> None:
    props = form["schema"]["properties"]
    assert "landline" in props and "postal_code" in props, "a group without a path adds nothing to the data"
    assert props["bank"]["type"] == "object" and props["bank"]["required"] == ["sheba"]
    assert props["bank"]["properties"]["sheba"]["format"] == "ir-sheba"
    assert props["partners"]["type"] == "array"
    assert props["partners"]["items"]["required"] == ["name", "legal_id"]
    assert form["schema"]["required"] == ["full_name", "national_code", "area", "lease_number", "activity",
                                          "kitchen_m2", "services", "postal_code", "bank"]


def test_ui_hints(form: FormModel) -> None:
    ui = form["ui"]
    assert ui["order"][:3] == ["full_name", "national_code", "mobile"]
    assert ui["order"][-6:] == ["bank.card", "partners.name", "partners.national_code", "partners.is_company",
                                "partners.legal_id", "case_number"]
    assert ["landline", "postal_code"] in ui["pages"] and ["bank.sheba", "bank.card"] in ui["pages"]
    assert ["full_name"] in ui["pages"]
    assert ui["widgets"]["description"] == "textarea" and ui["widgets"]["birth_date"] == "date-jalali"
    assert ui["widgets"]["services"] == "checklist" and ui["widgets"]["province"] == "select"
    assert ui["labels"]["full_name"] == {"fa": "نام و نام خانوادگی", "en": "Full name"}
    assert ui["labels"]["birth_date"] == {"fa": "تاریخ تولد", "en": "Date of birth"}
    assert ui["help"]["full_name"]["en"] == "As written on your national card"
    assert ui["groups"]["List_partners"] == {
        "label": {"en": "Partners"}, "path": "partners", "repeat": True, "parent": None,
        "fields": ["partners.name", "partners.national_code", "partners.is_company", "partners.legal_id"]}
    assert ui["groups"]["Group_contact"]["path"] is None
    assert ui["texts"][0]["id"] == "Text_intro" and ui["texts"][0]["before"] == "full_name"
    assert ui["texts"][0]["text"]["en"].startswith("# Business licence")
    assert ui["texts"][1] == {"id": "Html_notice", "format": "html", "before": None, "group": None,
                              "hidden_when": None,
                              "text": {"en": "<p>By submitting you confirm the answers are true.</p>"}}
    assert ui["readonly"] == ["case_number"]
    assert ui["options_from"] == {"district": "districts"}
    assert ui["hidden_when"] == {
        "lease_number": {"not": {"field": "has_lease", "op": "true"}},
        "kitchen_m2": {"field": "activity", "op": "ne", "value": "food"},
        "bank": {"not": {"field": "refund", "op": "true"}},
        "partners.legal_id": {"not": {"field": "is_company", "op": "true"}},
    }


def test_a_complete_submission(form: FormModel) -> None:
    kept, errors = validate_submission(form, _with(
        full_name=" سارا  احمدي ", national_code="۰۰۱۳۵۴۲۴۱۹", area="۴۵", share="12.25", has_lease=True,
        lease_number="۱۲۳", activity="food", kitchen_m2="۱۰", email="sara@example.ir", sign_code="AB1234",
        opening_date=str(today_in_iran()), birth_date="۱۳۷۰/۷/۱۵", refund=True,
        bank={"sheba": "ir820540102680020817909002", "card": "6037-9900-0000-0006", "branch": "x"},
        partners=[{"name": "علی", "national_code": "2720123455", "is_company": False},
                  {"name": "شرکت نمونه", "is_company": True, "legal_id": "10380284790"}],
        case_number="forged", approved=True))
    assert errors == []
    assert kept["full_name"] == "سارا احمدی" and kept["area"] == 45 and kept["kitchen_m2"] == 10
    assert kept["bank"] == {"sheba": "IR820540102680020817909002", "card": "6037990000000006"}
    assert kept["partners"][1] == {"name": "شرکت نمونه", "is_company": True, "legal_id": "10380284790"}
    assert "approved" not in kept and "case_number" not in kept


def test_hidden_fields_are_dropped_and_not_required(form: FormModel) -> None:
    kept, errors = validate_submission(form, _with(
        has_lease=False, lease_number="L-1", activity="retail", kitchen_m2=999, refund=False,
        bank={"sheba": "bad"}, partners=[{"name": "علی", "is_company": False, "legal_id": "bad"}]))
    assert errors == []
    assert "lease_number" not in kept and "kitchen_m2" not in kept and "bank" not in kept
    assert kept["partners"] == [{"name": "علی", "is_company": False}]


def test_shown_fields_are_required(form: FormModel) -> None:
    _, errors = validate_submission(form, _with(has_lease=True, activity="food", refund=True,
                                                partners=[{"name": "x", "is_company": True}]))
    assert codes(errors) == {"lease_number": "required", "kitchen_m2": "required", "bank.sheba": "required",
                             "partners.0.legal_id": "required"}


def test_rules_of_form_js(form: FormModel) -> None:
    yesterday = str(today_in_iran() - timedelta(days=1))
    _, errors = validate_submission(form, _with(
        full_name="ab", national_code="0013542410", area=12.5, share=1.1, services=[], email="sara@",
        phone="09121234567", sign_code="ab12", opening_date=yesterday, description="x" * 501,
        province="qom", activity="bakery"))
    assert codes(errors) == {
        "full_name": "min-length", "national_code": "ir-national-code", "email": "email", "phone": "phone",
        "sign_code": "pattern", "description": "max-length", "area": "type-integer", "share": "multiple-of",
        "activity": "choice", "province": "choice", "services": "min-items", "opening_date": "not-in-past"}
    _, errors = validate_submission(form, _with(share=1.125))
    assert [(e.field, e.code) for e in errors] == [("share", "decimal-digits"), ("share", "multiple-of")]


def test_required_checkbox_must_be_ticked() -> None:
    confirm = forms_of((DATA / "permit_c8.bpmn").read_bytes(), {"permit.form": (DATA / "permit.form").read_bytes()})
    form = confirm["confirm"]
    assert validate_submission(form, {"confirmed": True})[1] == []
    _, errors = validate_submission(form, {"confirmed": False})
    assert [(e.field, e.code, e.params.get("choice")) for e in errors] == [("confirmed", "required", True)]


def test_options_from_a_process_variable(form: FormModel) -> None:
    districts = {"districts": [{"label": "District 1", "value": "d1"}, {"label": "District 2", "value": "d2"}]}
    assert validate_submission(form, _with(district="d2"), variables=districts)[1] == []
    _, errors = validate_submission(form, _with(district="d9"), variables=districts)
    assert codes(errors) == {"district": "choice"}
    assert validate_submission(form, _with(district="d9"))[1] == [], "without the variables only the type is checked"


def _refusal(component: dict[str, Any]) -> str:
    document = copy.deepcopy(DOCUMENT)
    document["components"].append(component)
    with pytest.raises(FormDefinitionError) as raised:
        formjs_form(document, "permit-form")
    return str(raised.value)


@pytest.mark.parametrize(("component", "complaint"), [
    ({"label": "X", "type": "textfield", "key": "x", "conditional": {"hide": "=count(services) > 1"}},
     "field 'x': hide condition '=count(services) > 1': function 'count()' is not supported"),
    ({"label": "X", "type": "textfield", "key": "x", "conditional": {"hide": "=area * 2 > 100"}},
     "field 'x': hide condition '=area * 2 > 100': unexpected '*'"),
    ({"label": "X", "type": "textfield", "key": "x", "conditional": {"hide": "=activity in [\"a\"]"}},
     "field 'x': hide condition"),
    ({"type": "filepicker", "key": "lease", "id": "Field_lease"}, "component 'lease': type 'filepicker'"),
    ({"type": "iframe", "id": "Frame_1", "url": "https://example.com"}, "type 'iframe' is not supported"),
    ({"type": "expression", "key": "total", "expression": "=area * 2"}, "type 'expression' is not supported"),
    ({"label": "X", "type": "select", "key": "x", "valuesExpression": "=options"},
     "options from a FEEL expression are not supported"),
    ({"label": "X", "type": "radio", "key": "x"}, "a radio needs options"),
    ({"label": "X", "type": "textfield", "key": "full_name"}, "two components are bound to 'full_name'"),
    ({"label": "X", "type": "textfield"}, "needs a key"),
    ({"label": "X", "type": "textfield", "key": "x", "readonly": "=area > 10"}, "a readonly expression"),
    ({"label": "X", "type": "textfield", "key": "x", "validate": {"minLength": "=n"}}, "minLength must be a whole"),
    ({"label": "X", "type": "textfield", "key": "x", "validate": {"pattern": "[a-"}}, "not a regular expression"),
    ({"label": "X", "type": "textfield", "key": "x", "properties": {"format": "ir-passport"}}, "format 'ir-passport'"),
    ({"label": "X", "type": "number", "key": "x", "properties": {"format": "ir-mobile"}}, "needs a text field"),
    ({"type": "text", "text": "=greeting"}, "text computed by a FEEL expression"),
    ({"label": "X", "type": "dynamiclist", "components": []}, "needs a path"),
])
def test_unsupported_definitions_are_refused_naming_the_field(component: dict[str, Any], complaint: str) -> None:
    assert complaint in _refusal(component)


def test_hide_true_hides_always_and_false_never() -> None:
    document = {"components": [
        {"label": "A", "type": "textfield", "key": "a", "validate": {"required": True},
         "conditional": {"hide": True}},
        {"label": "B", "type": "textfield", "key": "b", "conditional": {"hide": False}}], "type": "default"}
    form = formjs_form(document, "f")
    kept, errors = validate_submission(form, {"a": "x", "b": "y"})
    assert errors == [] and kept == {"b": "y"}


def test_pages_of_a_multipage_form_and_hidden_pages() -> None:
    document = {"type": "default", "id": "wizard", "components": [{"type": "multipage", "id": "Multipage_1",
        "components": [
            {"type": "page", "id": "Page_1", "label": "Account", "components": [
                {"type": "radio", "key": "account", "label": "Account type",
                 "values": [{"label": "Private", "value": "private"}, {"label": "Business", "value": "business"}]}]},
            {"type": "page", "id": "Page_2", "label": "Company", "conditional": {"hide": "=account != \"business\""},
             "components": [
                 {"type": "text", "id": "Text_company", "text": "Only for businesses"},
                 {"type": "textfield", "key": "company", "label": "Company name", "validate": {"required": True}},
                 {"type": "textfield", "key": "legal_id", "label": "National ID",
                  "properties": {"format": "ir-legal-id"}}]}]}]}
    form = formjs_form(document, "wizard")
    assert form["ui"]["pages"] == [["account"], ["company", "legal_id"]]
    assert form["ui"]["groups"]["Page_2"]["label"] == {"en": "Company"}
    assert form["ui"]["texts"][0]["group"] == "Page_2" and form["ui"]["texts"][0]["before"] == "company"
    assert form["ui"]["texts"][0]["hidden_when"] == {"field": "account", "op": "ne", "value": "business"}
    assert validate_submission(form, {"account": "private", "company": "x"}) == ({"account": "private"}, [])
    _, errors = validate_submission(form, {"account": "business"})
    assert codes(errors) == {"company": "required"}


def test_a_missing_required_group_reports_its_questions() -> None:
    document = {"type": "default", "components": [{"type": "group", "path": "applicant.address", "label": "Address",
        "components": [{"type": "textfield", "key": "city", "label": "City", "validate": {"required": True}}]}]}
    form = formjs_form(document, "f")
    assert form["schema"]["required"] == ["applicant"]
    _, errors = validate_submission(form, {})
    assert codes(errors) == {"applicant.address.city": "required"}


def test_hide_conditions_read_process_variables_when_given(form: FormModel) -> None:
    # `has_lease` may come from an earlier task instead of this form.
    submission = {key: value for key, value in GOOD.items() if key != "has_lease"}
    _, errors = validate_submission(form, submission)
    assert codes(errors) == {"lease_number": "required"}, "unknown is not hidden"
    assert validate_submission(form, submission, variables={"has_lease": False})[1] == []
