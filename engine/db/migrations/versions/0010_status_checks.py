"""status checks: the database refuses a status that is not one of its kind's

Instance, human task and service call statuses are enums in the code
(engine/core/statuses.py); here the database learns the same sets, so a row written by
anything else (a script, a hand-made fix, a bug) cannot hold a word the engine does not know.
The values are repeated rather than imported, so that this migration keeps doing what it did
when it was written. Incidents have no status column (open until `resolved_at` is set).

Existing rows are checked first and the upgrade stops, naming what it found, rather than
change anyone's data; every status the engine has written is in these sets.

PostgreSQL gets a CHECK constraint per column. SQLite cannot add one to a table without
rebuilding it (batch mode), and a rebuild drops the old table, which foreign keys from the
tables below each of these refuse while the migration's transaction keeps them on. So on
SQLite the same rule is two triggers per column (on insert, and on update of the status),
which fail the statement as a CHECK would, with the constraint's name in the message.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

STATUSES: dict[str, tuple[str, ...]] = {
    "instance": ("running", "waiting", "completed", "failed", "terminated"),
    "human_task": ("ready", "completed", "cancelled"),
    "service_call": ("waiting", "running", "incident", "completed", "caught", "cancelled"),
}


def _name(table: str) -> str:
    return f"ck_{table}_status"


def _allowed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _check_existing_rows() -> None:
    bind = op.get_bind()
    found: list[str] = []
    for table, values in STATUSES.items():
        rows = sa.table(table, sa.column("status", sa.String))
        others = bind.execute(sa.select(rows.c.status, sa.func.count()).where(rows.c.status.not_in(values))
                              .group_by(rows.c.status)).all()
        found += [f"{table}.status = {status!r} in {count} row(s)" for status, count in others]
    if found:
        raise RuntimeError("these rows hold a status the engine does not know; correct them and upgrade again: "
                           + "; ".join(found))


def upgrade() -> None:
    _check_existing_rows()
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, values in STATUSES.items():
        name, allowed = _name(table), _allowed(values)
        if not sqlite:
            op.create_check_constraint(op.f(name), table, f"status IN ({allowed})")
            continue
        for event, when in (("insert", "INSERT"), ("update", "UPDATE OF status")):
            op.execute(f"CREATE TRIGGER {name}_{event} BEFORE {when} ON {table} "
                       f"WHEN NEW.status NOT IN ({allowed}) "
                       f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in STATUSES:
        name = _name(table)
        if not sqlite:
            op.drop_constraint(op.f(name), table, type_="check")
            continue
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER {name}_{event}")
