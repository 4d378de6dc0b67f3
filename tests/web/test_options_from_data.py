"""A question whose choices the case itself holds (appointment slots an agency offered): the portal
offers exactly those, in the page's language, and takes nothing else."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from engine.security.tokens import create_token
from engine.services.runtime import Runtime
from tests.fixtures import Tokens
from tests.web.journey import CITIZEN, csrf, sign_in, text

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="d" targetNamespace="https://panjereh.example/tests">
  <bpmn:process id="pick_slot" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="offer" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>offered_slots = [
  {"value": "sat-9", "label": {"fa": "شنبه ساعت ۹", "en": "Saturday 9:00"}},
  {"value": "sun-11", "label": {"fa": "یکشنبه ساعت ۱۱", "en": "Sunday 11:00"}}]</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="choose" name="Choose a slot">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="choose.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="offer" />
    <bpmn:sequenceFlow id="f2" sourceRef="offer" targetRef="choose" />
    <bpmn:sequenceFlow id="f3" sourceRef="choose" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>""".encode()
SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "required": ["slot"],
          "properties": {"slot": {"type": "string", "title": "کدام نوبت؟", "x-title-en": "Which slot?",
                                  "x-options-from": "offered_slots", "x-error-name-fa": "نوبت",
                                  "x-error-name-en": "a slot"}}}


def _case(client: TestClient, runtime: Runtime, tokens: Tokens) -> str:
    files = [("files", ("pick_slot.bpmn", MODEL, "application/xml")),
             ("files", ("choose.schema.json", json.dumps(SCHEMA).encode(), "application/json"))]
    deployed = client.post("/api/v1/deployments", files=files, headers=tokens.headers("analyst"))
    assert deployed.status_code == 201, deployed.text
    with runtime.unit_of_work() as session:
        token = create_token(session, "citizen", CITIZEN)
    started = client.post("/api/v1/processes/pick_slot/instances", json={"data": {}},
                          headers={"Authorization": f"Bearer {token}"})
    assert started.status_code == 201, started.text
    sign_in(client, runtime)
    return str(started.json()["id"])


def test_the_choices_are_the_case_s_and_only_they_are_taken(client: TestClient, runtime: Runtime,
                                                            tokens: Tokens) -> None:
    case = _case(client, runtime, tokens)
    page = client.get(f"/cases/{case}/next")
    assert page.status_code == 200
    assert 'value="sat-9"' in page.text and 'value="sun-11"' in page.text and 'type="radio"' in page.text
    assert "شنبه ساعت ۹" in text(page.text)
    action = re.search(r'<form method="post" action="([^"]+/pages/0)"', page.text).group(1)  # type: ignore[union-attr]
    forged = client.post(action, data={"csrf_token": csrf(page.text), "slot": "mon-8"})
    assert forged.status_code == 422
    check = client.post(action, data={"csrf_token": csrf(page.text), "slot": "sun-11"})
    assert "/check" in str(check.url) and "یکشنبه ساعت ۱۱" in text(check.text)
    client.post(str(check.url), data={"csrf_token": csrf(check.text)})
    status = client.get(f"/api/v1/instances/{case}", headers=tokens.headers("admin")).json()
    assert status["status"] == "completed" and status["data"]["slot"] == "sun-11"


def test_english_labels(client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    case = _case(client, runtime, tokens)
    client.get("/lang/en", params={"next": "/"})
    page = client.get(f"/cases/{case}/next")
    assert "Sunday 11:00" in text(page.text)
