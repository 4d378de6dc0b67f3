"""Processes and their instances."""

from __future__ import annotations

from engine.api.deps import READERS, PrincipalDep, ReadSessionDep, RuntimeDep, WriterDep, allow
from engine.api.routing import router as make_router
from engine.api.schemas import (
    DataUseOut,
    InstanceCreated,
    InstanceOut,
    InstanceSummary,
    MigrateIn,
    MigrationOut,
    ProcessOut,
    StartIn,
    TerminateIn,
)
from engine.security.principals import Role
from engine.services import instances, migrations, queries
from engine.services.transaction import Transaction

router = make_router("/api/v1", "processes")


@router.get("/processes", response_model=list[ProcessOut], **allow(*READERS))
def list_processes(session: ReadSessionDep) -> list[ProcessOut]:
    """Every deployed process at every version, newest version first."""
    return [ProcessOut(key=d.key, name=d.name, version=d.version, deployment_id=d.deployment_id)
            for d in queries.list_processes(session)]


@router.post("/processes/{key}/instances", status_code=201, response_model=InstanceCreated,
             **allow(Role.ADMIN, Role.ANALYST, Role.CITIZEN))
def start_instance(write: WriterDep, runtime: RuntimeDep, principal: PrincipalDep, key: str,
                   body: StartIn) -> InstanceCreated:
    """Start an instance of the newest (or the given) version and run it until it waits."""
    def work(session: Transaction) -> InstanceCreated:
        instance = instances.start(session, runtime, principal, key, body.data, body.version)
        return InstanceCreated(id=instance.id, tracking_code=instance.tracking_code, status=instance.status,
                               process_key=instance.process_key, version=instance.version, error=instance.error)

    return write.rehearsed(work)


@router.get("/instances", response_model=list[InstanceSummary], **allow(*READERS))
def list_instances(session: ReadSessionDep, principal: PrincipalDep,
                   status: str | None = None) -> list[InstanceSummary]:
    """The instances the caller may see, newest first."""
    return [InstanceSummary.model_validate(i, from_attributes=True)
            for i in queries.list_instances(session, principal, status, as_party=True)]


@router.get("/instances/{instance_id}", response_model=InstanceOut, **allow(*READERS))
def get_instance(session: ReadSessionDep, principal: PrincipalDep, instance_id: str) -> InstanceOut:
    """One instance with its data, open tasks and history (for a citizen who is only a party to it, its
    status and their own tasks)."""
    instance = queries.load_instance(session, principal, instance_id, as_party=True)
    return InstanceOut.model_validate(queries.instance_view(session, principal, instance))


@router.get("/instances/{instance_id}/data-use", response_model=list[DataUseOut],
            **allow(Role.ADMIN, Role.AUDITOR, Role.CITIZEN))
def list_data_uses(session: ReadSessionDep, principal: PrincipalDep, instance_id: str) -> list[DataUseOut]:
    """Who used the citizen's data held by other agencies for this case, what for, and when."""
    return [DataUseOut.model_validate(row, from_attributes=True)
            for row in queries.data_uses(session, principal, instance_id)]


@router.post("/instances/{instance_id}/terminate", response_model=InstanceOut, **allow(Role.ADMIN))
def terminate_instance(write: WriterDep, runtime: RuntimeDep, principal: PrincipalDep, instance_id: str,
                       body: TerminateIn) -> InstanceOut:
    """Stop an instance for good, with a reason kept in its history."""
    def work(session: Transaction) -> InstanceOut:
        instance = instances.terminate(session, runtime, principal, instance_id, body.reason)
        return InstanceOut.model_validate(queries.instance_view(session, principal, instance))

    return write.rehearsed(work)


@router.post("/instances/{instance_id}/migrate", response_model=MigrationOut, **allow(Role.ADMIN),
             responses={409: {"description": "the instance cannot move (`detail` gives each reason; nothing was "
                                             "saved), or it changed since `lock_version`, or at the same moment"}})
def migrate_instance(write: WriterDep, runtime: RuntimeDep, principal: PrincipalDep, instance_id: str,
                     body: MigrateIn) -> MigrationOut:
    """Move an instance to another deployment of its process, or say what that would do (`dry_run`)."""
    def work(session: Transaction) -> MigrationOut:
        outcome = migrations.migrate(session, runtime, principal.actor, instance_id, body.deployment_id,
                                     dry_run=body.dry_run, lock_version=body.lock_version)
        return MigrationOut.model_validate(migrations.view(outcome))

    if body.dry_run:
        # A dry run writes nothing: it runs the model in a read transaction.
        with runtime.reading() as session:
            return work(session)
    return write.rehearsed(work)
