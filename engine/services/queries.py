"""Read models: what the API shows of instances, tasks and deployments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.models import AuditEvent, HumanTaskRow, Instance, ProcessDefinition
from engine.security.principals import Principal
from engine.services.access import visible_instances, visible_tasks
from engine.services.errors import NotFound


def task_view(row: HumanTaskRow, *, with_form: bool = True) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": row.id, "instance_id": row.instance_id, "name": row.name, "title": row.title,
        "kind": row.kind, "lane": row.lane, "audience": row.audience, "agency": row.agency,
        "status": row.status, "claimed_by": row.claimed_by, "completed_by": row.completed_by,
        "created_at": row.created_at, "completed_at": row.completed_at,
    }
    if with_form:
        view["form"] = row.form
    return view


def list_tasks(session: Session, principal: Principal, instance_id: str | None = None,
               status: str | None = None, limit: int = 200) -> list[HumanTaskRow]:
    query = (select(HumanTaskRow).join(Instance, Instance.id == HumanTaskRow.instance_id)
             .where(visible_tasks(principal)))
    if instance_id:
        query = query.where(HumanTaskRow.instance_id == instance_id)
    if status:
        query = query.where(HumanTaskRow.status == status)
    return list(session.execute(query.order_by(HumanTaskRow.created_at, HumanTaskRow.id).limit(limit)).scalars())


def load_task(session: Session, principal: Principal, task_id: str, *, for_update: bool = False) -> HumanTaskRow:
    query = (select(HumanTaskRow).join(Instance, Instance.id == HumanTaskRow.instance_id)
             .where(HumanTaskRow.id == task_id, visible_tasks(principal)))
    if for_update:
        query = query.with_for_update(of=HumanTaskRow)
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no task {task_id}")
    return row


def history(session: Session, instance_id: str) -> list[dict[str, Any]]:
    events = session.execute(
        select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
    ).scalars()
    return [{"at": e.at, "actor": e.actor, "action": e.action, "element_id": e.subject, **e.detail}
            for e in events]


def instance_view(session: Session, principal: Principal, instance: Instance) -> dict[str, Any]:
    return {
        "id": instance.id, "status": instance.status, "process_key": instance.process_key,
        "version": instance.version, "tracking_code": instance.tracking_code, "data": instance.data,
        "error": instance.error, "created_at": instance.created_at, "updated_at": instance.updated_at,
        "tasks": [task_view(t, with_form=False) for t in list_tasks(session, principal, instance.id)],
        "history": history(session, instance.id),
    }


def list_instances(session: Session, principal: Principal, status: str | None = None,
                   limit: int = 100) -> list[Instance]:
    query = select(Instance).where(visible_instances(principal))
    if status:
        query = query.where(Instance.status == status)
    return list(session.execute(query.order_by(Instance.created_at.desc()).limit(limit)).scalars())


def list_processes(session: Session) -> list[ProcessDefinition]:
    return list(session.execute(
        select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version.desc())
    ).scalars())
