"""Human tasks: list, read, complete."""

from __future__ import annotations

from fastapi import APIRouter

from engine.api.deps import ALL_ROLES, PrincipalDep, RuntimeDep, SessionDep, allow
from engine.api.schemas import CompleteIn, InstanceOut, TaskOut
from engine.services import instances, queries

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


@router.get("", response_model=list[TaskOut], **allow(*ALL_ROLES))
def list_tasks(session: SessionDep, principal: PrincipalDep, instance_id: str | None = None,
               status: str | None = None) -> list[TaskOut]:
    """Tasks the caller may work, optionally of one instance or in one status (e.g. `ready`)."""
    return [TaskOut.model_validate(queries.task_view(t, with_form=False))
            for t in queries.list_tasks(session, principal, instance_id, status)]


@router.get("/{task_id}", response_model=TaskOut, **allow(*ALL_ROLES))
def get_task(session: SessionDep, principal: PrincipalDep, task_id: str) -> TaskOut:
    """One task with its form."""
    return TaskOut.model_validate(queries.task_view(queries.load_task(session, principal, task_id)))


@router.post("/{task_id}/complete", response_model=InstanceOut, **allow(*ALL_ROLES),
             responses={409: {"description": "already completed, or another completion won"},
                        422: {"description": "the data does not fit the task's form"}})
def complete_task(session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep, task_id: str,
                  body: CompleteIn) -> InstanceOut:
    """Complete a task with the submitted data and run the instance until it waits again."""
    row = queries.load_task(session, principal, task_id, for_update=True)
    instance = instances.complete_task(session, runtime, principal, row, body.data)
    return InstanceOut.model_validate(queries.instance_view(session, principal, instance))


@router.post("/{task_id}/claim", response_model=TaskOut, **allow(*ALL_ROLES),
             responses={409: {"description": "done already, or claimed by someone else"}})
def claim_task(session: SessionDep, principal: PrincipalDep, task_id: str, release: bool = False) -> TaskOut:
    """Claim a task so colleagues do not work it twice (`?release=true` gives it back)."""
    row = queries.load_task(session, principal, task_id, for_update=True)
    return TaskOut.model_validate(queries.task_view(instances.claim_task(principal, row, release)))
