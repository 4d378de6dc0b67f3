"""A database that is down or held by someone else is answered 503 with Retry-After, by the
API and by the pages alike, never 500; when it is back, so is the service."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text

from engine.app import build_app
from engine.services.runtime import Runtime, build_runtime
from engine.settings import Settings
from tests.fixtures import ADMIN_TOKEN, PG_URL, ROOT, model_files, serve

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(var_dir=tmp_path / "var", database_url=database_url, processes_dir=ROOT / "processes",
                    admin_token=ADMIN_TOKEN, sandbox=False, database_timeout_seconds=1)


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.request.url, response.status_code, response.text)
    assert int(response.headers["retry-after"]) > 0


@pytest.fixture
def outage_database() -> Iterator[str]:
    """A PostgreSQL database of this test's own, which it can take down and bring back."""
    if not PG_URL:
        pytest.skip("needs PostgreSQL (PANJEREH_TEST_DATABASE_URL)")
    url = make_url(PG_URL)
    name = f"{url.database}_outage"
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _allow_connections(database_url: str, allowed: bool) -> None:
    url = make_url(database_url)
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
        if not allowed:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                               {"name": url.database})
    server.dispose()


def test_postgresql_outage_answers_503_and_recovers(tmp_path: Path, outage_database: str) -> None:
    runtime = build_runtime(_settings(tmp_path, outage_database))
    try:
        with serve(build_app(runtime)) as url, httpx.Client(base_url=url, headers=ADMIN, timeout=30) as http:
            assert http.post("/api/v1/deployments", files=model_files("approval.bpmn")).status_code == 201
            assert http.get("/api/v1/health").status_code == 200
            _allow_connections(outage_database, False)
            _refused(http.get("/api/v1/health"))
            _refused(http.get("/api/v1/instances"))
            _refused(http.post("/api/v1/processes/approval/instances", json={"data": {}}))
            page = http.get("/", headers={"Accept": "text/html"})
            _refused(page)
            assert page.headers["content-type"].startswith("text/html")
            _allow_connections(outage_database, True)
            assert http.get("/api/v1/health").status_code == 200
            assert http.post("/api/v1/processes/approval/instances", json={"data": {}}).status_code == 201
    finally:
        runtime.close()


HOLD_THE_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
connection.execute("ROLLBACK")
"""


def test_sqlite_held_by_another_process_answers_503_and_recovers(tmp_path: Path) -> None:
    database = tmp_path / "held.db"
    runtime: Runtime = build_runtime(_settings(tmp_path, f"sqlite:///{database}"))
    try:
        with serve(build_app(runtime)) as url, httpx.Client(base_url=url, headers=ADMIN, timeout=30) as http:
            assert http.post("/api/v1/deployments", files=model_files("approval.bpmn")).status_code == 201
            holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(database)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
            try:
                assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
                _refused(http.post("/api/v1/processes/approval/instances", json={"data": {}}))
                assert http.get("/api/v1/health").status_code == 200, "readers do not wait for the write lock"
            finally:
                holder.communicate("", timeout=30)
            assert http.post("/api/v1/processes/approval/instances", json={"data": {}}).status_code == 201
    finally:
        runtime.close()


def test_a_pool_with_no_free_connection_answers_503(tmp_path: Path, pg_ready: bool) -> None:
    """Connections held elsewhere (a stuck job, another tool): requests wait the database
    timeout for one, then get 503 with Retry-After instead of piling up."""
    database = PG_URL if pg_ready else f"sqlite:///{tmp_path / 'pool.db'}"
    settings = _settings(tmp_path, database).model_copy(update={"server_threads": 1})
    runtime = build_runtime(settings, migrate=not pg_ready)
    try:
        with serve(build_app(runtime)) as url, httpx.Client(base_url=url, headers=ADMIN, timeout=30) as http:
            assert http.get("/api/v1/health").status_code == 200
            held = [runtime.engine.connect() for _ in range(runtime.engine.pool.size() + 1)]
            try:
                _refused(http.post("/api/v1/processes/nothing_deployed/instances", json={"data": {}}))
            finally:
                for connection in held:
                    connection.close()
            assert http.post("/api/v1/processes/nothing_deployed/instances", json={"data": {}}).status_code == 404
    finally:
        runtime.close()
