"""Human tasks: list, read, claim, complete."""

from __future__ import annotations

from engine.api.deps import WORKERS, PrincipalDep, ReadSessionDep, RuntimeDep, WriterDep, allow
from engine.api.routing import router as make_router
from engine.api.schemas import CompleteIn, InstanceOut, TaskOut
from engine.services import instances, queries
from engine.services.transaction import Transaction

router = make_router("/api/v1/tasks", "tasks")


@router.get("", response_model=list[TaskOut], **allow(*WORKERS))
def list_tasks(session: ReadSessionDep, principal: PrincipalDep, instance_id: str | None = None,
               status: str | None = None) -> list[TaskOut]:
    """Tasks the caller may work, optionally of one instance or in one status (e.g. `ready`)."""
    return [TaskOut.model_validate(queries.task_view(t, with_form=False))
            for t in queries.list_tasks(session, principal, instance_id, status)]


@router.get("/{task_id}", response_model=TaskOut, **allow(*WORKERS))
def get_task(session: ReadSessionDep, principal: PrincipalDep, task_id: str) -> TaskOut:
    """One task with its form."""
    return TaskOut.model_validate(queries.task_view(queries.load_task(session, principal, task_id)))


@router.post("/{task_id}/complete", response_model=InstanceOut, **allow(*WORKERS),
             responses={409: {"description": "already completed, or another completion won; nothing was saved"},
                        422: {"description": "the data does not fit the task's form; `errors` says field by field"}})
def complete_task(write: WriterDep, runtime: RuntimeDep, principal: PrincipalDep, task_id: str,
                  body: CompleteIn) -> InstanceOut:
    """Complete a task with the submitted data and run the instance until it waits again."""
    def work(session: Transaction) -> InstanceOut:
        row = queries.load_task(session, principal, task_id, for_update=True)
        instance = instances.complete_task(session, runtime, principal, row, body.data)
        return InstanceOut.model_validate(queries.instance_view(session, principal, instance))

    return write.rehearsed(work)


@router.post("/{task_id}/claim", response_model=TaskOut, **allow(*WORKERS),
             responses={409: {"description": "done already, or claimed by someone else"}})
def claim_task(write: WriterDep, principal: PrincipalDep, task_id: str, release: bool = False) -> TaskOut:
    """Claim a task so colleagues do not work it twice (`?release=true` gives it back)."""
    with write() as session:
        row = queries.load_task(session, principal, task_id, for_update=True)
        claimed = TaskOut.model_validate(queries.task_view(instances.claim_task(principal, row, release)))
    return claimed
