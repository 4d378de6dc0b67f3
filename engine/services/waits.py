"""What instances wait for, as rows: timers with due times, message and signal waits.

Every save of an instance projects its waits here in the same transaction (rows that no
longer hold are deleted), so the tick finds due timers, and an incoming message or signal
its instances, by index instead of by reading instance state. The save also hands a
waiting message catch any message that came early and is still buffered.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import ColumnElement

from engine import audit
from engine.core import events as core
from engine.core.errors import ScriptError, TaskStateError
from engine.core.package import CompiledPackage
from engine.core.runtime import Execution
from engine.db.models import Instance, MessageBufferRow, MessageWaitRow, SignalWaitRow, TimerRow
from forms.storable import unstorable_text

log = logging.getLogger("panjereh.events")
# An instance that takes a buffered message may at once wait for another one; a model that
# keeps doing so is cut off here (the rest stays buffered for its next save).
MAX_BUFFERED_PER_SAVE = 20
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


def take_buffered(session: Session, instance_id: str, execution: Execution, package: CompiledPackage,
                  now: datetime) -> list[audit.Entry]:
    """Deliver to `execution` the unexpired buffered messages its waiting catches correlate with."""
    entries: list[audit.Entry] = []
    keys = core.zeebe_correlation_keys(package)
    for _ in range(MAX_BUFFERED_PER_SAVE):
        row, wait = _next_buffered(session, execution, keys, now)
        if row is None or wait is None:
            break
        try:
            delivered = core.catch_message(execution, row.name, row.payload, wait.correlation)
        except ScriptError:
            delivered = True  # taken; the script after the catch failed, and the instance with it
        except TaskStateError as err:
            log.warning("buffered message %s (%s) not taken by instance %s: %s", row.id, row.name, instance_id, err)
            break
        if not delivered:
            break
        row.consumed_at, row.consumed_by = now, instance_id
        entries.append(audit.Entry("engine", "message.delivered", instance_id, wait.element_id,
                                   {"message": row.name, "correlation": row.correlation, "buffer_id": row.id,
                                    "buffered_at": row.created_at.isoformat()}))
        if execution.error:
            break
    return entries


def _next_buffered(session: Session, execution: Execution, keys: dict[str, str],
                   now: datetime) -> tuple[MessageBufferRow | None, core.MessageWait | None]:
    for wait in core.message_waits(execution, keys):
        row = session.execute(
            select(MessageBufferRow)
            .where(MessageBufferRow.name == wait.name, correlation_is(MessageBufferRow.correlation, wait.correlation),
                   MessageBufferRow.consumed_at.is_(None), MessageBufferRow.expires_at > now)
            .order_by(MessageBufferRow.created_at).limit(1)
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if row is not None:
            return row, wait
    return None, None


def project(session: Session, instance: Instance, execution: Execution, package: CompiledPackage) -> None:
    """Bring the timer, message-wait and signal-wait rows of `instance` in line with its workflow."""
    _project_timers(session, instance.id, core.timer_waits(execution))
    _project_messages(session, instance.id, core.message_waits(execution, core.zeebe_correlation_keys(package)))
    _project_signals(session, instance.id, core.signal_waits(execution))


def _project_timers(session: Session, instance_id: str, waits: list[core.TimerWait]) -> None:
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


def _project_messages(session: Session, instance_id: str, waits: list[core.MessageWait]) -> None:
    wanted = {(w.task_id, w.name, correlation_key(w.correlation)): w for w in waits}
    rows = session.execute(select(MessageWaitRow).where(MessageWaitRow.instance_id == instance_id)).scalars().all()
    for row in rows:
        if wanted.pop((row.task_id, row.name, row.correlation), None) is None:
            session.delete(row)
    for wait in wanted.values():
        session.add(MessageWaitRow(instance_id=instance_id, task_id=wait.task_id, element_id=wait.element_id,
                                   name=wait.name, correlation=correlation_key(wait.correlation)))


def _project_signals(session: Session, instance_id: str, waits: list[core.SignalWait]) -> None:
    wanted = {(w.task_id, w.name): w for w in waits}
    rows = session.execute(select(SignalWaitRow).where(SignalWaitRow.instance_id == instance_id)).scalars().all()
    for row in rows:
        if wanted.pop((row.task_id, row.name), None) is None:
            session.delete(row)
    for wait in wanted.values():
        session.add(SignalWaitRow(instance_id=instance_id, task_id=wait.task_id, element_id=wait.element_id,
                                  name=wait.name))
