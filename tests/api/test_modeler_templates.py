"""An analyst picks "Civil registry: person by national code" from the element templates in
Camunda Modeler 7 or 8; the exported file deploys unchanged and runs against the agency."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import quoteattr

import pytest
from fastapi.testclient import TestClient

from tests.fixtures import Tokens

C8_HEAD = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
           'xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="d" targetNamespace="http://bpmn.io/schema/bpmn" '
           'exporter="Camunda Modeler" exporterVersion="5.31.0" modeler:executionPlatform="Camunda Cloud">')
C7_HEAD = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
           'xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="d" targetNamespace="http://bpmn.io/schema/bpmn" '
           'exporter="Camunda Modeler" exporterVersion="5.31.0" modeler:executionPlatform="Camunda Platform">')


def _applied(template: dict[str, Any], values: dict[str, str]) -> tuple[str, str]:
    """What the modeler writes for a service task once the template is applied: attributes and extensions."""
    attributes, inputs, extra = [], [], []
    for prop in template["properties"]:
        binding = prop["binding"]
        value = values.get(binding.get("name") or binding.get("key") or "", prop.get("value", ""))
        kind = binding["type"]
        if kind == "zeebe:taskDefinition":
            extra.append(f'<zeebe:taskDefinition type={quoteattr(value)} />')
        elif kind == "zeebe:input":
            inputs.append(f'<zeebe:input source={quoteattr(value)} target={quoteattr(binding["name"])} />')
        elif kind == "zeebe:taskHeader":
            extra.append(f'<zeebe:taskHeaders><zeebe:header key={quoteattr(binding["key"])} '
                         f'value={quoteattr(value)} /></zeebe:taskHeaders>')
        elif kind == "property":
            attributes.append(f'{binding["name"]}={quoteattr(value)}')
        elif kind == "camunda:inputParameter":
            inputs.append(f'<camunda:inputParameter name={quoteattr(binding["name"])}>{value}</camunda:inputParameter>')
        elif kind == "camunda:property":
            extra.append(f'<camunda:properties><camunda:property name={quoteattr(binding["name"])} '
                         f'value={quoteattr(value)} /></camunda:properties>')
    if any(i.startswith("<zeebe") for i in inputs):
        extra.insert(1, "<zeebe:ioMapping>" + "".join(inputs) + "</zeebe:ioMapping>")
    elif inputs:
        extra.append("<camunda:inputOutput>" + "".join(inputs) + "</camunda:inputOutput>")
    return " ".join(attributes), "".join(extra)


def _model(head: str, template: dict[str, Any], values: dict[str, str]) -> bytes:
    attributes, extensions = _applied(template, values)
    return (f'<?xml version="1.0" encoding="UTF-8"?>{head}'
            '<bpmn:process id="lookup_from_modeler" isExecutable="true">'
            '<bpmn:startEvent id="s"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>'
            f'<bpmn:serviceTask id="ask" name="Ask the civil registry" {attributes} '
            f'camunda:modelerTemplate={quoteattr(template["id"])}>'.replace(
                " camunda:modelerTemplate", " zeebe:modelerTemplate" if "zeebe" in head else " camunda:modelerTemplate")
            + f'<bpmn:extensionElements>{extensions}</bpmn:extensionElements>'
            '<bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing></bpmn:serviceTask>'
            '<bpmn:endEvent id="e"><bpmn:incoming>b</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="a" sourceRef="s" targetRef="ask" />'
            '<bpmn:sequenceFlow id="b" sourceRef="ask" targetRef="e" />'
            '</bpmn:process></bpmn:definitions>').encode()


@pytest.mark.parametrize("platform, head, source", [
    ("camunda8", C8_HEAD, "=applicant"), ("camunda7", C7_HEAD, "${applicant}")])
def test_template_export_deploys_and_runs(client: TestClient, tokens: Tokens, platform: str, head: str,
                                          source: str) -> None:
    templates = client.get("/api/v1/connectors/element-templates", params={"platform": platform},
                           headers=tokens.headers("analyst"))
    assert templates.status_code == 200
    [template] = [t for t in templates.json() if t["id"] == "panjereh.civil_registry.person_by_national_code"]
    model = _model(head, template, {"national_code": source, "resultVariable": "person"})
    deployed = client.post("/api/v1/deployments", files=[("files", ("lookup.bpmn", model, "text/xml"))],
                           headers=tokens.headers("analyst"))
    assert deployed.status_code == 201, deployed.text
    started = client.post("/api/v1/processes/lookup_from_modeler/instances",
                          json={"data": {"applicant": "0013542419"}}, headers=tokens.headers("analyst")).json()
    instance = client.get(f"/api/v1/instances/{started['id']}", headers=tokens.headers("analyst")).json()
    assert instance["status"] == "completed", instance
    assert instance["data"]["person"]["first_name"] == "علی"


def test_connectors_list_and_command_catalogue(client: TestClient, tokens: Tokens) -> None:
    operations = client.get("/api/v1/connectors", headers=tokens.headers("analyst")).json()
    ids = {op["id"] for op in operations}
    assert {"civil_registry/person_by_national_code", "post/address_by_postal_code", "sms/send"} <= ids
    person = next(op for op in operations if op["id"] == "civil_registry/person_by_national_code")
    assert person["params"]["required"] == ["national_code"]
    assert "first_name" in person["result"]["properties"]
    commands = client.get("/api/v1/connectors/commands", headers=tokens.headers("analyst")).json()
    assert any(c["id"] == "post/address_by_postal_code" for c in commands)


def test_connector_error_takes_the_modelled_fallback(client: TestClient, tokens: Tokens) -> None:
    from tests.fixtures import model_files

    assert client.post("/api/v1/deployments", files=model_files("registry_fallback.bpmn"),
                       headers=tokens.headers("analyst")).status_code == 201
    unknown = "0061234567"  # valid by checksum, never issued: the registry answers "not found"
    started = client.post("/api/v1/processes/registry_fallback/instances", json={"data": {"national_code": unknown}},
                          headers=tokens.headers("analyst")).json()
    instance = client.get(f"/api/v1/instances/{started['id']}", headers=tokens.headers("analyst")).json()
    assert instance["status"] == "waiting"
    assert [t["name"] for t in instance["tasks"] if t["status"] == "ready"] == ["upload_birth_certificate"]
    assert any(h["action"] == "service_call.error_caught" and h["code"] == "not-found" for h in instance["history"])
    found = client.post("/api/v1/processes/registry_fallback/instances",
                        json={"data": {"national_code": "0013542419"}}, headers=tokens.headers("analyst")).json()
    done = client.get(f"/api/v1/instances/{found['id']}", headers=tokens.headers("analyst")).json()
    assert done["status"] == "completed"
