"""connector jobs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "data_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("connector", sa.String(length=100), nullable=False),
        sa.Column("operation", sa.String(length=200), nullable=False),
        sa.Column("agency", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("end_user", sa.String(length=200), nullable=True),
        sa.Column(
            "fields", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("response_sha256", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"], name=op.f("fk_data_use_instance_id_instance")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_use")),
    )
    with op.batch_alter_table("data_use", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_use_instance_id"), ["instance_id"], unique=False)

    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["service_call.id"], name=op.f("fk_incident_call_id_service_call")),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"], name=op.f("fk_incident_instance_id_instance")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_instance_id"), ["instance_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_resolved_at"), ["resolved_at"], unique=False)

    with op.batch_alter_table("service_call", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("max_attempts", sa.Integer(), nullable=False, server_default="5"))
        batch_op.add_column(sa.Column("backoff_base", sa.Float(), nullable=False, server_default="2"))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_service_call_next_attempt_at"), ["next_attempt_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("service_call", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_call_next_attempt_at"))
        batch_op.drop_column("last_error")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("backoff_base")
        batch_op.drop_column("max_attempts")
        batch_op.drop_column("attempts")

    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_resolved_at"))
        batch_op.drop_index(batch_op.f("ix_incident_instance_id"))

    op.drop_table("incident")
    with op.batch_alter_table("data_use", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_use_instance_id"))

    op.drop_table("data_use")
