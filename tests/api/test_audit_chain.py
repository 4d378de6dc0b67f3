"""The audit log is hash-chained; `panjereh audit verify` finds any edit, deletion or reordering."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from engine.cli import main as cli
from engine.services.runtime import Runtime
from engine.settings import Settings, get_settings
from tests.api.test_deploy_and_run import complete, deploy, ready_tasks
from tests.fixtures import Tokens


@pytest.fixture
def history(client: TestClient, tokens: Tokens) -> None:
    deploy(client, tokens, "approval.bpmn")
    instance = client.post("/api/v1/processes/approval/instances", json={"data": {}},
                           headers=tokens.headers("analyst")).json()
    [request] = ready_tasks(client, tokens, instance["id"])
    complete(client, tokens, request["id"], {"amount": 10, "channel": "sms"})


def _verify(monkeypatch: pytest.MonkeyPatch, settings: Settings, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setenv("PANJEREH_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        code = cli(["audit", "verify"])
    finally:
        get_settings.cache_clear()
    return code, capsys.readouterr().out


def _sql(runtime: Runtime, statement: str) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(text(statement))


@pytest.mark.usefixtures("history")
def test_intact_chain_verifies(client: TestClient, tokens: Tokens, monkeypatch: pytest.MonkeyPatch,
                               settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _verify(monkeypatch, settings, capsys)
    assert code == 0 and "chain intact" in out
    api = client.get("/api/v1/audit/verify", headers=tokens.headers("admin")).json()
    assert api["ok"] is True and api["checked"] > 5


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize("tamper, words", [
    ("UPDATE audit_event SET actor = 'analyst:someone-else' WHERE id = 3", "event 3: contents do not match"),
    ("DELETE FROM audit_event WHERE id = 4", "events 4..4 are missing"),
    ("swap events 3 and 4", "does not follow the event before it"),
    ("DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)", "cut from the end"),
])
def test_tampering_is_detected(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, settings: Settings,
                               capsys: pytest.CaptureFixture[str], tamper: str, words: str) -> None:
    if tamper.startswith("swap"):
        _sql(runtime, "UPDATE audit_event SET id = -1 WHERE id = 3")
        _sql(runtime, "UPDATE audit_event SET id = 3 WHERE id = 4")
        _sql(runtime, "UPDATE audit_event SET id = 4 WHERE id = -1")
    else:
        _sql(runtime, tamper)
    code, out = _verify(monkeypatch, settings, capsys)
    assert code == 1
    assert "CHAIN BROKEN" in out and words in out
