"""Alembic environment: the URL and connection come from `engine.db.migrate`, never a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from engine.db import models  # noqa: F401 - registers the tables on Base.metadata
from engine.db.base import Base, make_engine

config = context.config
connection = config.attributes.get("connection")


def _run(conn: Connection) -> None:
    context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
