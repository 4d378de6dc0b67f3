"""What a case's pages show beside its data: its steps, how it ended, and each use of the
citizen's data held by other agencies. Callers pass a case they were allowed to see
(`engine.services.queries.load_instance`, `engine.services.access`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.models import AuditEvent, DataUse, HumanTaskRow
from engine.services.records import InstanceRecord


@dataclass(frozen=True)
class Progress:
    """How far a case has come: every step it has had, and the end event it finished at."""

    steps: list[HumanTaskRow]
    end_event: str | None


def steps(session: Session, case: InstanceRecord) -> list[HumanTaskRow]:
    """Every human task the case has had, oldest first (ready, completed and cancelled)."""
    return list(session.execute(select(HumanTaskRow).where(HumanTaskRow.instance_id == case.id)
                                .order_by(HumanTaskRow.created_at, HumanTaskRow.id)).scalars())


def end_event(session: Session, case: InstanceRecord) -> str | None:
    """The id of the last end event the case reached, if any (its outcome names one)."""
    completed = session.execute(
        select(AuditEvent.subject, AuditEvent.detail)
        .where(AuditEvent.instance_id == case.id, AuditEvent.action == "task.completed")
        .order_by(AuditEvent.id.desc())).all()
    # The element type sits in the event's JSON detail, which SQLite and PostgreSQL query
    # differently; a case completes few tasks, so it is picked out here.
    return next((subject for subject, detail in completed if (detail or {}).get("type") == "EndEvent"), None)


def progress(session: Session, case: InstanceRecord) -> Progress:
    """The case's steps and the end event it finished at."""
    return Progress(steps(session, case), end_event(session, case))


def data_uses(session: Session, case: InstanceRecord, *, answered_only: bool = False) -> list[DataUse]:
    """Each call to another agency about the case, oldest first; only those it answered when
    `answered_only`."""
    query = select(DataUse).where(DataUse.instance_id == case.id)
    if answered_only:
        query = query.where(DataUse.outcome == "ok")
    return list(session.execute(query.order_by(DataUse.at, DataUse.id)).scalars())
