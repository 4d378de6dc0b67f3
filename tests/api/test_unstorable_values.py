"""A value the database will not keep is a 422 with a clear message, never a 500.

Whatever bound upstream should have stopped it, the database's own refusal (PostgreSQL's data
exceptions and program limits, SQLite's and the drivers' refusals while binding) becomes
`Unstorable`: 422 with the one error body from the API, a plain 422 page for pages, and a
warning in the log with the driver's words. Text a model computes that no database keeps is
refused the same way on both databases, before anything is written.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import pytest
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.app import build_app
from engine.db.models import Deployment, Instance, MessageBufferRow, RateLimitHit
from engine.services.errors import Unstorable
from engine.services.runtime import Runtime
from tests.fixtures import PG_URL, Tokens
from tests.importer.bpmn_text import flow, model, script

Change = Callable[[Session], object]


def _overflowing_id(session: Session) -> object:
    return session.execute(select(Deployment.id).where(Deployment.id == 2**64)).all()


def _surrogate(session: Session) -> object:
    session.add(RateLimitHit(key="key-\ud800"))
    return session.flush()


def _too_long(session: Session) -> object:
    session.add(RateLimitHit(key="k" * 201))
    return session.flush()


def _nul(session: Session) -> object:
    session.add(RateLimitHit(key="a\x00b"))
    return session.flush()


def _index_row_too_large(session: Session) -> object:
    # Random 4-byte characters, so PostgreSQL cannot compress the entry below its index row limit.
    chosen = random.Random(7)
    wide = "".join(chr(chosen.randrange(0x1F300, 0x1F6FF)) for _ in range(500))
    session.add(MessageBufferRow(id="b", name=wide[:255], correlation=wide, payload={}, sent_by="test",
                                 expires_at=func.now()))
    return session.flush()


# What each change is refused as, on both databases; then on PostgreSQL only (SQLite keeps any
# length, NUL and the index entry).
EVERYWHERE = [(_overflowing_id, "a number is outside the range"), (_surrogate, "lone surrogate")]
POSTGRESQL_ONLY = [(_too_long, "at most 200 characters"), (_nul, "NUL character"),
                   (_index_row_too_large, "too large for the database to keep or index")]


def _stored_keys(runtime: Runtime) -> int:
    with runtime.reading() as session:
        return session.execute(select(func.count()).select_from(RateLimitHit)).scalar_one()


def test_the_databases_refusals_are_unstorable_and_logged(runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    cases = EVERYWHERE + (POSTGRESQL_ONLY if PG_URL else [])
    for change, words in cases:
        caplog.clear()
        with (caplog.at_level(logging.WARNING, "panjereh.database"), pytest.raises(Unstorable) as refused,
              runtime.unit_of_work() as session):
            change(session)
        assert words in str(refused.value) and "nothing was saved" in str(refused.value), change.__name__
        [record] = [r for r in caplog.records if r.name == "panjereh.database"]
        assert record.levelno == logging.WARNING and "database refused a value" in record.getMessage()
    assert _stored_keys(runtime) == 0
    if not PG_URL:
        # SQLite keeps what PostgreSQL refuses here: the same changes go through.
        for change in (_too_long, _nul):
            with runtime.unit_of_work() as session:
                change(session)
        assert _stored_keys(runtime) == 2


@pytest.mark.parametrize("change, words", EVERYWHERE)
def test_the_api_and_the_pages_answer_422(runtime: Runtime, change: Change, words: str) -> None:
    app = build_app(runtime)

    def probe(request: Request) -> HTMLResponse:
        with runtime.unit_of_work() as session:
            change(session)
        return HTMLResponse("stored")

    # The same refusal under an API path and under a page's path.
    app.add_api_route("/api/v1/probe", probe)
    app.add_api_route("/probe", probe)
    with TestClient(app) as client:
        api = client.get("/api/v1/probe")
        assert api.status_code == 422, api.text
        body = api.json()
        assert words in body["detail"] and body["errors"][0]["message"] == body["detail"]
        page = client.get("/probe")
        assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
        assert "Nothing was saved" in page.text and "ذخیره نشد" in page.text


def _scripted(code: str) -> bytes:
    return model('<bpmn:startEvent id="s"/>' + script("compute", code) + '<bpmn:userTask id="review"/>'
                 '<bpmn:endEvent id="e"/>' + flow("f0", "s", "compute") + flow("f1", "compute", "review")
                 + flow("f2", "review", "e"), key="computes")


@pytest.mark.parametrize("code, where", [
    ('note = "a\\x00b"', "note"),
    ('names = {"ok": ["fine", "\\ud800"]}', "names.ok.1"),
    ('table = {"key\\x00": 1}', "table.key"),
    ("ratio = [1.5, 1e309]", "ratio.1"),
    ('mean = float("nan")', "mean"),
])
def test_text_a_script_makes_that_no_database_keeps_is_refused_on_both(client: TestClient, tokens: Tokens,
                                                                        code: str, where: str) -> None:
    analyst = tokens.headers("analyst")
    deployed = client.post("/api/v1/deployments", files=[("files", ("computes.bpmn", _scripted(code), "text/xml"))],
                           headers=analyst)
    assert deployed.status_code == 201, deployed.text
    started = client.post("/api/v1/processes/computes/instances", json={"data": {}}, headers=analyst)
    assert started.status_code == 422, started.text
    assert where in started.json()["detail"] and "nothing was saved" in started.json()["detail"]
    assert client.get("/api/v1/instances", headers=analyst).json() == []


def test_a_script_that_makes_ordinary_text_still_runs(client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    analyst = tokens.headers("analyst")
    model_bytes = _scripted('note = "سلام \\u200c x\\ty"')
    assert client.post("/api/v1/deployments", files=[("files", ("computes.bpmn", model_bytes, "text/xml"))],
                       headers=analyst).status_code == 201
    started = client.post("/api/v1/processes/computes/instances", json={"data": {}}, headers=analyst)
    assert started.status_code == 201, started.text
    with runtime.reading() as session:
        stored = session.get(Instance, started.json()["id"])
        assert stored is not None and stored.data["note"] == "سلام \u200c x\ty"


def test_a_script_error_quoting_such_text_fails_the_instance_readably(client: TestClient, tokens: Tokens) -> None:
    analyst = tokens.headers("analyst")
    model_bytes = _scripted('raise ValueError("bad \\x00 and \\ud800 here")')
    assert client.post("/api/v1/deployments", files=[("files", ("computes.bpmn", model_bytes, "text/xml"))],
                       headers=analyst).status_code == 201
    started = client.post("/api/v1/processes/computes/instances", json={"data": {}}, headers=analyst)
    assert started.status_code == 201, started.text
    failed = client.get(f"/api/v1/instances/{started.json()['id']}", headers=analyst).json()
    assert failed["status"] == "failed" and "bad \\x00 and \\ud800 here" in failed["error"], failed["error"]
