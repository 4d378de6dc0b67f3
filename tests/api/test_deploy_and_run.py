"""The API contract, driven as an analyst would: deploy, start, work tasks, read."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from engine.app import build_app
from engine.compose import build_runtime
from engine.services.runtime import Runtime
from tests.fixtures import MODELS, ROOT, Tokens, model_files


def deploy(client: TestClient, tokens: Tokens, *names: str, expect: int = 201) -> dict:
    response = client.post("/api/v1/deployments", files=model_files(*names), headers=tokens.headers("analyst"))
    assert response.status_code == expect, response.text
    return response.json()


def ready_tasks(client: TestClient, tokens: Tokens, instance_id: str, role: str = "analyst") -> list[dict]:
    response = client.get("/api/v1/tasks", params={"instance_id": instance_id, "status": "ready"},
                          headers=tokens.headers(role))
    assert response.status_code == 200, response.text
    return response.json()


def complete(client: TestClient, tokens: Tokens, task_id: str, data: dict, role: str = "analyst",
             expect: int = 200) -> dict:
    response = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=tokens.headers(role))
    assert response.status_code == expect, response.text
    return response.json()


def test_health_is_public(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_deploy_versions_by_content(client: TestClient, tokens: Tokens) -> None:
    first = deploy(client, tokens, "approval.bpmn")
    assert first["processes"] == [{"key": "approval", "name": "Grant approval", "version": 1,
                                   "deployment_id": first["id"]}]
    assert first["report"]["deployable"] is True
    again = deploy(client, tokens, "approval.bpmn", expect=200)
    assert again["id"] == first["id"] and again["created"] is False
    changed = (MODELS / "approval.bpmn").read_bytes().replace(b"Grant approval", b"Grant approval (2)")
    response = client.post("/api/v1/deployments", files=[("files", ("approval.bpmn", changed, "text/xml"))],
                           headers=tokens.headers("analyst"))
    assert response.status_code == 201
    assert response.json()["processes"][0]["version"] == 2
    listed = client.get("/api/v1/processes", headers=tokens.headers("analyst")).json()
    assert [(p["key"], p["version"]) for p in listed] == [("approval", 2), ("approval", 1)]
    assert client.get(f"/api/v1/deployments/{first['id']}", headers=tokens.headers("analyst")).json()[
        "files"] == ["approval.bpmn"]


def test_deployments_are_listed_without_reading_their_files_bytes(client: TestClient, tokens: Tokens,
                                                                   runtime: Runtime) -> None:
    """A list shows file names; the uploads and their translations (megabytes each) stay unread."""
    deployed = deploy(client, tokens, "approval.bpmn", "registry_lookup.bpmn")
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engines = {runtime.engine, runtime.reader_engine or runtime.engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        listed = client.get("/api/v1/deployments", headers=tokens.headers("analyst")).json()
        one = client.get(f"/api/v1/deployments/{deployed['id']}", headers=tokens.headers("analyst")).json()
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
    assert [d["files"] for d in listed] == [["approval.bpmn", "registry_lookup.bpmn"]]
    assert one["files"] == ["approval.bpmn", "registry_lookup.bpmn"]
    file_reads = [s for s in statements if "FROM deployment_file" in s]
    assert len(file_reads) == 2
    assert not [s for s in file_reads if "deployment_file.content" in s or "deployment_file.translated" in s]


def test_full_run_with_gateways_subprocess_and_forms(client: TestClient, tokens: Tokens) -> None:
    deploy(client, tokens, "approval.bpmn")
    started = client.post("/api/v1/processes/approval/instances", json={"data": {}},
                          headers=tokens.headers("analyst"))
    assert started.status_code == 201, started.text
    instance = started.json()
    assert instance["status"] == "waiting"
    assert len(instance["tracking_code"]) == 12
    [request] = ready_tasks(client, tokens, instance["id"])
    assert request["name"] == "request" and request["title"] == "Request a grant"
    form = client.get(f"/api/v1/tasks/{request['id']}", headers=tokens.headers("analyst")).json()["form"]
    assert form["schema"]["properties"]["amount"]["type"] == "integer"
    assert form["schema"]["required"] == ["amount"]

    bad = complete(client, tokens, request["id"], {"amount": 0, "purpose": "x" * 51}, expect=422)
    assert {e["field"] for e in bad["errors"]} == {"amount", "purpose"}
    missing = complete(client, tokens, request["id"], {"purpose": "school"}, expect=422)
    assert missing["errors"] == [{"field": "amount", "message": "this field is required"}]

    after = complete(client, tokens, request["id"], {"amount": 5000, "channel": "both", "approved": True})
    assert "approved" not in after["data"], "fields outside the form must never reach task data"
    names = sorted(t["name"] for t in ready_tasks(client, tokens, instance["id"]))
    assert names == ["manager_approval"]
    [manager] = ready_tasks(client, tokens, instance["id"])
    assert manager["lane"] == "finance" and manager["agency"] == "finance"
    complete(client, tokens, manager["id"], {})
    [attach] = ready_tasks(client, tokens, instance["id"])
    final = complete(client, tokens, attach["id"], {"iban": "IR820540102680020817909002"})
    assert final["status"] == "completed"
    assert final["data"]["tax"] == 450 and final["data"]["net"] == 4550
    assert final["data"]["sent_sms"] is True and final["data"]["sent_email"] is True
    actions = [h["action"] for h in final["history"]]
    assert actions[0] == "instance.started" and actions[-1] == "instance.completed"
    assert [h["element_id"] for h in final["history"] if h["action"] == "task.completed"][:3] == [
        "start", "request", "amount_gw"]
    again = complete(client, tokens, attach["id"], {"iban": "x"}, expect=409)
    assert "already completed" in again["detail"]


def test_call_activity_and_dmn(client: TestClient, tokens: Tokens) -> None:
    deployed = deploy(client, tokens, "parent.bpmn", "document_check.bpmn", "permit_fee.dmn")
    assert sorted(p["key"] for p in deployed["processes"]) == ["document_check", "parent"]
    instance = client.post("/api/v1/processes/parent/instances", json={"data": {"kind": "building", "area": 80}},
                           headers=tokens.headers("analyst")).json()
    [upload] = ready_tasks(client, tokens, instance["id"])
    assert upload["name"] == "upload"
    done = complete(client, tokens, upload["id"], {"deed_number": "139-22"})
    assert done["status"] == "completed"
    assert done["data"]["fee"] == 200 and done["data"]["documents_ok"] is True


def test_service_task_waits_for_its_result(client: TestClient, tokens: Tokens) -> None:
    deploy(client, tokens, "manual_lookup.bpmn")
    instance = client.post("/api/v1/processes/manual_lookup/instances",
                           json={"data": {"national_code": "0499370899", "secret_note": "keep me"}},
                           headers=tokens.headers("analyst")).json()
    assert instance["status"] == "waiting"
    calls = client.get("/api/v1/service-calls", headers=tokens.headers("admin")).json()
    assert [(c["operation"], c["params"]) for c in calls] == [
        ("manual/person_lookup", {"national_code": "0499370899"})]
    done = client.post(f"/api/v1/service-calls/{calls[0]['id']}/complete",
                       json={"result": {"first_name": "Sara", "alive": True}}, headers=tokens.headers("admin"))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert done.json()["data"]["greeting"] == "Dear Sara"
    twice = client.post(f"/api/v1/service-calls/{calls[0]['id']}/complete", json={"result": {}},
                        headers=tokens.headers("admin"))
    assert twice.status_code == 409


def test_failed_script_names_the_task_and_keeps_the_data(client: TestClient, tokens: Tokens) -> None:
    deploy(client, tokens, "manual_lookup.bpmn")
    instance = client.post("/api/v1/processes/manual_lookup/instances",
                           json={"data": {"national_code": "0499370899"}}, headers=tokens.headers("analyst")).json()
    [call] = client.get("/api/v1/service-calls", headers=tokens.headers("admin")).json()
    done = client.post(f"/api/v1/service-calls/{call['id']}/complete", json={"result": {"alive": True}},
                       headers=tokens.headers("admin")).json()
    assert done["status"] == "failed"
    assert "task 'Greet'" in done["error"] and "first_name" in done["error"]
    assert done["data"]["person"] == {"alive": True}
    assert done["history"][-1]["action"] == "instance.failed"
    assert instance["id"] == done["id"]


def test_service_task_runs_its_connector_against_the_agency(client: TestClient, tokens: Tokens) -> None:
    deploy(client, tokens, "registry_lookup.bpmn")
    started = client.post("/api/v1/processes/registry_lookup/instances", json={"data": {"national_code": "0013542419"}},
                          headers=tokens.headers("analyst")).json()
    instance = client.get(f"/api/v1/instances/{started['id']}", headers=tokens.headers("analyst")).json()
    assert instance["status"] == "completed", instance
    assert instance["data"]["greeting"] == "Dear علی"
    assert instance["data"]["person"]["last_name"] == "رضایی"


def test_instance_resumes_after_restart(client: TestClient, tokens: Tokens, settings) -> None:  # type: ignore[no-untyped-def]
    deploy(client, tokens, "approval.bpmn")
    instance = client.post("/api/v1/processes/approval/instances", json={"data": {}},
                           headers=tokens.headers("analyst")).json()
    [request] = ready_tasks(client, tokens, instance["id"])
    complete(client, tokens, request["id"], {"amount": 10, "channel": "sms"})
    fresh = build_runtime(settings, migrate=False)
    try:
        with TestClient(build_app(fresh)) as restarted:
            [attach] = ready_tasks(restarted, tokens, instance["id"])
            assert attach["name"] == "attach"
            final = complete(restarted, tokens, attach["id"], {})
            assert final["status"] == "completed" and final["data"]["sent_sms"] is True
            assert "sent_email" not in final["data"]
    finally:
        fresh.close()


def test_unknown_connector_operation_is_not_deployable(client: TestClient, tokens: Tokens) -> None:
    model = (MODELS / "registry_lookup.bpmn").read_bytes().replace(b"person_by_national_code", b"person_by_shoe_size")
    response = client.post("/api/v1/deployments", files=[("files", ("lookup.bpmn", model, "text/xml"))],
                           headers=tokens.headers("analyst"))
    assert response.status_code == 422
    [problem] = response.json()["report"]["problems"]
    assert problem["element_id"] == "fetch_person" and "person_by_shoe_size" in problem["message"]
    wrong_param = (MODELS / "registry_lookup.bpmn").read_bytes().replace(b'id="national_code"', b'id="shoe_size"')
    response = client.post("/api/v1/deployments", files=[("files", ("lookup.bpmn", wrong_param, "text/xml"))],
                           headers=tokens.headers("analyst"))
    assert response.status_code == 422
    messages = " ".join(p["message"] for p in response.json()["report"]["problems"])
    assert "shoe_size" in messages and "national_code" in messages


def test_unknown_process_and_bad_start_data(client: TestClient, tokens: Tokens) -> None:
    missing = client.post("/api/v1/processes/nope/instances", json={"data": {}}, headers=tokens.headers("analyst"))
    assert missing.status_code == 404
    deploy(client, tokens, "approval.bpmn")
    bad = client.post("/api/v1/processes/approval/instances", json={"data": {"__class__": 1, "a b": 2}},
                      headers=tokens.headers("analyst"))
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"__class__", "a b"}
    shape = client.post("/api/v1/processes/approval/instances", json={"data": [1, 2]},
                        headers=tokens.headers("analyst"))
    assert shape.status_code == 422 and shape.json()["errors"][0]["field"] == ""


def test_model_problems_are_reported_with_element_ids(client: TestClient, tokens: Tokens) -> None:
    broken = (MODELS / "approval.bpmn").read_bytes().replace(b"amount &gt; 1000", b"${limits.exceeded(amount)}")
    response = client.post("/api/v1/deployments", files=[("files", ("approval.bpmn", broken, "text/xml"))],
                           headers=tokens.headers("analyst"))
    assert response.status_code == 422
    [problem] = response.json()["report"]["problems"]
    assert problem["element_id"] == "f_large" and "JUEL" in problem["message"] and problem["line"]
    orphan = client.post("/api/v1/deployments", files=model_files("parent.bpmn", "permit_fee.dmn"),
                         headers=tokens.headers("analyst"))
    assert orphan.status_code == 422
    [problem] = orphan.json()["report"]["problems"]
    assert problem["element_id"] == "call_check" and "document_check" in problem["message"]
    no_table = client.post("/api/v1/deployments", files=model_files("parent.bpmn", "document_check.bpmn"),
                           headers=tokens.headers("analyst"))
    assert no_table.status_code == 422
    [problem] = no_table.json()["report"]["problems"]
    assert problem["element_id"] == "fee" and "permit_fee" in problem["message"]


def test_claim_and_terminate(client: TestClient, tokens: Tokens) -> None:
    deploy(client, tokens, "approval.bpmn")
    instance = client.post("/api/v1/processes/approval/instances", json={"data": {}},
                           headers=tokens.headers("analyst")).json()
    [request] = ready_tasks(client, tokens, instance["id"])
    complete(client, tokens, request["id"], {"amount": 5000, "channel": "sms"})
    [manager] = ready_tasks(client, tokens, instance["id"])
    claimed = client.post(f"/api/v1/tasks/{manager['id']}/claim", headers=tokens.headers("analyst"))
    assert claimed.status_code == 200 and claimed.json()["claimed_by"] == "analyst:analyst-1"
    stopped = client.post(f"/api/v1/instances/{instance['id']}/terminate", json={"reason": "duplicate request"},
                          headers=tokens.headers("admin"))
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["status"] == "terminated"
    assert ready_tasks(client, tokens, instance["id"]) == []
    assert complete(client, tokens, manager["id"], {}, expect=409)["detail"].endswith("cancelled")
    assert stopped.json()["history"][-1]["reason"] == "duplicate request"
    again = client.post(f"/api/v1/instances/{instance['id']}/terminate", json={"reason": "again"},
                        headers=tokens.headers("admin"))
    assert again.status_code == 409


START_FORM = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="with_start_form" isExecutable="true">
    <bpmn:startEvent id="s">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="national_code" label="National code" type="string">
            <camunda:properties><camunda:property id="format" value="ir-national-code" /></camunda:properties>
            <camunda:validation><camunda:constraint name="required" /></camunda:validation>
          </camunda:formField>
        </camunda:formData>
      </bpmn:extensionElements>
      <bpmn:outgoing>a</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="u" name="Wait"><bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="e"><bpmn:incoming>b</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="u" />
    <bpmn:sequenceFlow id="b" sourceRef="u" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""


def test_start_data_is_checked_against_the_start_form(client: TestClient, tokens: Tokens) -> None:
    deployed = client.post("/api/v1/deployments", files=[("files", ("start.bpmn", START_FORM, "text/xml"))],
                           headers=tokens.headers("analyst"))
    assert deployed.status_code == 201, deployed.text
    url = "/api/v1/processes/with_start_form/instances"
    wrong = client.post(url, json={"data": {"national_code": "0013542410"}}, headers=tokens.headers("analyst"))
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "national_code"
    started = client.post(url, json={"data": {"national_code": "۰۰۱۳۵۴۲۴۱۹", "is_admin": True}},
                          headers=tokens.headers("analyst"))
    assert started.status_code == 201, started.text
    instance = client.get(f"/api/v1/instances/{started.json()['id']}", headers=tokens.headers("analyst")).json()
    assert instance["data"] == {"national_code": "0013542419"}


def test_validate_returns_the_per_element_report(client: TestClient, tokens: Tokens) -> None:
    export = ROOT / "designer_exports" / "camunda7" / "juel_conditions.bpmn"
    response = client.post("/api/v1/deployments/validate", headers=tokens.headers("analyst"),
                           files=[("files", (export.name, export.read_bytes(), "text/xml"))])
    assert response.status_code == 200
    report = response.json()
    assert report["deployable"] is True
    [info] = report["files"]
    assert info["dialect"] == "camunda7" and info["exporter"] == "Camunda Modeler"
    translated = [e for e in report["elements"] if e["status"] == "translated"]
    assert translated and all(e["line"] and e["details"] for e in translated)
    assert any("JUEL" in detail for e in translated for detail in e["details"])
    assert report["counts"]["translated"] == len(translated)
    assert sum(report["counts"].values()) == len(report["elements"])
