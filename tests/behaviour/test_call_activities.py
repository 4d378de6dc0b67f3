"""A call activity reaches a process deployed on its own, by key: the newest version, or the
one the model pins (a version number, a version tag, or the same deployment). An instance
keeps the callee it started with, whatever is deployed while it waits."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine.settings import Settings
from tests.behaviour.flow import complete, deploy, instance, ready, start, stored
from tests.fixtures import MODELS, Tokens


def _inspect_and_issue(client: TestClient, tokens: Tokens, settings: Settings, instance_id: str) -> dict:
    [task] = ready(client, tokens, instance_id)
    assert task["name"] == "inspect_site"
    assert [t.spec_id for t in stored(settings, instance_id).human_tasks()] == ["inspect_site"]
    complete(client, tokens, task["id"], {"site_ok": True})
    [issue] = ready(client, tokens, instance_id)
    assert issue["name"] == "issue"
    assert [t.spec_id for t in stored(settings, instance_id).human_tasks()] == ["issue"]
    complete(client, tokens, issue["id"], {})
    return instance(client, tokens, instance_id)


def test_latest_version_is_taken_at_start_and_kept(client: TestClient, tokens: Tokens, settings: Settings) -> None:
    deploy(client, tokens, "callee_v1.bpmn")
    deploy(client, tokens, "caller_latest.bpmn")
    early = start(client, tokens, "permit_latest")
    assert early["status"] == "waiting"
    second = deploy(client, tokens, "callee_v2.bpmn")
    assert second["processes"][0]["version"] == 2
    late = start(client, tokens, "permit_latest")

    done_early = _inspect_and_issue(client, tokens, settings, early["id"])
    done_late = _inspect_and_issue(client, tokens, settings, late["id"])
    assert done_early["status"] == done_late["status"] == "completed"
    assert done_early["data"]["inspection_rules"] == "v1", "an instance keeps the callee it started with"
    assert done_late["data"]["inspection_rules"] == "v2"
    assert done_early["data"]["site_ok"] is True


def test_pinned_version_camunda7(client: TestClient, tokens: Tokens, settings: Settings) -> None:
    deploy(client, tokens, "callee_v1.bpmn")
    deploy(client, tokens, "callee_v2.bpmn")
    deploy(client, tokens, "caller_version.bpmn")
    started = start(client, tokens, "permit_version")
    assert _inspect_and_issue(client, tokens, settings, started["id"])["data"]["inspection_rules"] == "v1"


def test_zeebe_called_element_by_version_tag(client: TestClient, tokens: Tokens, settings: Settings) -> None:
    deploy(client, tokens, "callee_v1.bpmn")
    deploy(client, tokens, "callee_v2.bpmn")
    deploy(client, tokens, "caller_zeebe.bpmn")
    started = start(client, tokens, "permit_zeebe")
    assert _inspect_and_issue(client, tokens, settings, started["id"])["data"]["inspection_rules"] == "v1"


def test_unresolvable_calls_are_refused_with_the_reason(client: TestClient, tokens: Tokens) -> None:
    deploy(client, tokens, "callee_v1.bpmn")
    missing = deploy(client, tokens, "caller_missing.bpmn", expect=422)
    assert any("street_survey" in p["message"] and "neither in this upload" in p["message"]
               and p["element_id"] == "inspection" for p in missing["report"]["problems"]), missing
    wrong_version = deploy(client, tokens, "caller_bad_version.bpmn", expect=422)
    assert any("'site_inspection' at version 7" in p["message"] for p in wrong_version["report"]["problems"])
    same = deploy(client, tokens, "caller_same_deployment.bpmn", expect=422)
    assert any("same deployment" in p["message"] for p in same["report"]["problems"])
    together = deploy(client, tokens, "caller_same_deployment.bpmn", "callee_v2.bpmn")
    assert {p["key"] for p in together["processes"]} == {"permit_same", "site_inspection"}


def test_validating_a_caller_resolves_deployed_callees_like_deploying(client: TestClient, tokens: Tokens) -> None:
    model = ("caller_latest.bpmn", (MODELS / "behaviour" / "caller_latest.bpmn").read_bytes(), "text/xml")
    before = client.post("/api/v1/deployments/validate", files=[("files", model)], headers=tokens.headers("analyst"))
    assert before.status_code == 200 and before.json()["deployable"] is False
    deploy(client, tokens, "callee_v1.bpmn")
    after = client.post("/api/v1/deployments/validate", files=[("files", model)], headers=tokens.headers("analyst"))
    assert after.status_code == 200 and after.json()["deployable"] is True, after.json()["problems"]
