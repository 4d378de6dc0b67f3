"""The visits ledger counts what the card and the model say, and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.db.models import DeploymentFile
from engine.services import impact
from engine.services.catalogue import deploy_service
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.impact.folders import MARKINGS, service_folder


def _one(impact_found: impact.Impact) -> dict[str, Any]:
    [entry] = impact_found.as_dict()["services"]
    return entry


def test_visits_are_replaced_kept_or_still_made(tmp_path: Path, settings: Settings) -> None:
    entry = _one(impact.from_folders(service_folder(tmp_path).parent, settings))
    assert entry["measured"] is True and entry["problems"] == []
    fates = {v["id"]: (v["after"], v["by"]) for v in entry["visits"]}
    assert fates == {"prove_identity": ("replaced", ["fetch"]), "fetch_certificate": ("remains", []),
                     "inspection": ("kept", ["inspect"]), "fingerprints": ("kept", ["biometrics"]),
                     "pickup": ("replaced", ["deliver"])}
    # The signature is a visit the card never had: it counts after, at office a.
    assert entry["new_visits"] == [{"element": "sign", "reason": "signature", "office": "a"}]
    assert {k: entry[k] for k in ("visits_before", "visits_after", "avoidable_before", "avoidable_after",
                                  "irreducible_before", "irreducible", "offices_before", "offices_after")} == {
        "visits_before": 5, "visits_after": 4, "avoidable_before": 3, "avoidable_after": 2,
        "irreducible_before": 2, "irreducible": 2, "offices_before": 3, "offices_after": 2}
    assert entry["avoidable_removed_percent"] == 33


def test_documents_replaced_uploaded_or_still_brought(tmp_path: Path, settings: Settings) -> None:
    entry = _one(impact.from_folders(service_folder(tmp_path).parent, settings))
    fates = {d["id"]: d["after"] for d in entry["documents"]}
    assert fates == {"id_card": "replaced", "certificate": "remains", "deed": "kept"}
    # The photo upload names no document of the card: one more document than before.
    assert entry["new_documents"] == [{"element": "apply", "field": "photo"}]
    assert (entry["documents_before"], entry["documents_after"]) == (3, 3)


def test_fields_fetched_and_asked_in_the_citizens_forms_only(tmp_path: Path, settings: Settings) -> None:
    entry = _one(impact.from_folders(service_folder(tmp_path).parent, settings))
    # Fetched: the name (declared identity) and the national code (identity by its format). Asked: the
    # postal code (address by its format) and the story. Not counted: the fee (shown, from no agency),
    # the hidden field, the two uploads (documents), and the staff's inspection form.
    assert (entry["fields_prefilled"], entry["fields_asked"]) == (2, 2)
    assert entry["fields_by_kind"] == {"identity": {"prefilled": 2, "asked": 0},
                                       "address": {"prefilled": 0, "asked": 1},
                                       "ownership": {"prefilled": 0, "asked": 0},
                                       "other": {"prefilled": 0, "asked": 1}}
    assert entry["agency_fields_prefilled_percent"] == 66


def test_a_model_that_only_leaves_a_visit_out_removes_nothing(tmp_path: Path, settings: Settings) -> None:
    entry = _one(impact.from_folders(service_folder(tmp_path, markings={}).parent, settings))
    assert (entry["visits_before"], entry["visits_after"]) == (5, 5)
    assert (entry["avoidable_after"], entry["irreducible"]) == (3, 2)
    assert (entry["documents_before"], entry["documents_after"]) == (3, 3 + 1)  # the photo is a new one
    assert entry["avoidable_removed_percent"] == 0


def test_the_total_adds_up_measured_services_only(tmp_path: Path, settings: Settings) -> None:
    service_folder(tmp_path, "first")
    service_folder(tmp_path, "second", markings={**MARKINGS, "deliver": ""})
    unmeasured = service_folder(tmp_path, "third")
    card = (unmeasured / "service.toml").read_text(encoding="utf-8")
    (unmeasured / "service.toml").write_text(card.split("[offices.a]")[0], encoding="utf-8")
    found = impact.from_folders(tmp_path, settings).as_dict()
    by_process = {s["process"]: s for s in found["services"]}
    assert [s["measured"] for s in found["services"]] == [True, True, False]
    total = found["total"]
    assert "process" not in total and total["services"] == 2
    for key in ("visits_before", "visits_after", "avoidable_before", "avoidable_after", "irreducible",
                "documents_before", "documents_after", "offices_before", "offices_after", "fields_prefilled",
                "fields_asked"):
        assert total[key] == by_process["first"][key] + by_process["second"][key], key
    assert (total["avoidable_before"], total["avoidable_after"]) == (6, 2 + 3)
    assert total["avoidable_removed_percent"] == 1 * 100 // 6


def test_a_service_without_a_journey_before_is_listed_but_not_counted(tmp_path: Path, settings: Settings) -> None:
    folder = service_folder(tmp_path, markings={})
    card = (folder / "service.toml").read_text(encoding="utf-8")
    (folder / "service.toml").write_text(card.split("[offices.a]")[0], encoding="utf-8")
    found = impact.from_folders(tmp_path, settings)
    [service] = found.services
    assert not service.measured and service.visits is None and not service.problems
    assert found.as_dict()["total"]["services"] == 0
    assert found.as_dict()["total"]["visits_before"] == 0


def test_the_ledger_reads_what_the_deployment_stores(tmp_path: Path, runtime: Runtime, settings: Settings) -> None:
    folder = service_folder(tmp_path)
    deploy_service(runtime, folder)
    with runtime.reading() as session:
        translated = session.execute(select(DeploymentFile.translated)
                                     .where(DeploymentFile.name == "trial.bpmn")).scalar_one()
        stored_ledger = impact.deployed(session).as_dict()
    assert b'panjereh:presenceReason="biometrics"' in translated
    assert stored_ledger["services"][0]["version"] == 1
    # Files changed on disk after deploying change nothing the window counts.
    (folder / "trial.bpmn").write_text((folder / "trial.bpmn").read_text(encoding="utf-8").replace(
        'panjereh:replaces="visit:pickup"', ""), encoding="utf-8")
    with runtime.reading() as session:
        again = impact.deployed(session).as_dict()
    assert again == stored_ledger
    assert again["services"][0]["visits_after"] == 4
    assert _one(impact.from_folders(tmp_path, settings))["visits_after"] == 5


@pytest.mark.parametrize("marking, words", [
    ('panjereh:replaces="visit:nowhere"', "replaces visit 'nowhere', which the service card does not declare"),
    ('panjereh:replaces="document:passport"', "replaces document 'passport'"),
    ('panjereh:replaces="visit:fingerprints"', "keeps visit 'fingerprints', which deliver replaces"),
])
def test_deploying_refuses_markings_the_card_does_not_declare(tmp_path: Path, runtime: Runtime, marking: str,
                                                                words: str) -> None:
    from engine.services.deployments import DeploymentRejected

    folder = service_folder(tmp_path, markings={**MARKINGS, "deliver": marking})
    with pytest.raises(DeploymentRejected) as refused:
        deploy_service(runtime, folder)
    found = [p for p in refused.value.report.problems if words in p.message]
    assert found, [str(p) for p in refused.value.report.problems]
    assert found[0].file == "trial.bpmn" and found[0].line is not None


@pytest.mark.parametrize("change, words", [
    ({"sign": 'panjereh:presence="required" panjereh:presenceReason="signature"'}, "names no office"),
    ({"sign": 'panjereh:presence="required" panjereh:presenceReason="signature" panjereh:office="z"'},
     "office 'z' is not in the card's [offices]"),
    ({"inspect": 'panjereh:presence="required" panjereh:presenceReason="physical_inspection" '
                 'panjereh:visit="garden"'}, "is visit 'garden'"),
])
def test_deploying_refuses_a_presence_the_card_cannot_place(tmp_path: Path, runtime: Runtime,
                                                            change: dict[str, str], words: str) -> None:
    from engine.services.deployments import DeploymentRejected

    folder = service_folder(tmp_path, markings={**MARKINGS, **change})
    with pytest.raises(DeploymentRejected) as refused:
        deploy_service(runtime, folder)
    assert any(words in p.message for p in refused.value.report.problems), refused.value.report.problems


def test_an_upload_of_a_replaced_document_or_an_unknown_one_is_refused(tmp_path: Path, runtime: Runtime) -> None:
    from engine.services.deployments import DeploymentRejected
    from tests.impact.folders import APPLY_FORM

    for document, words in (("id_card", "still asks for document 'id_card'"), ("visa", "document 'visa'")):
        form = {**APPLY_FORM, "properties": {**APPLY_FORM["properties"], "deed": {
            "type": "string", "format": "uuid", "title": "Deed", "x-document": document}}}
        folder = service_folder(tmp_path / document, apply_form=form)
        with pytest.raises(DeploymentRejected) as refused:
            deploy_service(runtime, folder)
        assert any(words in p.message and p.element_id == "apply" for p in refused.value.report.problems), (
            refused.value.report.problems)


def test_a_field_of_an_unknown_kind_is_refused(tmp_path: Path, runtime: Runtime) -> None:
    from engine.services.deployments import DeploymentRejected
    from tests.impact.folders import APPLY_FORM

    form = {**APPLY_FORM, "properties": {**APPLY_FORM["properties"], "story": {
        "type": "string", "title": "Why", "x-kind": "feelings"}}}
    with pytest.raises(DeploymentRejected) as refused:
        deploy_service(runtime, service_folder(tmp_path, apply_form=form))
    assert any("kind 'feelings' is not one of identity, address, ownership, other" in p.message
               for p in refused.value.report.problems), refused.value.report.problems
