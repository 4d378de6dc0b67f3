"""A failure nobody classified is still answered with the one error body: JSON under /api, a
plain page elsewhere, status 500, a reference that the log carries with the details, and
nothing of the details in the answer. Every route's OpenAPI documents it.

The failure is real: on PostgreSQL a deferred trigger raises a plain `RAISE EXCEPTION`
(SQLSTATE P0001) at COMMIT; on SQLite a trigger calls a function that does not exist.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from engine.app import build_app
from engine.db.base import Base
from engine.services.runtime import Runtime
from engine.services.tracking import new_tracking_code
from tests.api.test_commit_before_answer import WRITES, _snapshot, _tripwire
from tests.api.test_immutable_deployments import mark_output
from tests.api.world import build_world
from tests.fixtures import Tokens
from tests.web.journey import csrf

# Words of the failure itself, none of which may reach the caller.
INTERNALS = ("tripwire", "panjereh_no_such_function", "Traceback", "sqlalchemy", "psycopg", "sqlite3", "INSERT",
             "UPDATE", "P0001")


@contextmanager
def _unclassified_failure(runtime: Runtime) -> Iterator[None]:
    """Every change to every table fails with an error engine/db/failures.py does not classify."""
    if runtime.engine.dialect.name == "postgresql":
        with _tripwire(runtime, "raise_exception"):
            yield
        return
    tables = [table.name for table in Base.metadata.sorted_tables]
    with runtime.engine.begin() as connection:
        for table in tables:
            for change in ("INSERT", "UPDATE", "DELETE"):
                connection.execute(text(f"CREATE TRIGGER unclassified_{table}_{change.lower()} AFTER {change} "
                                        f"ON {table} BEGIN SELECT panjereh_no_such_function(); END"))
    try:
        yield
    finally:
        with runtime.engine.begin() as connection:
            for table in tables:
                for change in ("insert", "update", "delete"):
                    connection.execute(text(f"DROP TRIGGER unclassified_{table}_{change}"))


def _logged(caplog: pytest.LogCaptureFixture, reference: str) -> logging.LogRecord:
    found = [r for r in caplog.records if r.name == "panjereh.errors" and reference in r.getMessage()]
    assert len(found) == 1, [r.getMessage() for r in caplog.records]
    assert found[0].exc_info is not None, "the log keeps the details"
    return found[0]


def test_an_unexpected_failure_in_the_api_is_the_error_body_with_a_reference(
        runtime: Runtime, tokens: Tokens, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(build_app(runtime), raise_server_exceptions=False) as client:
        world = build_world(client, tokens)
        mark_output(monkeypatch)  # so that the redeploy has something to store
        references: set[str] = set()
        for (_, path), make in WRITES.items():
            call = make(world)
            before = _snapshot(runtime)
            with _unclassified_failure(runtime):
                answer = client.post(call.url, headers=tokens.headers(call.role), **call.body)
            if answer.status_code == 200 and path == "/api/v1/deployments/validate":
                continue  # changes nothing, so nothing fails
            assert answer.status_code == 500, (path, answer.status_code, answer.text)
            assert answer.headers["content-type"] == "application/json", (path, answer.text)
            body: dict[str, Any] = answer.json()
            assert set(body) == {"detail", "errors", "reference"} and body["errors"] == [], body
            assert body["reference"] in body["detail"]
            assert not any(word.lower() in answer.text.lower() for word in INTERNALS), answer.text
            _logged(caplog, body["reference"])
            references.add(body["reference"])
            assert _snapshot(runtime) == before, f"{path} kept something of a failed request"
        assert len(references) == len(WRITES) - 1, "each failure has its own reference"


def test_an_unexpected_failure_under_a_page_is_a_plain_page_with_a_reference(
        runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(build_app(runtime), raise_server_exceptions=False) as client:
        track = client.get("/track")
        with _unclassified_failure(runtime):
            answer = client.post("/track", data={"csrf_token": csrf(track.text), "tracking_code": new_tracking_code(),
                                                 "national_code": "0499370899"})
    assert answer.status_code == 500, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-store"
    found = re.search(r"reference: ([0-9a-f]{12})", answer.text)
    assert found, answer.text
    assert not any(word.lower() in answer.text.lower() for word in INTERNALS), answer.text
    _logged(caplog, found.group(1))


def test_every_route_documents_500_with_the_error_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = [(method, path, operation) for path, item in spec["paths"].items()
                  for method, operation in item.items()]
    assert len(operations) >= 20
    for method, path, operation in operations:
        documented = operation["responses"].get("500")
        assert documented, f"{method.upper()} {path} does not document 500"
        assert documented["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
    assert "reference" in spec["components"]["schemas"]["ErrorOut"]["properties"]
