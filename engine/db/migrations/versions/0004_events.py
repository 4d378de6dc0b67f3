"""events: timers, message and signal waits, the message buffer, start triggers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "timer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"], name=op.f("fk_timer_instance_id_instance")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timer")),
    )
    with op.batch_alter_table("timer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_timer_instance_id"), ["instance_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_timer_due_at"), ["due_at"], unique=False)

    op.create_table(
        "message_wait",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("correlation", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"], name=op.f("fk_message_wait_instance_id_instance")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_wait")),
    )
    with op.batch_alter_table("message_wait", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_wait_instance_id"), ["instance_id"], unique=False)
        batch_op.create_index("ix_message_wait_name_correlation", ["name", "correlation"], unique=False)

    op.create_table(
        "signal_wait",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"], name=op.f("fk_signal_wait_instance_id_instance")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_wait")),
    )
    with op.batch_alter_table("signal_wait", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signal_wait_instance_id"), ["instance_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_signal_wait_name"), ["name"], unique=False)

    op.create_table(
        "message_buffer",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("correlation", sa.String(length=500), nullable=True),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("sent_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consumed_by", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_buffer")),
    )
    with op.batch_alter_table("message_buffer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_buffer_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index("ix_message_buffer_name_correlation", ["name", "correlation"], unique=False)

    op.create_table(
        "start_trigger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(length=255), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("expression", sa.Text(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cycles_left", sa.Integer(), nullable=True),
        sa.Column("period_seconds", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("fired", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["definition_id"], ["process_definition.id"],
                                name=op.f("fk_start_trigger_definition_id_process_definition")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_start_trigger")),
        sa.UniqueConstraint("definition_id", "element_id", name=op.f("uq_start_trigger_definition_id")),
    )
    with op.batch_alter_table("start_trigger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_start_trigger_definition_id"), ["definition_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_start_trigger_due_at"), ["due_at"], unique=False)
        batch_op.create_index("ix_start_trigger_kind_name", ["kind", "name"], unique=False)


def downgrade() -> None:

    for table, indexes in (
        ("start_trigger", ["ix_start_trigger_kind_name", "ix_start_trigger_due_at", "ix_start_trigger_definition_id"]),
        ("message_buffer", ["ix_message_buffer_name_correlation", "ix_message_buffer_expires_at"]),
        ("signal_wait", ["ix_signal_wait_name", "ix_signal_wait_instance_id"]),
        ("message_wait", ["ix_message_wait_name_correlation", "ix_message_wait_instance_id"]),
        ("timer", ["ix_timer_due_at", "ix_timer_instance_id"]),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for index in indexes:
                batch_op.drop_index(index)
        op.drop_table(table)
