"""retry delays: the fixed waits a model sets between a service call's attempts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_call", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "retry_delays", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_call", schema=None) as batch_op:
        batch_op.drop_column("retry_delays")
