"""Processes and their instances."""

from __future__ import annotations

from fastapi import APIRouter

from engine.api.deps import ALL_ROLES, PrincipalDep, RuntimeDep, SessionDep, allow
from engine.api.schemas import InstanceCreated, InstanceOut, InstanceSummary, ProcessOut, StartIn, TerminateIn
from engine.security.principals import Role
from engine.services import instances, queries

router = APIRouter(prefix="/api/v1", tags=["processes"])


@router.get("/processes", response_model=list[ProcessOut], **allow(*ALL_ROLES))
def list_processes(session: SessionDep) -> list[ProcessOut]:
    """Every deployed process at every version, newest version first."""
    return [ProcessOut(key=d.key, name=d.name, version=d.version, deployment_id=d.deployment_id)
            for d in queries.list_processes(session)]


@router.post("/processes/{key}/instances", status_code=201, response_model=InstanceCreated,
             **allow(Role.ADMIN, Role.ANALYST, Role.CITIZEN))
def start_instance(session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep, key: str,
                   body: StartIn) -> InstanceCreated:
    """Start an instance of the newest (or the given) version and run it until it waits."""
    instance = instances.start(session, runtime, principal, key, body.data, body.version)
    return InstanceCreated(id=instance.id, tracking_code=instance.tracking_code, status=instance.status,
                           process_key=instance.process_key, version=instance.version, error=instance.error)


@router.get("/instances", response_model=list[InstanceSummary], **allow(*ALL_ROLES))
def list_instances(session: SessionDep, principal: PrincipalDep, status: str | None = None) -> list[InstanceSummary]:
    """The instances the caller may see, newest first."""
    return [InstanceSummary.model_validate(i, from_attributes=True)
            for i in queries.list_instances(session, principal, status)]


@router.get("/instances/{instance_id}", response_model=InstanceOut, **allow(*ALL_ROLES))
def get_instance(session: SessionDep, principal: PrincipalDep, instance_id: str) -> InstanceOut:
    """One instance with its data, open tasks and history."""
    instance = instances.load_visible(session, principal, instance_id)
    return InstanceOut.model_validate(queries.instance_view(session, principal, instance))


@router.post("/instances/{instance_id}/terminate", response_model=InstanceOut, **allow(Role.ADMIN))
def terminate_instance(session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep, instance_id: str,
                       body: TerminateIn) -> InstanceOut:
    """Stop an instance for good, with a reason kept in its history."""
    instance = instances.terminate(session, runtime, principal, instance_id, body.reason)
    return InstanceOut.model_validate(queries.instance_view(session, principal, instance))
