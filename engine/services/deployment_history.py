"""What the analyst console lists of past deployments: each with its processes and file names."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from engine.db.limits import MAX_INTEGER
from engine.db.models import Deployment, DeploymentFile
from engine.services.errors import NotFound


@dataclass(frozen=True)
class StoredFile:
    """One file kept with a deployment, without its bytes."""

    name: str
    kind: str
    sha256: str
    size: int


def recent(session: Session, limit: int = 200) -> tuple[list[Deployment], dict[int, list[str]]]:
    """The newest deployments (with their process definitions) and each one's file names."""
    rows = list(session.execute(select(Deployment).order_by(Deployment.id.desc()).limit(limit)
                                .options(selectinload(Deployment.definitions))).scalars())
    names: dict[int, list[str]] = {}
    for deployment_id, name in session.execute(
            select(DeploymentFile.deployment_id, DeploymentFile.name)
            .where(DeploymentFile.deployment_id.in_([d.id for d in rows])).order_by(DeploymentFile.id)):
        names.setdefault(deployment_id, []).append(name)
    return rows, names


def described(session: Session, deployment_id: int) -> tuple[Deployment, list[StoredFile]]:
    """One deployment with its process definitions and its files; NotFound when there is none."""
    if not 0 < deployment_id <= MAX_INTEGER:
        raise NotFound(f"no deployment {deployment_id}")
    row = session.execute(select(Deployment).where(Deployment.id == deployment_id)
                          .options(selectinload(Deployment.definitions))).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no deployment {deployment_id}")
    files = session.execute(
        select(DeploymentFile.name, DeploymentFile.kind, DeploymentFile.sha256, func.length(DeploymentFile.content))
        .where(DeploymentFile.deployment_id == deployment_id).order_by(DeploymentFile.id)).all()
    return row, [StoredFile(name, kind, sha256, size) for name, kind, sha256, size in files]
