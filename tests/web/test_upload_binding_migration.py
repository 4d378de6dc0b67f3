"""Migrating to bound uploads keeps what staff could read in their cases: every document an
accepted answer named before the upgrade is bound to the first completed task that named it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, insert, select

from tests.migration_db import empty_database, migrate

SCHEMA = "upload_binding_check"

FORM = {"schema": {"type": "object", "properties": {}},
        "ui": {"widgets": {"premises_document": "file", "people.id_card": "file", "note": "text"}}}


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database at the schema before bound uploads; on PostgreSQL a schema of its own,
    so the suite's shared one is left alone."""
    with empty_database(request.param, tmp_path / "old.db", SCHEMA) as engine:
        yield engine


def test_documents_of_completed_tasks_are_bound_by_the_upgrade(old_database: Engine) -> None:
    engine = old_database
    migrate(engine, "0005")
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

    migrate(engine, "head")
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
