"""An agency's answer holding text no database keeps (NUL, a lone surrogate) cannot enter a case:
the call opens an incident, the use of the citizen's data is still on record, and nothing is
retried for ever; the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.testclient import TestClient

from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.connectors.flows import case, deploy, spiff_operator, start, with_fallback
from tests.fixtures import ADMIN_TOKEN, PG_URL, ROOT, Tokens, serve

ANSWERS = {"nul": '{"id": "m-\\u0000-1"}', "surrogate": '{"id": "m-\\ud800-1"}'}


@pytest.fixture
def gateway() -> Iterator[str]:
    """An SMS gateway whose message ids hold what no database keeps, chosen by the text sent."""
    app = FastAPI()

    @app.post("/messages")
    async def send(body: dict[str, str]) -> Response:
        return Response(ANSWERS[body["text"]], media_type="application/json")

    with serve(app) as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, pg_ready: bool, gateway: str) -> Settings:
    return Settings(var_dir=tmp_path / "var", database_url=PG_URL if pg_ready else f"sqlite:///{tmp_path / 'p.db'}",
                    processes_dir=ROOT / "processes", admin_token=ADMIN_TOKEN, sandbox=False,
                    connectors={"sms": {"base_url": gateway}})


@pytest.mark.parametrize("answer", list(ANSWERS))
def test_an_answer_no_database_keeps_opens_an_incident(client: TestClient, tokens: Tokens, runtime: Runtime,
                                                       answer: str) -> None:
    model = with_fallback("notify", spiff_operator("sms/send", {"to": "'09121234567'", "text": f"'{answer}'"}))
    assert deploy(client, tokens, model).status_code == 201

    found = case(runtime, start(client, tokens, "notify", {}))

    assert [i.kind for i in found.incidents] == ["cannot-apply"], found.incidents
    assert "cannot be saved: id must not contain" in found.incidents[0].message
    assert found.call.status == "incident" and found.data_uses == ["ok"]
    assert found.status == "waiting" and "answer" not in found.data
