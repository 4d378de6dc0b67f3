"""Operator routes: service calls waiting for a result, and the audit chain."""

from __future__ import annotations

from importlib.metadata import version

from fastapi import APIRouter
from sqlalchemy import select

from engine import audit
from engine.api.deps import PUBLIC, PrincipalDep, RuntimeDep, SessionDep, allow
from engine.api.schemas import AuditVerification, Health, InstanceOut, ServiceCallOut, ServiceErrorIn, ServiceResultIn
from engine.db.models import ServiceCallRow
from engine.security.principals import Role
from engine.services import instances, queries
from engine.services.errors import InvalidInput
from forms.validate import FieldError

router = APIRouter(prefix="/api/v1", tags=["operations"])


@router.get("/health", response_model=Health, **allow(PUBLIC))
def health(session: SessionDep, runtime: RuntimeDep) -> Health:
    """Liveness and database reachability."""
    session.execute(select(1))
    return Health(status="ok", database=runtime.engine.dialect.name, version=version("panjereh"))


@router.get("/service-calls", response_model=list[ServiceCallOut], **allow(Role.ADMIN))
def list_service_calls(session: SessionDep, status: str | None = "waiting") -> list[ServiceCallOut]:
    """Service tasks parked for a result."""
    query = select(ServiceCallRow).order_by(ServiceCallRow.created_at)
    if status:
        query = query.where(ServiceCallRow.status == status)
    return [ServiceCallOut.model_validate(row, from_attributes=True) for row in session.execute(query).scalars()]


@router.post("/service-calls/{call_id}/complete", response_model=InstanceOut, **allow(Role.ADMIN))
def complete_service_call(session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep, call_id: str,
                          body: ServiceResultIn) -> InstanceOut:
    """Give a parked service task its result by hand and run the instance on."""
    instance = instances.complete_service_call(session, runtime, principal.actor, call_id, body.result)
    return InstanceOut.model_validate(queries.instance_view(session, principal, instance))


@router.post("/service-calls/{call_id}/error", response_model=InstanceOut, **allow(Role.ADMIN))
def fail_service_call(session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep, call_id: str,
                      body: ServiceErrorIn) -> InstanceOut:
    """Throw a BPMN error from a parked service task by hand; its error event takes the path on."""
    if not instances.fail_service_call(session, runtime, call_id, body.code, body.message, actor=principal.actor):
        raise InvalidInput([FieldError("code", f"no error event of this model catches the code '{body.code}'; "
                                       "the call still waits", "uncaught")])
    call = session.get(ServiceCallRow, call_id)
    assert call is not None
    instance = instances.load_visible(session, principal, call.instance_id)
    return InstanceOut.model_validate(queries.instance_view(session, principal, instance))


@router.get("/audit/verify", response_model=AuditVerification, **allow(Role.ADMIN))
def verify_audit(session: SessionDep) -> AuditVerification:
    """Walk the audit hash chain and report any edited, deleted or reordered event."""
    result = audit.verify(session)
    return AuditVerification(ok=result.ok, checked=result.checked, problems=result.problems)
