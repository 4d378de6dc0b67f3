"""Who may see what: pages, cases, tasks and documents. Deny unless a rule here says yes.

Every authorisation decision of the API and the HTML pages is made here; routes only ask.
Something a caller may not see is reported as not found, so its existence is not revealed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement

from engine.db.models import HumanTaskRow, Instance, IssuedDocument, Upload
from engine.security.principals import Principal, Role
from engine.services.errors import NotFound
from forms.identifiers import check_national_code

CITIZEN_LANES = {"citizen", "applicant", "customer", "شهروند", "متقاضی"}
# A lane mapped to "citizen:<variable>" holds tasks for the citizen whose national code the
# case's data variable <variable> holds (the seller of a vehicle the applicant buys), not for
# the case's owner.
PARTY_PREFIX = "citizen:"


class Audience(StrEnum):
    """Whom an HTML page is for; every page route declares one."""

    ANYONE = "anyone"            # the catalogue, sign-in, tracking by code
    CITIZEN = "citizen"          # a signed-in citizen's own cases and tasks
    STAFF = "staff"              # an agency's staff: the tasks of their agency
    CONSOLE = "console"          # analysts and admins: models and deployments
    DEVELOPMENT = "development"  # only on a development server (the SMS outbox)


def may_enter(principal: Principal | None, audience: Audience, *, development: bool) -> bool:
    """Whether the visitor may open pages meant for `audience`."""
    if audience is Audience.ANYONE:
        return True
    if audience is Audience.DEVELOPMENT:
        return development
    if principal is None:
        return False
    if audience is Audience.CITIZEN:
        return principal.role is Role.CITIZEN
    if audience is Audience.STAFF:
        return principal.role is Role.STAFF and bool(principal.agency)
    if audience is Audience.CONSOLE:
        return principal.role in (Role.ANALYST, Role.ADMIN)
    return False


def audience_of(lane: str | None, lanes: dict[str, str]) -> tuple[str, str | None]:
    """Whether a task in `lane` is the citizen's or an agency's, and which agency.

    A service's `lanes` table (from service.toml) maps lane names to agency codes, to
    "citizen", or to "citizen:<variable>" (another citizen's, see `party_variable`); without an
    entry, a lane named like the applicant is the citizen's, a task outside any lane is the
    citizen's, and any other lane is the agency it is named after.
    """
    if lane is None:
        return "citizen", None
    mapped = lanes.get(lane)
    if mapped == "citizen" or (mapped is None and lane.strip().lower() in CITIZEN_LANES) or (
            mapped is not None and mapped.startswith(PARTY_PREFIX)):
        return "citizen", None
    return "agency", mapped or lane.strip().lower()


def party_variable(lane: str | None, lanes: dict[str, str]) -> str | None:
    """The data variable naming the citizen whose tasks `lane` holds, when that is not the
    case's owner: `Seller = "citizen:seller_national_code"` gives "seller_national_code"."""
    mapped = lanes.get(lane) if lane is not None else None
    if mapped is None or not mapped.startswith(PARTY_PREFIX):
        return None
    # "citizen:" naming no variable gives its tasks to nobody (`party_of`), never to the owner.
    return mapped.removeprefix(PARTY_PREFIX).strip()


def party_of(variable: str, data: dict[str, Any]) -> str:
    """The national code a party lane's tasks are for; "" (nobody) when the variable holds none,
    so the task never falls to the case's owner by mistake."""
    value = data.get(variable)
    return value if isinstance(value, str) and check_national_code(value) is None else ""


def is_owner(principal: Principal, instance: Instance) -> bool:
    """Whether `principal` is the citizen whose case this is (not merely a party to one of its tasks)."""
    return principal.role is Role.CITIZEN and instance.owner == principal.name


def visible_instances(principal: Principal, *, as_party: bool = False) -> ColumnElement[bool]:
    """A WHERE clause selecting the instances `principal` may see.

    `as_party`: also the cases in which a citizen has a task of their own without owning the
    case (a seller asked to consent). Only the case list, the case page and the task pages
    ask for those; everything else (data, payments, documents, withdrawal) stays the owner's.
    """
    if principal.reads_everything:
        return Instance.id.is_not(None)
    if principal.role is Role.CITIZEN:
        if as_party:
            # Its own alias, so the subquery stays one when the outer query joins the tasks too.
            theirs = aliased(HumanTaskRow)
            return or_(Instance.owner == principal.name,
                       exists().where(theirs.instance_id == Instance.id, theirs.citizen == principal.name))
        return Instance.owner == principal.name
    if principal.role is Role.STAFF and principal.agency:
        return exists().where(HumanTaskRow.instance_id == Instance.id, HumanTaskRow.agency == principal.agency)
    return Instance.id.is_(None)


def visible_tasks(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause (joined with Instance) selecting the tasks `principal` may see and do."""
    if principal.reads_everything:
        return HumanTaskRow.id.is_not(None)
    if principal.role is Role.CITIZEN:
        # The owner does the case's citizen tasks except those a party lane gives another
        # citizen; that citizen does exactly those.
        return (HumanTaskRow.audience == "citizen") & or_(
            HumanTaskRow.citizen.is_(None) & (Instance.owner == principal.name),
            HumanTaskRow.citizen == principal.name)
    if principal.role is Role.STAFF and principal.agency:
        return (HumanTaskRow.audience == "agency") & (HumanTaskRow.agency == principal.agency)
    return HumanTaskRow.id.is_(None)


def visible_uploads(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause selecting the uploaded documents `principal` may read.

    A citizen reads what they gave. Staff read only documents bound to a case in which their
    agency has a task: a document never given in such a case is not theirs to see, whoever
    its owner is.
    """
    if principal.sees_everything:
        return Upload.id.is_not(None)
    if principal.role is Role.CITIZEN:
        return Upload.owner == principal.name
    if principal.role is Role.STAFF and principal.agency:
        return and_(Upload.instance_id.is_not(None),
                    exists().where(HumanTaskRow.instance_id == Upload.instance_id,
                                   HumanTaskRow.agency == principal.agency))
    return Upload.id.is_(None)


def visible_documents(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause selecting the issued documents `principal` may read.

    An issued document belongs to its case, as a given one does: the case's citizen reads it.
    Staff read it when their agency issued it or has a task in its case.
    """
    if principal.reads_everything:
        return IssuedDocument.id.is_not(None)
    if principal.role is Role.CITIZEN:
        return exists().where(Instance.id == IssuedDocument.instance_id, Instance.owner == principal.name)
    if principal.role is Role.STAFF and principal.agency:
        return or_(IssuedDocument.agency == principal.agency,
                   exists().where(HumanTaskRow.instance_id == IssuedDocument.instance_id,
                                  HumanTaskRow.agency == principal.agency))
    return IssuedDocument.id.is_(None)


def issued_document(session: Session, principal: Principal, document_id: str,
                    instance_id: str | None = None) -> IssuedDocument:
    """Issued document `document_id` (of case `instance_id`, when given), if `principal` may read
    it; NotFound otherwise."""
    query = select(IssuedDocument).where(IssuedDocument.id == document_id, visible_documents(principal))
    if instance_id is not None:
        query = query.where(IssuedDocument.instance_id == instance_id)
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no document {document_id}")
    return found


def may_revoke(principal: Principal, document: IssuedDocument) -> bool:
    """Only the issuing agency withdraws its document (and admins, who operate everything)."""
    return principal.role is Role.ADMIN or (principal.role is Role.STAFF and principal.agency == document.agency)


def case_task(session: Session, principal: Principal, instance_id: str, task_id: str) -> tuple[Instance, HumanTaskRow]:
    """Task `task_id` of case `instance_id`, both visible to `principal`; NotFound otherwise
    (also when the task belongs to another case)."""
    found = session.execute(
        select(Instance, HumanTaskRow).join(HumanTaskRow, HumanTaskRow.instance_id == Instance.id)
        .where(Instance.id == instance_id, HumanTaskRow.id == task_id,
               visible_instances(principal, as_party=True), visible_tasks(principal))).first()
    if found is None:
        raise NotFound(f"no task {task_id} in case {instance_id}")
    return found[0], found[1]


def upload(session: Session, principal: Principal, upload_id: str) -> Upload:
    """Document `upload_id`, if `principal` may read it; NotFound otherwise."""
    query = select(Upload).where(Upload.id == upload_id, visible_uploads(principal))
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no document {upload_id}")
    return found


def tracked_case(session: Session, tracking_code: str, national_code: str) -> Instance:
    """The case a tracking code names, for someone who also knows its applicant's national code."""
    found = session.execute(select(Instance).where(Instance.tracking_code == tracking_code,
                                                   Instance.owner == national_code)).scalar_one_or_none()
    if found is None:
        raise NotFound("no case with this tracking code and national code")
    return found


def may_use_staged(principal: Principal, staged_by: str) -> bool:
    """Whether files checked in the analyst console (by `staged_by`) may be read or deployed by `principal`."""
    return principal.role in (Role.ANALYST, Role.ADMIN) and principal.actor == staged_by
