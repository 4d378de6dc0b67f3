"""Small models with one service task, and what the connector tests read back about a case."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db.models import DataUse, HumanTaskRow, Incident, Instance, ServiceCallRow
from engine.services.runtime import Runtime
from tests.fixtures import Tokens

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
        'xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="defs" '
        'targetNamespace="https://panjereh.example/tests">')


def spiff_operator(operation: str, params: dict[str, str], result: str = "answer", retry: str = "") -> str:
    """A SpiffArena binding; `params` values are Python expressions."""
    items = "".join(f'<spiffworkflow:parameter id="{name}" type="str" value={quoteattr(value)} />'
                    for name, value in params.items())
    return (f'<spiffworkflow:serviceTaskOperator id="{operation}" resultVariable="{result}">'
            f"<spiffworkflow:parameters>{items}</spiffworkflow:parameters>{retry}</spiffworkflow:serviceTaskOperator>")


def with_fallback(process: str, extensions: str, attributes: str = "") -> bytes:
    """A process whose service task `fetch` has an error boundary catching every code, which
    leads to the user task `upload`: what a model does when the agency says it has nothing."""
    return (f'{HEAD}<bpmn:process id="{process}" isExecutable="true">'
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            f'<bpmn:serviceTask id="fetch" name="Ask the agency" {attributes}>'
            f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements>"
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>"
            '<bpmn:boundaryEvent id="any_error" attachedToRef="fetch"><bpmn:outgoing>f3</bpmn:outgoing>'
            '<bpmn:errorEventDefinition id="any_error_def" /></bpmn:boundaryEvent>'
            '<bpmn:userTask id="upload" name="Upload the document yourself">'
            "<bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>"
            '<bpmn:endEvent id="fetched"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:endEvent id="uploaded"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fetch" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="fetch" targetRef="fetched" />'
            '<bpmn:sequenceFlow id="f3" sourceRef="any_error" targetRef="upload" />'
            '<bpmn:sequenceFlow id="f4" sourceRef="upload" targetRef="uploaded" />'
            "</bpmn:process></bpmn:definitions>").encode()


def deploy(client: TestClient, tokens: Tokens, model: bytes, name: str = "model.bpmn") -> Any:
    """POST the model as an analyst; the response."""
    return client.post("/api/v1/deployments", files=[("files", (name, model, "text/xml"))],
                       headers=tokens.headers("analyst"))


def start(client: TestClient, tokens: Tokens, process: str, data: dict[str, Any]) -> str:
    """Start `process` as an analyst (who may pass any variables); the instance id.

    In embedded mode the connector call runs before this returns.
    """
    started = client.post(f"/api/v1/processes/{process}/instances", json={"data": data},
                          headers=tokens.headers("analyst"))
    assert started.status_code == 201, started.text
    instance_id: str = started.json()["id"]
    return instance_id


@dataclass
class Case:
    """What is stored about one instance and its service call."""

    status: str
    data: dict[str, Any]
    call: ServiceCallRow
    incidents: list[Incident]
    ready_tasks: list[str]
    data_uses: list[str]  # the outcome of each recorded use of the citizen's data


def case(runtime: Runtime, instance_id: str) -> Case:
    """The instance, its one service call, its incidents and its ready human tasks, as stored."""
    with runtime.reading() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        call = session.execute(select(ServiceCallRow).where(ServiceCallRow.instance_id == instance_id)).scalar_one()
        incidents = list(session.execute(select(Incident).where(Incident.instance_id == instance_id)).scalars())
        ready = list(session.execute(select(HumanTaskRow.spec_id).where(
            HumanTaskRow.instance_id == instance_id, HumanTaskRow.status == "ready")).scalars())
        uses = list(session.execute(select(DataUse.outcome).where(DataUse.instance_id == instance_id)).scalars())
        return Case(instance.status, dict(instance.data), call, incidents, ready, uses)
