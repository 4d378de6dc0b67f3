"""Deny by default: every route declares its roles, and no route lets the wrong role in."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api.app import ROUTERS
from engine.api.deps import RoleGuard
from engine.api.routing import ApiRoute
from engine.security.tokens import create_token
from engine.services.access import audience_of, party_of, party_variable
from engine.services.catalogue import deploy_catalogue
from engine.services.runtime import Runtime
from tests.api.test_deploy_and_run import complete, ready_tasks
from tests.fixtures import ADMIN_TOKEN, ROOT, Tokens, model_files
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


# A case of two citizens (processes/vehicle_transfer): the buyer applies, and the seller, whom the
# vehicle registry names as the owner, consents in a lane mapped to "citizen:seller_national_code".
BUYER, SELLER, DEMO_PLATE = "0013542419", "9876543210", "12 ب 345 ایران 67"


def citizen_headers(runtime: Runtime, national_code: str) -> dict[str, str]:
    with runtime.unit_of_work() as session:
        return {"Authorization": f"Bearer {create_token(session, 'citizen', national_code)}"}


def _next_ready(client: TestClient, case: str) -> dict[str, Any]:
    """The case's next ready task, once the agencies it asks have answered."""
    deadline = time.monotonic() + 30
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    while not (ready := client.get("/api/v1/tasks", params={"instance_id": case, "status": "ready"},
                                   headers=admin).json()):
        assert time.monotonic() < deadline, "no task came"
        time.sleep(0.05)
    return dict(ready[0])


def transfer_waiting_for_the_seller(client: TestClient, runtime: Runtime,
                                    buyer: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """A vehicle transfer `buyer` applied for, waiting for the seller's consent: its id and that task."""
    # With its service.toml, whose [lanes] give the seller's lane to the owner the registry names.
    deploy_catalogue(runtime, ROOT / "processes")
    case = client.post("/api/v1/processes/vehicle_transfer/instances", json={"data": {}}, headers=buyer).json()["id"]
    plate = _next_ready(client, case)
    answered = client.post(f"/api/v1/tasks/{plate['id']}/complete", headers=buyer,
                           json={"data": {"plate": DEMO_PLATE, "sale_price_rial": 5_000_000_000}})
    assert answered.status_code == 200, answered.text
    consent = _next_ready(client, case)
    assert consent["name"] == "seller_consent", consent
    return case, consent


def test_a_second_citizen_sees_and_does_only_their_own_task(client: TestClient, runtime: Runtime,
                                                             tokens: Tokens) -> None:
    buyer, seller = citizen_headers(runtime, BUYER), citizen_headers(runtime, SELLER)
    case, consent = transfer_waiting_for_the_seller(client, runtime, buyer)
    # The buyer follows the case but may not consent in the seller's place.
    assert client.get("/api/v1/tasks", params={"instance_id": case, "status": "ready"}, headers=buyer).json() == []
    assert client.get(f"/api/v1/tasks/{consent['id']}", headers=buyer).status_code == 404
    stolen = client.post(f"/api/v1/tasks/{consent['id']}/complete", headers=buyer,
                         json={"data": {"seller_decision": "agree"}})
    assert stolen.status_code == 404
    # A citizen with no part in the case sees nothing of it.
    stranger = tokens.headers("citizen")
    assert client.get(f"/api/v1/instances/{case}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/tasks/{consent['id']}", headers=stranger).status_code == 404
    # The seller sees the case among theirs, with their task and none of the buyer's data or history.
    assert [c["id"] for c in client.get("/api/v1/instances", headers=seller).json()] == [case]
    seen = client.get(f"/api/v1/instances/{case}", headers=seller).json()
    assert seen["data"] == {} and seen["history"] == []
    assert [t["name"] for t in seen["tasks"]] == ["seller_consent"]
    for owners_only in ("data-use", "payments", "documents"):
        assert client.get(f"/api/v1/instances/{case}/{owners_only}", headers=seller).status_code == 404, owners_only
    form = client.get(f"/api/v1/tasks/{consent['id']}", headers=seller).json()["form"]
    assert "buyer_address" not in str(form), "the seller's form shows only what the seller needs"
    done = client.post(f"/api/v1/tasks/{consent['id']}/complete", headers=seller,
                       json={"data": {"seller_decision": "agree"}})
    assert done.status_code == 200, done.text
    assert done.json()["data"] == {}
    after = client.get(f"/api/v1/instances/{case}", headers=buyer).json()
    assert after["data"]["seller_decision"] == "agree" and after["data"]["fee_rial"] == 4_500_000


@pytest.mark.parametrize("lane, audience, variable", [
    ("Seller", ("citizen", None), "seller_national_code"),
    ("Buyer", ("citizen", None), None),
    ("Traffic police", ("agency", "traffic_police"), None),
    ("Nobody", ("citizen", None), ""),
])
def test_a_lane_may_name_the_citizen_its_tasks_are_for(lane: str, audience: tuple[str, str | None],
                                                       variable: str | None) -> None:
    lanes = {"Seller": "citizen:seller_national_code", "Buyer": "citizen", "Traffic police": "traffic_police",
             "Nobody": "citizen:"}
    assert audience_of(lane, lanes) == audience
    assert party_variable(lane, lanes) == variable


@pytest.mark.parametrize("data, party", [({"seller": "9876543210"}, "9876543210"), ({"seller": "9876543211"}, ""),
                                         ({"seller": 9876543210}, ""), ({}, "")])
def test_a_party_is_a_valid_national_code_or_nobody(data: dict[str, Any], party: str) -> None:
    assert party_of("seller", data) == party
