"""citizen e-mail: the address a citizen gave for news of their cases, and room for it in the outbox

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("citizen_contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("recipient", existing_type=sa.String(length=100), type_=sa.String(length=254),
                              existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("recipient", existing_type=sa.String(length=254), type_=sa.String(length=100),
                              existing_nullable=True)
    with op.batch_alter_table("citizen_contact", schema=None) as batch_op:
        batch_op.drop_column("email")
