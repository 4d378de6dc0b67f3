"""The tamper-evident audit log.

Each event's hash covers its own fields and the previous event's hash, so editing,
deleting or reordering any row breaks the chain from that row on. The single
`audit_head` row holds the newest id and hash: appending locks it (one writer at a time,
so the chain never forks) and verification compares against it, so cutting rows off the
end is caught too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.base import utcnow
from engine.db.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def event_hash(event_id: int, at: datetime, actor: str, action: str, instance_id: str | None,
               subject: str | None, detail: dict[str, Any], prev_hash: str) -> str:
    """The hash of one event: SHA-256 over canonical JSON of its fields and the previous hash."""
    canonical = json.dumps(
        {"id": event_id, "at": at.isoformat(timespec="microseconds"), "actor": actor, "action": action,
         "instance_id": instance_id, "subject": subject, "detail": detail, "prev": prev_hash},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One event to append: who did what, to which instance or subject."""

    actor: str
    action: str
    instance_id: str | None = None
    subject: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def append_all(session: Session, entries: Sequence[Entry]) -> list[AuditEvent]:
    """Add `entries` to the chain, in order, inside the caller's transaction (the caller commits).

    The head row is locked once for the whole batch: a unit of work appends all its events
    together, so the lock is held for one short write at the end of the transaction.
    """
    if not entries:
        return []
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    at = utcnow()
    events = []
    for entry in entries:
        body = json.loads(json.dumps(entry.detail, default=str))
        event_id = head.last_id + 1
        digest = event_hash(event_id, at, entry.actor, entry.action, entry.instance_id, entry.subject, body,
                            head.last_hash)
        events.append(AuditEvent(id=event_id, at=at, actor=entry.actor, action=entry.action,
                                 instance_id=entry.instance_id, subject=entry.subject, detail=body,
                                 prev_hash=head.last_hash, hash=digest))
        head.last_id, head.last_hash = event_id, digest
    session.add_all(events)
    return events


def append(session: Session, actor: str, action: str, *, instance_id: str | None = None,
           subject: str | None = None, detail: dict[str, Any] | None = None) -> AuditEvent:
    """Add one event to the chain inside the caller's transaction."""
    return append_all(session, [Entry(actor, action, instance_id, subject, detail or {})])[0]


@dataclass
class Verification:
    """What `verify` found."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _events(session: Session) -> Iterator[AuditEvent]:
    return iter(session.execute(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000))
                .scalars())


def verify(session: Session) -> Verification:
    """Walk the whole chain and report every place where it does not hold."""
    result = Verification()
    expected_prev, expected_id = GENESIS, 1
    for event in _events(session):
        result.checked += 1
        if event.id != expected_id:
            result.problems.append(f"events {expected_id}..{event.id - 1} are missing (deleted)")
        if event.prev_hash != expected_prev:
            result.problems.append(
                f"event {event.id}: does not follow the event before it (a row was deleted, "
                "reordered or its hash rewritten)")
        actual = event_hash(event.id, event.at, event.actor, event.action, event.instance_id,
                            event.subject, event.detail, event.prev_hash)
        if actual != event.hash:
            result.problems.append(f"event {event.id}: contents do not match its hash (edited)")
        expected_prev, expected_id = event.hash, event.id + 1
    head = session.get(AuditHead, 1)
    if head is None:
        result.problems.append("the audit head row is missing")
    elif head.last_id != expected_id - 1 or head.last_hash != expected_prev:
        result.problems.append(
            f"the log ends at event {expected_id - 1} but the head records event {head.last_id} "
            "(events were cut from the end, or the head was edited)")
    return result
