"""A form whose hide conditions are costly on a submission with many repeated items is
answered 422 naming the reason, by the API and the portal alike, without holding the server;
the same form with a few items is checked and saved as before.

Hide conditions run in the serving process under a step budget (forms/conditions.py says why
they need no model worker); the budget, not a clock, stops them, so nothing here is timed.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from forms.conditions import MAX_STEPS
from tests.fixtures import Tokens
from tests.importer.bpmn_text import flow, model

HIDE = "=" + " or ".join(['a = "1"'] * 300)
FORM = {"type": "default", "id": "costly-form", "components": [
    {"type": "dynamiclist", "path": "items", "label": "Items", "components": [
        *({"type": "textfield", "key": f"note{j}", "label": f"Note {j}", "conditional": {"hide": HIDE}}
          for j in range(30)),
        {"type": "textfield", "key": "a", "label": "Amount"}]}]}
MODEL = model("\n".join([
    '<bpmn:startEvent id="s" />',
    '<bpmn:userTask id="ask" name="Items"><bpmn:extensionElements>'
    '<zeebe:formDefinition formId="costly-form" /></bpmn:extensionElements></bpmn:userTask>',
    '<bpmn:endEvent id="e" />', flow("f0", "s", "ask"), flow("f1", "ask", "e")]), dialect="camunda8", key="costly")


def _task(client: TestClient, tokens: Tokens) -> dict[str, Any]:
    headers = tokens.headers("analyst")
    deployed = client.post("/api/v1/deployments", headers=headers, files=[
        ("files", ("costly.bpmn", MODEL, "application/xml")),
        ("files", ("costly.form", json.dumps(FORM).encode(), "application/json"))])
    assert deployed.status_code == 201, deployed.text
    started = client.post("/api/v1/processes/costly/instances", json={"data": {}}, headers=headers)
    assert started.status_code == 201, started.text
    [task] = client.get("/api/v1/tasks", params={"instance_id": started.json()["id"]}, headers=headers).json()
    return dict(task)


def test_costly_conditions_refuse_the_submission_and_a_small_one_passes(client: TestClient, tokens: Tokens) -> None:
    task = _task(client, tokens)
    headers = tokens.headers("analyst")
    many = {"items": [{"note0": "x", "a": "2"}] * 20}  # 20 items x 30 conditions x 301 nodes
    refused = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": many}, headers=headers)
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["field"] == "" and f"more than {MAX_STEPS:,} steps" in error["message"]

    few = {"items": [{"note0": "x", "a": "2"}, {"note0": "y", "a": "1"}]}
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": few}, headers=headers)
    assert done.status_code == 200, done.text
    instance = client.get(f"/api/v1/instances/{task['instance_id']}", headers=headers).json()
    assert instance["data"]["items"] == [{"note0": "x", "a": "2"}, {"a": "1"}]
