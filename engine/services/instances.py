"""Starting instances and moving them on: every change is one transaction.

Each use case loads the instance, restores its workflow, applies one change, runs the
engine until it waits, then writes the state, the projections (human tasks, service
calls) and the audit events together. The instance row's optimistic lock makes a second
writer that read the same version fail with `Conflict` instead of overwriting.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from itertools import islice
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import audit
from engine.core.errors import ScriptError, TaskStateError
from engine.core.events import take_thrown
from engine.core.report import Report
from engine.core.runtime import Execution
from engine.core.serialization import LIBRARY_VERSION
from engine.db import limits
from engine.db.base import utcnow
from engine.db.models import HumanTaskRow, Instance, ProcessDefinition, ServiceCallRow
from engine.security.principals import Principal, Role
from engine.services import uploads, waits
from engine.services.access import audience_of, visible_instances
from engine.services.deployments import (
    DeploymentRejected,
    LoadedPackage,
    bound_package,
    is_manual,
    package_of,
    resolve_calls,
)
from engine.services.errors import Conflict, Forbidden, InvalidInput, LostRace, NotFound, Unstorable
from engine.services.runtime import Runtime
from engine.services.tracking import new_tracking_code
from forms import schema as schemas
from forms.conditions import ConcretePath
from forms.model import FormModel, declares_fields
from forms.storable import escaped, unstorable_places
from forms.validate import FieldError, validate_submission

APPLICANT_VARIABLE = "applicant_national_code"
MAX_LISTED_ERRORS = 20


def check_storable(value: Any, what: str) -> None:
    """Refuse `value` (data the model computed or an agency sent) when it holds what no database keeps.

    The same on SQLite and PostgreSQL, and before anything is written: PostgreSQL alone would
    refuse it, and only when the row is flushed.

    Raises:
        Unstorable: naming the first place found and what is wrong there.
    """
    for path, problem in islice(unstorable_places(value), 1):
        where = ".".join(str(p) for p in path).encode("utf-8", "backslashreplace").decode("utf-8")
        raise Unstorable(f"{what} cannot be saved: {where or 'the value'} {problem}; nothing was saved")


def check_data_size(data: dict[str, Any], limit: int) -> None:
    size = len(json.dumps(data, default=str).encode())
    if size > limit:
        raise InvalidInput([FieldError("", f"data is {size:,} bytes, over the limit of {limit:,} bytes")])


def _definition(session: Session, key: str, version: int | None) -> ProcessDefinition:
    query = select(ProcessDefinition).where(ProcessDefinition.key == key)
    query = query.where(ProcessDefinition.version == version) if version else query
    found = session.execute(query.order_by(ProcessDefinition.version.desc()).limit(1)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no deployed process '{key}'" + (f" at version {version}" if version else ""))
    return found


def _project(session: Session, instance: Instance, execution: Execution, package: LoadedPackage) -> None:
    """Bring the human-task and service-call tables in line with the workflow."""
    ready = {task.id: task for task in execution.human_tasks()}
    open_rows = session.execute(
        select(HumanTaskRow).where(HumanTaskRow.instance_id == instance.id, HumanTaskRow.status == "ready")
    ).scalars().all()
    open_calls = session.execute(
        select(ServiceCallRow).where(ServiceCallRow.instance_id == instance.id,
                                     ServiceCallRow.status.in_(("waiting", "running", "incident")))
    ).scalars().all()
    for row in open_rows:
        if row.id not in ready:
            row.status = "cancelled"
            row.completed_at = utcnow()
    known = {row.id for row in open_rows}
    for task in ready.values():
        if task.id in known:
            continue
        audience, agency = audience_of(task.lane, package.lanes)
        session.add(HumanTaskRow(
            id=task.id, instance_id=instance.id, spec_id=task.spec_id, name=task.spec_id,
            title=limits.TASK_TITLE.shortened(task.name),
            kind=task.kind, lane=task.lane, audience=audience, agency=agency,
            form=package.forms.get(task.spec_id), status="ready"))
    pending = {call.task_id: call for call in execution.service_calls()}
    for call_row in open_calls:
        if call_row.id not in pending:
            call_row.status = "cancelled"
            call_row.completed_at = utcnow()
    known_calls = {row.id for row in open_calls}
    for call in pending.values():
        if call.task_id not in known_calls:
            check_storable(call.params, f"the parameters of service task '{call.spec_id}'")
            session.add(ServiceCallRow(id=call.task_id, instance_id=instance.id, spec_id=call.spec_id,
                                       name=limits.CALL_NAME.shortened(call.name), operation=call.operation,
                                       params=json.loads(json.dumps(call.params, default=str)),
                                       status="waiting", attempts=0, max_attempts=call.retry.attempts,
                                       backoff_base=call.retry.backoff_base,
                                       retry_delays=list(call.retry.delays) or None))
            if not is_manual(call.operation):
                session.info.setdefault("new_calls", set()).add(call.task_id)


def _budget(execution: Execution, runtime: Runtime) -> None:
    """One change may run so many automatic steps, for so long, before the instance fails as
    a runaway (a loop that never waits would otherwise hold a server thread and grow for ever)."""
    execution.limit_steps(runtime.settings.max_steps_per_change, runtime.settings.max_change_seconds)


def _advance(change: Callable[[], None]) -> None:
    """Apply one change; a failing script (or a runaway, see `_budget`) fails the instance but
    loses nothing: the state is saved with the error, and the caller's input is kept in it."""
    try:
        change()
    except ScriptError:
        return


def _save(session: Session, instance: Instance, execution: Execution, package: LoadedPackage,
          cause: audit.Entry, audited_task: str | None = None, *, runtime: Runtime) -> None:
    """Write state and projections, then the audit events of this change in one batch.

    Before writing, the instance takes any buffered message it now waits for; after, the
    signals and messages it threw are routed to other instances in this same transaction.
    """
    delivered = waits.take_buffered(session, instance.id, execution, package.compiled, utcnow())
    thrown = take_thrown(execution)
    check_storable(execution.data, "the process data")
    state, serializer_version = execution.dump()
    instance.state, instance.serializer_version = state, serializer_version
    instance.library_version = LIBRARY_VERSION
    instance.status = execution.status
    # A script's error may quote the text it failed on, whatever characters that held.
    error = escaped(execution.error) if execution.error else execution.error
    instance.error = error
    instance.data = json.loads(json.dumps(execution.data, default=str))
    _flush(session)
    _project(session, instance, execution, package)
    waits.project(session, instance, execution, package.compiled)
    entries = [cause, *delivered]
    entries += [audit.Entry("engine", "task.completed", instance.id, step.spec_id,
                            {"task": step.name, "type": step.kind, "task_id": step.task_id})
                for step in execution.take_steps() if step.task_id != audited_task]
    if error:
        entries.append(audit.Entry("engine", "instance.failed", instance.id, None, {"error": error}))
    elif instance.status == "completed":
        entries.append(audit.Entry(cause.actor, "instance.completed", instance.id))
    audit.append_all(session, entries)
    _flush(session)
    if thrown:
        # events drives instances (it restores and saves them), so it is imported here.
        from engine.services import events

        events.route_thrown(session, runtime, instance.id, thrown)


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as err:
        raise LostRace("the instance was changed by someone else at the same time; reload and retry") from err


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
    instance = launch(session, runtime, definition, data, owner, principal.actor)
    taken = uploads.bind(session, start_form, data, instance.id, None)
    if taken:
        raise InvalidInput(taken)
    return instance


def launch(session: Session, runtime: Runtime, definition: ProcessDefinition, data: dict[str, Any], owner: str,
           actor: str, trigger: Callable[[Execution], None] | None = None,
           detail: dict[str, Any] | None = None) -> Instance:
    """Create an instance of `definition` with checked start `data` and run it until it waits.

    `trigger` lets in what started it (a timer, a message, a signal) at its start event.
    """
    package, bindings = _pinned_package(session, runtime, definition.deployment_id)
    execution = Execution.start(package.compiled, definition.key, data, runtime.script_engine)
    _budget(execution, runtime)
    _advance(execution.advance)
    if trigger is not None and not execution.error:
        _advance(lambda: trigger(execution))
    instance = Instance(id=str(uuid.uuid4()), definition_id=definition.id,
                        deployment_id=definition.deployment_id, process_key=definition.key,
                        version=definition.version, status="running", tracking_code=_free_code(session),
                        owner=owner, data={}, state="", serializer_version="", library_version="",
                        call_bindings=bindings or None)
    session.add(instance)
    session.flush()
    _save(session, instance, execution, package, audit.Entry(
        actor, "instance.started", instance.id, definition.key,
        {"version": definition.version, "tracking_code": instance.tracking_code, "data_keys": sorted(data),
         **(detail or {})}), runtime=runtime)
    return instance


def _free_code(session: Session) -> str:
    for _ in range(20):
        code = new_tracking_code()
        if session.execute(select(Instance.id).where(Instance.tracking_code == code)).first() is None:
            return code
    raise IntegrityError("tracking code space exhausted", None, Exception())


def load_visible(session: Session, principal: Principal, instance_id: str) -> Instance:
    instance = session.execute(
        select(Instance).where(Instance.id == instance_id, visible_instances(principal))
    ).scalar_one_or_none()
    if instance is None:
        raise NotFound(f"no instance {instance_id}")
    return instance


def _pinned_package(session: Session, runtime: Runtime, deployment_id: int) -> tuple[LoadedPackage, dict[str, int]]:
    """The deployment compiled with the processes it calls in other deployments, as deployed now.

    The bindings go on the instance, so every later restore compiles the same callees.
    """
    base = package_of(session, runtime, deployment_id)
    report = Report()
    bindings = resolve_calls(session, runtime, base.compiled.documents, report)
    try:
        if not report.deployable:
            raise DeploymentRejected(report)
        return bound_package(session, runtime, deployment_id, bindings), bindings
    except DeploymentRejected as err:
        raise Conflict(f"the processes this one calls no longer fit together: {err}") from err


def restore(session: Session, runtime: Runtime, instance: Instance) -> tuple[Execution, LoadedPackage]:
    package = bound_package(session, runtime, instance.deployment_id, instance.call_bindings)
    execution = Execution.restore(package.compiled, instance.process_key, instance.state,
                                  instance.serializer_version, runtime.script_engine)
    _budget(execution, runtime)
    return execution, package


def complete_task(session: Session, runtime: Runtime, principal: Principal, row: HumanTaskRow,
                  data: dict[str, Any]) -> Instance:
    """Complete a human task the caller may see; `row` comes from `queries.load_task`.

    A citizen may give only what the task's form asks. A document answer must name a file the
    case's citizen or the caller gave that is not part of another case; once accepted, the file
    is bound to this case and task.
    """
    if row.status != "ready":
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
    execution, package = restore(session, runtime, instance)
    try:
        _advance(lambda: execution.complete_human_task(row.id, kept))
    except TaskStateError as err:
        raise Conflict(str(err)) from err
    row.status, row.completed_by, row.completed_at = "completed", principal.actor, utcnow()
    _save(session, instance, execution, package, audit.Entry(
        principal.actor, "task.completed", instance.id, row.spec_id,
        {"task": row.title, "task_id": row.id, "fields": sorted(kept)}), audited_task=row.id, runtime=runtime)
    return instance


def complete_service_call(session: Session, runtime: Runtime, actor: str, call_id: str, result: Any) -> Instance:
    """Hand a parked service task its result and run the instance on."""
    call = session.get(ServiceCallRow, call_id)
    if call is None:
        raise NotFound(f"no service call {call_id}")
    if call.status not in ("waiting", "running", "incident"):
        raise Conflict(f"service call '{call.name}' is already {call.status}")
    instance = session.get(Instance, call.instance_id)
    if instance is None:
        raise NotFound(f"no instance {call.instance_id}")
    check_storable(result, f"the result of service task '{call.spec_id}'")
    execution, package = restore(session, runtime, instance)
    try:
        _advance(lambda: execution.complete_service_task(call_id, result))
    except TaskStateError as err:
        raise Conflict(str(err)) from err
    call.status, call.result, call.completed_at = "completed", result, utcnow()
    _save(session, instance, execution, package, audit.Entry(
        actor, "service_call.completed", instance.id, call.spec_id,
        {"task": call.name, "operation": call.operation}), audited_task=call_id, runtime=runtime)
    return instance


def claim_task(principal: Principal, row: HumanTaskRow, release: bool = False) -> HumanTaskRow:
    """Take a ready task so colleagues do not work it twice, or give it back."""
    if row.status != "ready":
        raise Conflict(f"task '{row.title}' is already {row.status}")
    if row.claimed_by and row.claimed_by != principal.actor and not principal.sees_everything:
        raise Conflict(f"task '{row.title}' is claimed by {row.claimed_by}")
    row.claimed_by = None if release else principal.actor
    return row


def terminate(session: Session, runtime: Runtime, principal: Principal, instance_id: str, reason: str) -> Instance:
    """Stop an instance for good; its open tasks and service calls are cancelled."""
    instance = load_visible(session, principal, instance_id)
    if instance.status in ("completed", "terminated"):
        raise Conflict(f"instance is already {instance.status}")
    execution, package = restore(session, runtime, instance)
    execution.terminate()
    _save(session, instance, execution, package,
          audit.Entry(principal.actor, "instance.terminated", instance.id, None, {"reason": reason}), runtime=runtime)
    return instance


def fail_service_call(session: Session, runtime: Runtime, call_id: str, code: str, message: str,
                      actor: str = "connector") -> bool:
    """Throw a connector's error code into the model; False (and nothing changed) when no
    error event catches it."""
    call = session.get(ServiceCallRow, call_id)
    instance = session.get(Instance, call.instance_id) if call is not None else None
    if call is None or instance is None:
        raise NotFound(f"no service call {call_id}")
    if call.status not in ("waiting", "running", "incident"):
        raise Conflict(f"service call '{call.name}' is already {call.status}")
    execution, package = restore(session, runtime, instance)
    try:
        if not execution.fail_service_task(call_id, code, message):
            return False
    except TaskStateError as err:
        raise Conflict(str(err)) from err
    call.status, call.completed_at = "caught", utcnow()
    _save(session, instance, execution, package, audit.Entry(
        actor, "service_call.error_caught", instance.id, call.spec_id,
        {"task": call.name, "operation": call.operation, "code": escaped(code), "message": escaped(message)}),
        audited_task=call_id,
        runtime=runtime)
    return True
