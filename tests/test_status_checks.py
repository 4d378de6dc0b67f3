"""The database refuses a status its column does not know (migration 0010), on SQLite and
PostgreSQL alike, and the upgrade stops on existing rows that hold one rather than change them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.core.statuses import CallStatus, InstanceStatus, TaskStatus
from tests.migration_db import empty_database, migrate

SCHEMA = "status_check"
NOW = datetime(2026, 12, 7, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database; on PostgreSQL a schema of its own, so the suite's shared one is left alone."""
    with empty_database(request.param, tmp_path / "statuses.db", SCHEMA) as engine:
        yield engine


def _rows(n: int, instance: str, task: str, call: str) -> dict[str, dict[str, Any]]:
    """One instance, one human task and one service call, with the statuses given."""
    return {
        "instance": {"id": f"i{n}", "definition_id": 1, "deployment_id": 1, "process_key": "p", "version": 1,
                     "status": instance, "tracking_code": f"{n:012d}", "owner": "0013542419", "data": {},
                     "state": "", "serializer_version": "", "library_version": "", "lock_version": 1,
                     "created_at": NOW, "updated_at": NOW},
        "human_task": {"id": f"t{n}", "instance_id": f"i{n}", "spec_id": "review", "name": "review",
                       "title": "Review", "kind": "user", "audience": "staff", "status": task, "created_at": NOW},
        "service_call": {"id": f"c{n}", "instance_id": f"i{n}", "spec_id": "ask", "name": "Ask",
                         "operation": "registry/ask", "params": {}, "status": call, "attempts": 0,
                         "max_attempts": 5, "backoff_base": 2.0, "created_at": NOW},
    }


def _insert(engine: Engine, rows: dict[str, dict[str, Any]]) -> None:
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as db:
        for name, row in rows.items():
            db.execute(insert(tables.tables[name]), [row])


def _seed(engine: Engine) -> None:
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as db:
        db.execute(insert(tables.tables["deployment"]), [{"id": 1, "content_hash": "h", "name": "d",
                                                          "deployed_by": "t", "deployed_at": NOW, "report": {}}])
        db.execute(insert(tables.tables["process_definition"]),
                   [{"id": 1, "deployment_id": 1, "key": "p", "name": "p", "version": 1}])


def test_every_status_is_taken_and_any_other_word_refused(database: Engine) -> None:
    engine = database
    # Rows from before the checks, in every status the engine writes, survive the upgrade.
    migrate(engine, "0008")
    _seed(engine)
    instances, tasks, calls = list(InstanceStatus), list(TaskStatus), list(CallStatus)
    for n in range(max(len(instances), len(tasks), len(calls))):
        _insert(engine, _rows(n, instances[n % len(instances)], tasks[n % len(tasks)], calls[n % len(calls)]))
    migrate(engine, "head")

    tables = MetaData()
    tables.reflect(engine)
    for table, first in (("instance", "i0"), ("human_task", "t0"), ("service_call", "c0")):
        refused = f"ck_{table}_status"
        new = {**_rows(99, "waiting", "ready", "waiting")[table], "status": "paused"}
        if table != "instance":
            new["instance_id"] = "i0"
        with pytest.raises(IntegrityError, match=refused):
            _insert(engine, {table: new})
        rows = tables.tables[table]
        with pytest.raises(IntegrityError, match=refused), engine.begin() as db:
            db.execute(update(rows).where(rows.c.id == first).values(status="Waiting"))
        with engine.connect() as db:
            assert db.execute(select(rows.c.status).where(rows.c.id == first)).scalar_one() != "Waiting"
            assert "paused" not in db.execute(select(rows.c.status)).scalars().all()


def test_the_upgrade_stops_on_a_row_with_an_unknown_status(database: Engine) -> None:
    engine = database
    migrate(engine, "0008")
    _seed(engine)
    _insert(engine, _rows(1, "waiting", "ready", "queued"))
    with pytest.raises(RuntimeError, match=r"service_call.status = 'queued' in 1 row"):
        migrate(engine, "head")
