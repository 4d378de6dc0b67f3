"""human_task.citizen: the national code of the citizen a task is for, when not the case's owner

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("citizen", sa.String(length=10), nullable=True))
        batch_op.create_index(batch_op.f("ix_human_task_citizen"), ["citizen"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_human_task_citizen"))
        batch_op.drop_column("citizen")
