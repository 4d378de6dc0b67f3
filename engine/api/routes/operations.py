"""Operator routes: health, service calls waiting for a result, and the audit chain."""

from __future__ import annotations

from importlib.metadata import version

from fastapi import Request

from engine import audit
from engine.api.deps import PUBLIC, PrincipalDep, ReadSessionDep, RuntimeDep, WriterDep, allow, get_runtime
from engine.api.probe import SharedProbe
from engine.api.routing import router as make_router
from engine.api.schemas import AuditVerification, Health, InstanceOut, ServiceCallOut, ServiceErrorIn, ServiceResultIn
from engine.core.statuses import CallStatus
from engine.security.principals import Role
from engine.services import instances, queries
from engine.services.errors import InvalidInput
from engine.services.transaction import Transaction
from forms.validate import FieldError

router = make_router("/api/v1", "operations")
VERSION = version("panjereh")


@router.get("/health", response_model=Health, **allow(PUBLIC))
async def health(request: Request) -> Health:
    """Liveness, and whether the database answers a read of every table within a second."""
    runtime = get_runtime(request)
    probe: SharedProbe = request.app.state.probe
    await probe()
    return Health(status="ok", database=runtime.engine.dialect.name, version=VERSION)


@router.get("/service-calls", response_model=list[ServiceCallOut], **allow(Role.ADMIN))
def list_service_calls(session: ReadSessionDep, status: str | None = CallStatus.WAITING) -> list[ServiceCallOut]:
    """Service tasks parked for a result."""
    return [ServiceCallOut.model_validate(row, from_attributes=True)
            for row in queries.list_service_calls(session, status)]


@router.post("/service-calls/{call_id}/complete", response_model=InstanceOut, **allow(Role.ADMIN))
def complete_service_call(write: WriterDep, runtime: RuntimeDep, principal: PrincipalDep, call_id: str,
                          body: ServiceResultIn) -> InstanceOut:
    """Give a parked service task its result by hand and run the instance on."""
    def work(session: Transaction) -> InstanceOut:
        instance = instances.complete_service_call(session, runtime, principal.actor, call_id, body.result)
        return InstanceOut.model_validate(queries.instance_view(session, principal, instance))

    return write.rehearsed(work)


@router.post("/service-calls/{call_id}/error", response_model=InstanceOut, **allow(Role.ADMIN),
             responses={422: {"description": "no error event of the model catches the code; the call still waits"}})
def fail_service_call(write: WriterDep, runtime: RuntimeDep, principal: PrincipalDep, call_id: str,
                      body: ServiceErrorIn) -> InstanceOut:
    """Throw a BPMN error from a parked service task by hand; its error event takes the path on."""
    def work(session: Transaction) -> InstanceOut:
        if not instances.fail_service_call(session, runtime, call_id, body.code, body.message, actor=principal.actor):
            raise InvalidInput([FieldError("code", f"no error event of this model catches the code '{body.code}'; "
                                           "the call still waits", "uncaught")])
        call = queries.load_service_call(session, call_id)
        instance = queries.load_instance(session, principal, call.instance_id)
        return InstanceOut.model_validate(queries.instance_view(session, principal, instance))

    return write.rehearsed(work)


@router.get("/audit/verify", response_model=AuditVerification, **allow(Role.ADMIN, Role.AUDITOR))
def verify_audit(session: ReadSessionDep) -> AuditVerification:
    """Walk the audit hash chain and report any edited, deleted or reordered event."""
    result = audit.verify(session)
    return AuditVerification(ok=result.ok, checked=result.checked, problems=result.problems)
