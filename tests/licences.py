"""A business licence applied for, paid and approved through the API, with the licence it issued: what the tests of
issued documents, the route walks and the fuzzing world start from."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from engine.security.tokens import create_token
from engine.services.runtime import Runtime
from tests.api.test_deploy_and_run import complete, ready_tasks
from tests.fixtures import Tokens
from tests.payments.gateway import pay
from tests.web.journey import PDF, ready_catalogue

# A small shop: no inspection, so the guild union reviews it next and issues the licence.
RETAIL = {"business_name": "لوازم‌التحریر مهر", "activity": "retail", "area_m2": 25}


def _wait(what: str, probe: Any) -> Any:
    deadline = time.monotonic() + 30
    while not (found := probe()):
        # On a real server the agencies are asked after the answer that parked the call commits.
        assert time.monotonic() < deadline, f"{what} never came"
        time.sleep(0.05)
    return found


def citizen_headers(runtime: Runtime, national_code: str) -> dict[str, str]:
    """An API token of the citizen with `national_code`."""
    with runtime.unit_of_work() as session:
        return {"Authorization": f"Bearer {create_token(session, 'citizen', national_code)}"}


def approved_licence(client: TestClient, runtime: Runtime, tokens: Tokens, citizen: dict[str, str] | None = None,
                     answers: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """Apply and pay as `citizen` (the tokens' citizen by default), approve as the guild union; the case id
    and its licence as the API lists it."""
    ready_catalogue(runtime)
    mine = citizen or tokens.headers("citizen")
    started = client.post("/api/v1/processes/business_licence/instances", json={"data": {}}, headers=mine)
    assert started.status_code == 201, started.text
    case = started.json()["id"]

    def application() -> list[dict[str, Any]]:
        found = client.get("/api/v1/tasks", params={"instance_id": case, "status": "ready"}, headers=mine)
        assert found.status_code == 200, found.text
        tasks: list[dict[str, Any]] = found.json()
        return tasks

    [apply] = _wait("the application task", application)
    lease = client.post("/api/v1/uploads", files={"file": ("lease.pdf", PDF, "application/pdf")}, headers=mine)
    assert lease.status_code == 201, lease.text
    answered = client.post(f"/api/v1/tasks/{apply['id']}/complete", headers=mine, json={"data": {
        **(answers or RETAIL), "premises_document": lease.json()["id"]}})
    assert answered.status_code == 200, answered.text
    assert pay(client, mine, case).status_code == 200
    [review] = _wait("the review", lambda: ready_tasks(client, tokens, case, role="staff_guild"))
    complete(client, tokens, review["id"], {"review_outcome": "approve"}, role="staff_guild")

    def listed() -> list[dict[str, Any]]:
        response = client.get(f"/api/v1/instances/{case}/documents", headers=mine)
        assert response.status_code == 200, response.text
        documents: list[dict[str, Any]] = response.json()
        return documents

    [licence] = _wait("the licence", listed)
    return case, licence
