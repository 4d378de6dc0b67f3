"""Runs every `processes/*/scenarios.toml` through the JSON API, start to end.

A step is a task to complete (`task`), or a payment (`pay`): the citizen pays the case's fee on the
simulated gateway's page over real HTTP (`"card"`, or `"cancel"`, or `"declined"` three times), comes
back to the portal with what the gateway put in the address, and the payment ends as `payment` says.
A new try after a cancelled or failed payment is asked from the portal, as the citizen's browser does.
A step may also let days pass (`wait_days`: the timers due by then fire), and answer a question whose
choices the case holds with the first one offered (`choose = {field = "<variable>"}`: appointment
slots depend on the day the test runs)."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.db.base import utcnow
from engine.security.tokens import create_token
from engine.services import event_delivery
from engine.services.catalogue import deploy_catalogue
from engine.services.runtime import Runtime
from tests.fixtures import ROOT, Tokens
from tests.payments.gateway import DECLINED, PAYS, at_gateway, back_path, mobile_of
from tests.web.journey import PDF, csrf, sign_in

CITIZEN = "0499370899"  # tests.fixtures.Tokens.citizen

ROLE_TOKENS = {"citizen": "citizen", "analyst": "analyst", "admin": "admin",
               "staff_guild": "staff_guild", "staff_municipality": "staff_municipality"}


def _scenarios() -> list[Any]:
    found = []
    for path in sorted((ROOT / "processes").glob("*/scenarios.toml")):
        for scenario in tomllib.loads(path.read_text(encoding="utf-8"))["scenario"]:
            found.append(pytest.param(path.parent, scenario, id=f"{path.parent.name}: {scenario['name']}"))
    return found


def _token(runtime: Runtime, tokens: Tokens, who: str) -> str:
    """The token of a role, of "citizen:<national code>" (one of the simulated agencies' demo
    people: a second citizen in the same case, such as a seller, is named so too) or of
    "staff:<agency>" (a clerk of that agency, as its lane in `service.toml` names it)."""
    role, _, name = who.partition(":")
    if not name:
        token: str = getattr(tokens, ROLE_TOKENS[role])
        return token
    assert role in ("citizen", "staff"), who
    with runtime.unit_of_work() as session:
        if role == "staff":
            return create_token(session, "staff", f"clerk-{name}", name)
        return create_token(session, "citizen", name)


@pytest.mark.parametrize("folder, scenario", _scenarios())
def test_scenario(client: TestClient, runtime: Runtime, tokens: Tokens, folder: Path,
                  scenario: dict[str, Any]) -> None:
    deploy_catalogue(runtime, ROOT / "processes")
    meta = tomllib.loads((folder / "service.toml").read_text(encoding="utf-8"))
    # One token per person for the whole scenario: a clerk who works two steps is the same clerk.
    known: dict[str, str] = {}

    def token_of(who: str) -> str:
        if who not in known:
            known[who] = _token(runtime, tokens, who)
        return known[who]

    applicant = token_of(scenario["start_as"])
    started = client.post(f"/api/v1/processes/{meta['process']}/instances", json={"data": {}},
                          headers={"Authorization": f"Bearer {applicant}"})
    assert started.status_code == 201, started.text
    instance_id = started.json()["id"]
    # One token per person: a second step by the same clerk or seller uses the first one's.
    known: dict[str, str] = {}
    for step in scenario["steps"]:
        if "wait_days" in step:
            # Time passes for the case: every timer due by then fires, as the periodic tick would.
            event_delivery.tick(runtime, utcnow() + timedelta(days=step["wait_days"]))
            continue
        who = applicant if step["as"] == "citizen" else token_of(step["as"])
        headers = {"Authorization": f"Bearer {who}"}
        if "pay" in step:
            _pay(client, runtime, headers, instance_id, scenario["start_as"].partition(":")[2] or CITIZEN, step)
            continue
        ready = client.get("/api/v1/tasks", params={"instance_id": instance_id, "status": "ready"},
                           headers=headers).json()
        matching = [t for t in ready if t["name"] == step["task"]]
        assert matching, f"{step['task']} is not ready for {step['as']}: {[t['name'] for t in ready]}"
        data = dict(step["data"])
        held = client.get(f"/api/v1/instances/{instance_id}", headers=tokens.headers("admin")).json()["data"]
        for field, variable in step.get("choose", {}).items():
            data[field] = held[variable][0]["value"]
        for field, name in step.get("files", {}).items():
            uploaded = client.post("/api/v1/uploads", files={"file": (name, PDF, "application/pdf")}, headers=headers)
            assert uploaded.status_code == 201, uploaded.text
            data[field] = uploaded.json()["id"]
        response = client.post(f"/api/v1/tasks/{matching[0]['id']}/complete", json={"data": data},
                               headers=headers)
        if "errors" in step:
            assert response.status_code == 422, response.text
            assert sorted({e["field"] for e in response.json()["errors"]}) == sorted(step["errors"])
        else:
            assert response.status_code == 200, response.text
    final = client.get(f"/api/v1/instances/{instance_id}", headers=tokens.headers("admin")).json()
    expect = scenario["expect"]
    assert final["status"] == expect["status"], final.get("error")
    for key, value in expect.get("data", {}).items():
        assert _holds(final["data"].get(key), value), (key, final["data"].get(key))
    for key in expect.get("absent", []):
        assert key not in final["data"]
    if "documents" in expect:
        issued = client.get(f"/api/v1/instances/{instance_id}/documents", headers=tokens.headers("admin")).json()
        assert [d["kind"] for d in issued] == expect["documents"]
        assert all(d["status"] == "valid" for d in issued)
    if "payments" in expect:
        found = client.get(f"/api/v1/instances/{instance_id}/payments", headers=tokens.headers("admin")).json()
        assert [p["status"] for p in found["payments"]] == expect["payments"]


def _holds(found: Any, expected: Any) -> bool:
    """`found` is `expected`; a table expected need only hold the keys it names (a refund has its own id)."""
    if isinstance(expected, dict):
        return isinstance(found, dict) and all(_holds(found.get(k), v) for k, v in expected.items())
    return bool(found == expected)


def _pay(client: TestClient, runtime: Runtime, headers: dict[str, str], instance_id: str, national_code: str,
         step: dict[str, Any]) -> None:
    payments = client.get(f"/api/v1/instances/{instance_id}/payments", headers=headers).json()
    assert payments["due"], f"the case waits for no payment: {payments}"
    newest = payments["payments"][-1]
    if newest["status"] == "pending":
        page = newest["payment_url"]
    else:
        # A new try is the citizen's, from their case page.
        browser = TestClient(client.app)
        sign_in(browser, runtime, national_code, mobile_of(national_code))
        case = browser.get(f"/cases/{instance_id}")
        asked = browser.post(f"/cases/{instance_id}/pay", data={"csrf_token": csrf(case.text)},
                             follow_redirects=False)
        assert asked.status_code == 303, asked.text
        page = asked.headers["location"]
    if step["pay"] == "declined":
        for _ in range(2):
            assert at_gateway(page, "pay", DECLINED).status_code == 422
    answer = at_gateway(page, "cancel" if step["pay"] == "cancel" else "pay",
                        DECLINED if step["pay"] == "declined" else PAYS)
    back = client.get(back_path(answer))
    assert back.status_code == 200, back.text
    after = client.get(f"/api/v1/instances/{instance_id}/payments", headers=headers).json()["payments"][-1]
    assert after["status"] == step["payment"], after
