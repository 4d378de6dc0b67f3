"""The judiciary and conscription connectors in a case, with their simulated agency down: the
call is retried, then waits as an incident, and goes on once the agency is back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from connectors.simulators.app import create_sandbox_app
from connectors.simulators.settings import Behaviour, SandboxSettings, simulated_config
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.connectors.flows import HEAD, case, deploy, spiff_operator, start
from tests.connectors.test_retry_policy import attempts_until_incident
from tests.fixtures import ADMIN_TOKEN, PG_URL, ROOT, Tokens, serve

CHECKS = ["judiciary/criminal_record", "conscription/service_status"]


def model(operation: str) -> bytes:
    """One service task asking `operation` about the applicant, retried once."""
    binding = spiff_operator(operation, {"national_code": "applicant_national_code"},
                             retry='<spiffworkflow:retry retries="1" />')
    return (f'{HEAD}<bpmn:process id="check" isExecutable="true">'
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            f'<bpmn:serviceTask id="ask" name="Ask"><bpmn:extensionElements>{binding}</bpmn:extensionElements>'
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>"
            '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="end" />'
            "</bpmn:process></bpmn:definitions>").encode()


@pytest.fixture
def down_sandbox() -> Iterator[str]:
    """The sandbox on a real port with the judiciary and the conscription organisation down."""
    settings = SandboxSettings(latency_ms=0, jitter_ms=0, services={
        "judiciary": Behaviour(down=True), "conscription": Behaviour(down=True)})
    with serve(create_sandbox_app(settings)) as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, pg_ready: bool, down_sandbox: str) -> Settings:
    return Settings(var_dir=tmp_path / "var", database_url=PG_URL if pg_ready else f"sqlite:///{tmp_path / 'p.db'}",
                    processes_dir=ROOT / "processes", admin_token=ADMIN_TOKEN, connector_timeout_seconds=5,
                    sandbox=False, connectors=simulated_config(down_sandbox))


@pytest.mark.parametrize("operation", CHECKS)
def test_agency_down_retries_then_incident_then_resumes(client: TestClient, tokens: Tokens, runtime: Runtime,
                                                        down_sandbox: str, operation: str) -> None:
    assert deploy(client, tokens, model(operation)).status_code == 201
    call = case(runtime, start(client, tokens, "check", {"applicant_national_code": "0040010007"})).call
    assert attempts_until_incident(runtime, call.id) == 2
    found = case(runtime, call.instance_id)
    assert [i.kind for i in found.incidents] == ["retries-exhausted"] and "answer" not in found.data

    service = operation.split("/")[0]
    assert httpx.post(f"{down_sandbox}/_sandbox/outage", json={"service": service, "down": False}).status_code == 200
    retried = client.post(f"/api/v1/incidents/{found.incidents[0].id}/retry", headers=tokens.headers("admin"))
    assert retried.status_code in (200, 202), retried.text
    resumed = case(runtime, call.instance_id)
    assert resumed.status == "completed", resumed.incidents
    expected = {"judiciary": ("category", "financial"), "conscription": ("status", "completed")}[service]
    assert resumed.data["answer"][expected[0]] == expected[1]


