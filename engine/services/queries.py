"""Read models: what the API and the pages show of instances, tasks and deployments.

Every read a route makes goes through a service; those that depend on who asks apply the one
rule for it in `engine.services.access`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from engine.core.statuses import CallStatus
from engine.db.models import (
    AuditEvent,
    DataUse,
    Deployment,
    DeploymentFile,
    HumanTaskRow,
    Incident,
    Instance,
    ProcessDefinition,
    ServiceCallRow,
)
from engine.security.principals import Principal, Role
from engine.services import casefile
from engine.services.access import is_owner, visible_instances, visible_tasks
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
    # A citizen who is only a party to the case (asked to consent to it) sees its status and
    # their own tasks; its data and history are the owner's.
    party = principal.role is Role.CITIZEN and not is_owner(principal, instance)
    return {
        "id": instance.id, "status": instance.status, "process_key": instance.process_key,
        "version": instance.version, "tracking_code": instance.tracking_code,
        "data": {} if party else instance.data,
        "error": instance.error, "created_at": instance.created_at, "updated_at": instance.updated_at,
        "tasks": [task_view(t, with_form=False) for t in list_tasks(session, principal, instance.id)],
        "history": [] if party else history(session, instance.id),
    }


def load_instance(session: Session, principal: Principal, instance_id: str, *, as_party: bool = False) -> Instance:
    """Instance `instance_id`, if `principal` may see it (`as_party`: also as a citizen with a
    task of their own in it, see `access.visible_instances`); NotFound otherwise."""
    instance = session.execute(
        select(Instance).where(Instance.id == instance_id, visible_instances(principal, as_party=as_party))
    ).scalar_one_or_none()
    if instance is None:
        raise NotFound(f"no instance {instance_id}")
    return instance


def list_instances(session: Session, principal: Principal, status: str | None = None,
                   limit: int = 100, *, as_party: bool = False) -> list[Instance]:
    query = select(Instance).where(visible_instances(principal, as_party=as_party))
    if status:
        query = query.where(Instance.status == status)
    return list(session.execute(query.order_by(Instance.created_at.desc()).limit(limit)).scalars())


def list_processes(session: Session) -> list[ProcessDefinition]:
    return list(session.execute(
        select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version.desc())
    ).scalars())


# What `deployment_view` shows of a deployment's files: their names. The bytes (the upload
# and its translation, up to the upload limit each) stay in the database; reading one raises.
_FILE_NAMES = selectinload(Deployment.files).load_only(DeploymentFile.name, raiseload=True)


def list_deployments(session: Session) -> list[Deployment]:
    """Every deployment, newest first, with its process definitions and file names loaded."""
    return list(session.execute(
        select(Deployment).order_by(Deployment.id.desc())
        .options(selectinload(Deployment.definitions), _FILE_NAMES)
    ).scalars())


def deployment_view(deployment: Deployment) -> dict[str, Any]:
    """What the API shows of a deployment loaded by `list_deployments` or `load_deployment`."""
    processes = [{"key": d.key, "name": d.name, "version": d.version, "deployment_id": deployment.id}
                 for d in deployment.definitions]
    return {"id": deployment.id, "version": max((d.version for d in deployment.definitions), default=0),
            "name": deployment.name, "content_hash": deployment.content_hash, "deployed_by": deployment.deployed_by,
            "deployed_at": deployment.deployed_at, "importer_version": deployment.importer_version,
            "redeploy_of": deployment.redeploy_of, "files": [f.name for f in deployment.files],
            "processes": processes, "report": deployment.report}


def load_deployment(session: Session, deployment_id: int) -> Deployment:
    """One deployment with its process definitions and file names loaded."""
    found = session.execute(
        select(Deployment).where(Deployment.id == deployment_id)
        .options(selectinload(Deployment.definitions), _FILE_NAMES)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no deployment {deployment_id}")
    return found


def list_service_calls(session: Session, status: str | None = CallStatus.WAITING) -> list[ServiceCallRow]:
    """Service calls, oldest first, optionally in one status."""
    query = select(ServiceCallRow).order_by(ServiceCallRow.created_at)
    if status:
        query = query.where(ServiceCallRow.status == status)
    return list(session.execute(query).scalars())


def load_service_call(session: Session, call_id: str) -> ServiceCallRow:
    """One service call, by id."""
    found = session.get(ServiceCallRow, call_id)
    if found is None:
        raise NotFound(f"no service call {call_id}")
    return found


def list_incidents(session: Session, open_only: bool = True) -> list[Incident]:
    """Incidents, newest first; only the unresolved ones unless `open_only` is false."""
    query = select(Incident).order_by(Incident.id.desc())
    if open_only:
        query = query.where(Incident.resolved_at.is_(None))
    return list(session.execute(query).scalars())


def load_incident(session: Session, incident_id: int) -> Incident:
    """One incident, by id."""
    found = session.get(Incident, incident_id)
    if found is None:
        raise NotFound(f"no incident {incident_id}")
    return found


def data_uses(session: Session, principal: Principal, instance_id: str) -> list[DataUse]:
    """Every use of another agency's data for a case the caller may see, oldest first."""
    return casefile.data_uses(session, load_instance(session, principal, instance_id))
