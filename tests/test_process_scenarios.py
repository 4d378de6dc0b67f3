"""Runs every `processes/*/scenarios.toml` through the JSON API, start to end."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.security.tokens import create_token
from engine.services.catalogue import deploy_catalogue
from engine.services.runtime import Runtime
from tests.fixtures import ROOT, Tokens
from tests.web.journey import PDF

ROLE_TOKENS = {"citizen": "citizen", "analyst": "analyst", "admin": "admin",
               "staff_guild": "staff_guild", "staff_municipality": "staff_municipality"}


def _scenarios() -> list[Any]:
    found = []
    for path in sorted((ROOT / "processes").glob("*/scenarios.toml")):
        for scenario in tomllib.loads(path.read_text(encoding="utf-8"))["scenario"]:
            found.append(pytest.param(path.parent, scenario, id=f"{path.parent.name}: {scenario['name']}"))
    return found


def _applicant_token(runtime: Runtime, tokens: Tokens, start_as: str) -> str:
    """The token of whoever starts: a role, or "citizen:<national code>" for one of the agencies' demo people."""
    role, _, national_code = start_as.partition(":")
    if not national_code:
        token: str = getattr(tokens, ROLE_TOKENS[role])
        return token
    assert role == "citizen", start_as
    with runtime.unit_of_work() as session:
        return create_token(session, "citizen", national_code)


@pytest.mark.parametrize("folder, scenario", _scenarios())
def test_scenario(client: TestClient, runtime: Runtime, tokens: Tokens, folder: Path,
                  scenario: dict[str, Any]) -> None:
    deploy_catalogue(runtime, ROOT / "processes")
    meta = tomllib.loads((folder / "service.toml").read_text(encoding="utf-8"))
    applicant = _applicant_token(runtime, tokens, scenario["start_as"])
    started = client.post(f"/api/v1/processes/{meta['process']}/instances", json={"data": {}},
                          headers={"Authorization": f"Bearer {applicant}"})
    assert started.status_code == 201, started.text
    instance_id = started.json()["id"]
    for step in scenario["steps"]:
        headers = ({"Authorization": f"Bearer {applicant}"} if step["as"] == "citizen" and applicant != tokens.citizen
                   else tokens.headers(ROLE_TOKENS[step["as"]]))
        ready = client.get("/api/v1/tasks", params={"instance_id": instance_id, "status": "ready"},
                           headers=headers).json()
        matching = [t for t in ready if t["name"] == step["task"]]
        assert matching, f"{step['task']} is not ready for {step['as']}: {[t['name'] for t in ready]}"
        data = dict(step["data"])
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
        assert final["data"].get(key) == value, key
    for key in expect.get("absent", []):
        assert key not in final["data"]
    if "documents" in expect:
        issued = client.get(f"/api/v1/instances/{instance_id}/documents", headers=tokens.headers("admin")).json()
        assert [d["kind"] for d in issued] == expect["documents"]
        assert all(d["status"] == "valid" for d in issued)
