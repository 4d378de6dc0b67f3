"""Who used my data, over the API: the case's citizen, admins and auditors read the data-use
records of a case; nobody else does. Auditors read every case and change nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.cli import main
from engine.settings import Settings, get_settings
from tests.api.servers import environment
from tests.fixtures import ROOT, Tokens, model_files

Auditor = Callable[[str], dict[str, str]]


@pytest.fixture
def case(client: TestClient, tokens: Tokens) -> dict[str, Any]:
    """A citizen's business licence; starting it fetched the applicant from the civil registry."""
    folder = ROOT / "processes" / "business_licence"
    files = model_files(*[str(p) for p in sorted(folder.iterdir()) if p.suffix in (".bpmn", ".dmn", ".json")])
    assert client.post("/api/v1/deployments", files=files, headers=tokens.headers("analyst")).status_code == 201
    started = client.post("/api/v1/processes/business_licence/instances", json={"data": {}},
                          headers=tokens.headers("citizen"))
    assert started.status_code == 201, started.text
    case: dict[str, Any] = started.json()
    return case


@pytest.fixture
def make_auditor(settings: Settings, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> Iterator[Auditor]:
    """Makes an auditor's token as an operator does, with `panjereh token create --role auditor`
    against the test's database: the command's own code, run in this process (an interpreter of
    its own only added the engine's import, some 2 s of CPU a token)."""
    for key, value in environment(settings).items():
        if key.startswith("PANJEREH_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()

    def make(name: str) -> dict[str, str]:
        capsys.readouterr()
        made = main(["token", "create", "--role", "auditor", "--name", name])
        printed = capsys.readouterr()
        assert made == 0, printed.err
        return {"Authorization": f"Bearer {printed.out.strip().splitlines()[-1]}"}

    yield make
    get_settings.cache_clear()


def test_the_citizen_admins_and_auditors_read_who_used_the_data(client: TestClient, tokens: Tokens,
                                                                make_auditor: Auditor, case: dict[str, Any]) -> None:
    url = f"/api/v1/instances/{case['id']}/data-use"
    mine = client.get(url, headers=tokens.headers("citizen"))
    assert mine.status_code == 200, mine.text
    [lookup, *_] = mine.json()
    assert (lookup["connector"], lookup["operation"]) == ("civil_registry", "civil_registry/person_by_national_code")
    assert lookup["agency"] and lookup["purpose"] and len(lookup["request_sha256"]) == 64
    auditor = make_auditor("auditor-1")
    assert client.get(url, headers=tokens.headers("admin")).json() == mine.json()
    assert client.get(url, headers=auditor).json() == mine.json()
    assert client.get(url, headers=tokens.headers("other_citizen")).status_code == 404
    for role in ("analyst", "staff_guild"):
        assert client.get(url, headers=tokens.headers(role)).status_code == 403
    assert client.get("/api/v1/instances/no-such-case/data-use", headers=auditor).status_code == 404


def test_auditors_read_every_case_and_the_audit_chain_and_change_nothing(
        client: TestClient, tokens: Tokens, make_auditor: Auditor, case: dict[str, Any], tmp_path: Path) -> None:
    auditor = make_auditor("auditor-2")
    listed = client.get("/api/v1/instances", headers=auditor)
    assert [i["id"] for i in listed.json()] == [case["id"]]
    shown = client.get(f"/api/v1/instances/{case['id']}", headers=auditor).json()
    assert shown["tasks"] and shown["history"], "the whole case: its open tasks and its history"
    verified = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert verified["ok"] is True and verified["checked"] > 0
    [task] = shown["tasks"]
    refused = [client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}, headers=auditor),
               client.post(f"/api/v1/tasks/{task['id']}/claim", headers=auditor),
               client.post(f"/api/v1/instances/{case['id']}/terminate", json={"reason": "audit"}, headers=auditor),
               client.post("/api/v1/processes/business_licence/instances", json={"data": {}}, headers=auditor),
               client.post("/api/v1/messages", json={"name": "m"}, headers=auditor),
               client.post("/api/v1/deployments", files=model_files("approval.bpmn"), headers=auditor)]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert client.get(f"/api/v1/instances/{case['id']}", headers=auditor).json()["history"] == shown["history"]
