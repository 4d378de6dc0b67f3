"""payments: each token a bank gateway issued for a case's fee, and what became of it

The token is unique, so a return from the gateway (repeated, replayed or forged) names one
row; a case's tokens are numbered, and two tries at the same number cannot both be kept.
The status column holds the values of `PaymentStatus` (engine/core/statuses.py), repeated
here as migrations do; a new table takes its CHECK constraint on SQLite too.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

STATUSES = ("pending", "verifying", "verified", "cancelled", "failed", "refunded")


def upgrade() -> None:
    allowed = ", ".join(f"'{value}'" for value in STATUSES)
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("amount_rial", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("payment_url", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reference", sa.String(length=32), nullable=True),
        sa.Column("trace", sa.String(length=32), nullable=True),
        sa.Column("card", sa.String(length=32), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refund_id", sa.String(length=32), nullable=True),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"status IN ({allowed})", name=op.f("ck_payment_status")),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"], name=op.f("fk_payment_instance_id_instance")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("token", name=op.f("uq_payment_token")),
        sa.UniqueConstraint("instance_id", "attempt", name=op.f("uq_payment_instance_id")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_instance_id"), ["instance_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_status"), ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("payment")
