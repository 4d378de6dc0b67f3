"""A biometrics slot taken by someone else between the offer and the citizen's choice: the passport
model catches the office's refusal and offers the free slots again, without the taken one."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from engine.security.tokens import create_token
from engine.services.catalogue import deploy_catalogue
from engine.services.runtime import Runtime
from tests.fixtures import ROOT, Tokens
from tests.payments.gateway import PAYS, at_gateway, back_path, pending_payment


def _ready(client: TestClient, headers: dict[str, str], instance_id: str) -> dict[str, Any]:
    [task] = client.get("/api/v1/tasks", params={"instance_id": instance_id, "status": "ready"}, headers=headers).json()
    return dict(task)


def test_a_slot_taken_meanwhile_is_offered_again_without_it(client: TestClient, runtime: Runtime, tokens: Tokens,
                                                            agencies: str) -> None:
    deploy_catalogue(runtime, ROOT / "processes")
    with runtime.unit_of_work() as session:
        citizen = {"Authorization": f"Bearer {create_token(session, 'citizen', '0013542419')}"}
    case = client.post("/api/v1/processes/passport/instances", json={"data": {}}, headers=citizen).json()["id"]
    apply = _ready(client, citizen, case)
    assert client.post(f"/api/v1/tasks/{apply['id']}/complete", json={"data": {"passport_type": "ordinary"}},
                       headers=citizen).status_code == 200
    payment = pending_payment(client, citizen, case)
    assert client.get(back_path(at_gateway(payment["payment_url"], "pay", PAYS))).status_code == 200

    offered = client.get(f"/api/v1/instances/{case}", headers=tokens.headers("admin")).json()["data"]
    first = offered["appointment_options"][0]["value"]
    someone_else = httpx.post(f"{agencies}/sandbox/passport-office/appointments",
                              json={"national_code": "9876543210", "slot_id": first}, timeout=10)
    assert someone_else.status_code == 201, someone_else.text

    choose = _ready(client, citizen, case)
    assert choose["name"] == "choose_slot"
    assert client.post(f"/api/v1/tasks/{choose['id']}/complete", json={"data": {"appointment_slot": first}},
                       headers=citizen).status_code == 200
    again = _ready(client, citizen, case)
    assert again["name"] == "choose_slot" and again["id"] != choose["id"]
    now = client.get(f"/api/v1/instances/{case}", headers=tokens.headers("admin")).json()
    assert first not in [o["value"] for o in now["data"]["appointment_options"]]
    assert not now.get("incidents")
    second = now["data"]["appointment_options"][0]["value"]
    assert client.post(f"/api/v1/tasks/{again['id']}/complete", json={"data": {"appointment_slot": second}},
                       headers=citizen).status_code == 200
    booked = client.get(f"/api/v1/instances/{case}", headers=tokens.headers("admin")).json()["data"]["booking"]
    assert booked["slot_id"] == second
