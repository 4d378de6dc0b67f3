"""What a citizen may do to their own case besides answering its steps: resume or delete a
draft, and withdraw a sent application until it is decided.

Both closings are a `Terminate` through the instance store, audited under their own action
(`engine.services.casefile.WITHDRAWN`, `DRAFT_DELETED`), so the case page, "My applications"
and the notifications tell a withdrawal from a staff termination; nothing is erased.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.core.changes import Terminate
from engine.core.outcomes import CaseStatus
from engine.db.models import Instance
from engine.security.principals import Principal
from engine.services import casefile, queries
from engine.services.catalogue import offered
from engine.services.errors import Conflict
from engine.services.event_delivery import apply_routed
from engine.services.instance_store import Cause
from engine.services.runtime import Runtime

# While a decision is pending the citizen may change their mind; after it, there is nothing to withdraw.
WITHDRAWABLE = frozenset({CaseStatus.IN_PROGRESS, CaseStatus.WAITING_FOR_YOU})


def standing_of(session: Session, case: Instance) -> casefile.Standing:
    """The status tag of one case, read with its service's card."""
    cards = {s.key: s.meta for s in offered(session)}
    return casefile.standing(case, casefile.progress(session, case), cards.get(case.process_key, {}))


def open_draft(session: Session, principal: Principal, process_key: str) -> str | None:
    """The id of the citizen's unsent application for `process_key`, if they have one."""
    for case in queries.list_instances(session, principal):
        if case.process_key == process_key and standing_of(session, case).status is CaseStatus.DRAFT:
            return case.id
    return None


def _close(session: Session, runtime: Runtime, principal: Principal, instance_id: str,
           allowed: frozenset[CaseStatus], action: str) -> Instance:
    case = queries.load_instance(session, principal, instance_id)
    status = standing_of(session, case).status
    if status not in allowed:
        raise Conflict(f"a case that is {status} cannot be closed that way")
    applied = apply_routed(session, runtime, case, Terminate(), Cause(principal.actor, action, None, {}))
    assert applied is not None  # termination is always taken
    return case


def delete_draft(session: Session, runtime: Runtime, principal: Principal, instance_id: str) -> Instance:
    """Drop an unsent application: it leaves "My applications"; staff never saw it."""
    return _close(session, runtime, principal, instance_id, frozenset({CaseStatus.DRAFT}), casefile.DRAFT_DELETED)


def withdraw(session: Session, runtime: Runtime, principal: Principal, instance_id: str) -> Instance:
    """Withdraw a sent application before its decision."""
    return _close(session, runtime, principal, instance_id, WITHDRAWABLE, casefile.WITHDRAWN)
