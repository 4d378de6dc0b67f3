"""Connector operations for analysts and modelers; incidents for operators."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from sqlalchemy import select

from connectors.templates import command_catalogue, element_templates
from engine.api.deps import PrincipalDep, RuntimeDep, SessionDep, allow
from engine.api.schemas import IncidentOut, OperationOut
from engine.db.models import Incident
from engine.security.principals import Role
from engine.services import jobs

router = APIRouter(prefix="/api/v1", tags=["connectors"])
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
def list_incidents(session: SessionDep, open_only: bool = True) -> list[IncidentOut]:
    """Work that needs a person: calls whose retries ran out, errors no model catches."""
    query = select(Incident).order_by(Incident.id.desc())
    if open_only:
        query = query.where(Incident.resolved_at.is_(None))
    return [IncidentOut.model_validate(row, from_attributes=True) for row in session.execute(query).scalars()]


@router.post("/incidents/{incident_id}/retry", response_model=IncidentOut, **allow(Role.ADMIN))
def retry_incident(session: SessionDep, principal: PrincipalDep, incident_id: int) -> IncidentOut:
    """Queue the incident's call again with a fresh set of attempts, and resolve the incident."""
    jobs.retry_incident(session, incident_id, principal.actor)
    row = session.get(Incident, incident_id)
    return IncidentOut.model_validate(row, from_attributes=True)
