"""Running connector calls: claim, call, settle. At least once, with exactly one effect.

A parked service task is an outbox row (`service_call`), written in the same transaction as
the state that parked it. Running one is three steps, so that no database lock is held
while another agency answers:

1. claim: lock the row, check it is due (or its claim is stale: the worker died), count
   the attempt, commit;
2. call the connector with the case id, purpose, end user and an idempotency key that is
   the same on every attempt, so the agency can drop a repeated request;
3. settle: in a new transaction, only if the row is still ours at this attempt, apply the
   result under the instance's optimistic lock, or schedule a retry (exponential backoff
   with jitter), or throw the connector's error code into the model, or open an incident.

A duplicate delivery finds the row settled or claimed by a newer attempt and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.context import make_context
from connectors.registry import Operation, Registry
from connectors.sdk import ConnectorError
from engine import audit
from engine.db.base import utcnow
from engine.db.models import DataUse, Incident, Instance, ServiceCallRow
from engine.services import instances
from engine.services.deployments import MANUAL_PREFIX
from engine.services.dispatch import InlineDispatcher, celery_dispatcher
from engine.services.errors import Conflict
from engine.services.runtime import Runtime

log = logging.getLogger("panjereh.jobs")
MAX_BACKOFF_SECONDS = 15 * 60


@dataclass(frozen=True)
class Claim:
    """What a worker needs to make one call, taken from the row at claim time."""

    call_id: str
    instance_id: str
    operation: str
    params: dict[str, Any]
    attempt: int
    purpose: str
    end_user: str | None


def backoff(attempt: int, base: float, retry_after: float | None = None) -> float:
    """Seconds before the next attempt: exponential with full jitter, at least what the agency asked."""
    ceiling = min(MAX_BACKOFF_SECONDS, base ** attempt)
    return max(retry_after or 0.0, random.uniform(ceiling / 2, ceiling))  # noqa: S311 - jitter, not secrecy


def due(session: Session, limit: int = 50, stale_after: float = 120.0) -> list[str]:
    """Calls ready to run now: waiting and due, or running on a claim older than `stale_after`."""
    now = utcnow()
    waiting = select(ServiceCallRow.id).where(
        ServiceCallRow.status == "waiting", ~ServiceCallRow.operation.startswith(MANUAL_PREFIX),
        ServiceCallRow.operation != "",
        (ServiceCallRow.next_attempt_at.is_(None)) | (ServiceCallRow.next_attempt_at <= now))
    stale = select(ServiceCallRow.id).where(
        ServiceCallRow.status == "running", ServiceCallRow.claimed_at < now - timedelta(seconds=stale_after))
    return list(session.execute(waiting.union(stale).limit(limit)).scalars())


def claim(runtime: Runtime, call_id: str) -> Claim | None:
    """Take the call for one attempt, or None when it is not due, done, or someone else's."""
    stale_after = runtime.settings.connector_timeout_seconds * 4
    with runtime.unit_of_work() as session:
        row = session.execute(select(ServiceCallRow).where(ServiceCallRow.id == call_id)
                              .with_for_update(skip_locked=True)).scalar_one_or_none()
        if row is None:
            return None
        now = utcnow()
        if row.status == "running":
            if row.claimed_at is not None and row.claimed_at > now - timedelta(seconds=stale_after):
                return None
            log.warning("reclaiming service call %s: its previous attempt never settled", call_id)
        elif row.status != "waiting" or (row.next_attempt_at is not None and row.next_attempt_at > now):
            return None
        row.status, row.claimed_at, row.attempts = "running", now, row.attempts + 1
        instance = session.get(Instance, row.instance_id)
        owner = instance.owner if instance is not None else None
        # Owners of the form "role:name" are staff or analysts testing; only citizens are end users.
        end_user = owner if owner and ":" not in owner else None
        purpose = instance.process_key if instance is not None else ""
        return Claim(row.id, row.instance_id, row.operation, dict(row.params), row.attempts, purpose, end_user)


def _sha256(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def call(runtime: Runtime, registry: Registry, job: Claim) -> tuple[Operation | None, dict[str, Any] | ConnectorError]:
    """Make the call; errors come back as values so settling can decide what they mean."""
    operation = registry.get(job.operation)
    if operation is None:
        return None, ConnectorError("unknown-operation", f"no connector operation '{job.operation}' is installed")
    context = make_context(
        timeout=runtime.settings.connector_timeout_seconds, case_id=job.instance_id, purpose=job.purpose,
        end_user=job.end_user, attempt=job.attempt, idempotency_key=f"panjereh-{job.call_id}",
        secrets=runtime.settings.connector_secrets(), logger=log.getChild(operation.connector_id),
        transport=runtime.connector_transport)
    try:
        return operation, operation.call(context, job.params)
    except ConnectorError as error:
        return operation, error
    except Exception as error:  # a plugin bug or a network fault must not kill the worker
        log.exception("connector %s failed", job.operation)
        return operation, ConnectorError("connector-failed", f"{type(error).__name__}: {error}", retryable=True)
    finally:
        context.http.close()


def settle(runtime: Runtime, job: Claim, operation: Operation | None,
           outcome: dict[str, Any] | ConnectorError) -> str:
    """Apply what the call brought back; returns the call's new status (or "stale")."""
    try:
        with runtime.unit_of_work() as session:
            row = session.execute(select(ServiceCallRow).where(ServiceCallRow.id == job.call_id)
                                  .with_for_update()).scalar_one_or_none()
            if row is None or row.status != "running" or row.attempts != job.attempt:
                return "stale"
            session.add(_data_use(job, operation, outcome))
            if isinstance(outcome, dict):
                instances.complete_service_call(session, runtime, "connector", job.call_id, outcome)
                return "completed"
            return _failed(session, runtime, row, job, outcome)
    except Conflict:
        # The instance moved on meanwhile (terminated, say); the row stays claimed and a
        # later sweep re-reads it, so nothing is applied twice.
        return "stale"


def _data_use(job: Claim, operation: Operation | None, outcome: dict[str, Any] | ConnectorError) -> DataUse:
    fields = list(operation.personal_fields) if operation else []
    return DataUse(instance_id=job.instance_id, call_id=job.call_id,
                   connector=operation.connector_id if operation else job.operation.split("/")[0],
                   operation=job.operation, agency=operation.agency if operation else "", purpose=job.purpose,
                   end_user=job.end_user, fields=fields,
                   outcome="ok" if isinstance(outcome, dict) else outcome.code,
                   request_sha256=_sha256(job.params),
                   response_sha256=_sha256(outcome) if isinstance(outcome, dict) else None)


def _failed(session: Session, runtime: Runtime, row: ServiceCallRow, job: Claim, error: ConnectorError) -> str:
    row.last_error = f"{error.code}: {error.message}"
    if error.retryable and row.attempts < row.max_attempts:
        row.status = "waiting"
        row.next_attempt_at = utcnow() + timedelta(seconds=backoff(row.attempts, row.backoff_base, error.retry_after))
        audit.append(session, "connector", "service_call.retry", instance_id=job.instance_id, subject=row.spec_id,
                     detail={"operation": job.operation, "attempt": row.attempts, "error": row.last_error})
        return "waiting"
    if not error.retryable and instances.fail_service_call(session, runtime, job.call_id, error.code, error.message):
        return "caught"
    row.status = "incident"
    kind = "retries-exhausted" if error.retryable else "uncaught-error"
    session.add(Incident(instance_id=job.instance_id, call_id=job.call_id, kind=kind,
                         message=f"{job.operation}: {row.last_error} (attempt {row.attempts})"))
    audit.append(session, "connector", "incident.opened", instance_id=job.instance_id, subject=row.spec_id,
                 detail={"operation": job.operation, "kind": kind, "error": row.last_error})
    return "incident"


def run(runtime: Runtime, registry: Registry, call_id: str) -> str:
    """One attempt at one call, start to end; what a worker task does."""
    job = claim(runtime, call_id)
    if job is None:
        return "skipped"
    operation, outcome = call(runtime, registry, job)
    return settle(runtime, job, operation, outcome)


def retry_incident(session: Session, incident_id: int, actor: str) -> ServiceCallRow:
    """Put an incident's call back in the queue with a fresh set of attempts."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.call_id is None:
        from engine.services.errors import NotFound

        raise NotFound(f"no incident {incident_id} with a service call")
    if incident.resolved_at is not None:
        raise Conflict(f"incident {incident_id} is already resolved")
    row = session.get(ServiceCallRow, incident.call_id)
    assert row is not None
    row.status, row.attempts, row.next_attempt_at, row.claimed_at = "waiting", 0, None, None
    incident.resolved_at, incident.resolved_by = utcnow(), actor
    audit.append(session, actor, "incident.retried", instance_id=incident.instance_id, subject=row.spec_id,
                 detail={"incident": incident_id})
    session.info.setdefault("new_calls", set()).add(row.id)
    return row


def attach_dispatcher(runtime: Runtime) -> None:
    """Run jobs in this process, unless a broker is configured (then `engine.jobs` does)."""
    if runtime.settings.broker_url:
        runtime.dispatch = celery_dispatcher(runtime.settings.broker_url)
        return

    def due_now() -> list[str]:
        with runtime.reading() as session:
            return due(session, stale_after=runtime.settings.connector_timeout_seconds * 4)

    runtime.dispatch = InlineDispatcher(lambda call_id: run(runtime, runtime.connectors, call_id), due_now)
