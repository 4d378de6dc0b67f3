"""A 2xx means committed: every route that changes something commits before it answers, and
a commit that fails is answered as an error, with nothing saved.

The failure is real and happens at COMMIT: on PostgreSQL a deferred constraint trigger on
every table raises; on SQLite a trigger on every table inserts a row that breaks a deferred
foreign key, which SQLite checks only when the transaction commits.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

from engine.api.app import ROUTERS
from engine.api.deps import get_writer, read_session
from engine.db.base import Base
from engine.db.models import Instance
from engine.services.runtime import Runtime
from engine.web import analyst, issued, journey, payments, portal, signin, staff
from tests.api.test_immutable_deployments import mark_output
from tests.api.world import World, build_world
from tests.fixtures import Tokens, model_files
from tests.web.journey import PDF

# POST routes that take input but change nothing: they need not open a unit of work.
READ_ONLY_POSTS = {("POST", "/api/v1/deployments/validate")}


@dataclass
class Call:
    role: str
    url: str
    body: dict[str, Any]


def _new_model() -> list[tuple[str, tuple[str, bytes, str]]]:
    [(field, (name, content, kind))] = model_files("approval.bpmn")
    return [(field, (name, content.replace(b"Grant approval", b"Grant approval, again"), kind))]


WRITES: dict[tuple[str, str], Callable[[World], Call]] = {
    ("POST", "/api/v1/deployments"): lambda w: Call("analyst", "/api/v1/deployments", {"files": _new_model()}),
    # Tests that walk these change the importer after building the world (`mark_output`), so that
    # the redeploy has a new translation to store.
    ("POST", "/api/v1/deployments/{deployment_id}/redeploy"): lambda w: Call(
        "analyst", f"/api/v1/deployments/{w.deployment_id}/redeploy", {}),
    ("POST", "/api/v1/deployments/validate"): lambda w: Call(
        "analyst", "/api/v1/deployments/validate", {"files": model_files("approval.bpmn")}),
    ("POST", "/api/v1/processes/{key}/instances"): lambda w: Call(
        "citizen", "/api/v1/processes/approval/instances", {"json": {"data": {}}}),
    ("POST", "/api/v1/instances/{instance_id}/terminate"): lambda w: Call(
        "admin", f"/api/v1/instances/{w.instances[-1]}/terminate", {"json": {"reason": "closed by the test"}}),
    ("POST", "/api/v1/instances/{instance_id}/migrate"): lambda w: Call(
        "admin", f"/api/v1/instances/{w.migrating[0]}/migrate", {"json": {"deployment_id": w.migration_target}}),
    ("POST", "/api/v1/tasks/{task_id}/complete"): lambda w: Call(
        "analyst", f"/api/v1/tasks/{w.ready_tasks[0]}/complete", {"json": {"data": {"amount": 10}}}),
    ("POST", "/api/v1/tasks/{task_id}/claim"): lambda w: Call(
        "analyst", f"/api/v1/tasks/{w.ready_tasks[1]}/claim", {}),
    ("POST", "/api/v1/service-calls/{call_id}/complete"): lambda w: Call(
        "admin", f"/api/v1/service-calls/{w.parked_calls[0]}/complete", {"json": {"result": {"first_name": "A"}}}),
    ("POST", "/api/v1/service-calls/{call_id}/error"): lambda w: Call(
        "admin", f"/api/v1/service-calls/{w.caught_calls[0]}/error", {"json": {"code": "not-found"}}),
    ("POST", "/api/v1/incidents/{incident_id}/retry"): lambda w: Call(
        "admin", f"/api/v1/incidents/{w.incident_id}/retry", {}),
    ("POST", "/api/v1/uploads"): lambda w: Call(
        "citizen", "/api/v1/uploads", {"files": {"file": ("deed.pdf", PDF, "application/pdf")}}),
    ("POST", "/api/v1/messages"): lambda w: Call(
        "admin", "/api/v1/messages", {"json": {"name": "nobody_waits", "correlation": "K-1", "payload": {}}}),
    ("POST", "/api/v1/signals"): lambda w: Call(
        "admin", "/api/v1/signals", {"json": {"name": "product_recall", "payload": {}}}),
    ("POST", "/api/v1/documents/{document_id}/revoke"): lambda w: Call(
        "staff_guild", f"/api/v1/documents/{w.document_id}/revoke", {"json": {"reason": "revoked by the test"}}),
}


def _routes() -> Iterator[tuple[str, str, Any]]:
    for router in ROUTERS:
        for route in router.routes:
            for method in sorted(route.methods):  # type: ignore[attr-defined]
                yield method, route.path, route  # type: ignore[attr-defined]


def _yields(call: Any) -> bool:
    target = call if inspect.isfunction(call) or inspect.ismethod(call) else type(call).__call__
    return inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target)


def _calls(dependant: Any) -> Iterator[Any]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _calls(sub)


def test_reads_are_read_only_and_writes_commit_inside_the_route() -> None:
    """No route can answer before its commit: the only generator dependency left is the
    read-only session, it ends with the route (scope "function"), and only reads use it;
    every route that changes anything does so through the writer."""
    for method, path, route in _routes():
        used = list(_calls(route.dependant))
        generators = [d for d in used if d.call is not None and _yields(d.call)]
        assert all(d.call is read_session and d.scope == "function" for d in generators), (method, path)
        writes = any(d.call is get_writer for d in used)
        reads = any(d.call is read_session for d in used)
        if method == "GET":
            assert not writes, f"GET {path} writes"
        else:
            assert not reads, f"{method} {path} reads through the read-only session"
            assert writes or (method, path) in READ_ONLY_POSTS, f"{method} {path} changes nothing through a writer"


def test_pages_have_no_dependency_that_outlives_them() -> None:
    """The HTML pages change things in `runtime.unit_of_work()` inside the handler, which has
    committed before the page answers; none may depend on a generator, whose exit would run
    after the answer was sent."""
    pages = 0
    for module in (analyst, journey, payments, portal, signin, staff, issued):
        for route in module.router.routes:
            assert not any(d.call is not None and _yields(d.call) for d in _calls(route.dependant)), route.path
            pages += 1
    assert pages >= 20


def _snapshot(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    with runtime.engine.connect() as connection:
        return {table.name: [tuple(row) for row in connection.execute(
            table.select().order_by(*table.primary_key.columns))] for table in Base.metadata.sorted_tables}


@contextmanager
def _tripwire(runtime: Runtime, code: str = "integrity_constraint_violation") -> Iterator[None]:
    """Every change to every table makes the transaction's COMMIT fail (on PostgreSQL with
    the SQLSTATE condition `code`)."""
    tables = [table.name for table in Base.metadata.sorted_tables]
    postgres = runtime.engine.dialect.name == "postgresql"
    with runtime.engine.begin() as connection:
        if postgres:
            connection.execute(text(
                "CREATE FUNCTION tripwire() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"RAISE EXCEPTION 'tripwire: this commit is refused' USING ERRCODE = '{code}';"
                " END $$"))
            for table in tables:
                connection.execute(text(
                    f"CREATE CONSTRAINT TRIGGER tripwire AFTER INSERT OR UPDATE OR DELETE ON {table} "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tripwire()"))
        else:
            connection.execute(text("CREATE TABLE tripwire_parent (id INTEGER PRIMARY KEY)"))
            connection.execute(text("CREATE TABLE tripwire (parent INTEGER REFERENCES tripwire_parent (id) "
                                    "DEFERRABLE INITIALLY DEFERRED)"))
            for table in tables:
                for change in ("INSERT", "UPDATE", "DELETE"):
                    connection.execute(text(f"CREATE TRIGGER tripwire_{table}_{change.lower()} AFTER {change} "
                                            f"ON {table} BEGIN INSERT INTO tripwire VALUES (1); END"))
    try:
        yield
    finally:
        with runtime.engine.begin() as connection:
            if postgres:
                for table in tables:
                    connection.execute(text(f"DROP TRIGGER tripwire ON {table}"))
                connection.execute(text("DROP FUNCTION tripwire()"))
            else:
                for table in tables:
                    for change in ("insert", "update", "delete"):
                        connection.execute(text(f"DROP TRIGGER tripwire_{table}_{change}"))
                connection.execute(text("DROP TABLE tripwire"))
                connection.execute(text("DROP TABLE tripwire_parent"))


def _send(client: TestClient, tokens: Tokens, call: Call) -> Any:
    return client.post(call.url, headers=tokens.headers(call.role), **call.body)


def test_every_write_answers_an_error_when_its_commit_fails(client: TestClient, tokens: Tokens, runtime: Runtime,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    spec = client.get("/openapi.json").json()
    posted = {(method.upper(), path) for path, item in spec["paths"].items() for method in item if method != "get"}
    assert posted == set(WRITES), "every route that takes a change needs its case here"
    world = build_world(client, tokens)
    mark_output(monkeypatch)
    for (method, path), make in WRITES.items():
        call = make(world)
        before = _snapshot(runtime)
        with _tripwire(runtime):
            refused = _send(client, tokens, call)
        after = _snapshot(runtime)
        if (method, path) in READ_ONLY_POSTS:
            assert refused.status_code == 200 and after == before, (path, refused.text)
            continue
        assert refused.status_code == 409, (path, refused.status_code, refused.text)
        assert "nothing was saved" in refused.json()["detail"]
        assert after == before, f"{method} {path} left rows behind after its commit failed"
        accepted = _send(client, tokens, call)
        assert accepted.status_code in (200, 201), (path, accepted.text)
        assert _snapshot(runtime) != before, f"{method} {path} changed nothing: the case proves nothing"


def test_a_write_in_a_read_only_session_fails_loudly(client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    assert client.post("/api/v1/deployments", files=model_files("approval.bpmn"),
                       headers=tokens.headers("analyst")).status_code == 201
    started = client.post("/api/v1/processes/approval/instances", json={"data": {}},
                          headers=tokens.headers("analyst")).json()
    with pytest.raises(DBAPIError), runtime.reading() as session:
        session.execute(update(Instance).where(Instance.id == started["id"]).values(error="written"))
        session.commit()
    with runtime.reading() as session:
        stored = session.get(Instance, started["id"])
        assert stored is not None and stored.error is None


# What each kind of failure at COMMIT is answered with (PostgreSQL condition names).
ANSWERS = {"integrity_constraint_violation": 409, "unique_violation": 409, "serialization_failure": 409,
           "deadlock_detected": 409, "lock_not_available": 503, "query_canceled": 503, "too_many_connections": 503,
           "admin_shutdown": 503, "cannot_connect_now": 503, "string_data_right_truncation": 422,
           "numeric_value_out_of_range": 422, "untranslatable_character": 422, "program_limit_exceeded": 422}


def test_each_kind_of_failed_commit_gets_its_answer(client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    """A lost race or a refused constraint is 409, a busy or unavailable database 503 with
    Retry-After, a value the database cannot keep 422; always the API's JSON error body, never a
    500 or a page."""
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("the failure is raised with each SQLSTATE by a PostgreSQL trigger")
    world = build_world(client, tokens, copies=1)
    call = WRITES[("POST", "/api/v1/tasks/{task_id}/complete")](world)
    for code, status in ANSWERS.items():
        with _tripwire(runtime, code):
            refused = _send(client, tokens, call)
        assert refused.status_code == status, (code, refused.status_code, refused.text)
        assert refused.headers["content-type"] == "application/json", (code, refused.text)
        assert "nothing was" in refused.json()["detail"]
        assert (status == 503) == ("retry-after" in refused.headers), code
    assert _send(client, tokens, call).status_code == 200
