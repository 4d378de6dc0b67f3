"""The outbox of service calls: what a transaction parked, handed over once it commits.

A service call is written as a row in the same transaction as the state that parked it,
and posted here; `Runtime.unit_of_work` takes what was posted after the commit and hands
it to the dispatcher, so a worker never looks for a row that is not committed yet, and a
transaction that rolls back hands over nothing. This module alone knows where a session
keeps its outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

# Where a session keeps its outbox; sessions live for one unit of work, and so does the outbox.
SESSION_KEY = "panjereh.call_outbox"


@dataclass
class CallOutbox:
    """Ids of the service calls one transaction wrote or queued again, in the order posted."""

    call_ids: list[str] = field(default_factory=list)

    def post(self, call_id: str) -> None:
        """Hand call `call_id` to the dispatcher once this transaction commits (once, however often posted)."""
        if call_id not in self.call_ids:
            self.call_ids.append(call_id)


def outbox(session: Session) -> CallOutbox:
    """The outbox of the transaction `session` runs."""
    found = session.info.get(SESSION_KEY)
    if not isinstance(found, CallOutbox):
        found = session.info[SESSION_KEY] = CallOutbox()
    return found


def take_posted(session: Session) -> list[str]:
    """The call ids posted in `session` (the outbox is empty afterwards); for after the commit."""
    found = session.info.pop(SESSION_KEY, None)
    return list(found.call_ids) if isinstance(found, CallOutbox) else []
