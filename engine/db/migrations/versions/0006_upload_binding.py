"""upload binding: the case (and task) whose accepted answer used each upload

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_tasks = sa.table("human_task", sa.column("id", sa.String), sa.column("instance_id", sa.String),
                  sa.column("form", sa.JSON), sa.column("status", sa.String),
                  sa.column("completed_at", sa.DateTime(timezone=True)))
_instances = sa.table("instance", sa.column("id", sa.String), sa.column("data", sa.JSON))
_uploads = sa.table("upload", sa.column("id", sa.String), sa.column("instance_id", sa.String),
                    sa.column("task_id", sa.String), sa.column("bound_at", sa.DateTime(timezone=True)))


def upgrade() -> None:
    with op.batch_alter_table("upload", schema=None) as batch_op:
        batch_op.add_column(sa.Column("instance_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("task_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("bound_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_upload_instance_id_instance"), "instance", ["instance_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_upload_task_id_human_task"), "human_task", ["task_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_upload_instance_id"), ["instance_id"], unique=False)
    _bind_accepted_answers()


def _values(node: Any, parts: list[str]) -> list[Any]:
    """What a dotted field path holds in task data, through groups and lists."""
    if not parts:
        return node if isinstance(node, list) else [node]
    if isinstance(node, list):
        return [v for item in node for v in _values(item, parts)]
    if isinstance(node, dict) and parts[0] in node:
        return _values(node[parts[0]], parts[1:])
    return []


def _bind_accepted_answers() -> None:
    """Documents already given in completed tasks stay readable by the staff of those cases:
    each is bound to the first completed task whose file question names it."""
    bind = op.get_bind()
    done = bind.execute(sa.select(_tasks.c.id, _tasks.c.instance_id, _tasks.c.form)
                        .where(_tasks.c.status == "completed", _tasks.c.form.is_not(None))
                        .order_by(_tasks.c.completed_at, _tasks.c.id)).all()
    for task_id, instance_id, form in done:
        widgets = ((form or {}).get("ui") or {}).get("widgets") or {}
        paths = [path for path, widget in widgets.items() if widget == "file"]
        if not paths:
            continue
        data = bind.execute(sa.select(_instances.c.data).where(_instances.c.id == instance_id)).scalar_one()
        for upload_id in {v for path in paths for v in _values(data or {}, path.split(".")) if isinstance(v, str)}:
            bind.execute(sa.update(_uploads)
                         .where(_uploads.c.id == upload_id, _uploads.c.instance_id.is_(None))
                         .values(instance_id=instance_id, task_id=task_id, bound_at=sa.func.current_timestamp()))


def downgrade() -> None:
    with op.batch_alter_table("upload", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upload_instance_id"))
        batch_op.drop_constraint(batch_op.f("fk_upload_task_id_human_task"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_upload_instance_id_instance"), type_="foreignkey")
        batch_op.drop_column("bound_at")
        batch_op.drop_column("task_id")
        batch_op.drop_column("instance_id")
