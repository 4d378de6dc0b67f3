"""What a case's pages show beside its data: its steps, and each use of the citizen's data
held by other agencies. Callers pass a case they were allowed to see (`engine.services.access`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.models import DataUse, HumanTaskRow, Instance


def steps(session: Session, case: Instance) -> list[HumanTaskRow]:
    """Every human task the case has had, oldest first (ready, completed and cancelled)."""
    return list(session.execute(select(HumanTaskRow).where(HumanTaskRow.instance_id == case.id)
                                .order_by(HumanTaskRow.created_at, HumanTaskRow.id)).scalars())


def data_uses(session: Session, case: Instance, *, answered_only: bool = False) -> list[DataUse]:
    """Each call to another agency about the case, oldest first; only those it answered when
    `answered_only`."""
    query = select(DataUse).where(DataUse.instance_id == case.id)
    if answered_only:
        query = query.where(DataUse.outcome == "ok")
    return list(session.execute(query.order_by(DataUse.at, DataUse.id)).scalars())
