"""Databases for migration tests: an empty SQLite file or PostgreSQL schema, and an upgrade
to a chosen revision, so each test can write rows the way an older version left them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text

from engine.db.base import make_engine
from engine.db.migrate import alembic_config
from tests.fixtures import PG_URL


def migrate(engine: Engine, revision: str) -> None:
    """Upgrade the database behind `engine` to `revision`."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _on_postgres(*statements: str) -> None:
    engine = make_engine(PG_URL)
    try:
        with engine.begin() as db:
            for statement in statements:
                db.execute(text(statement))
    finally:
        engine.dispose()


@contextmanager
def empty_database(kind: str, sqlite_file: Path, schema: str) -> Iterator[Engine]:
    """An empty database of `kind` ("sqlite" or "postgresql"); on PostgreSQL a schema of its
    own, so the suite's shared one is left alone (skipped when no PostgreSQL is given)."""
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{sqlite_file}")
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip("PANJEREH_TEST_DATABASE_URL is not set")
    _on_postgres(f"DROP SCHEMA IF EXISTS {schema} CASCADE", f"CREATE SCHEMA {schema}")
    engine = make_engine(f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}")
    yield engine
    engine.dispose()
    _on_postgres(f"DROP SCHEMA {schema} CASCADE")
