"""What a case's pages show beside its data: its steps, how it ended, and each use of the
citizen's data held by other agencies. Callers pass a case they were allowed to see
(`engine.services.queries.load_instance`, `engine.services.access`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.outcomes import CaseStatus, Outcome, case_status, read_outcomes
from engine.core.statuses import InstanceStatus, TaskStatus
from engine.core.visits import CardError
from engine.db.models import AuditEvent, DataUse, HumanTaskRow
from engine.services.payments import waits_for_payment
from engine.services.records import InstanceRecord


@dataclass(frozen=True)
class Progress:
    """How far a case has come: every step it has had, and the end event it finished at."""

    steps: list[HumanTaskRow]
    end_event: str | None
    # How a terminated case was closed by its citizen (`WITHDRAWN`, `DRAFT_DELETED`), if it was.
    closed_by_citizen: str | None = None
    # The case waits for its citizen to pay a fee (engine.services.payments): their step too.
    awaiting_payment: bool = False


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


# The audit actions of a citizen's own closing of their case (engine.services.citizen_actions).
WITHDRAWN = "instance.withdrawn"
DRAFT_DELETED = "instance.draft_deleted"


def closed_by_citizen(session: Session, case: InstanceRecord) -> str | None:
    """`WITHDRAWN` or `DRAFT_DELETED` when the citizen closed the case themselves."""
    if case.status != InstanceStatus.TERMINATED:
        return None
    return session.execute(select(AuditEvent.action).where(
        AuditEvent.instance_id == case.id, AuditEvent.action.in_((WITHDRAWN, DRAFT_DELETED)))
        .order_by(AuditEvent.id.desc()).limit(1)).scalar_one_or_none()


def progress(session: Session, case: InstanceRecord) -> Progress:
    """The case's steps, the end event it finished at, whether its citizen closed it, and
    whether it waits for them to pay."""
    return Progress(steps(session, case), end_event(session, case), closed_by_citizen(session, case),
                    waits_for_payment(session, case.id))


@dataclass(frozen=True)
class Standing:
    """Where a case stands for the citizen: its status tag and, once decided, the outcome
    with the reason staff wrote."""

    status: CaseStatus
    outcome: Outcome | None = None
    reason: str | None = None
    # A draft its citizen deleted: no longer listed among their applications.
    deleted: bool = False


def outcomes(card: Mapping[str, Any]) -> dict[str, Outcome]:
    """The card's outcomes; none when a card stored before they were checked is not valid
    (its completed cases then read as needing staff attention, never as "finished")."""
    try:
        return read_outcomes(card)
    except CardError:
        return {}


def is_step_of(step: HumanTaskRow, case: InstanceRecord, party: str | None = None) -> bool:
    """Whether `step` is for the citizen reading: the case's owner, or `party` (a citizen
    with tasks of their own in someone else's case, `access.party_variable`)."""
    if step.audience != "citizen":
        return False
    return step.citizen == party if party is not None else step.citizen in (None, case.owner)


def standing(case: InstanceRecord, progress: Progress, card: Mapping[str, Any], *,
             party: str | None = None) -> Standing:
    """The status tag of `case` and its outcome, from its steps and its service's card, as its
    owner sees it or, given `party`, as that other citizen with tasks in it sees it."""
    steps_ = progress.steps
    # A citizen's own case is theirs alone (a draft) until they send their first step, or until
    # an agency has a step in it (a clerk reviewing what the registries said before asking the
    # citizen anything); a case started for them by staff or the API (its owner is the actor,
    # "role:name") is sent already.
    started_by_citizen = ":" not in case.owner
    sent = party is not None or not started_by_citizen or any(
        (is_step_of(s, case) and s.status is TaskStatus.COMPLETED) or s.audience != "citizen" for s in steps_)
    waiting = (progress.awaiting_payment and party is None) or any(
        is_step_of(s, case, party) and s.status is TaskStatus.READY for s in steps_)
    outcome = outcomes(card).get(progress.end_event or "")
    status = case_status(case.status, outcome, sent=sent, waiting_for_citizen=waiting,
                         # A deleted draft reads as withdrawn should its old address be opened.
                         withdrawn=progress.closed_by_citizen in (WITHDRAWN, DRAFT_DELETED))
    # A case the model itself closed as withdrawn (a fee never paid, a seller who declined) keeps
    # its end event's words and next step; one the citizen withdrew has none to show.
    closed_by_model = status is CaseStatus.WITHDRAWN and progress.closed_by_citizen is None
    if status not in (CaseStatus.APPROVED, CaseStatus.REFUSED, CaseStatus.NEEDS_INFORMATION) and not closed_by_model:
        outcome = None
    if party is not None:
        # The outcome's words and next step are written to the applicant ("the vehicle is now in
        # your name", "download it here"); another citizen with a step in the case sees the tag.
        outcome = None
    return Standing(status, outcome, outcome.reason_in(case.data) if outcome else None,
                    deleted=progress.closed_by_citizen == DRAFT_DELETED)


def data_uses(session: Session, case: InstanceRecord, *, answered_only: bool = False) -> list[DataUse]:
    """Each call to another agency about the case, oldest first; only those it answered when
    `answered_only`."""
    query = select(DataUse).where(DataUse.instance_id == case.id)
    if answered_only:
        query = query.where(DataUse.outcome == "ok")
    return list(session.execute(query.order_by(DataUse.at, DataUse.id)).scalars())
