"""Deployments: upload models, read what was deployed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Path, Response, UploadFile, status
from starlette.concurrency import run_in_threadpool

from engine.api.deps import PrincipalDep, ReadSessionDep, RuntimeDep, WriterDep, allow
from engine.api.inputs import file_name
from engine.api.routing import router as make_router
from engine.api.schemas import MAX_ID, DeploymentOut, ReportOut
from engine.security.principals import Role
from engine.services import deployments, queries
from engine.services.deployments import UploadedFile, UploadTooLarge

router = make_router("/api/v1/deployments", "deployments")
DEPLOYERS = (Role.ADMIN, Role.ANALYST)


async def _read(files: list[UploadFile], limit: int) -> list[UploadedFile]:
    read = []
    for upload in files:
        content = await upload.read(limit + 1)
        name = file_name(upload.filename, "files", "unnamed")
        if len(content) > limit:
            raise UploadTooLarge(f"{name}: file is over the limit of {limit:,} bytes")
        read.append(UploadedFile(name, content))
    return read


def _out(deployment: Any, created: bool = True) -> DeploymentOut:
    return DeploymentOut.model_validate({**queries.deployment_view(deployment), "created": created})


@router.post("", status_code=201, response_model=DeploymentOut, **allow(*DEPLOYERS),
             responses={200: {"model": DeploymentOut, "description": "the same files were already deployed"},
                        413: {"description": "a file is over the size limit"},
                        422: {"description": "not deployable: `report` names each problem by element and line"}})
async def create_deployment(
    write: WriterDep, runtime: RuntimeDep, principal: PrincipalDep, response: Response,
    files: Annotated[list[UploadFile], File(description="one or more .bpmn, .dmn and form .json files")],
) -> DeploymentOut:
    """Deploy BPMN/DMN files as a new version of each process they define."""
    uploads = await _read(files, runtime.settings.max_upload_bytes)

    def work() -> DeploymentOut:
        with write() as session:
            outcome = deployments.deploy(session, runtime, uploads, principal.actor)
            deployed = _out(queries.load_deployment(session, outcome.deployment.id), outcome.created)
        return deployed

    result = await run_in_threadpool(work)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return result


@router.post("/validate", response_model=ReportOut, **allow(*DEPLOYERS))
async def validate_deployment(
    runtime: RuntimeDep,
    files: Annotated[list[UploadFile], File(description="the files to check")],
) -> ReportOut:
    """Check files without deploying them and return the compatibility report."""
    uploads = await _read(files, runtime.settings.max_upload_bytes)
    report = await run_in_threadpool(deployments.validate, runtime, uploads)
    return ReportOut.model_validate(report.as_dict())


@router.post("/{deployment_id}/redeploy", status_code=201, response_model=DeploymentOut, **allow(*DEPLOYERS),
             responses={200: {"model": DeploymentOut,
                              "description": "today's importer makes what a deployment of these files already runs"},
                        422: {"description": "today's importer or checks refuse the files: `report` names each "
                                             "problem"}})
def redeploy_deployment(write: WriterDep, runtime: RuntimeDep, principal: PrincipalDep, response: Response,
                        deployment_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> DeploymentOut:
    """Translate a deployment's files again with today's importer, as a new version of each process."""
    with write() as session:
        outcome = deployments.redeploy(session, runtime, deployment_id, principal.actor)
        redeployed = _out(queries.load_deployment(session, outcome.deployment.id), outcome.created)
    if not redeployed.created:
        response.status_code = status.HTTP_200_OK
    return redeployed


@router.get("", response_model=list[DeploymentOut], **allow(*DEPLOYERS))
def list_deployments(session: ReadSessionDep) -> list[DeploymentOut]:
    """Every deployment, newest first."""
    return [_out(d) for d in queries.list_deployments(session)]


@router.get("/{deployment_id}", response_model=DeploymentOut, **allow(*DEPLOYERS))
def get_deployment(session: ReadSessionDep, deployment_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> DeploymentOut:
    """One deployment with its files, processes and report."""
    return _out(queries.load_deployment(session, deployment_id))
