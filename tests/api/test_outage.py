"""A database that is down or held by someone else is answered 503 with Retry-After, by the
API and by the pages alike, never 500; when it is back, so is the service."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import NullPool, create_engine, make_url, text

from engine.app import build_app
from engine.compose import build_runtime
from engine.db.base import make_engine
from engine.security.tokens import create_token
from engine.services.errors import Unavailable
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.fixtures import ADMIN_TOKEN, PG_URL, ROOT, _empty_pg, model_files, serve
from tests.web.journey import csrf

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


@contextmanager
def _table_locked(database_url: str, table: str, longest: float = 60) -> Iterator[None]:
    """Another connection holds `table` in ACCESS EXCLUSIVE mode, as `LOCK TABLE` in psql or a
    migration's ALTER would, until the block ends (or `longest` seconds pass, so that a server
    that waits for it unboundedly fails this test instead of hanging it)."""
    released = threading.Event()
    locked = threading.Event()

    def hold() -> None:
        holder = create_engine(database_url, poolclass=NullPool)
        with holder.connect() as connection, connection.begin():
            connection.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            released.wait(longest)
        holder.dispose()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(30), "the lock was not taken"
        yield
    finally:
        released.set()
        thread.join()


def test_a_table_locked_by_another_connection_answers_503_not_a_wait(settings: Settings) -> None:
    """PostgreSQL waits for a lock as long as its holder likes unless told otherwise: every
    request, page and API alike, is bounded by PANJEREH_DATABASE_TIMEOUT_SECONDS and answered
    503 with Retry-After; /health says the database is not answering instead of waiting."""
    if not PG_URL:
        pytest.skip("needs PostgreSQL (PANJEREH_TEST_DATABASE_URL)")
    runtime = build_runtime(settings.model_copy(update={"database_timeout_seconds": 1}), migrate=False)
    _empty_pg(runtime)
    try:
        with TestClient(build_app(runtime)) as client:
            analyst = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            assert client.post("/api/v1/deployments", files=model_files("approval.bpmn"),
                               headers=analyst).status_code == 201
            with runtime.unit_of_work() as session:
                citizen = {"Authorization": f"Bearer {create_token(session, 'citizen', '0499370899')}"}
            started = client.post("/api/v1/processes/approval/instances", json={"data": {}}, headers=citizen).json()
            track = client.get("/track")
            tracked = {"csrf_token": csrf(track.text), "tracking_code": started["tracking_code"],
                       "national_code": "0499370899"}
            with _table_locked(PG_URL, "instance"):
                _refused(client.get("/api/v1/health"))
                with ThreadPoolExecutor(8) as pool:  # asked at once, they share one probe's answer
                    for answer in pool.map(lambda _: client.get("/api/v1/health"), range(8)):
                        _refused(answer)
                _refused(client.get("/api/v1/instances", headers=analyst))
                _refused(client.get(f"/api/v1/instances/{started['id']}", headers=citizen))
                _refused(client.post("/api/v1/processes/approval/instances", json={"data": {}}, headers=citizen))
                page = client.post("/track", data=tracked)
                _refused(page)
                assert page.headers["content-type"].startswith("text/html")
            assert client.get("/api/v1/health").status_code == 200
            assert client.get(f"/api/v1/instances/{started['id']}", headers=citizen).status_code == 200
            assert client.post("/track", data=tracked).status_code == 200
    finally:
        runtime.close()


def test_a_read_that_runs_past_the_timeout_is_cut_short(settings: Settings) -> None:
    """A read changes nothing, so one slower than the timeout ends with Unavailable (503) rather
    than holding its request thread; writes are bounded by lock waits instead."""
    if not PG_URL:
        pytest.skip("needs PostgreSQL (PANJEREH_TEST_DATABASE_URL)")
    runtime = build_runtime(settings.model_copy(update={"database_timeout_seconds": 1}), migrate=False)
    try:
        with pytest.raises(Unavailable), runtime.reading() as session:
            session.execute(text("SELECT pg_sleep(30)"))
        with runtime.reading() as session:
            assert session.execute(text("SELECT 1")).scalar() == 1
        with runtime.unit_of_work() as session:
            assert session.execute(text("SELECT pg_sleep(1.5), 2")).one()[1] == 2
    finally:
        runtime.close()


def _waiting_on_a_lock(database_url: str) -> bool:
    watcher = create_engine(database_url, poolclass=NullPool)
    with watcher.connect() as connection:
        waiting = connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )).scalar_one()
    watcher.dispose()
    return bool(waiting)


def test_health_does_not_queue_behind_requests_that_wait(settings: Settings) -> None:
    """With every request thread waiting on a locked table, /health still answers, and says the
    database is not answering, before those requests reach their own timeout."""
    if not PG_URL:
        pytest.skip("needs PostgreSQL (PANJEREH_TEST_DATABASE_URL)")
    waits = settings.model_copy(update={"database_timeout_seconds": 4, "server_threads": 1})
    runtime = build_runtime(waits, migrate=False)
    _empty_pg(runtime)
    answers: list[tuple[str, int]] = []
    try:
        with serve(build_app(runtime)) as url, _table_locked(PG_URL, "instance"):
            def wait_on_the_lock() -> None:
                response = httpx.get(f"{url}/api/v1/instances", headers=ADMIN, timeout=None)
                answers.append(("instances", response.status_code))

            waiting = threading.Thread(target=wait_on_the_lock)
            waiting.start()
            polls = 0
            while not _waiting_on_a_lock(PG_URL):
                polls += 1
                assert polls < 3000 and waiting.is_alive(), "the request never waited on the lock"
            health = httpx.get(f"{url}/api/v1/health", timeout=None)
            answers.append(("health", health.status_code))
            _refused(health)
            waiting.join()
    finally:
        runtime.close()
    assert answers == [("health", 503), ("instances", 503)], answers


def test_every_connection_bounds_its_lock_waits_and_keeps_the_urls_own_options() -> None:
    if not PG_URL:
        pytest.skip("needs PostgreSQL (PANJEREH_TEST_DATABASE_URL)")
    url = make_url(PG_URL).update_query_dict({"options": "-c application_name=panjereh-options-test"})
    engine = make_engine(url.render_as_string(hide_password=False), timeout=1.5)
    try:
        with engine.connect() as connection:
            shown = [connection.execute(text(f"SHOW {name}")).scalar_one() for name in ("lock_timeout",
                                                                                           "application_name")]
        assert shown == ["1500ms", "panjereh-options-test"], shown
    finally:
        engine.dispose()
