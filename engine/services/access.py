"""Who may see which instance and task. Deny unless a rule here says yes."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from engine.db.models import HumanTaskRow, Instance
from engine.security.principals import Principal, Role

CITIZEN_LANES = {"citizen", "applicant", "customer", "شهروند", "متقاضی"}


def audience_of(lane: str | None, lanes: dict[str, str]) -> tuple[str, str | None]:
    """Whether a task in `lane` is the citizen's or an agency's, and which agency.

    A service's `lanes` table (from service.toml) maps lane names to agency codes or to
    "citizen"; without an entry, a lane named like the applicant is the citizen's, a task
    outside any lane is the citizen's, and any other lane is the agency it is named after.
    """
    if lane is None:
        return "citizen", None
    mapped = lanes.get(lane)
    if mapped == "citizen" or (mapped is None and lane.strip().lower() in CITIZEN_LANES):
        return "citizen", None
    return "agency", mapped or lane.strip().lower()


def visible_instances(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause selecting the instances `principal` may see."""
    if principal.reads_everything:
        return Instance.id.is_not(None)
    if principal.role is Role.CITIZEN:
        return Instance.owner == principal.name
    if principal.role is Role.STAFF and principal.agency:
        return exists().where(HumanTaskRow.instance_id == Instance.id, HumanTaskRow.agency == principal.agency)
    return Instance.id.is_(None)


def visible_tasks(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause (joined with Instance) selecting the tasks `principal` may see and do."""
    if principal.reads_everything:
        return HumanTaskRow.id.is_not(None)
    if principal.role is Role.CITIZEN:
        return (HumanTaskRow.audience == "citizen") & (Instance.owner == principal.name)
    if principal.role is Role.STAFF and principal.agency:
        return (HumanTaskRow.audience == "agency") & (HumanTaskRow.agency == principal.agency)
    return HumanTaskRow.id.is_(None)


def can_see_instance(session: Session, principal: Principal, instance_id: str) -> bool:
    query = select(Instance.id).where(Instance.id == instance_id, visible_instances(principal))
    return session.execute(query).first() is not None
