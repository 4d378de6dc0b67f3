"""Where a `Migrate` change takes an instance, and pointing the instance there once it moved.

The instance store runs a `Migrate` change as it runs any other; this is what that change
alone needs around the run. Before it: the target, the same process in another deployment,
bound to the processes it calls as deployed now (as a new instance of it would be), with its
documents added to the change so the move can run in a model worker. After it: the refusal
when the instance cannot move, or the instance's deployment, version and callee bindings
pointing at the target, and what the audit entry says of the move.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.changes import Change, Migrate
from engine.core.package_source import package_source
from engine.core.snapshot import Snapshot
from engine.core.statuses import OPEN_INSTANCE
from engine.db.models import Instance, ProcessDefinition
from engine.services.errors import MigrationRefused
from engine.services.package_cache import LoadedPackage

# The deployment compiled with the callees it binds as deployed now, and those bindings.
Pinned = Callable[[int], tuple[LoadedPackage, dict[str, int]]]


@dataclass(frozen=True)
class MigrationTarget:
    """The change with the target's documents, and the definition, package and callee
    deployments the instance runs from once it moved."""

    change: Migrate
    definition: ProcessDefinition
    package: LoadedPackage
    bindings: dict[str, int]


def migration_target(session: Session, instance: Instance, change: Change, pinned: Pinned) -> MigrationTarget | None:
    """Where `change` takes `instance` when it is a `Migrate` (None for any other change).

    Raises:
        MigrationRefused: the instance has ended or failed, or the deployment named does not
            deploy its process, or is the one it runs already.
        Conflict: the processes the target calls no longer fit together.
    """
    if not isinstance(change, Migrate):
        return None
    if instance.status not in OPEN_INSTANCE:
        raise MigrationRefused([f"the instance is {instance.status}; only running and waiting instances move"])
    if change.deployment_id == instance.deployment_id:
        raise MigrationRefused([f"the instance already runs deployment {change.deployment_id}"])
    definition = session.execute(select(ProcessDefinition).where(
        ProcessDefinition.deployment_id == change.deployment_id,
        ProcessDefinition.key == instance.process_key)).scalar_one_or_none()
    if definition is None:
        raise MigrationRefused([f"deployment {change.deployment_id} does not deploy process '{instance.process_key}'"])
    package, bindings = pinned(change.deployment_id)
    return MigrationTarget(replace(change, target=package_source(package.compiled)), definition, package, bindings)


def repoint(instance: Instance, target: MigrationTarget, snapshot: Snapshot) -> dict[str, Any]:
    """Point `instance` at the version it moved to; what the audit entry says of the move.

    Raises:
        MigrationRefused: the instance cannot take the move (the plan says why), or would
            fail in the new version at once (it stays where it runs; the dry run shows why).
    """
    plan = snapshot.migration
    if plan is None or not plan.safe:
        raise MigrationRefused(list(plan.refusals) if plan is not None else ["the move made no plan"])
    if snapshot.error:
        raise MigrationRefused([f"the instance would fail in the new version right after the move: {snapshot.error}"])
    before = {"deployment_id": instance.deployment_id, "version": instance.version}
    definition = target.definition
    instance.definition_id, instance.deployment_id = definition.id, definition.deployment_id
    instance.version, instance.call_bindings = definition.version, target.bindings or None
    return {"from": before, "to": {"deployment_id": definition.deployment_id, "version": definition.version},
            "tasks": [{"element": t.element_id, "task_id": t.task_id, "outcome": t.outcome} for t in plan.tasks]}
