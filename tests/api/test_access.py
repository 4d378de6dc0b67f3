"""Deny by default: every route declares its roles, and no route lets the wrong role in."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api.app import ROUTERS
from engine.api.deps import RoleGuard
from engine.api.routing import ApiRoute
from engine.security.tokens import create_token
from engine.services.runtime import Runtime
from tests.api.test_deploy_and_run import complete, ready_tasks
from tests.fixtures import ROOT, Tokens, model_files
from tests.payments.gateway import pay
from tests.web.journey import PDF

ROLES = {"admin": "admin", "analyst": "analyst", "staff": "staff_guild", "citizen": "citizen", "auditor": "auditor"}


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    spec = client.get("/openapi.json").json()
    return [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]


def _fill(path: str, op: dict[str, Any]) -> str:
    for param in op.get("parameters", []):
        if param["in"] == "path":
            dummy = "1" if param["schema"].get("type") == "integer" else "00000000-0000-0000-0000-000000000000"
            path = path.replace("{" + param["name"] + "}", dummy)
    return path


def _call(client: TestClient, method: str, path: str, op: dict[str, Any], headers: dict[str, str]):  # type: ignore[no-untyped-def]
    content = op.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        return client.request(method, path, files=model_files("approval.bpmn"), headers=headers)
    if "application/json" in content:
        return client.request(method, path, json={}, headers=headers)
    return client.request(method, path, headers=headers)


def test_every_route_declares_its_roles(client: TestClient) -> None:
    for path, method, op in _operations(client):
        assert op.get("x-roles"), f"{method.upper()} {path} does not declare who may call it"
    checked = 0
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, ApiRoute) and route.include_in_schema, f"{route} checks no input"
            declared = route.openapi_extra["x-roles"] if route.openapi_extra else None
            guarded = any(isinstance(d.dependency, RoleGuard) for d in route.dependencies)
            assert declared == ["public"] or guarded, f"{route.path} has no role guard"
            checked += 1
    assert checked == len(_operations(client))


@pytest.fixture
def auditor(runtime: Runtime) -> str:
    with runtime.unit_of_work() as session:
        return create_token(session, "auditor", "auditor-1")


def test_no_route_lets_the_wrong_role_in(client: TestClient, tokens: Tokens, auditor: str) -> None:
    holders = {role: tokens.headers(holder) for role, holder in ROLES.items() if holder != "auditor"}
    holders["auditor"] = {"Authorization": f"Bearer {auditor}"}
    checked = 0
    for path, method, op in _operations(client):
        allowed = set(op["x-roles"])
        url = _fill(path, op)
        anonymous = _call(client, method, url, op, {})
        if allowed == {"public"}:
            assert anonymous.status_code < 400, f"{method} {path} public but {anonymous.status_code}"
            continue
        assert anonymous.status_code == 401, f"{method.upper()} {path} without a token: {anonymous.status_code}"
        bogus = _call(client, method, url, op, {"Authorization": "Bearer pj_not-a-real-token"})
        assert bogus.status_code == 401
        for role in ROLES:
            response = _call(client, method, url, op, holders[role])
            if role in allowed:
                assert response.status_code not in (401, 403), f"{method.upper()} {path} refused {role}"
            else:
                assert response.status_code == 403, f"{method.upper()} {path} let {role} in: {response.status_code}"
            checked += 1
    assert checked >= 100


@pytest.fixture
def licence(client: TestClient, tokens: Tokens) -> dict[str, Any]:
    folder = ROOT / "processes" / "business_licence"
    response = client.post("/api/v1/deployments", files=model_files(*[str(p) for p in sorted(folder.iterdir())
                                                                      if p.suffix in (".bpmn", ".dmn", ".json")]),
                           headers=tokens.headers("analyst"))
    assert response.status_code == 201, response.text
    started = client.post("/api/v1/processes/business_licence/instances", json={"data": {}},
                          headers=tokens.headers("citizen"))
    assert started.status_code == 201, started.text
    return started.json()


def test_citizens_see_only_their_own_cases(client: TestClient, tokens: Tokens, licence: dict[str, Any]) -> None:
    mine = client.get(f"/api/v1/instances/{licence['id']}", headers=tokens.headers("citizen"))
    assert mine.status_code == 200
    theirs = client.get(f"/api/v1/instances/{licence['id']}", headers=tokens.headers("other_citizen"))
    assert theirs.status_code == 404
    assert client.get("/api/v1/instances", headers=tokens.headers("other_citizen")).json() == []
    [apply] = ready_tasks(client, tokens, licence["id"], role="citizen")
    assert ready_tasks(client, tokens, licence["id"], role="other_citizen") == []
    stolen = client.post(f"/api/v1/tasks/{apply['id']}/complete", json={"data": {}},
                         headers=tokens.headers("other_citizen"))
    assert stolen.status_code == 404
    assert client.get(f"/api/v1/tasks/{apply['id']}", headers=tokens.headers("other_citizen")).status_code == 404


def test_staff_see_only_their_agency_tasks(client: TestClient, tokens: Tokens, licence: dict[str, Any]) -> None:
    [apply] = ready_tasks(client, tokens, licence["id"], role="citizen")
    assert ready_tasks(client, tokens, licence["id"], role="staff_guild") == []
    assert client.get(f"/api/v1/tasks/{apply['id']}", headers=tokens.headers("staff_guild")).status_code == 404
    lease = client.post("/api/v1/uploads", files={"file": ("lease.pdf", PDF, "application/pdf")},
                        headers=tokens.headers("citizen")).json()
    complete(client, tokens, apply["id"], {"business_name": "نان سنگک", "activity": "food", "area_m2": 40,
                                           "premises_document": lease["id"]}, role="citizen")
    assert ready_tasks(client, tokens, licence["id"], role="staff_municipality") == [], "not before the fee is paid"
    assert pay(client, tokens.headers("citizen"), licence["id"]).status_code == 200
    [inspect] = ready_tasks(client, tokens, licence["id"], role="staff_municipality")
    assert inspect["agency"] == "municipality"
    assert ready_tasks(client, tokens, licence["id"], role="staff_guild") == []
    assert ready_tasks(client, tokens, licence["id"], role="citizen") == []
    staff_start = client.post("/api/v1/processes/business_licence/instances", json={"data": {}},
                              headers=tokens.headers("staff_guild"))
    assert staff_start.status_code == 403
