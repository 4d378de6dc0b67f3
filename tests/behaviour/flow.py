"""Driving behaviour models the way users do (the API), and looking at the stored state the
way a later request does: a new runtime, nothing cached, the instance restored from its row."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from engine.compose import build_runtime
from engine.core.execution import Execution, make_script_engine
from engine.core.package import CompiledPackage
from engine.db.models import Instance
from engine.services.deployments import UploadedFile, check
from engine.services.instance_store import InstanceStore
from engine.settings import Settings
from tests.fixtures import MODELS, Tokens, model_files

BEHAVIOUR = MODELS / "behaviour"


def deploy(client: TestClient, tokens: Tokens, *names: str, expect: int = 201) -> dict[str, Any]:
    response = client.post("/api/v1/deployments", files=model_files(*(str(BEHAVIOUR / n) for n in names)),
                           headers=tokens.headers("analyst"))
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


def start(client: TestClient, tokens: Tokens, key: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post(f"/api/v1/processes/{key}/instances", json={"data": data or {}},
                           headers=tokens.headers("analyst"))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def instance(client: TestClient, tokens: Tokens, instance_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/instances/{instance_id}", headers=tokens.headers("analyst"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ready(client: TestClient, tokens: Tokens, instance_id: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/tasks", params={"instance_id": instance_id, "status": "ready"},
                          headers=tokens.headers("analyst"))
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()
    return tasks


def complete(client: TestClient, tokens: Tokens, task_id: str, data: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=tokens.headers("analyst"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def stored(settings: Settings, instance_id: str) -> Execution:
    """The instance as a later request sees it: restored from its row by a runtime that has
    compiled nothing yet, so only what the database holds (state, call bindings) counts."""
    runtime = build_runtime(settings, migrate=False)
    try:
        with runtime.unit_of_work() as session:
            row = session.get(Instance, instance_id)
            assert row is not None
            return InstanceStore(session, runtime).restore(row)
    finally:
        runtime.close()


def compiled(*names: str) -> CompiledPackage:
    loaded, report = check([UploadedFile(n, (BEHAVIOUR / n).read_bytes()) for n in names], Settings())
    assert loaded is not None, report.problems
    return loaded.compiled


def round_trip(execution: Execution, package: CompiledPackage) -> Execution:
    """Serialize to JSON text and back, as a save and a later load would."""
    state, version = execution.dump()
    json.loads(state)
    return Execution.restore(package, execution.process_key, state, version, make_script_engine())
