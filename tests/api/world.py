"""A database with something behind every API route: deployments, waiting tasks, parked
service calls, an incident, a data-use record, an upload, instances with a newer version to
move to, an issued licence. Built through the API itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures import Tokens, model_files
from tests.licences import approved_licence
from tests.web.journey import PDF

MODELS = ("approval.bpmn", "manual_lookup.bpmn", "events/manual_check.bpmn", "events/signals.bpmn",
          "registry_lookup.bpmn")
NOT_IN_THE_REGISTRY = "0061234567"  # a valid national code the simulated registry does not know


@dataclass
class World:
    deployment_id: int
    instances: list[str]
    ready_tasks: list[str]
    parked_calls: list[str]
    caught_calls: list[str]
    incident_id: int
    looked_up: str
    """An instance whose registry lookup failed: it has a data-use record and an incident."""
    upload_id: str
    migrating: list[str]
    """Instances of the permit's version 1 (tests/models/migration), waiting in the review."""
    migration_target: int
    """The deployment of the permit's version 2, which those instances can move to."""
    document_id: str
    """The licence an approved business licence case issued."""


def _ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def _start(client: TestClient, headers: dict[str, str], key: str, data: dict[str, Any] | None = None) -> str:
    started: str = _ok(client.post(f"/api/v1/processes/{key}/instances", json={"data": data or {}},
                                   headers=headers))["id"]
    return started


def build_world(client: TestClient, tokens: Tokens, copies: int = 3) -> World:
    """Deploy the models and make `copies` of each waiting thing, so several writes can each use one."""
    analyst, admin = tokens.headers("analyst"), tokens.headers("admin")
    deployed = _ok(client.post("/api/v1/deployments", files=model_files(*MODELS), headers=analyst))
    approvals = [_start(client, analyst, "approval") for _ in range(copies)]
    ready = [task["id"] for instance in approvals for task in _ok(client.get(
        "/api/v1/tasks", params={"instance_id": instance, "status": "ready"}, headers=analyst))]
    lookups = [_start(client, analyst, "manual_lookup", {"national_code": "0499370899"}) for _ in range(copies)]
    checks = [_start(client, analyst, "manual_check") for _ in range(copies)]
    recalls = [_start(client, analyst, "await_recall") for _ in range(copies)]
    calls = _ok(client.get("/api/v1/service-calls", headers=admin))
    looked_up = _start(client, analyst, "registry_lookup", {"national_code": NOT_IN_THE_REGISTRY})
    [incident] = [i for i in _ok(client.get("/api/v1/incidents", headers=admin)) if i["instance_id"] == looked_up]
    upload = _ok(client.post("/api/v1/uploads", files={"file": ("lease.pdf", PDF, "application/pdf")},
                             headers=tokens.headers("citizen")))
    _ok(client.post("/api/v1/deployments", files=model_files("migration/permit_v1.bpmn"), headers=analyst))
    migrating = [_start(client, analyst, "permit") for _ in range(copies)]
    target = _ok(client.post("/api/v1/deployments", files=model_files("migration/permit_v2.bpmn"), headers=analyst))
    _, licence = approved_licence(client, client.app.state.runtime, tokens)  # type: ignore[attr-defined]
    return World(
        deployment_id=deployed["id"], instances=approvals + lookups + checks + recalls, ready_tasks=ready,
        parked_calls=[c["id"] for c in calls if c["instance_id"] in lookups],
        caught_calls=[c["id"] for c in calls if c["instance_id"] in checks],
        incident_id=incident["id"], looked_up=looked_up, upload_id=upload["id"], migrating=migrating,
        migration_target=target["id"], document_id=licence["id"])
