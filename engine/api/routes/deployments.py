"""Deployments: upload models, read what was deployed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Response, UploadFile, status
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.concurrency import run_in_threadpool

from engine.api.deps import PrincipalDep, RuntimeDep, SessionDep, allow
from engine.api.schemas import DeploymentOut, ProcessOut, ReportOut
from engine.db.models import Deployment
from engine.security.principals import Role
from engine.services import deployments
from engine.services.deployments import UploadedFile, UploadTooLarge

router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"])
DEPLOYERS = (Role.ADMIN, Role.ANALYST)


async def _read(files: list[UploadFile], limit: int) -> list[UploadedFile]:
    read = []
    for upload in files:
        content = await upload.read(limit + 1)
        name = upload.filename or "unnamed"
        if len(content) > limit:
            raise UploadTooLarge(f"{name}: file is over the limit of {limit:,} bytes")
        read.append(UploadedFile(name, content))
    return read


def _out(deployment: Deployment, created: bool = True) -> DeploymentOut:
    processes = [ProcessOut(key=d.key, name=d.name, version=d.version, deployment_id=deployment.id)
                 for d in deployment.definitions]
    return DeploymentOut(
        id=deployment.id, version=max((p.version for p in processes), default=0), name=deployment.name,
        content_hash=deployment.content_hash, deployed_by=deployment.deployed_by,
        deployed_at=deployment.deployed_at, created=created, files=[f.name for f in deployment.files],
        processes=processes, report=ReportOut.model_validate(deployment.report))


def _load(session: SessionDep, deployment_id: int) -> Deployment:
    found = session.execute(
        select(Deployment).where(Deployment.id == deployment_id)
        .options(selectinload(Deployment.definitions), selectinload(Deployment.files))
    ).scalar_one_or_none()
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no deployment {deployment_id}")
    return found


@router.post("", status_code=201, response_model=DeploymentOut, **allow(*DEPLOYERS),
             responses={200: {"description": "the same files were already deployed"},
                        413: {"description": "a file is too large"},
                        422: {"description": "not deployable: the report names each problem"}})
async def create_deployment(
    runtime: RuntimeDep, principal: PrincipalDep, response: Response,
    files: Annotated[list[UploadFile], File(description="one or more .bpmn, .dmn and form .json files")],
) -> DeploymentOut:
    """Deploy BPMN/DMN files as a new version of each process they define."""
    uploads = await _read(files, runtime.settings.max_upload_bytes)
    def work() -> DeploymentOut:
        with runtime.unit_of_work() as session:
            outcome = deployments.deploy(session, runtime, uploads, principal.actor)
            return _out(_load(session, outcome.deployment.id), outcome.created)

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


@router.get("", response_model=list[DeploymentOut], **allow(*DEPLOYERS))
def list_deployments(session: SessionDep) -> list[DeploymentOut]:
    """Every deployment, newest first."""
    rows = session.execute(
        select(Deployment).order_by(Deployment.id.desc())
        .options(selectinload(Deployment.definitions), selectinload(Deployment.files))
    ).scalars()
    return [_out(d) for d in rows]


@router.get("/{deployment_id}", response_model=DeploymentOut, **allow(*DEPLOYERS))
def get_deployment(session: SessionDep, deployment_id: int) -> DeploymentOut:
    """One deployment with its files, processes and report."""
    return _out(_load(session, deployment_id))
