"""Each service's legal deadline, in working days on the official calendar, and the due dates it gives.

A service card (`service.toml`) says `deadline_working_days = 7`: the agency must decide
within seven working days of the application. Cards written before the deadline was counted
in working days said `duration_days`; they are read the same way, as working days, since
that is what the law meant by them.

The deadline counts from the moment the case was sent: when the citizen completed the
application form (their first task), by the rule of `engine.core.working_calendar` (before
the closing hour the day counts). A case the citizen started but has not sent is a draft
with no due date; a case started without a citizen's form (through the API, by staff) counts
from its creation. A case that is no longer open has no due date: its decision is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.core.statuses import InstanceStatus
from engine.core.working_calendar import MAX_WORKING_DAYS, WorkingCalendar
from engine.db.models import HumanTaskRow, Instance

DEADLINE_KEY, LEGACY_KEY = "deadline_working_days", "duration_days"
# The statuses of a case still waiting for the agency's decision.
_OPEN = (InstanceStatus.RUNNING, InstanceStatus.WAITING)


def deadline_problem(meta: Mapping[str, Any]) -> str | None:
    """What is wrong with a card's deadline, or None (no deadline is not wrong)."""
    for key in (DEADLINE_KEY, LEGACY_KEY):
        if key in meta:
            value = meta[key]
            if type(value) is not int or not 1 <= value <= MAX_WORKING_DAYS:
                return f"{key} must be a whole number of working days from 1 to {MAX_WORKING_DAYS}, not {value!r}"
    if DEADLINE_KEY in meta and LEGACY_KEY in meta:
        return f"write {DEADLINE_KEY} only ({LEGACY_KEY} is its old name)"
    return None


def deadline_working_days(meta: Mapping[str, Any]) -> int | None:
    """The service's legal deadline in working days, or None when its card gives none."""
    value = meta.get(DEADLINE_KEY, meta.get(LEGACY_KEY))
    return value if type(value) is int and deadline_problem(meta) is None else None


def decision_due(calendar: WorkingCalendar, meta: Mapping[str, Any], status: str,
                 submitted_at: datetime) -> datetime | None:
    """When the agency must have decided a case in `status` sent at `submitted_at` (UTC), or
    None: the service has no deadline, or the case is decided."""
    days = deadline_working_days(meta)
    if days is None or status not in _OPEN:
        return None
    return calendar.add_working_days(submitted_at, days)


def submitted_at(session: Session, instances: Sequence[tuple[str, datetime]]) -> dict[str, datetime | None]:
    """Instance id -> when it was sent (None: a draft), for (id, created_at) pairs."""
    ids = [instance_id for instance_id, _ in instances]
    citizen = (HumanTaskRow.instance_id.in_(ids)) & (HumanTaskRow.audience == "citizen")
    rows = session.execute(select(HumanTaskRow.instance_id, func.min(HumanTaskRow.completed_at))
                           .where(citizen).group_by(HumanTaskRow.instance_id)).all()
    sent: dict[str, datetime | None] = {instance_id: first for instance_id, first in rows}
    # A citizen task never completed gives None (a draft); no citizen task at all, the creation.
    return {instance_id: sent.get(instance_id, created) for instance_id, created in instances}


def case_due(session: Session, calendar: WorkingCalendar, meta: Mapping[str, Any], instance_id: str,
             status: str, created_at: datetime) -> datetime | None:
    """When the decision on one case is due, or None (no deadline, a draft, or decided)."""
    sent = submitted_at(session, [(instance_id, created_at)])[instance_id]
    return decision_due(calendar, meta, status, sent) if sent else None


def task_due_dates(session: Session, calendar: WorkingCalendar, services: Mapping[str, Mapping[str, Any]],
                   tasks: Sequence[HumanTaskRow]) -> dict[str, datetime]:
    """Task id -> the due date of its case's decision, for the tasks whose service has a deadline."""
    ids = {task.instance_id for task in tasks}
    if not ids:
        return {}
    cases = {i.id: i for i in session.execute(select(Instance).where(Instance.id.in_(ids))).scalars()}
    sent = submitted_at(session, [(i.id, i.created_at) for i in cases.values()])
    found = {}
    for task in tasks:
        case = cases.get(task.instance_id)
        when = sent.get(task.instance_id)
        due = (decision_due(calendar, services.get(case.process_key, {}), case.status, when)
               if case and when else None)
        if due is not None:
            found[task.id] = due
    return found


def overdue_first(tasks: Sequence[HumanTaskRow], due: Mapping[str, datetime]) -> list[HumanTaskRow]:
    """Tasks by their case's due date, earliest (so the overdue) first; those without one last, oldest first."""
    return sorted(tasks, key=lambda t: (t.id not in due, due.get(t.id) or t.created_at, t.created_at))
