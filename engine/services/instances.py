"""What people and connectors do to instances: start, complete a task, settle a call, terminate.

Each use case checks who may do what with which input, then hands one change to the
instance store (`engine.services.instance_store`), which restores, runs and saves the
instance in the caller's transaction; the events the instance threw are routed in that
same transaction (`engine.services.event_delivery.apply_routed`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.changes import CompleteTask, ServiceError, ServiceResult, Start, Terminate
from engine.core.errors import TaskStateError
from engine.core.statuses import ENDED_INSTANCE, OPEN_CALLS, TaskStatus
from engine.db.models import HumanTaskRow, Instance, ProcessDefinition, ServiceCallRow
from engine.security.principals import Principal, Role
from engine.services import payments, queries, uploads
from engine.services.data_limits import check_data_size, check_storable
from engine.services.deployments import package_of
from engine.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.services.event_delivery import apply_routed
from engine.services.instance_store import Cause, NewInstance
from engine.services.runtime import Runtime
from forms import schema as schemas
from forms.conditions import ConcretePath
from forms.model import FormModel, declares_fields
from forms.storable import escaped
from forms.validate import FieldError, validate_submission

APPLICANT_VARIABLE = "applicant_national_code"
MAX_LISTED_ERRORS = 20


def _definition(session: Session, key: str, version: int | None) -> ProcessDefinition:
    query = select(ProcessDefinition).where(ProcessDefinition.key == key)
    query = query.where(ProcessDefinition.version == version) if version else query
    found = session.execute(query.order_by(ProcessDefinition.version.desc()).limit(1)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no deployed process '{key}'" + (f" at version {version}" if version else ""))
    return found


def not_asked(form: FormModel | None, data: dict[str, Any]) -> list[FieldError]:
    """The fields of `data` that `form` does not ask: every field when it declares none.

    Citizens answer questions; they do not set process variables. Read-only and hidden fields
    count as asked (the form declares them, and validation drops them), at every level of
    groups and repeated groups.
    """
    found: list[ConcretePath]
    if not declares_fields(form):
        found = [(str(name),) for name in data]
    else:
        assert form is not None
        schema = form["schema"]
        found = _undeclared(schema, [schema], data, ())
    errors = [FieldError(".".join(str(p) for p in path), "is not a question of this form; only its questions "
                         "can be answered", code="not-asked") for path in found[:MAX_LISTED_ERRORS]]
    if len(found) > MAX_LISTED_ERRORS:
        errors.append(FieldError("", f"and {len(found) - MAX_LISTED_ERRORS:,} more fields that are not questions "
                                 "of this form", code="not-asked"))
    return errors


def _undeclared(root: schemas.Node, nodes: list[schemas.Node], value: dict[str, Any],
                at: ConcretePath) -> list[ConcretePath]:
    declared = schemas.declared(root, nodes)
    if not declared:
        return []  # an object declared without properties takes any shape
    found: list[ConcretePath] = []
    for name, item in value.items():
        declarations = declared.get(name)
        if declarations is None:
            found.append((*at, name))
        elif isinstance(item, dict):
            found += _undeclared(root, declarations, item, (*at, name))
        elif isinstance(item, list):
            item_nodes = schemas.items(root, declarations)
            for index, element in enumerate(item):
                if item_nodes and isinstance(element, dict):
                    found += _undeclared(root, item_nodes, element, (*at, name, index))
    return found


def start(session: Session, runtime: Runtime, principal: Principal, key: str, data: dict[str, Any],
          version: int | None = None) -> Instance:
    """Start process `key` (newest version unless `version`) and run it until it waits.

    A citizen may give only what the start event's form asks (nothing when it has no form);
    analysts and admins may pass any variables, to test models.
    """
    if principal.role is Role.STAFF:
        raise Forbidden("staff work tasks; instances are started by citizens, analysts or admins")
    definition = _definition(session, key, version)
    package = package_of(session, runtime, definition.deployment_id)
    start_form = next((package.forms[e] for e in package.compiled.start_events(key) if e in package.forms), None)
    asked = not_asked(start_form, data) if principal.role is Role.CITIZEN else []
    data, errors = validate_submission(start_form, data)
    errors = asked + errors + uploads.refused_answers(session, start_form, data, {principal.name}, None)
    if errors:
        raise InvalidInput(errors)
    if principal.role is Role.CITIZEN:
        # Who applies is known from sign-in, never from the form: connectors fetch the rest.
        data[APPLICANT_VARIABLE] = principal.name
    check_data_size(data, runtime.settings.max_data_bytes)
    owner = principal.name if principal.role is Role.CITIZEN else principal.actor
    applied = apply_routed(session, runtime, NewInstance(definition, owner), Start(data),
                           Cause(principal.actor, "instance.started"))
    assert applied is not None  # a new instance always takes its start
    taken = uploads.bind(session, start_form, data, applied.instance.id, None)
    if taken:
        raise InvalidInput(taken)
    return applied.instance


def complete_task(session: Session, runtime: Runtime, principal: Principal, row: HumanTaskRow,
                  data: dict[str, Any]) -> Instance:
    """Complete a human task the caller may see; `row` comes from `queries.load_task`.

    A citizen may give only what the task's form asks. A document answer must name a file the
    case's citizen or the caller gave that is not part of another case; once accepted, the file
    is bound to this case and task.
    """
    if row.status is not TaskStatus.READY:
        raise Conflict(f"task '{row.title}' is already {row.status}")
    if row.claimed_by and row.claimed_by != principal.actor and not principal.sees_everything:
        raise Conflict(f"task '{row.title}' is claimed by {row.claimed_by}")
    instance = session.get(Instance, row.instance_id)
    if instance is None:
        raise NotFound(f"no instance {row.instance_id}")
    asked = not_asked(row.form, data) if principal.role is Role.CITIZEN else []
    kept, errors = validate_submission(row.form, data, variables=instance.data)
    errors = asked + errors + uploads.refused_answers(session, row.form, kept, {instance.owner, principal.name},
                                                      instance.id)
    if errors:
        raise InvalidInput(errors)
    check_data_size(kept, runtime.settings.max_data_bytes)
    taken = uploads.bind(session, row.form, kept, instance.id, row.id)
    if taken:
        raise InvalidInput(taken)
    cause = Cause(principal.actor, "task.completed", row.spec_id,
                  {"task": row.title, "task_id": row.id, "fields": sorted(kept)})
    try:
        applied = apply_routed(session, runtime, instance, CompleteTask(row.id, kept), cause)
    except TaskStateError as err:
        raise Conflict(str(err)) from err
    assert applied is not None  # completing a task is always taken, or refused above
    return instance


def complete_service_call(session: Session, runtime: Runtime, actor: str, call_id: str, result: Any) -> Instance:
    """Hand a parked service task its result and run the instance on; a payment call's result is
    also kept as the case's payment record (`engine.services.payments`), in the same transaction."""
    call = session.get(ServiceCallRow, call_id)
    if call is None:
        raise NotFound(f"no service call {call_id}")
    if call.status not in OPEN_CALLS:
        raise Conflict(f"service call '{call.name}' is already {call.status}")
    instance = session.get(Instance, call.instance_id)
    if instance is None:
        raise NotFound(f"no instance {call.instance_id}")
    check_storable(result, f"the result of service task '{call.spec_id}'")
    cause = Cause(actor, "service_call.completed", call.spec_id, {"task": call.name, "operation": call.operation})
    try:
        applied = apply_routed(session, runtime, instance, ServiceResult(call_id, result), cause)
    except TaskStateError as err:
        raise Conflict(str(err)) from err
    assert applied is not None  # a result is always taken, or refused above
    payments.record_call_result(session, call, result)
    return instance


def claim_task(principal: Principal, row: HumanTaskRow, release: bool = False) -> HumanTaskRow:
    """Take a ready task so colleagues do not work it twice, or give it back."""
    if row.status is not TaskStatus.READY:
        raise Conflict(f"task '{row.title}' is already {row.status}")
    if row.claimed_by and row.claimed_by != principal.actor and not principal.sees_everything:
        raise Conflict(f"task '{row.title}' is claimed by {row.claimed_by}")
    row.claimed_by = None if release else principal.actor
    return row


def terminate(session: Session, runtime: Runtime, principal: Principal, instance_id: str, reason: str) -> Instance:
    """Stop an instance for good; its open tasks and service calls are cancelled."""
    instance = queries.load_instance(session, principal, instance_id)
    if instance.status in ENDED_INSTANCE:
        raise Conflict(f"instance is already {instance.status}")
    applied = apply_routed(session, runtime, instance, Terminate(),
                           Cause(principal.actor, "instance.terminated", None, {"reason": reason}))
    assert applied is not None  # termination is always taken
    return instance


def fail_service_call(session: Session, runtime: Runtime, call_id: str, code: str, message: str,
                      actor: str = "connector") -> bool:
    """Throw a connector's error code into the model; False (and nothing changed) when no
    error event catches it."""
    call = session.get(ServiceCallRow, call_id)
    instance = session.get(Instance, call.instance_id) if call is not None else None
    if call is None or instance is None:
        raise NotFound(f"no service call {call_id}")
    if call.status not in OPEN_CALLS:
        raise Conflict(f"service call '{call.name}' is already {call.status}")
    cause = Cause(actor, "service_call.error_caught", call.spec_id,
                  {"task": call.name, "operation": call.operation, "code": escaped(code), "message": escaped(message)})
    try:
        applied = apply_routed(session, runtime, instance, ServiceError(call_id, code, message), cause)
    except TaskStateError as err:
        raise Conflict(str(err)) from err
    return applied is not None
