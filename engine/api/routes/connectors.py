"""Connector operations for analysts and modelers; incidents for operators."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path

from connectors.templates import command_catalogue, element_templates
from engine.api.deps import PrincipalDep, ReadSessionDep, RuntimeDep, WriterDep, allow
from engine.api.routing import router as make_router
from engine.api.schemas import MAX_ID, IncidentOut, OperationOut
from engine.security.principals import Role
from engine.services import queries, service_calls

router = make_router("/api/v1", "connectors")
MODELERS = (Role.ADMIN, Role.ANALYST)


@router.get("/connectors", response_model=list[OperationOut], **allow(*MODELERS))
def list_operations(runtime: RuntimeDep) -> list[OperationOut]:
    """Every installed connector operation with the JSON Schema of its parameters and result."""
    return [OperationOut(id=op.id, connector=op.connector_id, name=op.name, title=op.title, agency=op.agency,
                         description=op.description, personal_fields=list(op.personal_fields),
                         params=op.params_schema(), result=op.result_schema())
            for op in runtime.connectors.operations.values()]


@router.get("/connectors/element-templates", **allow(*MODELERS))
def templates(runtime: RuntimeDep, platform: Literal["camunda8", "camunda7"] = "camunda8",
              lang: Literal["en", "fa"] = "en") -> list[dict[str, Any]]:
    """Camunda Modeler element templates, one per operation (save as a .json in the modeler's templates folder)."""
    return element_templates(runtime.connectors, lang=lang, platform=platform)


@router.get("/connectors/commands", **allow(*MODELERS))
def commands(runtime: RuntimeDep) -> list[dict[str, Any]]:
    """The operations as a SpiffArena-style command catalogue."""
    return command_catalogue(runtime.connectors)


@router.get("/incidents", response_model=list[IncidentOut], **allow(Role.ADMIN))
def list_incidents(session: ReadSessionDep, open_only: bool = True) -> list[IncidentOut]:
    """Work that needs a person: calls whose retries ran out, errors no model catches."""
    return [IncidentOut.model_validate(row, from_attributes=True)
            for row in queries.list_incidents(session, open_only)]


@router.post("/incidents/{incident_id}/retry", response_model=IncidentOut, **allow(Role.ADMIN))
def retry_incident(write: WriterDep, principal: PrincipalDep,
                   incident_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> IncidentOut:
    """Queue the incident's call again with a fresh set of attempts, and resolve the incident."""
    with write() as session:
        service_calls.retry_incident(session, incident_id, principal.actor)
        resolved = IncidentOut.model_validate(queries.load_incident(session, incident_id), from_attributes=True)
    return resolved
