"""What instances wait for, as rows: timers with due times, message and signal waits.

Every save of an instance (`engine.services.instance_store`) projects its waits here in the
same transaction (rows that no longer hold are deleted), so the tick finds due timers, and
an incoming message or signal its instances, by index instead of by reading instance
state. The save also looks here for a message that came early and is still buffered, to
hand it to a waiting message catch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import ColumnElement

from engine.core import catch_events as core
from engine.db.models import MessageBufferRow, MessageWaitRow, SignalWaitRow, TimerRow
from forms.storable import unstorable_text

DIGEST_PREFIX = "sha256:"
# Bytes, not characters: (name, correlation) is one index entry, and PostgreSQL refuses an
# index row over 2,704 bytes; a 255-character name and this much correlation stay below it.
CORRELATION_KEPT_BYTES = 1000
CORRELATION_COLUMN = min(MessageWaitRow.correlation.type.length or 0, MessageBufferRow.correlation.type.length or 0)


def correlation_key(correlation: str | None) -> str | None:
    """How `correlation` is stored and looked up: itself when short, else a digest of it.

    A correlation is computed from process data or sent by another system, so it has no
    natural length. Values longer than the columns keep (in characters, or in bytes, see
    `CORRELATION_KEPT_BYTES`), values with a character no database keeps, and values that
    themselves start like a digest are stored as `sha256:` and the hex digest of their
    UTF-8, so two different values never share a key. Every value that was stored as
    itself before keys were introduced keeps its key, except those over the byte limit
    (migration 0008 re-keys them).
    """
    if correlation is None:
        return None
    if (len(correlation) <= CORRELATION_COLUMN and not unstorable_text(correlation)
            and len(correlation.encode("utf-8")) <= CORRELATION_KEPT_BYTES
            and not correlation.startswith(DIGEST_PREFIX)):
        return correlation
    return DIGEST_PREFIX + hashlib.sha256(correlation.encode("utf-8", "surrogatepass")).hexdigest()


def correlation_is(column: InstrumentedAttribute[str | None], correlation: str | None) -> ColumnElement[bool]:
    """`column` holds the key of `correlation`, or `column IS NULL` for a message without correlation."""
    return column.is_(None) if correlation is None else column == correlation_key(correlation)


def next_buffered(session: Session, waits: Sequence[core.MessageWait],
                  now: datetime) -> tuple[MessageBufferRow, core.MessageWait] | None:
    """The oldest unexpired buffered message one of `waits` correlates with (locked), and that wait."""
    for wait in waits:
        row = session.execute(
            select(MessageBufferRow)
            .where(MessageBufferRow.name == wait.name, correlation_is(MessageBufferRow.correlation, wait.correlation),
                   MessageBufferRow.consumed_at.is_(None), MessageBufferRow.expires_at > now)
            .order_by(MessageBufferRow.created_at).limit(1)
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if row is not None:
            return row, wait
    return None


def project(session: Session, instance_id: str, timers: Sequence[core.TimerWait],
            messages: Sequence[core.MessageWait], signals: Sequence[core.SignalWait]) -> None:
    """Bring the timer, message-wait and signal-wait rows of an instance in line with what it waits for."""
    _project_timers(session, instance_id, timers)
    _project_messages(session, instance_id, messages)
    _project_signals(session, instance_id, signals)


def _project_timers(session: Session, instance_id: str, waits: Sequence[core.TimerWait]) -> None:
    wanted = {(w.task_id, w.due_at): w for w in waits}
    rows = session.execute(
        select(TimerRow).where(TimerRow.instance_id == instance_id, TimerRow.fired_at.is_(None))
    ).scalars().all()
    for row in rows:
        if wanted.pop((row.task_id, row.due_at), None) is None:
            session.delete(row)
    for wait in wanted.values():
        session.add(TimerRow(instance_id=instance_id, task_id=wait.task_id, element_id=wait.element_id,
                             kind=wait.kind, due_at=wait.due_at))


def _project_messages(session: Session, instance_id: str, waits: Sequence[core.MessageWait]) -> None:
    wanted = {(w.task_id, w.name, correlation_key(w.correlation)): w for w in waits}
    rows = session.execute(select(MessageWaitRow).where(MessageWaitRow.instance_id == instance_id)).scalars().all()
    for row in rows:
        if wanted.pop((row.task_id, row.name, row.correlation), None) is None:
            session.delete(row)
    for wait in wanted.values():
        session.add(MessageWaitRow(instance_id=instance_id, task_id=wait.task_id, element_id=wait.element_id,
                                   name=wait.name, correlation=correlation_key(wait.correlation)))


def _project_signals(session: Session, instance_id: str, waits: Sequence[core.SignalWait]) -> None:
    wanted = {(w.task_id, w.name): w for w in waits}
    rows = session.execute(select(SignalWaitRow).where(SignalWaitRow.instance_id == instance_id)).scalars().all()
    for row in rows:
        if wanted.pop((row.task_id, row.name), None) is None:
            session.delete(row)
    for wait in wanted.values():
        session.add(SignalWaitRow(instance_id=instance_id, task_id=wait.task_id, element_id=wait.element_id,
                                  name=wait.name))
