"""One suite, two databases: SQLite files by default, PostgreSQL when
PANJEREH_TEST_DATABASE_URL is set (CI sets it)."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text

from engine.app import build_app
from engine.compose import build_runtime
from engine.db.base import Base, make_engine
from engine.db.migrate import upgrade
from engine.security.tokens import create_token
from engine.services.runtime import Runtime
from engine.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
MODELS = Path(__file__).resolve().parent / "models"
PG_URL = os.environ.get("PANJEREH_TEST_DATABASE_URL", "")
ADMIN_TOKEN = "test-admin-token-0123456789"

# What the PostgreSQL pass of .ci/run leaves out (its --ignore options, which a test holds to
# this list), as it ran in full in the SQLite pass and never reaches a database: the pure core
# and BPMN layers (engine.core may not import one, by the import contracts), the forms and the
# simulated agencies (neither imports engine.db), the XSD placements and the scans of the
# source, and the outage answers, which make an SQLite file of their own in either pass.
# `pytest_collection_modifyitems` below refuses a test here that takes the database.
DATABASE_FREE = ("tests/core/", "tests/bpmn/", "tests/forms/", "tests/sandbox/",
                 "tests/importer/test_placement_generated.py", "tests/test_architecture.py",
                 "tests/test_status_literals.py", "tests/web/test_unavailable_answers.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test left out of the PostgreSQL pass may not take the database: it would never be
    run on PostgreSQL, the database CI holds the product to. A browser check outside
    tests/browser would be run by no pass of CI."""
    def takes_the_database(item: pytest.Item) -> bool:
        module = getattr(item, "module", None)
        return "pg_ready" in getattr(item, "fixturenames", ()) or (module is not None and hasattr(module, "PG_URL"))

    wrong = [item.nodeid for item in items if item.nodeid.startswith(DATABASE_FREE) and takes_the_database(item)]
    if wrong:
        raise pytest.UsageError("these tests take the database, but the PostgreSQL pass leaves them out "
                                "(tests.fixtures.DATABASE_FREE): " + ", ".join(wrong[:10]))
    # .ci/run runs the browser checks apart, from tests/browser alone, and the rest without them.
    astray = [item.nodeid for item in items
              if item.get_closest_marker("browser") and not item.nodeid.startswith("tests/browser/")]
    if astray:
        raise pytest.UsageError("browser checks belong under tests/browser, where CI runs them: "
                                + ", ".join(astray[:10]))


@pytest.fixture(scope="session")
def pg_ready() -> bool:
    """Start the PostgreSQL pass from an empty schema, migrated once."""
    if not PG_URL:
        return False
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    return True


# The sequences of the emptied tables' serial and identity columns, back to their start.
_RESTART_SEQUENCES = text("""
    SELECT setval(seq.oid, info.seqstart, false)
    FROM pg_depend dep
    JOIN pg_class seq ON seq.oid = dep.objid AND seq.relkind = 'S'
    JOIN pg_sequence info ON info.seqrelid = seq.oid
    JOIN pg_class tab ON tab.oid = dep.refobjid
    WHERE dep.deptype IN ('a', 'i') AND tab.relnamespace = 'public'::regnamespace AND tab.relname = ANY(:tables)
""")


def _empty_pg(runtime: Runtime) -> None:
    """Every table empty, its ids starting again, and the audit chain at its start.

    DELETE, children before parents, rather than TRUNCATE: a test leaves a few rows, and
    TRUNCATE gives each of the tables (over twenty) a new file (about 0.2-1 s a test on this
    machine's PostgreSQL, against some 15 ms for the DELETEs)."""
    tables = [t.name for t in Base.metadata.sorted_tables if t.name != "audit_head"]
    with runtime.engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(_RESTART_SEQUENCES, {"tables": tables})
        conn.execute(text("UPDATE audit_head SET last_id = 0, last_hash = :g"), {"g": "0" * 64})


@pytest.fixture(scope="session")
def agencies() -> Iterator[str]:
    """The simulated agencies on a real port, under /sandbox as the embedded server has them."""
    from fastapi import FastAPI

    from connectors.simulators.app import create_sandbox_app
    from connectors.simulators.settings import SandboxSettings

    host = FastAPI()
    host.mount("/sandbox", create_sandbox_app(SandboxSettings()))
    with serve(host) as url:
        yield url


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run `app` with uvicorn in a thread on a free local port; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def settings(tmp_path: Path, pg_ready: bool, agencies: str) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        database_url=PG_URL if pg_ready else f"sqlite:///{tmp_path / 'panjereh.db'}",
        processes_dir=ROOT / "processes",
        admin_token=ADMIN_TOKEN,
        public_url=agencies,
        connector_timeout_seconds=5,
    )


@cache
def _migrated_sqlite() -> Path:
    """An SQLite database migrated to the newest revision once per process, by the same
    upgrade the server runs; each test's database starts as a copy of it. Migrating a fresh
    file for each of the ~300 tests that take a runtime (eleven revisions, some rebuilding
    tables, as SQLite alters them) cost about 0.1 s a test, more than many of the tests."""
    folder = Path(tempfile.mkdtemp(prefix="panjereh-migrated-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "panjereh.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    # With the last connection closed, SQLite has folded its write-ahead log into the file.
    assert not path.with_name(f"{path.name}-wal").exists(), "the migrated template still has a WAL"
    return path


def _seed_from_template(url: str) -> bool:
    """Copy the migrated template to the SQLite file `url` names, if that file does not exist
    yet; say whether it did (a PostgreSQL URL, or a file a test made itself, is left alone)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return False
    target = Path(parsed.database)
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_migrated_sqlite(), target)
    return True


@contextmanager
def composed(settings: Settings, **parts: Any) -> Iterator[Runtime]:
    """A runtime from the composition root on an empty database, closed afterwards; `parts`
    as `build_runtime` takes them (a dispatcher, a connector transport)."""
    # On SQLite a new database starts as a copy of the migrated template; any other is
    # migrated here.
    seeded = not PG_URL and _seed_from_template(settings.effective_database_url)
    built = build_runtime(settings, migrate=not PG_URL and not seeded, **parts)
    try:
        if PG_URL:
            _empty_pg(built)
        yield built
    finally:
        built.close()


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    with composed(settings) as built:
        yield built


class Parked:
    """A dispatcher that hands no call over: calls wait for the test to run them."""

    def hand_over(self, runtime: Runtime, call_ids: Sequence[str]) -> None:
        pass

    def start(self, runtime: Runtime) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass
class Tokens:
    admin: str
    analyst: str
    staff_guild: str
    staff_municipality: str
    citizen: str
    other_citizen: str

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


@pytest.fixture
def tokens(runtime: Runtime) -> Tokens:
    with runtime.unit_of_work() as session:
        return Tokens(
            admin=ADMIN_TOKEN,
            analyst=create_token(session, "analyst", "analyst-1"),
            staff_guild=create_token(session, "staff", "clerk-1", "guild_union"),
            staff_municipality=create_token(session, "staff", "inspector-1", "municipality"),
            citizen=create_token(session, "citizen", "0499370899"),
            other_citizen=create_token(session, "citizen", "0790419904"),
        )


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(build_app(runtime)) as test_client:
        yield test_client


def model_files(*names: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    """Multipart `files` entries for models under tests/models (or any path)."""
    entries = []
    for name in names:
        path = Path(name) if os.path.isabs(name) else MODELS / name
        entries.append(("files", (path.name, path.read_bytes(), "application/xml")))
    return entries
