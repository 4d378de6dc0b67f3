"""Upgrading keeps every waiting and buffered message findable: rows written before correlations
had keys, whose values the new rule keeps as digests, are re-keyed; the others are left as they were."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, insert, select

from engine.services.waits import correlation_key
from tests.migration_db import empty_database, migrate

SCHEMA = "correlation_key_check"
# What the columns could hold before: up to 500 characters, however many bytes. The first
# ones keep their keys (Persian takes 2 bytes a letter: 500 letters are 1,000 bytes).
KEPT = ["A-17", "سفارش ۱۲", "ک" * 500, "x" * 500]
RE_KEYED = ["\U0001f4e6" * 300, "ک" * 499 + "\u0915", "sha256:" + "0" * 64]
BEFORE = [*KEPT, *RE_KEYED]


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database; on PostgreSQL a schema of its own, so the suite's shared one is left alone."""
    with empty_database(request.param, tmp_path / "old.db", SCHEMA) as engine:
        yield engine


def test_correlations_the_new_rule_digests_are_re_keyed(old_database: Engine) -> None:
    engine = old_database
    migrate(engine, "0007")
    tables = MetaData()
    tables.reflect(engine)
    now = datetime.now(UTC)
    with engine.begin() as db:
        db.execute(insert(tables.tables["deployment"]), [{"id": 1, "content_hash": "h", "name": "d",
                                                          "deployed_by": "t", "deployed_at": now, "report": {}}])
        db.execute(insert(tables.tables["process_definition"]),
                   [{"id": 1, "deployment_id": 1, "key": "p", "name": "p", "version": 1}])
        db.execute(insert(tables.tables["instance"]), [
            {"id": "case", "definition_id": 1, "deployment_id": 1, "process_key": "p", "version": 1,
             "status": "waiting", "tracking_code": "000000000001", "owner": "0013542419", "data": {}, "state": "",
             "serializer_version": "", "library_version": "", "lock_version": 1, "created_at": now,
             "updated_at": now}])
        db.execute(insert(tables.tables["message_wait"]), [
            {"instance_id": "case", "task_id": f"t{n}", "element_id": "catch", "name": "paid", "correlation": value,
             "created_at": now} for n, value in enumerate([*BEFORE, None])])
        db.execute(insert(tables.tables["message_buffer"]), [
            {"id": f"b{n}", "name": "paid", "correlation": value, "payload": {}, "sent_by": "admin:automation",
             "created_at": now, "expires_at": now + timedelta(days=1)} for n, value in enumerate([*BEFORE, None])])

    migrate(engine, "head")
    tables = MetaData()
    tables.reflect(engine)
    expected = [correlation_key(value) for value in [*BEFORE, None]]
    assert expected[:len(KEPT)] == KEPT
    assert all(key != value and (key or "").startswith("sha256:")
               for key, value in zip(expected[len(KEPT):-1], RE_KEYED, strict=True))
    with engine.connect() as db:
        for name, order in (("message_wait", "task_id"), ("message_buffer", "id")):
            table = tables.tables[name]
            stored = list(db.execute(select(table.c.correlation).order_by(table.c[order])).scalars())
            assert stored == expected, name
