"""Citizens answer questions; they do not set process variables. What a citizen gives when a
case starts is limited to the start form's questions (nothing without one), and on a task to
that task's questions; analysts and admins may still pass variables to test a model."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine.services.runtime import Runtime
from tests.api.test_deploy_and_run import deploy, ready_tasks
from tests.fixtures import Tokens
from tests.web.journey import CITIZEN, csrf, ready_catalogue, sign_in

START_FORM = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="d" targetNamespace="https://panjereh.example/tests">
  <bpmn:process id="grant_request" name="Grant request" isExecutable="true">
    <bpmn:startEvent id="start">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="purpose" label="Purpose" type="string" />
          <camunda:formField id="amount" label="Amount" type="long" />
        </camunda:formData>
      </bpmn:extensionElements>
      <bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="wait" name="Wait">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def _start(client: TestClient, tokens: Tokens, role: str, key: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/processes/{key}/instances", json={"data": data}, headers=tokens.headers(role))


def _fields(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    return [e["field"] for e in response.json()["errors"]]


def test_without_a_start_form_a_citizen_sets_no_variable(client: TestClient, tokens: Tokens) -> None:
    deploy(client, tokens, "approval.bpmn")
    assert _fields(_start(client, tokens, "citizen", "approval", {"amount": 5, "approved": True})) == [
        "amount", "approved"]
    started = _start(client, tokens, "citizen", "approval", {})
    assert started.status_code == 201, started.text
    for role in ("analyst", "admin"):
        tested = _start(client, tokens, role, "approval", {"amount": 5})
        assert tested.status_code == 201, tested.text
        shown = client.get(f"/api/v1/instances/{tested.json()['id']}", headers=tokens.headers(role)).json()
        assert shown["data"]["amount"] == 5


def test_a_start_form_limits_a_citizen_to_its_questions(client: TestClient, tokens: Tokens) -> None:
    assert client.post("/api/v1/deployments", files=[("files", ("grant.bpmn", START_FORM, "text/xml"))],
                       headers=tokens.headers("analyst")).status_code == 201
    answered = _start(client, tokens, "citizen", "grant_request", {"purpose": "books", "amount": 3})
    assert answered.status_code == 201, answered.text
    data = client.get(f"/api/v1/instances/{answered.json()['id']}", headers=tokens.headers("citizen")).json()["data"]
    assert data["purpose"] == "books" and data["amount"] == 3
    assert _fields(_start(client, tokens, "citizen", "grant_request",
                          {"purpose": "books", "applicant_national_code": CITIZEN, "tax": 0})) == [
        "applicant_national_code", "tax"]
    many = _start(client, tokens, "citizen", "grant_request", {f"v{n}": n for n in range(100)})
    assert len(_fields(many)) == 21 and "80 more" in many.json()["errors"][-1]["message"]


def test_a_citizen_answers_only_a_tasks_questions(client: TestClient, tokens: Tokens) -> None:
    deploy(client, tokens, "approval.bpmn")
    case = _start(client, tokens, "citizen", "approval", {}).json()["id"]
    [request] = ready_tasks(client, tokens, case, role="citizen")
    extra = client.post(f"/api/v1/tasks/{request['id']}/complete", headers=tokens.headers("citizen"),
                        json={"data": {"amount": 50, "approved": True}})
    assert _fields(extra) == ["approved"]
    done = client.post(f"/api/v1/tasks/{request['id']}/complete", headers=tokens.headers("citizen"),
                       json={"data": {"amount": 50, "channel": "sms"}})
    assert done.status_code == 200, done.text
    [attach] = [t for t in ready_tasks(client, tokens, case, role="citizen") if t["name"] == "attach"]
    formless = client.post(f"/api/v1/tasks/{attach['id']}/complete", headers=tokens.headers("citizen"),
                           json={"data": {"tax": 0}})
    assert _fields(formless) == ["tax"]
    assert client.post(f"/api/v1/tasks/{attach['id']}/complete", headers=tokens.headers("citizen"),
                       json={"data": {}}).status_code == 200


def test_the_portal_start_takes_no_posted_variables(client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    ready_catalogue(runtime)
    sign_in(client, runtime)
    service = client.get("/services/business_licence")
    started = client.post("/services/business_licence/start", data={
        "csrf_token": csrf(service.text), "applicant_national_code": "0499370899", "fee_rial": "0",
        "inspection_required": "false"})
    assert started.status_code == 200 and "/pages/0" in str(started.url)
    case = str(started.url).split("/cases/")[1].split("/")[0]
    data = client.get(f"/api/v1/instances/{case}", headers=tokens.headers("admin")).json()["data"]
    assert data["applicant_national_code"] == CITIZEN
    assert "fee_rial" not in data and "inspection_required" not in data
