"""correlation keys: waiting and buffered messages keep long correlations as digests

A correlation over 1,000 bytes of UTF-8, or one that starts with "sha256:", is now stored
and looked up as "sha256:" and the hex SHA-256 of its UTF-8 (see
engine/services/waits.py, `correlation_key`). Rows written before kept such values as they
were (they could be up to 500 characters of up to 4 bytes each); they are re-keyed here so
that the next message with the same correlation still finds them. The rule is repeated
rather than imported, so that this migration keeps doing what it did when it was written.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

KEPT_BYTES = 1000
PREFIX = "sha256:"


def _key(correlation: str) -> str:
    encoded = correlation.encode("utf-8")
    if len(encoded) <= KEPT_BYTES and not correlation.startswith(PREFIX):
        return correlation
    return PREFIX + hashlib.sha256(encoded).hexdigest()


def upgrade() -> None:
    connection = op.get_bind()
    for name in ("message_wait", "message_buffer"):
        table = sa.table(name, sa.column("id"), sa.column("correlation", sa.String))
        rows = connection.execute(sa.select(table.c.id, table.c.correlation)
                                  .where(table.c.correlation.is_not(None))).all()
        for row_id, correlation in rows:
            key = _key(correlation)
            if key != correlation:
                connection.execute(sa.update(table).where(table.c.id == row_id).values(correlation=key))


def downgrade() -> None:
    """Nothing to undo in the schema; a digest cannot be turned back into its value, so the
    re-keyed rows keep their digests (which the code before 0008 matches with nothing)."""
