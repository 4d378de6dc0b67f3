"""An agency's answer nested too deep or too big for a case is refused before it enters one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from connectors.limits import ResultLimits
from connectors.registry import load_registry
from connectors.sdk import ConnectorError
from connectors.testing import FakeAgency, connector_context, run_operation
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.connectors.flows import case, deploy, spiff_operator, start, with_fallback
from tests.connectors.plugins import Archive
from tests.connectors.test_registry import ep
from tests.fixtures import ADMIN_TOKEN, PG_URL, ROOT, Tokens, serve

CONFIG = {"base_url": "http://archive.test"}
PARAMS = {"postal_code": "1234567890"}


def nested(levels: int) -> Any:
    """A value whose deepest item sits `levels` below the value itself."""
    value: Any = "bottom"
    for level in range(levels):
        value = {"level": value} if level % 2 else [value]
    return value


def archive(content_json: str) -> FakeAgency:
    agency = FakeAgency()
    agency.respond("GET", "/documents/1234567890", lambda request: httpx.Response(
        200, content=f'{{"content": {content_json}}}'.encode(), headers={"Content-Type": "application/json"}))
    return agency


def test_an_answer_that_fits_a_case_is_returned() -> None:
    # The answer lands one level down in the case's data ({"answer": {"content": ...}}).
    fits = nested(30)
    assert run_operation(Archive, "document", PARAMS, archive(json.dumps(fits)), config=CONFIG) == {"content": fits}


@pytest.mark.parametrize("levels", [31, 200, 50_000])
def test_an_answer_nested_too_deep_is_refused(levels: int) -> None:
    with pytest.raises(ConnectorError) as caught:
        run_operation(Archive, "document", PARAMS, archive(json.dumps(nested(levels)) if levels < 500 else
                                                           "[" * levels + "]" * levels), config=CONFIG)
    assert (caught.value.code, caught.value.retryable) == ("result-too-deep", False)


def test_an_answer_bigger_than_a_case_may_hold_is_refused() -> None:
    with pytest.raises(ConnectorError) as caught:
        run_operation(Archive, "document", PARAMS, archive(json.dumps("x" * 1_000_001)), config=CONFIG)
    assert (caught.value.code, caught.value.retryable) == ("result-too-large", False)
    assert "1,000,000" in caught.value.message


def test_the_limits_are_the_configured_ones() -> None:
    registry = load_registry(entry_points=[ep("archive", "Archive")], config={"archive": CONFIG},
                             limits=ResultLimits(max_bytes=100, max_depth=4))
    operation = registry.operations["archive/document"]
    for content, code in ((json.dumps("x" * 100), "result-too-large"), (json.dumps(nested(4)), "result-too-deep")):
        ctx = connector_context(archive(content))
        with pytest.raises(ConnectorError) as caught:
            operation.call(ctx, PARAMS)
        ctx.http.close()
        assert caught.value.code == code
    ctx = connector_context(archive(json.dumps(nested(2))))
    assert operation.call(ctx, PARAMS) == {"content": nested(2)}
    ctx.http.close()


@pytest.fixture
def gateway() -> Iterator[str]:
    """An SMS gateway whose message ids are bigger than a case may hold."""
    app = FastAPI()

    @app.post("/messages")
    def send() -> dict[str, str]:
        return {"id": "m" * 6_000}

    with serve(app) as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, pg_ready: bool, gateway: str) -> Settings:
    return Settings(var_dir=tmp_path / "var", database_url=PG_URL if pg_ready else f"sqlite:///{tmp_path / 'p.db'}",
                    processes_dir=ROOT / "processes", admin_token=ADMIN_TOKEN, sandbox=False,
                    max_data_bytes=5_000, connectors={"sms": {"base_url": gateway}})


def test_a_case_never_takes_an_answer_too_big_for_it(client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    model = with_fallback("notify", spiff_operator("sms/send", {"to": "'09121234567'", "text": "'hello'"}))
    assert deploy(client, tokens, model).status_code == 201

    found = case(runtime, start(client, tokens, "notify", {}))

    assert [i.kind for i in found.incidents] == ["result-too-large"]
    assert "5,000" in found.incidents[0].message
    # The gateway did answer, so the use of the citizen's data is on record.
    assert found.data_uses == ["result-too-large"]
    assert found.status == "waiting" and found.ready_tasks == [] and "answer" not in found.data
    assert client.get(f"/api/v1/instances/{found.call.instance_id}",
                      headers=tokens.headers("admin")).status_code == 200
