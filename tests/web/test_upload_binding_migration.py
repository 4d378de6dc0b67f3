"""Migrating to bound uploads keeps what staff could read in their cases: every document an
accepted answer named before the upgrade is bound to the first completed task that named it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, MetaData, insert, select, text

from engine.db.base import make_engine
from engine.db.migrate import alembic_config
from tests.fixtures import PG_URL

SCHEMA = "upload_binding_check"

FORM = {"schema": {"type": "object", "properties": {}},
        "ui": {"widgets": {"premises_document": "file", "people.id_card": "file", "note": "text"}}}


def _migrate(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database at the schema before bound uploads; on PostgreSQL a schema of its own,
    so the suite's shared one is left alone."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip("PANJEREH_TEST_DATABASE_URL is not set")
    _on_postgres(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE", f"CREATE SCHEMA {SCHEMA}")
    engine = make_engine(f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{SCHEMA}")
    yield engine
    engine.dispose()
    _on_postgres(f"DROP SCHEMA {SCHEMA} CASCADE")


def _on_postgres(*statements: str) -> None:
    engine = make_engine(PG_URL)
    try:
        with engine.begin() as db:
            for statement in statements:
                db.execute(text(statement))
    finally:
        engine.dispose()


def test_documents_of_completed_tasks_are_bound_by_the_upgrade(old_database: Engine) -> None:
    engine = old_database
    _migrate(engine, "0005")
    tables = MetaData()
    tables.reflect(engine)
    now = datetime.now(UTC)
    uploads = ["lease", "card-1", "card-2", "draft-only", "unused", "note-like"]
    with engine.begin() as db:
        db.execute(insert(tables.tables["deployment"]), [{"id": 1, "content_hash": "h", "name": "d",
                                                          "deployed_by": "t", "deployed_at": now, "report": {}}])
        db.execute(insert(tables.tables["process_definition"]),
                   [{"id": 1, "deployment_id": 1, "key": "p", "name": "p", "version": 1}])
        db.execute(insert(tables.tables["instance"]), [
            {"id": case, "definition_id": 1, "deployment_id": 1, "process_key": "p", "version": 1,
             "status": "waiting", "tracking_code": f"00000000000{n}", "owner": "0013542419", "data": data,
             "state": "", "serializer_version": "", "library_version": "", "lock_version": 1, "created_at": now,
             "updated_at": now}
            for n, (case, data) in enumerate([
                ("case-a", {"premises_document": "lease", "people": [{"id_card": "card-1"}, {"id_card": "card-2"}],
                            "note": "note-like"}),
                ("case-b", {"premises_document": "draft-only"})])])
        db.execute(insert(tables.tables["human_task"]), [
            {"id": task, "instance_id": case, "spec_id": "t", "name": "t", "title": "t", "kind": "user",
             "audience": "citizen", "form": FORM, "status": status, "created_at": now,
             "completed_at": now + timedelta(seconds=n) if status == "completed" else None}
            for n, (task, case, status) in enumerate([("first", "case-a", "completed"),
                                                      ("again", "case-a", "completed"),
                                                      ("open", "case-b", "ready")])])
        db.execute(insert(tables.tables["upload"]), [
            {"id": u, "sha256": "0" * 64, "owner": "0013542419", "filename": f"{u}.pdf",
             "media_type": "application/pdf", "size": 1, "created_at": now} for u in uploads])

    _migrate(engine, "head")
    tables = MetaData()
    tables.reflect(engine)
    upload = tables.tables["upload"]
    with engine.connect() as db:
        bound = {row.id: (row.instance_id, row.task_id)
                 for row in db.execute(select(upload.c.id, upload.c.instance_id, upload.c.task_id))}
        stamped = db.execute(select(upload.c.bound_at).where(upload.c.id == "lease")).scalar_one()
    assert bound == {"lease": ("case-a", "first"), "card-1": ("case-a", "first"), "card-2": ("case-a", "first"),
                     "draft-only": (None, None), "unused": (None, None), "note-like": (None, None)}
    assert stamped is not None
