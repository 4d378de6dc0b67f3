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
   A failure only an operator can fix (`connectors.failures.INCIDENT_CODES`: a connector
   with no address or secret, an answer too big for a case) opens an incident at once:
   it is neither retried nor shown to the model as the agency's answer.

A duplicate delivery finds the row settled or claimed by a newer attempt and changes nothing.

A claim older than `stale_after` is presumed dead (the worker was killed, the machine
lost) and the next sweep takes the call again: a new attempt, with the same idempotency
key, so an agency that acted on the dead attempt answers the new one from its memory.
Broker workers kill an attempt before its claim turns stale (`engine.celery_worker`), so a claim
that looks dead is dead rather than slow. A call whose every attempt died (one that kills
its worker, say) becomes an incident instead of being taken up for ever.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from connectors.failures import INCIDENT_CODES, NOT_SENT_CODES
from connectors.registry import Operation, Registry
from connectors.sdk import ConnectorError
from engine import audit
from engine.core.statuses import CallStatus, IncidentStatus, moved
from engine.db import limits
from engine.db.base import utcnow
from engine.db.models import DataUse, Incident, Instance, ServiceCallRow
from engine.services import builtin_operations, instances
from engine.services.builtin_operations import is_builtin
from engine.services.deployments import MANUAL_PREFIX
from engine.services.errors import Conflict, LostRace, ModelStopped, NotFound, Unstorable
from engine.services.instance_store import record_stopped
from engine.services.outbox import outbox
from engine.services.rehearsal import run_rehearsed
from engine.services.runtime import Runtime
from engine.settings import Settings
from forms.storable import escaped

log = logging.getLogger("panjereh.jobs")
MAX_BACKOFF_SECONDS = 15 * 60
# Settling loses the instance's optimistic lock when a person changes the same case at the
# same moment; the result is in hand, so settle again on a fresh read rather than call again.
SETTLE_TRIES = 3
# What settling an attempt leaves: the call's status, or "stale" when the attempt no longer owns the call.
Settled = CallStatus | Literal["stale"]


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


def retry_delay(attempt: int, base: float, delays: Sequence[float] | None = None,
                retry_after: float | None = None) -> float:
    """Seconds before the attempt after `attempt`, and never less than the agency asked.

    With `delays` (the model's own waits, e.g. Camunda's ``R3/PT10S``), the one for this
    retry (the last repeating), plus up to a tenth more so that calls failing together do
    not all come back at the same instant. Otherwise exponential: between half and all of
    ``base ** attempt`` seconds, at most `MAX_BACKOFF_SECONDS`.
    """
    if delays:
        wait = delays[min(attempt, len(delays)) - 1]
        chosen = random.uniform(wait, wait * 1.1)  # noqa: S311 - jitter, not secrecy
    else:
        # Compared as logarithms: base ** attempt itself can be past what a float holds.
        ceiling = (MAX_BACKOFF_SECONDS if attempt * math.log(max(base, 1.0)) >= math.log(MAX_BACKOFF_SECONDS)
                   else base ** attempt)
        chosen = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not secrecy
    return max(retry_after or 0.0, chosen)


def stale_after(settings: Settings) -> float:
    """Seconds after which a running claim is presumed dead.

    An attempt is a connector call, each request of which is bounded by the connector
    timeout, and a settling transaction; four timeouts leave room for an operation that
    makes a few requests. Broker workers enforce a hard limit below this (`engine.celery_worker`).
    """
    return settings.connector_timeout_seconds * 4


def due(session: Session, limit: int = 50, stale_after: float = 120.0) -> list[str]:
    """Calls ready to run now: waiting and due, or running on a claim older than `stale_after`."""
    now = utcnow()
    waiting = select(ServiceCallRow.id).where(
        ServiceCallRow.status == CallStatus.WAITING, ~ServiceCallRow.operation.startswith(MANUAL_PREFIX),
        ServiceCallRow.operation != "",
        (ServiceCallRow.next_attempt_at.is_(None)) | (ServiceCallRow.next_attempt_at <= now))
    stale = select(ServiceCallRow.id).where(
        ServiceCallRow.status == CallStatus.RUNNING, ServiceCallRow.claimed_at < now - timedelta(seconds=stale_after))
    return list(session.execute(waiting.union(stale).limit(limit)).scalars())


def due_now(runtime: Runtime) -> list[str]:
    """`due`, read now, with the claim age after which this runtime's settings presume a worker dead."""
    with runtime.reading() as session:
        return due(session, stale_after=stale_after(runtime.settings))


def claim(runtime: Runtime, call_id: str) -> Claim | None:
    """Take the call for one attempt, or None when it is not due, done, or someone else's."""
    stale = stale_after(runtime.settings)
    with runtime.unit_of_work() as session:
        # skip_locked (PostgreSQL): a row locked right now is being claimed or settled by
        # another attempt, which leaves it done, scheduled or claimed; no need to wait.
        row = session.execute(select(ServiceCallRow).where(ServiceCallRow.id == call_id)
                              .with_for_update(skip_locked=True)).scalar_one_or_none()
        if row is None:
            log.info("service call %s: skipped (no such call, or another attempt holds its row)", call_id)
            return None
        now = utcnow()
        if row.status is CallStatus.RUNNING:
            if row.claimed_at is not None and row.claimed_at > now - timedelta(seconds=stale):
                log.info("service call %s: skipped (attempt %d claimed it at %s and may still be running; "
                         "presumed dead after %.0f s)", call_id, row.attempts, row.claimed_at.isoformat(), stale)
                return None
            if row.attempts >= row.max_attempts:
                # Every attempt died mid-call: a call that kills its worker would otherwise
                # be taken up, and kill one, every `stale` seconds for ever.
                _lost(session, row)
                return None
            log.warning("service call %s: reclaiming it; attempt %d (claimed at %s) never settled, so its worker "
                        "is presumed dead", call_id, row.attempts,
                        row.claimed_at.isoformat() if row.claimed_at else "?")
        elif row.status is not CallStatus.WAITING:
            log.info("service call %s: skipped (already %s)", call_id, row.status)
            return None
        elif row.next_attempt_at is not None and row.next_attempt_at > now:
            log.info("service call %s: skipped (next attempt not before %s)", call_id,
                     row.next_attempt_at.isoformat())
            return None
        row.status = moved(row.status, CallStatus.RUNNING, f"service call {call_id}")
        row.claimed_at, row.attempts = now, row.attempts + 1
        instance = session.get(Instance, row.instance_id)
        owner = instance.owner if instance is not None else None
        # Owners of the form "role:name" are staff or analysts testing; only citizens are end users.
        end_user = owner if owner and ":" not in owner else None
        purpose = instance.process_key if instance is not None else ""
        log.info("service call %s: attempt %d of %d, %s for instance %s", call_id, row.attempts, row.max_attempts,
                 row.operation, row.instance_id)
        return Claim(row.id, row.instance_id, row.operation, dict(row.params), row.attempts, purpose, end_user)


def _lost(session: Session, row: ServiceCallRow) -> None:
    row.status = moved(row.status, CallStatus.INCIDENT, f"service call {row.id}")
    row.last_error = f"worker-lost: attempt {row.attempts} of {row.max_attempts} never settled"
    session.add(Incident(
        instance_id=row.instance_id, call_id=row.id, kind="worker-lost",
        message=f"{row.operation}: {row.last_error} (its worker died mid-call); the agency may have acted, "
                f"and a retry repeats the idempotency key panjereh-{row.id}, so it will not act twice"))
    audit.append(session, "connector", "incident.opened", instance_id=row.instance_id, subject=row.spec_id,
                 detail={"operation": row.operation, "kind": "worker-lost", "error": row.last_error})
    log.error("service call %s: incident opened (%s)", row.id, row.last_error)


def _sha256(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def call(runtime: Runtime, registry: Registry, job: Claim) -> tuple[Operation | None, dict[str, Any] | ConnectorError]:
    """Make the call; errors come back as values so settling can decide what they mean."""
    operation = registry.get(job.operation)
    if operation is None:
        return None, ConnectorError("unknown-operation", f"no connector operation '{job.operation}' is installed")
    if is_builtin(job.operation):
        # The engine's own operation needs this runtime (its database), which no plugin gets.
        operation = builtin_operations.bound(operation, runtime)
    context = runtime.connector_context(
        operation, case_id=job.instance_id, purpose=job.purpose, end_user=job.end_user, attempt=job.attempt,
        idempotency_key=f"panjereh-{job.call_id}", logger=log.getChild(operation.connector_id))
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
           outcome: dict[str, Any] | ConnectorError) -> Settled:
    """Apply what the call brought back; returns the call's new status (or "stale")."""
    for attempt in range(1, SETTLE_TRIES + 1):
        try:
            return _settle_once(runtime, job, operation, outcome)
        except (LostRace, StaleDataError):
            log.info("service call %s: the instance changed while settling (try %d of %d)", job.call_id,
                     attempt, SETTLE_TRIES)
        except ModelStopped as stopped:
            # The instance fails with its own incident; the call shows why it was not applied.
            record_stopped(runtime, stopped)
            return _incident_after_conflict(runtime, job, str(stopped), operation, outcome)
        except (Conflict, Unstorable) as refused:
            # Not a race: the instance cannot take this result (its task is no longer
            # waiting, or the result holds a value the database cannot keep). Calling again
            # would only bring the same answer; a person decides.
            return _incident_after_conflict(runtime, job, str(refused), operation, outcome)
    # Still losing the race: leave the row claimed; once the claim is stale a sweep calls
    # again (the agency replays its answer) and settles then.
    log.warning("service call %s: could not settle attempt %d (the instance kept changing); a sweep retries it",
                job.call_id, job.attempt)
    return "stale"


def _settle_once(runtime: Runtime, job: Claim, operation: Operation | None,
                 outcome: dict[str, Any] | ConnectorError) -> Settled:
    def work(session: Session) -> Settled:
        row = _own_row(session, job)
        if row is None:
            return "stale"
        _record_use(session, job, operation, outcome)
        if isinstance(outcome, dict):
            instances.complete_service_call(session, runtime, "connector", job.call_id, outcome)
            return CallStatus.COMPLETED
        return _failed(session, runtime, row, job, outcome)

    return run_rehearsed(runtime, work)


def _own_row(session: Session, job: Claim) -> ServiceCallRow | None:
    """The call's row, locked, if it is still claimed by this attempt."""
    row = session.execute(select(ServiceCallRow).where(ServiceCallRow.id == job.call_id)
                          .with_for_update()).scalar_one_or_none()
    if row is None or row.status is not CallStatus.RUNNING or row.attempts != job.attempt:
        # A newer attempt took the call over (this one was presumed dead), or it was
        # cancelled meanwhile: whatever this attempt learned is not applied.
        log.info("service call %s: attempt %d is no longer the call's (now %s, attempt %s); its outcome is dropped",
                 job.call_id, job.attempt, row.status if row else "gone", row.attempts if row else "-")
        return None
    return row


def _record_use(session: Session, job: Claim, operation: Operation | None,
                outcome: dict[str, Any] | ConnectorError) -> None:
    """Record the use of the citizen's data, unless the call was refused before anything left the
    server, or was the engine's own operation (nothing left it)."""
    if is_builtin(job.operation):
        return
    if isinstance(outcome, dict) or outcome.code not in NOT_SENT_CODES:
        session.add(_data_use(job, operation, outcome))


def _incident_after_conflict(runtime: Runtime, job: Claim, reason: str, operation: Operation | None,
                             outcome: dict[str, Any] | ConnectorError) -> Settled:
    with runtime.unit_of_work() as session:
        row = _own_row(session, job)
        if row is None:
            return "stale"
        # The agency was asked and answered, whether or not the instance can take the answer.
        _record_use(session, job, operation, outcome)
        row.status = moved(row.status, CallStatus.INCIDENT, f"service call {job.call_id}")
        row.last_error = f"cannot-apply: {reason}"
        session.add(Incident(instance_id=job.instance_id, call_id=job.call_id, kind="cannot-apply",
                             message=f"{job.operation}: the instance cannot take the result: {reason} "
                                     f"(attempt {row.attempts})"))
        audit.append(session, "connector", "incident.opened", instance_id=job.instance_id, subject=row.spec_id,
                     detail={"operation": job.operation, "kind": "cannot-apply", "error": row.last_error})
    log.error("service call %s: the instance cannot take the result (%s); incident opened", job.call_id, reason)
    return CallStatus.INCIDENT


def _data_use(job: Claim, operation: Operation | None, outcome: dict[str, Any] | ConnectorError) -> DataUse:
    fields = list(operation.personal_fields) if operation else []
    return DataUse(instance_id=job.instance_id, call_id=job.call_id,
                   connector=operation.connector_id if operation else job.operation.split("/")[0],
                   operation=job.operation, agency=operation.agency if operation else "", purpose=job.purpose,
                   end_user=job.end_user, fields=fields,
                   outcome="ok" if isinstance(outcome, dict) else limits.OUTCOME.shortened(escaped(outcome.code)),
                   request_sha256=_sha256(job.params),
                   response_sha256=_sha256(outcome) if isinstance(outcome, dict) else None)


def _failed(session: Session, runtime: Runtime, row: ServiceCallRow, job: Claim, error: ConnectorError) -> CallStatus:
    # An agency's words, kept for operators to read: characters no database keeps are escaped.
    row.last_error = escaped(f"{error.code}: {error.message}")
    if error.code in INCIDENT_CODES:
        return _incident(session, row, job, error.code)
    if error.retryable and row.attempts < row.max_attempts:
        row.status = moved(row.status, CallStatus.WAITING, f"service call {job.call_id}")
        delay = retry_delay(row.attempts, row.backoff_base, row.retry_delays, error.retry_after)
        # Not retried here or by the broker: the row says when, and whichever tick (inline
        # or the workers' beat) comes first after that sends it, even across restarts.
        row.next_attempt_at = utcnow() + timedelta(seconds=delay)
        log.info("service call %s: retry %d of %d in %.1f s", job.call_id, row.attempts, row.max_attempts - 1, delay)
        audit.append(session, "connector", "service_call.retry", instance_id=job.instance_id, subject=row.spec_id,
                     detail={"operation": job.operation, "attempt": row.attempts, "error": row.last_error})
        return row.status
    if not error.retryable and instances.fail_service_call(session, runtime, job.call_id, error.code, error.message):
        return CallStatus.CAUGHT
    return _incident(session, row, job, "retries-exhausted" if error.retryable else "uncaught-error")


def _incident(session: Session, row: ServiceCallRow, job: Claim, kind: str) -> CallStatus:
    row.status = moved(row.status, CallStatus.INCIDENT, f"service call {job.call_id}")
    session.add(Incident(instance_id=job.instance_id, call_id=job.call_id, kind=kind,
                         message=f"{job.operation}: {row.last_error} (attempt {row.attempts})"))
    audit.append(session, "connector", "incident.opened", instance_id=job.instance_id, subject=row.spec_id,
                 detail={"operation": job.operation, "kind": kind, "error": row.last_error})
    log.warning("service call %s: incident opened (%s after attempt %d: %s)", job.call_id, kind, row.attempts,
                row.last_error)
    return row.status


def run(runtime: Runtime, registry: Registry, call_id: str) -> Settled | Literal["skipped"]:
    """One attempt at one call, start to end; what a worker task does."""
    job = claim(runtime, call_id)
    if job is None:
        return "skipped"
    operation, outcome = call(runtime, registry, job)
    status = settle(runtime, job, operation, outcome)
    if isinstance(outcome, ConnectorError):
        log.info("service call %s: attempt %d failed with %s (%s) -> %s", call_id, job.attempt, outcome.code,
                 outcome.message, status)
    else:
        log.info("service call %s: attempt %d answered -> %s", call_id, job.attempt, status)
    return status


def retry_incident(session: Session, incident_id: int, actor: str) -> ServiceCallRow:
    """Put an incident's call back in the queue with a fresh set of attempts."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.call_id is None:
        raise NotFound(f"no incident {incident_id} with a service call")
    if incident.status is IncidentStatus.RESOLVED:
        raise Conflict(f"incident {incident_id} is already resolved")
    row = session.get(ServiceCallRow, incident.call_id)
    assert row is not None
    if row.status is not CallStatus.INCIDENT:
        # The workflow moved past the call (its instance was terminated, or a person settled
        # it): calling the agency again would act for a case that no longer waits for it.
        raise Conflict(f"incident {incident_id}: its service call is {row.status} now; there is nothing to retry")
    row.status = moved(row.status, CallStatus.WAITING, f"service call {row.id}")
    row.attempts, row.next_attempt_at, row.claimed_at = 0, None, None
    moved(incident.status, IncidentStatus.RESOLVED, f"incident {incident_id}")
    incident.resolved_at, incident.resolved_by = utcnow(), actor
    audit.append(session, actor, "incident.retried", instance_id=incident.instance_id, subject=row.spec_id,
                 detail={"incident": incident_id})
    outbox(session).post(row.id)
    log.info("service call %s: queued again by %s (incident %d)", row.id, actor, incident_id)
    return row
