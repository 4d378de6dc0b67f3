"""Forms through the real deploy path: what the engine stores for each task, and what it refuses."""

from __future__ import annotations

from pathlib import Path

from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from forms.validate import validate_submission
from tests.forms.helpers import DATA


def _upload(*names: str, replace: dict[str, bytes] | None = None) -> list[UploadedFile]:
    return [UploadedFile(name, (replace or {}).get(name, (DATA / name).read_bytes())) for name in names]


def test_camunda_8_model_with_a_deployed_and_an_embedded_form(tmp_path: Path) -> None:
    loaded, report = check(_upload("permit_c8.bpmn", "permit.form"), Settings(var_dir=tmp_path))
    assert loaded is not None, [str(p) for p in report.problems]
    assert sorted(loaded.forms) == ["apply", "confirm", "review"]
    assert loaded.forms["apply"]["ref"] == "permit-form" and loaded.forms["confirm"]["ref"] == "UserTaskForm_confirm"
    assert loaded.forms["review"]["source"] == "none"
    kept, errors = validate_submission(loaded.forms["confirm"], {"confirmed": True, "signed_on": "۱۴۰۵/۹/۷",
                                                                 "approved": True})
    assert errors == [] and kept == {"confirmed": True, "signed_on": "1405/09/07"}


def test_a_form_that_was_not_uploaded_stops_the_deployment(tmp_path: Path) -> None:
    loaded, report = check(_upload("permit_c8.bpmn"), Settings(var_dir=tmp_path))
    assert loaded is None
    [problem] = [p for p in report.problems if p.severity == "error"]
    assert problem.file == "permit_c8.bpmn"
    assert "user task 'apply': no deployed form has the id 'permit-form'" in problem.message


def test_a_bad_condition_stops_the_deployment_naming_the_field(tmp_path: Path) -> None:
    broken = (DATA / "permit.form").read_bytes().replace(b'"=not(has_lease)"', b'"=count(items) > 0"')
    loaded, report = check(_upload("permit_c8.bpmn", "permit.form", replace={"permit.form": broken}),
                           Settings(var_dir=tmp_path))
    assert loaded is None
    assert any("field 'lease_number': hide condition" in p.message for p in report.problems)


def test_camunda_7_and_spiff_models(tmp_path: Path) -> None:
    loaded, _ = check(_upload("permit_c7.bpmn"), Settings(var_dir=tmp_path))
    assert loaded is not None and loaded.forms["start"]["source"] == "camunda:formData"
    loaded, _ = check(_upload("permit_spiff.bpmn", "permit.schema.json", "permit.uischema.json"),
                      Settings(var_dir=tmp_path))
    assert loaded is not None and loaded.forms["apply"]["ui"]["widgets"]["activity"] == "radio"


def test_a_form_with_text_no_database_keeps_stops_the_deployment(tmp_path: Path) -> None:
    for spelled in (b'"title": "Permit\\u0000 application"', b'"title": "Permit \\ud800 application"'):
        broken = (DATA / "permit.schema.json").read_bytes().replace(b'"title": "Permit application"', spelled)
        loaded, report = check(_upload("permit_spiff.bpmn", "permit.schema.json", "permit.uischema.json",
                                       replace={"permit.schema.json": broken}), Settings(var_dir=tmp_path))
        assert loaded is None
        [problem] = [p for p in report.problems if p.severity == "error"]
        assert (problem.file, problem.element_id) == ("permit_spiff.bpmn", "apply") and problem.line
        assert "no database keeps" in problem.message and "title" in problem.message
